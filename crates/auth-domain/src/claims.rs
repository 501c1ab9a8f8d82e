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
    /// Where the token's revocation status is published (the `status` claim of the IETF Token
    /// Status List draft): `{"status_list": {"idx": …, "uri": …}}`. Absent from tokens issued
    /// without one; a verifier that checks status lists refuses those unless told otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<TokenStatus>,
}

/// The `status` claim of a Referenced Token (draft-ietf-oauth-status-list): the mechanisms
/// that publish the token's status. Only `status_list` is defined (and required here); a
/// `status` object without it does not parse, so such a token is refused as malformed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenStatus {
    /// The token's entry in a Status List.
    pub status_list: StatusListRef,
}

/// A token's entry in a Status List: the list's URL and the index of the token's status in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListRef {
    /// The index of the token's status in the list (a non-negative integer).
    pub idx: u64,
    /// The URL the Status List Token is fetched from; also its `sub`.
    pub uri: String,
}

impl TokenStatus {
    /// The `status` claim for entry `idx` of the list published at `uri`.
    pub fn list_entry(uri: impl Into<String>, idx: u64) -> Self {
        Self {
            status_list: StatusListRef {
                idx,
                uri: uri.into(),
            },
        }
    }
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
