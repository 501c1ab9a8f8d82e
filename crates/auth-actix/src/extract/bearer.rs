//! The bearer token of a request.

use actix_web::{HttpRequest, http::header};
use auth_core::MAX_TOKEN_BYTES;

use crate::error::ApiError;

/// The bearer token of a request (RFC 6750 §2.1): `Ok(None)` when no `Authorization: Bearer`
/// header was sent, including for another scheme such as `Basic`. A header that is too long,
/// not text, or `Bearer` with an empty token is a 401 `invalid_token` error. The token itself is
/// not checked here: see [`CurrentUser`](crate::CurrentUser).
pub(crate) fn bearer_token(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    if value.len() > MAX_TOKEN_BYTES + 16 {
        return Err(ApiError::invalid_token(
            "The Authorization header is too long",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_token("The Authorization header is malformed"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() {
                Err(ApiError::invalid_token("The token is malformed"))
            } else {
                Ok(Some(token))
            }
        }
        // Another scheme (e.g. Basic), or a bare "Bearer": as if no bearer token was sent.
        _ => Ok(None),
    }
}
