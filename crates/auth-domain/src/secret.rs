use std::fmt;

/// bcrypt uses at most this many bytes of a password; longer ones are refused, never truncated.
pub const BCRYPT_MAX_PASSWORD_BYTES: usize = 72;

/// A password as a client sent it, e.g. at login. A secret: its `Debug` prints nothing of it.
///
/// No rules are applied: an old password must still be checkable after the policy changes.
/// Use [`NewPassword`] for a password that is about to be stored.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Wraps a password without checking it.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The password itself. Call only to hash or verify it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether bcrypt could use every byte of this password.
    pub fn fits_bcrypt(&self) -> bool {
        self.0.len() <= BCRYPT_MAX_PASSWORD_BYTES && !self.0.contains('\0')
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Why a password cannot be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordError {
    /// Fewer characters than the configured minimum.
    #[error("password must be at least {min} characters long")]
    TooShort {
        /// The configured minimum, in characters.
        min: usize,
    },
    /// More bytes than bcrypt uses.
    #[error(
        "password must be at most 72 bytes of UTF-8 (bcrypt ignores anything beyond that, so longer passwords are refused rather than silently truncated)"
    )]
    TooLong,
    /// A NUL character, which bcrypt treats as the end of the password.
    #[error("password must not contain a NUL character")]
    ContainsNul,
}

/// A password that meets the length rules and may be hashed and stored.
#[derive(Clone)]
pub struct NewPassword(Password);

impl NewPassword {
    /// Checks the length rules: at least `min_chars` characters, at most 72 bytes, no NUL.
    ///
    /// Strength (guessability) is judged separately by the service's password policy.
    pub fn parse(raw: impl Into<String>, min_chars: usize) -> Result<Self, PasswordError> {
        let raw = raw.into();
        if raw.contains('\0') {
            return Err(PasswordError::ContainsNul);
        }
        if raw.len() > BCRYPT_MAX_PASSWORD_BYTES {
            return Err(PasswordError::TooLong);
        }
        if raw.chars().count() < min_chars {
            return Err(PasswordError::TooShort { min: min_chars });
        }
        Ok(Self(Password(raw)))
    }

    /// The password, for hashing.
    pub fn as_password(&self) -> &Password {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

/// A stored password hash (bcrypt's modular crypt format). It never leaves the server: no
/// response type has a field for it, and its `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a hash read from a store or produced by a hasher.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The hash, for verifying and for storing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash([redacted])")
    }
}

/// The digest of a refresh token: what stores keep instead of the token itself.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RefreshTokenHash(String);

impl RefreshTokenHash {
    /// Wraps a digest computed by the token issuer or read from a store.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The digest, for storing and looking up.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RefreshTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshTokenHash([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let shown = format!(
            "{:?} {:?} {:?} {:?}",
            Password::new("hunter2-secret"),
            NewPassword::parse("hunter2-secret", 8).unwrap(),
            PasswordHash::new("$2b$04$hashhashhash"),
            RefreshTokenHash::new("digestdigest"),
        );
        for secret in ["hunter2", "hashhash", "digest"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn new_password_enforces_length_in_characters_and_bytes() {
        assert_eq!(
            NewPassword::parse("short", 8).unwrap_err(),
            PasswordError::TooShort { min: 8 }
        );
        // Eight characters, sixteen bytes: long enough.
        assert!(NewPassword::parse("éééééééé", 8).is_ok());
        assert!(NewPassword::parse("x".repeat(72), 8).is_ok());
        assert_eq!(
            NewPassword::parse("x".repeat(73), 8).unwrap_err(),
            PasswordError::TooLong
        );
        // 37 two-byte characters are 74 bytes: too long although only 37 characters.
        assert_eq!(
            NewPassword::parse("é".repeat(37), 8).unwrap_err(),
            PasswordError::TooLong
        );
    }

    #[test]
    fn new_password_refuses_nul() {
        assert_eq!(
            NewPassword::parse("abcdefgh\0", 8).unwrap_err(),
            PasswordError::ContainsNul
        );
    }

    #[test]
    fn fits_bcrypt_matches_the_72_byte_rule() {
        assert!(Password::new("x".repeat(72)).fits_bcrypt());
        assert!(!Password::new("x".repeat(73)).fits_bcrypt());
        assert!(!Password::new("a\0b").fits_bcrypt());
    }
}
