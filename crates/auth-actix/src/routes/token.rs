//! Access tokens: the OAuth2 token endpoint, the JSON refresh, and the current token's times.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_core::{LoginAttempt, RefreshToken};
use auth_domain::Password;
use chrono::{DateTime, Utc};

use super::token_response;
use crate::{
    AuthState,
    dto::{RefreshBody, TokenExpiry, TokenForm, rfc3339},
    error::{ApiError, ErrorCode},
    extract::{CurrentUser, FormBody, JsonBody, client_info},
    rate_limit::{OAuthRateLimited, RateLimited},
};

/// `POST /token`: the password and refresh-token grants of RFC 6749, form-encoded, with its
/// error format.
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
                    client_info(&req, &state.http.trusted_proxies),
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
    let client = client_info(&req, &state.http.trusted_proxies);
    let pair = state
        .service
        .login(attempt, client)
        .await
        .map_err(ApiError::for_token_endpoint)?;
    Ok(token_response(&pair))
}

/// `POST /refresh`: a rotated token pair for a refresh token, in JSON.
pub(super) async fn refresh(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<RefreshBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state.http.trusted_proxies);
    let pair = state
        .service
        .refresh(RefreshToken::from_client(body.refresh_token), client)
        .await?;
    Ok(token_response(&pair))
}

/// `GET /token_expiry`: when the caller's access token was issued and when it expires.
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
