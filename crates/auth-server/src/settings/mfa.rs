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
