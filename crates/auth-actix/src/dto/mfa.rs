//! The second factor: enrolling a TOTP app, confirming it, turning it off, and the second step
//! of a login that answered `403 mfa_required`.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `POST /mfa/totp`: the caller's current password.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CurrentPasswordRequest, example = json!({"current_password": "correct horse battery"})))]
pub(crate) struct CurrentPasswordBody {
    /// Required, and checked like a login (a wrong one counts toward the lockout).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = String, max_length = 72, pattern = r"^[^\u0000]*$"))]
    pub current_password: Option<String>,
}

/// `DELETE /mfa/totp`: the caller's current password and, while the second factor is on, a
/// current TOTP code or one of the recovery codes (one of the two, as at `POST /login/mfa`).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = DisableTotpRequest, example = json!({
    "current_password": "correct horse battery",
    "code": "492039"
})))]
pub(crate) struct DisableTotpBody {
    /// Required, and checked like a login (a wrong one counts toward the lockout).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = String, max_length = 72, pattern = r"^[^\u0000]*$"))]
    pub current_password: Option<String>,
    /// A current TOTP code; or send `recovery_code`. Needed while the second factor is on (not
    /// to discard a pending enrolment); a wrong one counts toward the lockout.
    #[serde(default)]
    pub code: Option<String>,
    /// One of the recovery codes (used up by this); or send `code`.
    #[serde(default)]
    pub recovery_code: Option<String>,
}

/// `POST /mfa/totp`'s answer, shown once: the secret and the URI that enrols an app.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = TotpSetup, example = json!({
    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/auth-server:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=auth-server&algorithm=SHA1&digits=6&period=30"
})))]
pub(crate) struct TotpSetupResponse<'a> {
    /// A new 160-bit secret, base32.
    pub secret: &'a str,
    /// `otpauth://totp/{issuer}:{username}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`,
    /// for a QR code.
    pub otpauth_uri: &'a str,
}

/// `POST /mfa/totp/confirm`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = TotpCodeRequest, example = json!({"code": "492039"})))]
pub(crate) struct TotpCodeBody {
    /// A current code of the new secret (6 digits).
    pub code: String,
}

/// `POST /mfa/totp/confirm`'s answer, shown once.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RecoveryCodes, example = json!({"recovery_codes": [
    "k7m3-q9p2-x8a4-r6t1", "c2v9-m5n7-d4f6-h8j3", "e1g7-k2l6-f3p5-q8r2", "g6s1-t4u7-h3w3-x5y7",
    "j2z6-b7c4-k5d2-e3f1", "m4n6-p2q7-r3s5-t6u2", "a3b5-c7d2-e4f6-g2h3", "w6x2-y4z7-a5b3-c2d4",
    "p5q3-r7s2-t4u6-v3w5", "z2a4-b6c3-d5e7-f2g4"
]})))]
pub(crate) struct RecoveryCodesResponse<'a> {
    /// Ten single-use codes (`xxxx-xxxx-xxxx-xxxx`), each standing in for one TOTP code at `POST /login/mfa`.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub recovery_codes: &'a [String],
}
