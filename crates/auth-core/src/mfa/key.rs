//! [`MfaKey`]: the key that seals TOTP secrets before they reach the store (AES-256-GCM from
//! aws-lc-rs, already jsonwebtoken's backend, with a random 96-bit nonce per secret and the
//! user id as associated data).

use std::{fmt, sync::Arc};

use auth_domain::{EncryptedTotpSecret, UserId};
use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

/// The version tag in front of every sealed secret, so that another scheme can follow.
const VERSION: &str = "v1.";

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MfaKeyError {
    /// Not 64 hexadecimal digits. (The message never repeats the value.)
    #[error("must be 64 hexadecimal digits (32 bytes), e.g. from `openssl rand -hex 32`")]
    Malformed,
}

/// The key that seals TOTP secrets for the store, so that the database alone does not reveal
/// them. 256 bits; its `Debug` prints nothing. Every instance serving one database needs the
/// same key: a secret sealed with another key cannot be read.
#[derive(Clone)]
pub struct MfaKey(Arc<RandomizedNonceKey>);

impl fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaKey([redacted])")
    }
}

impl MfaKey {
    /// The key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .expect("AES-256-GCM takes any 32-byte key");
        Self(Arc::new(key))
    }

    /// The key from 64 hexadecimal digits (either case), the form of the `mfa.encryption_key`
    /// setting.
    pub fn from_hex(hex: &str) -> Result<Self, MfaKeyError> {
        let hex = hex.trim().as_bytes();
        if hex.len() != 64 {
            return Err(MfaKeyError::Malformed);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            let digit = |d: u8| char::from(d).to_digit(16).ok_or(MfaKeyError::Malformed);
            *byte = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?)
                .map_err(|_| MfaKeyError::Malformed)?;
        }
        Ok(Self::from_bytes(&bytes))
    }

    /// A new random key, as 64 lower-case hexadecimal digits (what a development server
    /// generates into `data/mfa-key`).
    pub fn generate_hex() -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system has no randomness");
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn aad(user: UserId) -> Aad<String> {
        Aad::from(format!("auth-totp:{user}"))
    }

    /// Seals `user`'s secret. Bound to the user: a sealed secret copied to another user's row
    /// does not open.
    pub(crate) fn seal(&self, user: UserId, secret: &[u8]) -> EncryptedTotpSecret {
        let mut in_out = secret.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Self::aad(user), &mut in_out)
            .expect("AES-256-GCM seals any short secret");
        let mut sealed = nonce.as_ref().to_vec();
        sealed.extend_from_slice(&in_out);
        EncryptedTotpSecret::new(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(sealed)))
    }

    /// Opens `user`'s sealed secret; `None` if it was sealed with another key, for another
    /// user, or altered.
    pub(crate) fn open(&self, user: UserId, sealed: &EncryptedTotpSecret) -> Option<Vec<u8>> {
        let raw = URL_SAFE_NO_PAD
            .decode(sealed.as_str().strip_prefix(VERSION)?)
            .ok()?;
        if raw.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Self::aad(user), &mut in_out)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_key_for_the_user() {
        let key = MfaKey::from_hex(&MfaKey::generate_hex()).unwrap();
        let (alice, bob) = (UserId::new(), UserId::new());
        let secret = b"12345678901234567890";
        let sealed = key.seal(alice, secret);
        assert_eq!(key.open(alice, &sealed).as_deref(), Some(&secret[..]));
        // Random nonces: sealing twice gives two different texts.
        assert_ne!(key.seal(alice, secret), sealed);
        assert!(!sealed.as_str().contains("12345678901234567890"));
        assert_eq!(key.open(bob, &sealed), None);
        let other = MfaKey::from_hex(&MfaKey::generate_hex()).unwrap();
        assert_eq!(other.open(alice, &sealed), None);
        let mut altered = sealed.as_str().to_owned();
        altered.replace_range(10..11, if &altered[10..11] == "A" { "B" } else { "A" });
        assert_eq!(key.open(alice, &EncryptedTotpSecret::new(altered)), None);
        assert_eq!(key.open(alice, &EncryptedTotpSecret::new("v1.")), None);
        assert_eq!(key.open(alice, &EncryptedTotpSecret::new("garbage")), None);
    }

    #[test]
    fn keys_are_64_hex_digits_and_never_printed() {
        let hex = "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
        let key = MfaKey::from_hex(hex).unwrap();
        assert_eq!(format!("{key:?}"), "MfaKey([redacted])");
        for bad in [
            "",
            "00",
            &hex[1..],
            &format!("{hex}00"),
            &hex.replace('0', "g"),
        ] {
            assert_eq!(MfaKey::from_hex(bad).unwrap_err(), MfaKeyError::Malformed);
        }
        let generated = MfaKey::generate_hex();
        assert_eq!(generated.len(), 64);
        assert!(generated.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
