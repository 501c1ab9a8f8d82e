//! The bearer token of a request, and its stateless verification.

use std::future::ready;

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header, web};
use auth_core::{MAX_TOKEN_BYTES, TokenVerifier};
use auth_domain::Claims;

use super::{LocalFuture, misconfigured};
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
/// Stateless means what it says: without a status checker, a token stays valid until it
/// expires even if its session is ended, its user disabled or demoted meanwhile, and the `role`
/// and `username` claims are those at issue. Use [`CurrentUser`](crate::CurrentUser) where that
/// matters, or give the verifier a `StatusChecker` (auth-core feature `status-list`; this
/// crate's feature `status-list` checks without blocking a worker): then a token the server has
/// revoked is 401 `invalid_token` "The token has been revoked" within the list's `ttl`, and a
/// token whose list has been stale beyond the checker's bound (fail-closed) is 503
/// `service_unavailable` with `Retry-After` (docs/revocation.md).
#[derive(Debug, Clone)]
pub struct VerifiedToken(pub Claims);

impl VerifiedToken {
    /// The verifier to use: `web::Data<TokenVerifier>`, else the service's.
    fn verifier(req: &HttpRequest) -> Result<TokenVerifier, ApiError> {
        if let Some(verifier) = req.app_data::<web::Data<TokenVerifier>>() {
            return Ok(verifier.get_ref().clone());
        }
        #[cfg(feature = "service")]
        if let Some(state) = req.app_data::<web::Data<crate::AuthState>>() {
            return Ok(state.service.verifier().clone());
        }
        Err(misconfigured(
            "VerifiedToken needs web::Data<TokenVerifier> (or auth_actix::configure) in app_data",
        ))
    }

    fn extract(req: &HttpRequest) -> Result<(TokenVerifier, String), ApiError> {
        let verifier = Self::verifier(req)?;
        let token = bearer_token(req)?.ok_or_else(ApiError::not_authenticated)?;
        Ok((verifier, token.to_owned()))
    }
}

impl FromRequest for VerifiedToken {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    /// Without I/O on the worker thread: with a status checker (feature `status-list`), a
    /// token whose list is cached is checked at once (a revoked one is 401 `invalid_token`
    /// "The token has been revoked"; a list stale beyond the bound, fail-closed, 503 with
    /// `Retry-After`), and the first fetch of a list runs on the blocking pool.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (verifier, token) = match Self::extract(req) {
            Ok(found) => found,
            Err(e) => return Box::pin(ready(Err(e))),
        };
        #[cfg(feature = "status-list")]
        {
            match verifier.verify_cached(&token) {
                Err(auth_core::TokenError::StatusNotCached) => Box::pin(async move {
                    let claims =
                        web::block(move || verifier.verify(&token))
                            .await
                            .map_err(|e| {
                                misconfigured(&format!("the status list check did not finish: {e}"))
                            })??;
                    Ok(VerifiedToken(claims))
                }),
                other => Box::pin(ready(other.map(VerifiedToken).map_err(ApiError::from))),
            }
        }
        #[cfg(not(feature = "status-list"))]
        {
            Box::pin(ready(
                verifier
                    .verify(&token)
                    .map(VerifiedToken)
                    .map_err(ApiError::from),
            ))
        }
    }
}
