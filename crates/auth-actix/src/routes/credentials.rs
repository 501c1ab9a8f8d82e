//! Getting credentials and giving them up: registration, the JSON login, the exchange of an API
//! key for an access token, and logout.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use auth_core::{LoginAttempt, LogoutScope, Registration};
use auth_domain::Password;

use super::token_response;
use crate::{
    AuthState,
    dto::{LoginBody, LogoutQuery, RegisterBody, ScopeParam, TokenResponse, UserResponse},
    error::{ApiError, ErrorBody, ErrorCode},
    extract::{CurrentUser, JsonBody, api_key, client_info},
    rate_limit::RateLimited,
};

/// `POST /register`: 201 with the new user.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/register",
    tag = "credentials",
    operation_id = "register",
    summary = "Create an account",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "The new user", body = UserResponse),
        (status = 409, description = "`username_taken` or `email_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_username`, `invalid_email`, `invalid_password`, `weak_password` (zxcvbn; `detail` says why), or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: this address is over `security.rate_limit_per_minute`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn register(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state.http);
    let registration = Registration {
        username: body.username,
        password: Password::new(body.password),
        email: body.email,
    };
    let user = state.service.register(registration, client).await?;
    Ok(HttpResponse::Created().json(UserResponse::from(&user)))
}

/// `POST /login`: a new session's token pair.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/login",
    tag = "credentials",
    operation_id = "login",
    summary = "Log in with JSON",
    description = "Opens a session: an access token and a refresh token. `expires_in` may ask for a shorter or longer access token; the answer says the real lifetime.",
    request_body = LoginBody,
    responses(
        (status = 200, description = "A new session's tokens; never cached", body = TokenResponse),
        (status = 401, description = "`invalid_credentials`: the same answer, in the same time, for an unknown user and a wrong password", body = ErrorBody, headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 403, description = "`account_disabled`, or `mfa_required` with `mfa_token` and no tokens (an account with a second factor: send the `mfa_token` to `POST /login/mfa`); both only after the right password", body = ErrorBody),
        (status = 422, description = "`invalid_password` (over 72 bytes, or a NUL) or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts` (locked out of this username) or `too_many_requests` (this address)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
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
    let client = client_info(&req, &state.http);
    let pair = state.service.login(attempt, client).await?;
    Ok(token_response(&pair))
}

/// `POST /login/api-key`: the key in the API-key header, exchanged for an access token.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/login/api-key",
    tag = "credentials",
    operation_id = "login_with_api_key",
    summary = "Exchange an API key for an access token",
    description = "The access token has the key's limits (no session routes, no admin API), ends with its 15 minutes or the key's expiry, and dies when the key is revoked. No refresh token: the key is the long-lived secret.",
    responses(
        (status = 200, description = "An access token, without `refresh_token`", body = TokenResponse),
        (status = 401, description = "`not_authenticated` (no key) or `invalid_api_key` (unknown, revoked or expired, or its owner is disabled)", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: this address is over `security.rate_limit_per_minute`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("APIKeyHeader" = [])),
))]
pub(super) async fn login_with_api_key(
    _: RateLimited,
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
    let client = client_info(&req, &state.http);
    let principal = state.service.authenticate_api_key(&key, client).await?;
    let pair = state.service.exchange_api_key(&principal).await?;
    Ok(token_response(&pair))
}

/// `POST /logout?scope=local|others|global`: ends this session, the others, or all.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/logout",
    tag = "credentials",
    operation_id = "logout",
    summary = "Log out",
    description = "Ends this session (`scope=local`, the default), the caller's other sessions (`others`) or all of them (`global`). An ended session's tokens are refused at the very next request.",
    params(LogoutQuery),
    responses(
        (status = 204, description = "Logged out"),
        (status = 403, description = "`session_required`: an API key has no session to end", body = ErrorBody),
        (status = 422, description = "`validation_error`: an unknown `scope`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
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
