use serde::{Deserialize, Serialize};

use crate::{Role, SessionId, UserId};

/// The `typ` header of our access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The claims of an access token (RFC 9068 profile plus `username`, `role` and `sid`), typed:
/// a token whose `sub`, `sid` or `role` does not parse is refused when it is verified, so code
/// that holds `Claims` never parses them again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: the user id, never the username.
    pub sub: UserId,
    /// The username when the token was issued (informational; `sub` is authoritative).
    pub username: String,
    /// The role when the token was issued (informational; servers read the current role).
    pub role: Role,
    /// The session this token belongs to.
    pub sid: SessionId,
    /// Unique token id.
    pub jti: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before (seconds since the epoch).
    pub nbf: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
    /// How the user authenticated (RFC 8176 method names): `["pwd", "otp"]` for a login that
    /// passed a second factor. Absent from other tokens, so a verifier must treat a missing
    /// `amr` as "no second factor", never as an error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
}

impl Claims {
    /// Whether the token says the user authenticated with `method` (an RFC 8176 name such as
    /// `"otp"`); `false` for a token without `amr`.
    pub fn has_amr(&self, method: &str) -> bool {
        self.amr
            .as_deref()
            .is_some_and(|methods| methods.iter().any(|m| m == method))
    }
}
