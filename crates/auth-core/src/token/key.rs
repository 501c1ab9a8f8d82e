//! Signing keys: HMAC secrets and asymmetric key pairs from PEM or JWK, with their `kid`s.

use std::fmt;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    AlgorithmFamily, DecodingKey, EncodingKey,
    jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash},
};

use super::Algorithm;

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An HMAC secret shorter than the hash output (RFC 7518 §3.2).
    #[error("{algorithm:?} needs a secret of at least {min} bytes, got {got}")]
    SecretTooShort {
        /// The algorithm the secret is for.
        algorithm: Algorithm,
        /// The minimum length in bytes.
        min: usize,
        /// The length given.
        got: usize,
    },
    /// The algorithm is not an HMAC algorithm (asymmetric keys come from PEM files).
    #[error("{0:?} is not an HMAC algorithm")]
    NotHmac(Algorithm),
    /// The algorithm is not an asymmetric one (HMAC keys come from secrets).
    #[error("{0:?} is not an asymmetric algorithm")]
    NotAsymmetric(Algorithm),
    /// Neither a private nor a public key was given.
    #[error("an asymmetric key needs a private key, a public key, or both")]
    NoKeyMaterial,
    /// The PEM does not hold a key of the algorithm's kind.
    #[error("the {which} key is not a valid {algorithm:?} PEM key: {reason}")]
    InvalidPem {
        /// `private` or `public`.
        which: &'static str,
        /// The algorithm it was meant for.
        algorithm: Algorithm,
        /// What the parser said.
        reason: String,
    },
    /// The private and public keys given are not a pair.
    #[error("the public key does not belong to the private key")]
    Mismatch,
    /// The key's curve or size does not suit the algorithm (e.g. a P-384 key for ES256, an RSA
    /// key under 2048 bits).
    #[error("the key does not suit {algorithm:?}: {reason}")]
    Unsuitable {
        /// The algorithm.
        algorithm: Algorithm,
        /// Why.
        reason: String,
    },
    /// A JWK that cannot be used to verify (no `alg`, a secret `oct` key, an unsupported type).
    #[error("unusable JWK: {0}")]
    Jwk(String),
}

/// Every algorithm a key may use: HMAC, RSA, RSA-PSS, ECDSA (P-256, P-384) and EdDSA.
/// (jsonwebtoken has no ES512.)
pub const SUPPORTED_ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The shortest secret accepted for an HMAC algorithm: the hash's output length.
pub fn min_hmac_secret_len(algorithm: Algorithm) -> Option<usize> {
    match algorithm {
        Algorithm::HS256 => Some(32),
        Algorithm::HS384 => Some(48),
        Algorithm::HS512 => Some(64),
        _ => None,
    }
}

/// A key with its `kid` and its one algorithm: an HMAC secret, an asymmetric key pair, or a
/// public key that only verifies. Its `Debug` prints no key material.
#[derive(Clone)]
pub struct JwtKey {
    pub(crate) kid: String,
    pub(crate) algorithm: Algorithm,
    pub(crate) encoding: Option<EncodingKey>,
    pub(crate) decoding: DecodingKey,
    // The public half as a JWK, for asymmetric keys; `None` for HMAC secrets.
    public_jwk: Option<Jwk>,
}

impl fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.encoding.is_some())
            .field("material", &"[redacted]")
            .finish()
    }
}

impl JwtKey {
    /// An HMAC key (HS256/384/512) from a secret at least as long as the hash output. Its `kid`
    /// is derived from the secret (a digest prefix, which reveals nothing of it), so it is stable
    /// across restarts and differs between secrets.
    pub fn hmac(algorithm: Algorithm, secret: &[u8]) -> Result<Self, KeyError> {
        let min = min_hmac_secret_len(algorithm).ok_or(KeyError::NotHmac(algorithm))?;
        if secret.len() < min {
            return Err(KeyError::SecretTooShort {
                algorithm,
                min,
                got: secret.len(),
            });
        }
        let digest = aws_lc_rs::digest::digest(
            &aws_lc_rs::digest::SHA256,
            &[b"kid:".as_slice(), secret].concat(),
        );
        Ok(Self {
            kid: format!("hs-{}", URL_SAFE_NO_PAD.encode(&digest.as_ref()[..9])),
            algorithm,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public_jwk: None,
        })
    }

    /// An asymmetric key (RS*, PS*, ES256, ES384, EdDSA) from PEM: a private key (PKCS#8, or
    /// PKCS#1 for RSA) to sign, a public key (SPKI) to verify, or both (which must be a pair).
    /// With only a private key, the public half is derived from it. Its `kid` is the RFC 7638
    /// thumbprint of the public key, so every server with the same key agrees on it. Needs the
    /// feature `pem` (part of `service`).
    #[cfg(feature = "pem")]
    pub fn from_pem(
        algorithm: Algorithm,
        private_pem: Option<&[u8]>,
        public_pem: Option<&[u8]>,
    ) -> Result<Self, KeyError> {
        let family = asymmetric_family(algorithm)?;
        let invalid = |which: &'static str| {
            move |e: jsonwebtoken::errors::Error| KeyError::InvalidPem {
                which,
                algorithm,
                reason: e.to_string(),
            }
        };
        let encoding = private_pem
            .map(|pem| match family {
                AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(pem),
                AlgorithmFamily::Ec => EncodingKey::from_ec_pem(pem),
                _ => EncodingKey::from_ed_pem(pem),
            })
            .transpose()
            .map_err(invalid("private"))?;
        let derived = encoding
            .as_ref()
            .map(|key| Jwk::from_encoding_key(key, algorithm))
            .transpose()
            .map_err(invalid("private"))?;
        let given = public_pem
            .map(|pem| {
                let decoding = match family {
                    AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
                    AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
                    _ => DecodingKey::from_ed_pem(pem),
                }?;
                let jwk = Jwk::from_decoding_key(&decoding, Some(algorithm))?;
                Ok((decoding, jwk))
            })
            .transpose()
            .map_err(invalid("public"))?;
        let (decoding, jwk) = match (given, derived) {
            (Some((decoding, jwk)), Some(derived)) => {
                if jwk.algorithm != derived.algorithm {
                    return Err(KeyError::Mismatch);
                }
                (decoding, jwk)
            }
            (Some(pair), None) => pair,
            (None, Some(derived)) => {
                let decoding = DecodingKey::from_jwk(&derived).map_err(invalid("private"))?;
                (decoding, derived)
            }
            (None, None) => return Err(KeyError::NoKeyMaterial),
        };
        check_suitable(algorithm, &jwk)?;
        Self::from_public_parts(algorithm, encoding, decoding, jwk)
    }

    /// A verify-only key from a published JWK. The JWK must name its `alg` (so that it is
    /// pinned) and be public (`RSA`, `EC` or `OKP`; never a secret `oct` key).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, KeyError> {
        let algorithm = match jwk.common.key_algorithm {
            Some(KeyAlgorithm::RS256) => Algorithm::RS256,
            Some(KeyAlgorithm::RS384) => Algorithm::RS384,
            Some(KeyAlgorithm::RS512) => Algorithm::RS512,
            Some(KeyAlgorithm::PS256) => Algorithm::PS256,
            Some(KeyAlgorithm::PS384) => Algorithm::PS384,
            Some(KeyAlgorithm::PS512) => Algorithm::PS512,
            Some(KeyAlgorithm::ES256) => Algorithm::ES256,
            Some(KeyAlgorithm::ES384) => Algorithm::ES384,
            Some(KeyAlgorithm::EdDSA) => Algorithm::EdDSA,
            Some(other) => return Err(KeyError::Jwk(format!("unsupported alg {other:?}"))),
            None => return Err(KeyError::Jwk("it has no alg".into())),
        };
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)) {
            return Err(KeyError::Jwk(
                "secret (oct) keys are never accepted from a JWKS".into(),
            ));
        }
        check_suitable(algorithm, jwk)?;
        let decoding = DecodingKey::from_jwk(jwk).map_err(|e| KeyError::Jwk(e.to_string()))?;
        let mut public = jwk.clone();
        public.common.key_id = None;
        let key = Self::from_public_parts(algorithm, None, decoding, public)?;
        Ok(match &jwk.common.key_id {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }

    fn from_public_parts(
        algorithm: Algorithm,
        encoding: Option<EncodingKey>,
        decoding: DecodingKey,
        jwk: Jwk,
    ) -> Result<Self, KeyError> {
        let kid = jwk
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| KeyError::Jwk(e.to_string()))?;
        Ok(Self {
            kid,
            algorithm,
            encoding,
            decoding,
            public_jwk: Some(jwk),
        })
    }

    /// The same key without its private half: it verifies but never signs.
    pub fn verify_only(mut self) -> Self {
        self.encoding = None;
        self
    }

    /// Whether this key can sign.
    pub fn can_sign(&self) -> bool {
        self.encoding.is_some()
    }

    /// The public half as a JWK with `kid`, `use: sig` and `alg` (RFC 7517), for asymmetric
    /// keys; `None` for HMAC secrets, which are never published.
    pub fn public_jwk(&self) -> Option<Jwk> {
        self.public_jwk.as_ref().map(|jwk| {
            let mut jwk = jwk.clone();
            jwk.common.key_id = Some(self.kid.clone());
            jwk.common.public_key_use = Some(PublicKeyUse::Signature);
            jwk.common.key_algorithm = jwk_algorithm(self.algorithm);
            jwk
        })
    }

    /// The same key under another `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The key id carried in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key signs and verifies with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

fn asymmetric_family(algorithm: Algorithm) -> Result<AlgorithmFamily, KeyError> {
    match algorithm.family() {
        AlgorithmFamily::Hmac => Err(KeyError::NotAsymmetric(algorithm)),
        AlgorithmFamily::Ec if algorithm == Algorithm::ES256 || algorithm == Algorithm::ES384 => {
            Ok(AlgorithmFamily::Ec)
        }
        AlgorithmFamily::Ec => Err(KeyError::Unsuitable {
            algorithm,
            reason: "only ES256 and ES384 are supported".into(),
        }),
        family => Ok(family),
    }
}

/// Curves must match the algorithm, and RSA keys must have at least 2048 bits.
fn check_suitable(algorithm: Algorithm, jwk: &Jwk) -> Result<(), KeyError> {
    let unsuitable = |reason: &str| KeyError::Unsuitable {
        algorithm,
        reason: reason.into(),
    };
    match (&jwk.algorithm, asymmetric_family(algorithm)?) {
        (AlgorithmParameters::RSA(rsa), AlgorithmFamily::Rsa) => {
            let modulus = URL_SAFE_NO_PAD
                .decode(rsa.n.trim_end_matches('='))
                .map_err(|_| unsuitable("unreadable RSA modulus"))?;
            let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
            if bits < 2048 {
                return Err(unsuitable("RSA keys need at least 2048 bits"));
            }
            Ok(())
        }
        (AlgorithmParameters::EllipticCurve(ec), AlgorithmFamily::Ec) => {
            let expected = if algorithm == Algorithm::ES256 {
                EllipticCurve::P256
            } else {
                EllipticCurve::P384
            };
            if ec.curve == expected {
                Ok(())
            } else {
                Err(unsuitable("the curve does not match the algorithm"))
            }
        }
        (AlgorithmParameters::OctetKeyPair(okp), AlgorithmFamily::Ed)
            if okp.curve == EllipticCurve::Ed25519 =>
        {
            Ok(())
        }
        _ => Err(unsuitable("the key type does not match the algorithm")),
    }
}

fn jwk_algorithm(algorithm: Algorithm) -> Option<KeyAlgorithm> {
    Some(match algorithm {
        Algorithm::HS256 => KeyAlgorithm::HS256,
        Algorithm::HS384 => KeyAlgorithm::HS384,
        Algorithm::HS512 => KeyAlgorithm::HS512,
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::RS384 => KeyAlgorithm::RS384,
        Algorithm::RS512 => KeyAlgorithm::RS512,
        Algorithm::PS256 => KeyAlgorithm::PS256,
        Algorithm::PS384 => KeyAlgorithm::PS384,
        Algorithm::PS512 => KeyAlgorithm::PS512,
        Algorithm::ES256 => KeyAlgorithm::ES256,
        Algorithm::ES384 => KeyAlgorithm::ES384,
        Algorithm::EdDSA => KeyAlgorithm::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_keys_refuse_short_secrets() {
        for (alg, min) in [
            (Algorithm::HS256, 32),
            (Algorithm::HS384, 48),
            (Algorithm::HS512, 64),
        ] {
            assert!(matches!(
                JwtKey::hmac(alg, &vec![7u8; min - 1]),
                Err(KeyError::SecretTooShort { .. })
            ));
            assert!(JwtKey::hmac(alg, &vec![7u8; min]).is_ok());
        }
        assert!(matches!(
            JwtKey::hmac(Algorithm::RS256, &[7u8; 64]),
            Err(KeyError::NotHmac(_))
        ));
    }

    #[test]
    fn kid_depends_on_the_secret_and_debug_hides_it() {
        let a = JwtKey::hmac(Algorithm::HS256, &[1u8; 32]).unwrap();
        let b = JwtKey::hmac(Algorithm::HS256, &[2u8; 32]).unwrap();
        assert_ne!(a.kid(), b.kid());
        let shown = format!("{a:?}");
        assert!(shown.contains("[redacted]") && shown.contains(a.kid()));
    }
}
