//! Key-pair generation for the asymmetric algorithms, as PEM (what `auth-server gen-key` writes).

use std::fmt;

use aws_lc_rs::{
    encoding::AsDer,
    rsa::{self, KeySize},
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
        Ed25519KeyPair, KeyPair,
    },
};
use base64::{Engine, engine::general_purpose::STANDARD};

use crate::token::{Algorithm, KeyError};

/// A new key pair: PKCS#8 private key and SPKI public key, both PEM. The private half is a
/// secret: its `Debug` prints nothing of it.
pub struct PemKeyPair {
    /// `-----BEGIN PRIVATE KEY-----` (PKCS#8).
    pub private_pem: String,
    /// `-----BEGIN PUBLIC KEY-----` (SPKI).
    pub public_pem: String,
}

impl fmt::Debug for PemKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PemKeyPair")
            .field("private_pem", &"[redacted]")
            .field("public_pem", &self.public_pem)
            .finish()
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

/// Generates a key pair for `algorithm`: RSA 2048 bits for RS256/PS256 and 3072 bits for the
/// larger RSA hashes, P-256 for ES256, P-384 for ES384, Ed25519 for EdDSA.
pub fn generate_key_pair(algorithm: Algorithm) -> Result<PemKeyPair, KeyError> {
    let failed = |e: aws_lc_rs::error::Unspecified| KeyError::Unsuitable {
        algorithm,
        reason: format!("key generation failed: {e}"),
    };
    let (private_der, public_der): (Vec<u8>, Vec<u8>) = match algorithm {
        Algorithm::RS256
        | Algorithm::PS256
        | Algorithm::RS384
        | Algorithm::PS384
        | Algorithm::RS512
        | Algorithm::PS512 => {
            let size = if matches!(algorithm, Algorithm::RS256 | Algorithm::PS256) {
                KeySize::Rsa2048
            } else {
                KeySize::Rsa3072
            };
            let pair = rsa::KeyPair::generate(size).map_err(failed)?;
            let private = pair.as_der().map_err(failed)?.as_ref().to_vec();
            let public = pair
                .public_key()
                .as_der()
                .map_err(failed)?
                .as_ref()
                .to_vec();
            (private, public)
        }
        Algorithm::ES256 | Algorithm::ES384 => {
            let curve = if algorithm == Algorithm::ES256 {
                &ECDSA_P256_SHA256_FIXED_SIGNING
            } else {
                &ECDSA_P384_SHA384_FIXED_SIGNING
            };
            let pair = EcdsaKeyPair::generate(curve).map_err(failed)?;
            let private = pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
            let public = pair
                .public_key()
                .as_der()
                .map_err(failed)?
                .as_ref()
                .to_vec();
            (private, public)
        }
        Algorithm::EdDSA => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            let private = pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec();
            let public = pair
                .public_key()
                .as_der()
                .map_err(failed)?
                .as_ref()
                .to_vec();
            (private, public)
        }
        other => return Err(KeyError::NotAsymmetric(other)),
    };
    Ok(PemKeyPair {
        private_pem: pem("PRIVATE KEY", &private_der),
        public_pem: pem("PUBLIC KEY", &public_der),
    })
}
