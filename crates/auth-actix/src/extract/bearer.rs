//! The bearer token of a request, and its stateless verification.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use auth_core::{MAX_TOKEN_BYTES, TokenVerifier};
use auth_domain::Claims;

use super::misconfigured;
use crate::error::ApiError;

/// The bearer token of a request (RFC 6750 §2.1): `Ok(None)` when no `Authorization: Bearer`
/// header was sent, including for another scheme such as `Basic`. A header that is too long,
/// not text, or `Bearer` with an empty token is a 401 `invalid_token` error. The token itself is
/// not checked here: see [`VerifiedToken`] and [`CurrentUser`](crate::CurrentUser).
pub fn bearer_token(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
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

/// The claims of a bearer token that a [`TokenVerifier`] accepts: signature, algorithm, `typ`,
/// `iss`, `aud`, `exp` and `nbf`. No store and no [`AuthService`](auth_core::AuthService): a
/// service that only trusts our tokens needs nothing but the verifier (e.g.
/// [`TokenVerifier::from_jwks`] over our published JWKS) in its `app_data` as
/// `web::Data<TokenVerifier>`. Without one, the verifier of the `web::Data<AuthState>` that
/// `configure` mounts is used (feature `service`); with neither, the answer is 500.
///
/// Failures are those of [`CurrentUser`](crate::CurrentUser): 401 `not_authenticated` without a
/// bearer token, 401 `invalid_token` for one that does not verify, both with RFC 6750's
/// `WWW-Authenticate`.
///
/// Stateless means what it says: a token stays valid until it expires even if its session is
/// ended, its user disabled or demoted meanwhile, and the `role` and `username` claims are those
/// at issue. Use [`CurrentUser`](crate::CurrentUser) where that matters.
#[derive(Debug, Clone)]
pub struct VerifiedToken(pub Claims);

impl VerifiedToken {
    fn extract(req: &HttpRequest) -> Result<Self, ApiError> {
        if let Some(verifier) = req.app_data::<web::Data<TokenVerifier>>() {
            return Self::verify(req, verifier);
        }
        #[cfg(feature = "service")]
        if let Some(state) = req.app_data::<web::Data<crate::AuthState>>() {
            return Self::verify(req, state.service.verifier());
        }
        Err(misconfigured(
            "VerifiedToken needs web::Data<TokenVerifier> (or auth_actix::configure) in app_data",
        ))
    }

    fn verify(req: &HttpRequest, verifier: &TokenVerifier) -> Result<Self, ApiError> {
        let token = bearer_token(req)?.ok_or_else(ApiError::not_authenticated)?;
        Ok(VerifiedToken(verifier.verify(token)?))
    }
}

impl FromRequest for VerifiedToken {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::extract(req))
    }
}
