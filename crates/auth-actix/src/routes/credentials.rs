//! Getting credentials and giving them up: registration, the JSON login, the exchange of an API
//! key for an access token, and logout.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use auth_core::{LoginAttempt, LogoutScope, Registration};
use auth_domain::Password;

use super::token_response;
use crate::{
    AuthState,
    dto::{LoginBody, LogoutQuery, RegisterBody, ScopeParam, UserResponse},
    error::{ApiError, ErrorCode},
    extract::{CurrentUser, JsonBody, api_key, client_info},
    rate_limit::RateLimited,
};

/// `POST /register`: 201 with the new user.
pub(super) async fn register(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state.http.trusted_proxies);
    let registration = Registration {
        username: body.username,
        password: Password::new(body.password),
        email: body.email,
    };
    let user = state.service.register(registration, client).await?;
    Ok(HttpResponse::Created().json(UserResponse::from(&user)))
}

/// `POST /login`: a new session's token pair.
pub(super) async fn login(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let attempt = LoginAttempt {
        username: body.username,
        password: Password::new(body.password),
        expires_in: body.expires_in,
    };
    let client = client_info(&req, &state.http.trusted_proxies);
    let pair = state.service.login(attempt, client).await?;
    Ok(token_response(&pair))
}

/// `POST /login/api-key`: the key in the API-key header, exchanged for an access token.
pub(super) async fn login_with_api_key(
    req: HttpRequest,
    state: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let key = api_key(&req, &state.http.api_key_header)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::NotAuthenticated,
            format!(
                "Send the API key in the {} header",
                state.http.api_key_header
            ),
        )
    })?;
    let client = client_info(&req, &state.http.trusted_proxies);
    let principal = state.service.authenticate_api_key(&key, client).await?;
    let pair = state.service.exchange_api_key(&principal).await?;
    Ok(token_response(&pair))
}

/// `POST /logout?scope=local|others|global`: ends this session, the others, or all.
pub(super) async fn logout(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    query: web::Query<LogoutQuery>,
) -> Result<HttpResponse, ApiError> {
    let scope = match query.scope {
        None | Some(ScopeParam::Local) => LogoutScope::Local,
        Some(ScopeParam::Others) => LogoutScope::Others,
        Some(ScopeParam::Global) => LogoutScope::Global,
    };
    state.service.logout(&me, scope).await?;
    Ok(HttpResponse::NoContent().finish())
}
