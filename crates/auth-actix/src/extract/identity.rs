//! Who is calling, read from the store: a live session or a live API key, and whether the
//! caller may administer.

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use auth_core::{Actor, AuthError, Principal};
use auth_domain::Role;

use super::{LocalFuture, bearer_token, client_info, state};
use crate::error::ApiError;

/// The API key of a request: `Ok(None)` when the configured header is absent.
pub(crate) fn api_key(req: &HttpRequest, header_name: &str) -> Result<Option<String>, ApiError> {
    let invalid = || ApiError::from(AuthError::InvalidApiKey);
    match req.headers().get(header_name) {
        None => Ok(None),
        Some(value) if value.len() > 256 => Err(invalid()),
        Some(value) => value
            .to_str()
            .map(|key| Some(key.trim().to_owned()))
            .map_err(|_| invalid()),
    }
}

/// The authenticated caller of a route: a verified bearer token whose session is live, or (when
/// no bearer token is sent) a live API key; either way the user exists and is active, with the
/// current role. The `Depends(get_current_user)` of the FastAPI apps; usable on an embedder's
/// own routes. Use [`Principal::session`] where only a bearer session will do.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let token = bearer_token(req).map(|token| token.map(ToOwned::to_owned));
        let key = state
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|state| api_key(req, &state.http.api_key_header));
        let client = state
            .as_ref()
            .map(|state| client_info(req, &state.http))
            .unwrap_or_default();
        Box::pin(async move {
            let state = state?;
            if let Some(token) = token? {
                return Ok(CurrentUser(
                    state.service.authenticate(&token, client).await?,
                ));
            }
            match key? {
                Some(key) => Ok(CurrentUser(
                    state.service.authenticate_api_key(&key, client).await?,
                )),
                None => Err(ApiError::not_authenticated()),
            }
        })
    }
}

/// A [`CurrentUser`] whose current role (read from the store) is admin; 403 otherwise.
#[derive(Debug, Clone)]
pub struct AdminUser(pub Principal);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let CurrentUser(principal) = current.await?;
            if principal.user.role == Role::Admin {
                Ok(AdminUser(principal))
            } else {
                Err(ApiError::forbidden())
            }
        })
    }
}

/// The guard of the admin API: an [`AdminUser`] who logged in, i.e. holds a bearer session of
/// their own. An API key, or a token obtained by exchanging one, never administers: 403
/// `session_required` (an API key still reaches routes guarded by [`AdminUser`] alone). Yields
/// the [`Actor`] that admin operations record in the audit log: the admin and the client's
/// address.
#[derive(Debug, Clone)]
pub struct AdminSession(pub Actor);

impl FromRequest for AdminSession {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let admin = AdminUser::from_request(req, payload);
        Box::pin(async move {
            let AdminUser(principal) = admin.await?;
            principal.session()?;
            Ok(AdminSession(Actor::from(&principal)))
        })
    }
}
