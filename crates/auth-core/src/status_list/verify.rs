//! Checking a Status List Token with the keys of the access tokens.

use super::{Bits, STATUS_LIST_TOKEN_TYPE, StatusListClaims, StatusListError};
use crate::{TokenError, TokenVerifier};

/// Why a Status List Token was refused. The texts go to logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListTokenError {
    /// The header's `typ` is not `statuslist+jwt`.
    #[error("the status list token's typ is not statuslist+jwt")]
    WrongType,
    /// `sub` is not the URL the token was fetched from (the `uri` the access token named).
    #[error("the status list token's sub is not the URL it was fetched from")]
    Subject,
    /// `ttl` is present but not a positive number of seconds.
    #[error("the status list token's ttl is not positive")]
    Ttl,
    /// `bits` is not 1, 2, 4 or 8.
    #[error("the status list is malformed: {0}")]
    List(#[from] StatusListError),
    /// A check it shares with access tokens failed: header parameters, `kid`, algorithm,
    /// signature, `exp`, `nbf`, `iss`, or a missing or mistyped claim.
    #[error("the status list token was refused: {0}")]
    Token(TokenError),
}

impl From<TokenError> for StatusListTokenError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::WrongType => StatusListTokenError::WrongType,
            other => StatusListTokenError::Token(other),
        }
    }
}

impl TokenVerifier {
    /// Checks a Status List Token fetched from `uri`, exactly as access tokens are checked
    /// (no `jku`/`jwk`/`x5u`/`x5c`/`crit` header, a known `kid`, that key's algorithm, the
    /// signature, `iss`, `exp` and `nbf` with the leeway), and: `typ` is `statuslist+jwt`,
    /// `sub` equals `uri`, `iat` and `exp` are present, `ttl` (if present) is positive, and
    /// `bits` is 1, 2, 4 or 8. The list itself is decoded by
    /// [`EncodedStatusList::decode`](super::EncodedStatusList::decode).
    pub fn verify_status_list(
        &self,
        token: &str,
        uri: &str,
    ) -> Result<StatusListClaims, StatusListTokenError> {
        let key = self.key_for(token, STATUS_LIST_TOKEN_TYPE, usize::MAX)?;
        let mut validation = self.validation(key);
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<StatusListClaims>(token, &key.decoding, &validation)
            .map_err(TokenError::from)?
            .claims;
        if claims.sub != uri {
            return Err(StatusListTokenError::Subject);
        }
        if claims.ttl == Some(0) {
            return Err(StatusListTokenError::Ttl);
        }
        Bits::from_count(claims.status_list.bits)?;
        Ok(claims)
    }
}
