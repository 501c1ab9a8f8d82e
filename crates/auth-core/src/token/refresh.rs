//! Refresh tokens: opaque random strings that stores keep only as digests.

use std::fmt;

use auth_domain::RefreshTokenHash;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

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
        Self(random_secret())
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
        RefreshTokenHash::new(secret_digest(&self.0))
    }
}

/// 256 random bits, base64url: the opaque tokens shown to a client once (refresh tokens,
/// `mfa_token`s).
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The SHA-256 digest, base64url, that stores keep of such a token.
pub(crate) fn secret_digest(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        token.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
