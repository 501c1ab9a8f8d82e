//! Token Status Lists (draft-ietf-oauth-status-list-20): a compressed array of 1, 2, 4 or 8
//! bits per token, published as a signed JWT, so that a service verifying our access tokens
//! learns of their revocation within the list's `ttl` at the cost of a bit lookup per request.
//!
//! - [`StatusList`]: the array itself, its `lst` encoding (zlib, then base64url without
//!   padding; index 0 in the least significant bits of byte 0) and the decoding, bounded in
//!   size.
//! - [`StatusListClaims`]: the claims of a Status List Token (`typ: statuslist+jwt`), signed by
//!   [`TokenIssuer::sign_status_list`](crate::TokenIssuer::sign_status_list) and checked by
//!   [`TokenVerifier::verify_status_list`](crate::TokenVerifier::verify_status_list) with the
//!   keys of the access tokens.
//! - With the feature `status-list`: `StatusChecker`, which a `TokenVerifier` uses to refuse
//!   tokens whose status is not VALID, fetching and refreshing the lists they reference.

mod claims;
mod encoding;
mod verify;

#[cfg(feature = "status-list")]
mod checker;

pub use claims::{EncodedStatusList, StatusListClaims};
pub use encoding::{Bits, StatusList, StatusListError};
pub use verify::StatusListTokenError;

#[cfg(feature = "status-list")]
pub(crate) use checker::StatusCache;
#[cfg(feature = "status-list")]
pub use checker::{
    FetchError, FetchRequest, FetchResponse, ListHealth, StatusChecker, StatusCheckerBuilder,
    StatusCheckerError, StatusListFetcher, UreqFetcher,
};

/// The `typ` header of a Status List Token.
pub const STATUS_LIST_TOKEN_TYPE: &str = "statuslist+jwt";

/// The media type of a Status List Token (the `Accept` of a fetch, the `Content-Type` of the
/// answer).
pub const STATUS_LIST_JWT_MEDIA_TYPE: &str = "application/statuslist+jwt";

/// The media type of the unsigned JSON form `{"status_list": {"bits", "lst"}}`. Drafts -01 to
/// -05 registered it; draft -20 registers only the JWT and CWT forms, so a Relying Party of
/// the current draft asks for [`STATUS_LIST_JWT_MEDIA_TYPE`].
pub const STATUS_LIST_JSON_MEDIA_TYPE: &str = "application/statuslist+json";
