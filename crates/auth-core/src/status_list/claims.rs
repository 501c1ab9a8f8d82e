//! The claims of a Status List Token in JWT format (draft-ietf-oauth-status-list-20 §5.1).

use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::{Bits, StatusList, StatusListError};

/// The JSON form of a Status List (§4.2): `{"bits": 1, "lst": "eNrbuRgAAhcBXQ"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncodedStatusList {
    /// Bits per entry: 1, 2, 4 or 8.
    pub bits: u64,
    /// The byte array, zlib-compressed, base64url without padding.
    pub lst: String,
    /// Where the Status List Aggregation of this kind of token is published (optional; we
    /// publish none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_uri: Option<String>,
}

impl EncodedStatusList {
    /// The list, decoded: refused if `bits` is not 1, 2, 4 or 8, if `lst` is malformed, or if
    /// it decompresses to more than `max_bytes`.
    pub fn decode(&self, max_bytes: usize) -> Result<StatusList, StatusListError> {
        StatusList::decode(Bits::from_count(self.bits)?, &self.lst, max_bytes)
    }
}

impl StatusList {
    /// The JSON form of this list (`bits` and the compressed `lst`).
    pub fn to_encoded(&self) -> EncodedStatusList {
        EncodedStatusList {
            bits: u64::from(self.bits().get()),
            lst: self.encode(),
            aggregation_uri: None,
        }
    }
}

/// The claims of a Status List Token (header `typ: statuslist+jwt`). Made by
/// [`TokenIssuer::status_list_claims`](crate::TokenIssuer::status_list_claims), signed by
/// [`TokenIssuer::sign_status_list`](crate::TokenIssuer::sign_status_list), checked by
/// [`TokenVerifier::verify_status_list`](crate::TokenVerifier::verify_status_list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaims {
    /// The URL the list is published at: equal to the `uri` of the tokens that reference it.
    pub sub: String,
    /// The issuer, as in access tokens.
    pub iss: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch). The draft only recommends it; our verifier
    /// requires it, so that no list can be relied on forever.
    pub exp: i64,
    /// How long, in seconds, a verifier may cache the list before fetching it again (positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u64>,
    /// The list.
    pub status_list: EncodedStatusList,
}

impl StatusListClaims {
    /// How long after `iat` a Status List Token made by
    /// [`TokenIssuer::status_list_claims`](crate::TokenIssuer::status_list_claims) expires,
    /// unless `exp` is changed: one hour. The publisher signs a new token before then, and at
    /// every change of the list.
    pub const DEFAULT_VALIDITY: TimeDelta = TimeDelta::hours(1);
}
