//! Access tokens (signed JWTs) and refresh tokens (opaque random strings, stored as digests).

use std::{collections::HashMap, fmt, sync::Arc};

use auth_domain::{ACCESS_TOKEN_TYPE, Claims, RefreshTokenHash, SessionId, User};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{
    AlgorithmFamily, DecodingKey, EncodingKey, Header, Validation,
    errors::ErrorKind,
    jwk::{
        AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, ThumbprintHash,
    },
};
use sha2::{Digest, Sha256};

pub use jsonwebtoken::Algorithm;

/// The longest bearer token we look at; anything longer is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

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
pub struct JwtKey {
    kid: String,
    algorithm: Algorithm,
    encoding: Option<EncodingKey>,
    decoding: DecodingKey,
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
        let digest = Sha256::digest([b"kid:".as_slice(), secret].concat());
        Ok(Self {
            kid: format!("hs-{}", URL_SAFE_NO_PAD.encode(&digest[..9])),
            algorithm,
            encoding: Some(EncodingKey::from_secret(secret)),
            decoding: DecodingKey::from_secret(secret),
            public_jwk: None,
        })
    }

    /// An asymmetric key (RS*, PS*, ES256, ES384, EdDSA) from PEM: a private key (PKCS#8, or
    /// PKCS#1 for RSA) to sign, a public key (SPKI) to verify, or both (which must be a pair).
    /// With only a private key, the public half is derived from it. Its `kid` is the RFC 7638
    /// thumbprint of the public key, so every server with the same key agrees on it.
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

/// Why a token was refused. The messages are safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a well-formed JWT, or too long.
    #[error("The token is malformed")]
    Malformed,
    /// The header names a key we do not have, or none.
    #[error("The token was signed with an unknown key")]
    UnknownKey,
    /// The header's algorithm is not the key's.
    #[error("The token's algorithm is not accepted")]
    Algorithm,
    /// The header carries `jku`, `jwk`, `x5u`, `x5c` or `crit`, which we never honour.
    #[error("The token header carries a parameter that is not accepted")]
    ForbiddenHeader,
    /// `typ` is not `at+jwt`.
    #[error("The token is not an access token")]
    WrongType,
    /// The signature does not verify.
    #[error("The token signature is invalid")]
    Signature,
    /// `exp` has passed (beyond the leeway).
    #[error("The token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("The token is not valid yet")]
    NotYetValid,
    /// `iss` is not ours.
    #[error("The token issuer is not accepted")]
    Issuer,
    /// `aud` is not ours.
    #[error("The token audience is not accepted")]
    Audience,
    /// A required claim is missing or has the wrong type.
    #[error("The token is missing a required claim")]
    Claims,
    /// The session the token belongs to has ended.
    #[error("The session has ended")]
    SessionEnded,
    /// The user is disabled.
    #[error("The user is disabled")]
    UserInactive,
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::Issuer,
            ErrorKind::InvalidAudience => TokenError::Audience,
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenError::Algorithm,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidClaimFormat(_)
            | ErrorKind::Json(_) => TokenError::Claims,
            _ => TokenError::Malformed,
        }
    }
}

/// Signs access tokens with one key.
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    key: Arc<JwtKey>,
    issuer: String,
    audience: String,
}

impl TokenIssuer {
    /// An issuer that signs with `key` and stamps `iss`/`aud`.
    pub fn new(key: Arc<JwtKey>, issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            key,
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Signs an access token for `user` in `session`, valid from `now` for `ttl`.
    pub fn issue(
        &self,
        user: &User,
        session: SessionId,
        ttl: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.id.to_string(),
            username: user.username.to_string(),
            role: user.role.to_string(),
            sid: session.to_string(),
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + ttl).timestamp(),
        };
        let mut header = Header::new(self.key.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.key.kid.clone());
        let encoding = self
            .key
            .encoding
            .as_ref()
            .ok_or_else(|| jsonwebtoken::errors::Error::from(ErrorKind::InvalidKeyFormat))?;
        let token = jsonwebtoken::encode(&header, &claims, encoding)?;
        Ok((token, claims))
    }
}

/// Verifies access tokens: signature, pinned algorithm per `kid`, `typ`, `iss`, `aud`, `exp`,
/// `nbf` with an explicit leeway. No I/O and no runtime: embedders may use it alone.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    keys: HashMap<String, Arc<JwtKey>>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
}

impl TokenVerifier {
    /// The default clock leeway for `exp` and `nbf`.
    pub const DEFAULT_LEEWAY_SECS: u64 = 5;

    /// A verifier that accepts tokens signed by any of `keys` for `issuer` and `audience`.
    pub fn new(
        keys: impl IntoIterator<Item = Arc<JwtKey>>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
        }
    }

    /// Sets the clock leeway.
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    /// Checks a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        // A header jsonwebtoken cannot parse (including `alg: none`) is simply malformed.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::ForbiddenHeader);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        if header.alg != key.algorithm {
            return Err(TokenError::Algorithm);
        }
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Ok(jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)?.claims)
    }

    /// A verifier for the keys of a JSON Web Key Set, e.g. our `/.well-known/jwks.json`, for a
    /// service that verifies our tokens with no secret at all. Every key must name its `alg`.
    pub fn from_jwks(
        jwks: &str,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(jwks).map_err(|e| KeyError::Jwk(e.to_string()))?;
        let keys = set
            .keys
            .iter()
            .map(|jwk| JwtKey::from_jwk(jwk).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(keys, issuer, audience))
    }

    /// The JSON Web Key Set of the public keys that verify (RFC 7517), sorted by `kid`. HMAC
    /// keys are secret and never published, so a verifier with only HMAC keys publishes an
    /// empty set.
    pub fn jwks(&self) -> serde_json::Value {
        let mut keys: Vec<Jwk> = self.keys.values().filter_map(|k| k.public_jwk()).collect();
        keys.sort_by(|a, b| a.common.key_id.cmp(&b.common.key_id));
        serde_json::json!({ "keys": keys })
    }

    /// The `kid`s this verifier accepts.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }
}

/// An opaque refresh token: 256 random bits, base64url. Shown to the client once; stores keep
/// only its digest. Its `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken(String);

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([redacted])")
    }
}

impl RefreshToken {
    /// A new random token.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system has no randomness");
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A token as a client presented it.
    pub fn from_client(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The token, for the response body.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest that stores keep. SHA-256 is enough: the token has 256 random bits, so there is
    /// nothing to slow down a guesser for.
    pub fn digest(&self) -> RefreshTokenHash {
        RefreshTokenHash::new(URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes())))
    }
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

    #[test]
    fn refresh_tokens_are_256_bit_random_and_stored_as_digests() {
        let a = RefreshToken::generate();
        let b = RefreshToken::generate();
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(a.expose()).unwrap().len(), 32);
        assert_ne!(a.digest().as_str(), a.expose());
        assert_eq!(a.digest(), RefreshToken::from_client(a.expose()).digest());
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
