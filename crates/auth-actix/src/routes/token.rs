//! Access tokens: the OAuth2 token endpoint, the JSON refresh, and the current token's times.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::{LoginAttempt, RefreshToken};
use auth_domain::Password;
use chrono::{DateTime, Utc};

use super::token_response;
#[cfg(feature = "openapi")]
use crate::error::OAuthErrorBody;
use crate::{
    AuthState,
    dto::{RefreshBody, TokenExpiry, TokenForm, TokenResponse, rfc3339},
    error::{ApiError, ErrorBody, ErrorCode},
    extract::{CurrentUser, FormBody, JsonBody, client_info},
    rate_limit::{OAuthRateLimited, RateLimited},
};

/// `POST /token`: the password and refresh-token grants of RFC 6749, form-encoded, with its
/// error format.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/token",
    tag = "tokens",
    operation_id = "token",
    summary = "OAuth2 token endpoint (password and refresh-token grants)",
    description = "RFC 6749 §4.3 and §6, form-encoded, as FastAPI's `OAuth2PasswordRequestForm` clients send it. No `grant_type` means `password`; `scope` is accepted and ignored. Every error has `error_description` and is never cached. Swagger UI's Authorize button logs in here.",
    request_body(content = TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A new session's tokens (password grant) or the rotated pair (refresh grant); never cached", body = TokenResponse),
        (status = 400, description = "`invalid_request` (wrong content type, a missing field, a password over 72 bytes), `invalid_grant` (wrong credentials, disabled account, bad refresh token) or `unsupported_grant_type`", body = OAuthErrorBody),
        (status = 403, description = "`mfa_required` with `mfa_token` and no tokens (only after the right password, for an account with a second factor: send the `mfa_token` to `POST /login/mfa`)", body = OAuthErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.body_timeout_secs` (the connection is closed)", body = OAuthErrorBody),
        (status = 413, description = "`payload_too_large`", body = OAuthErrorBody),
        (status = 429, description = "`too_many_attempts` or `too_many_requests`", body = OAuthErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
        (status = 503, description = "`service_unavailable`: the database cannot be reached, or the server is too busy hashing passwords", body = OAuthErrorBody),
    ),
))]
pub(super) async fn token(
    _: OAuthRateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    FormBody(form): FormBody<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    match form.grant_type.as_deref() {
        None | Some("password") => {}
        Some("refresh_token") => {
            let presented = form.refresh_token.ok_or_else(|| {
                ApiError::oauth(ErrorCode::InvalidRequest, "refresh_token is required")
            })?;
            let pair = state
                .service
                .refresh(
                    RefreshToken::from_client(presented),
                    client_info(&req, &state.http),
                )
                .await
                .map_err(ApiError::for_token_endpoint)?;
            return Ok(token_response(&pair));
        }
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            return Err(ApiError::oauth(
                ErrorCode::UnsupportedGrantType,
                format!(
                    "grant_type {shown:?} is not supported; use \"password\" or \"refresh_token\""
                ),
            ));
        }
    }
    let (Some(username), Some(password)) = (form.username, form.password) else {
        return Err(ApiError::oauth(
            ErrorCode::InvalidRequest,
            "username and password are required",
        ));
    };
    let attempt = LoginAttempt {
        username,
        password: Password::new(password),
        expires_in: None,
    };
    let client = client_info(&req, &state.http);
    let pair = state
        .service
        .login(attempt, client)
        .await
        .map_err(ApiError::for_token_endpoint)?;
    Ok(token_response(&pair))
}

/// `POST /refresh`: a rotated token pair for a refresh token, in JSON.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/refresh",
    tag = "tokens",
    operation_id = "refresh",
    summary = "Rotate a refresh token",
    description = "A new access token and a new refresh token in the same session; the old refresh token is retired. Presenting a retired one again (after a short grace period) ends the whole session.",
    request_body = RefreshBody,
    responses(
        (status = 200, description = "The rotated pair; never cached", body = TokenResponse),
        (status = 401, description = "`invalid_grant`: unknown, retired, expired or revoked", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn refresh(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state.http);
    let pair = state
        .service
        .refresh(RefreshToken::from_client(body.refresh_token), client)
        .await?;
    Ok(token_response(&pair))
}

/// `GET /token_expiry`: when the caller's access token was issued and when it expires.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/token_expiry",
    tag = "tokens",
    operation_id = "token_expiry",
    summary = "The presented token's times",
    responses(
        (status = 200, description = "When it was issued and when it expires", body = TokenExpiry),
        (status = 403, description = "`session_required`: an API key is not a token", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn expiry(CurrentUser(me): CurrentUser) -> Result<HttpResponse, ApiError> {
    let at = |secs| {
        DateTime::from_timestamp(secs, 0)
            .map(rfc3339)
            .ok_or_else(|| ApiError::invalid_token("The token's times are out of range"))
    };
    let (_, claims) = me.session()?;
    Ok(HttpResponse::Ok().json(TokenExpiry {
        expire_time: at(claims.exp)?,
        expires_in: (claims.exp - Utc::now().timestamp()).max(0),
        issued_at: at(claims.iat)?,
    }))
}
