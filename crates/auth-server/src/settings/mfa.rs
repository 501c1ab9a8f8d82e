//! `[mfa]`: the second factor's settings, and their checks.

use std::path::PathBuf;

use anyhow::bail;
use serde::Deserialize;

use super::{Secret, strict};

/// `[mfa]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaSettings {
    /// The name authenticator apps show for the account (the `otpauth://` URI's issuer):
    /// 1 to 64 printable characters, no `:`.
    #[serde(deserialize_with = "strict::text")]
    pub issuer: String,
    /// The key that seals TOTP secrets in the database: 64 hexadecimal digits; required in
    /// production.
    pub encryption_key: Option<Secret>,
    /// Outside production, when `encryption_key` is unset: where a key is generated once
    /// (mode 0600) and kept.
    #[serde(deserialize_with = "strict::text")]
    pub encryption_key_file: PathBuf,
}

impl MfaSettings {
    /// Refuses an issuer that authenticator apps cannot show, or a key that is not 64
    /// hexadecimal digits (without repeating it).
    pub(super) fn check(&self) -> anyhow::Result<()> {
        let issuer = &self.issuer;
        if issuer.is_empty()
            || issuer.chars().count() > 64
            || issuer.contains(':')
            || issuer.chars().any(char::is_control)
        {
            bail!(
                "invalid setting mfa.issuer (AUTH__MFA__ISSUER): expected 1 to 64 printable \
                 characters without ':', got {issuer:?}"
            );
        }
        if let Some(key) = &self.encryption_key
            && auth_core::MfaKey::from_hex(key.expose()).is_err()
        {
            bail!(
                "invalid setting mfa.encryption_key (AUTH__MFA__ENCRYPTION_KEY): expected 64 \
                 hexadecimal digits (`openssl rand -hex 32`); the value is secret and not shown"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AppEnv, Settings};

    const KEY: &str = "6d1f3a9c0be24e7d85a1c3f09b7e2d4a6c8e0f1a3b5d7f9e2c4a6b8d0f1e3c5a";

    #[test]
    fn the_key_is_read_but_never_printed() {
        let settings = Settings::load(AppEnv::Test, &[("mfa.encryption_key", KEY)]).unwrap();
        assert_eq!(settings.mfa.issuer, "auth-server");
        assert_eq!(settings.mfa.encryption_key.as_ref().unwrap().expose(), KEY);
        assert!(!format!("{settings:?}").contains(KEY));
    }

    #[test]
    fn malformed_keys_and_issuers_are_refused_by_name() {
        for (key, value, named) in [
            ("mfa.encryption_key", &KEY[1..], "AUTH__MFA__ENCRYPTION_KEY"),
            (
                "mfa.encryption_key",
                "secret words",
                "AUTH__MFA__ENCRYPTION_KEY",
            ),
            ("mfa.issuer", "Example:Co", "AUTH__MFA__ISSUER"),
            ("mfa.issuer", "", "AUTH__MFA__ISSUER"),
        ] {
            let err = format!(
                "{:#}",
                Settings::load(AppEnv::Test, &[(key, value)]).unwrap_err()
            );
            assert!(err.contains(key) && err.contains(named), "{err}");
            if key == "mfa.encryption_key" {
                assert!(!err.contains(value), "{err}");
            }
        }
    }
}
