//! Getting credentials and tokens: registration, the JSON login, the OAuth2 token form, the
//! refresh, the token response, and logout's scope.

use auth_core::TokenPair;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

#[cfg(feature = "openapi")]
use super::GrantType;

// The patterns are those of the parent module's note: usernames, emails, passwords.

/// `TokenResponse` of the contract (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = TokenResponse, example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiYXQrand0In0.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "bearer",
    "expires_in": 900,
    "refresh_token": "q2Vb0tqJ8m6rXH3sT1yN4eWcZpK7uA9dLfG5iR0oE2w"
})))]
pub(crate) struct TokenResponse<'a> {
    /// The access token: a JWT, sent as `Authorization: Bearer <access_token>`.
    access_token: &'a str,
    /// Always `bearer`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^bearer$"))]
    token_type: &'static str,
    /// Seconds until the access token expires.
    expires_in: i64,
    /// The refresh token (43 base64url characters); absent when the flow grants none (the
    /// API-key exchange).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    refresh_token: Option<&'a str>,
}

impl<'a> From<&'a TokenPair> for TokenResponse<'a> {
    fn from(pair: &'a TokenPair) -> Self {
        Self {
            access_token: &pair.access_token,
            token_type: "bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token.as_ref().map(|t| t.expose()),
        }
    }
}

/// `POST /register`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RegisterRequest, example = json!({
    "username": "alice",
    "password": "correct horse battery",
    "email": "alice@example.com"
})))]
pub(crate) struct RegisterBody {
    /// 3 to 32 ASCII letters, digits, `_`, `.` or `-`; unique without regard to case.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9_.-]{3,32}$"))]
    pub username: String,
    /// At least `password.min_length` characters, at most 72 bytes of UTF-8, and strong enough
    /// (zxcvbn score `password.min_strength`).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 8, max_length = 72, pattern = r"^[^\u0000]*$")
    )]
    pub password: String,
    /// Optional; at most 254 characters, like `name@example.com` (at most 64 before the `@`);
    /// unique without regard to case.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            max_length = 254,
            pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
        )
    )]
    pub email: Option<String>,
}

/// `POST /login`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = LoginRequest, example = json!({
    "username": "alice",
    "password": "correct horse battery"
})))]
pub(crate) struct LoginBody {
    /// The username (any case).
    pub username: String,
    /// The password: at most 72 bytes of UTF-8, no NUL.
    #[cfg_attr(
        feature = "openapi",
        schema(max_length = 72, pattern = r"^[^\u0000]*$")
    )]
    pub password: String,
    /// The access token's lifetime in seconds, clamped to `jwt.min_access_ttl_secs` ..
    /// `jwt.max_access_ttl_secs` (never refused for being out of them: the document states no
    /// minimum or maximum, and [`crate::openapi`] writes the configured bounds into this
    /// description); the response says the real one.
    #[serde(default, deserialize_with = "super::integer::optional")]
    #[cfg_attr(feature = "openapi", schema(example = 900))]
    pub expires_in: Option<i64>,
}

/// The OAuth2 token request (RFC 6749 §4.3). Every field is optional here so that a missing one
/// is answered with `invalid_request` naming it, as §5.2 asks.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = TokenRequest, example = json!({
    "grant_type": "password",
    "username": "alice",
    "password": "correct horse battery"
})))]
pub(crate) struct TokenForm {
    /// `password` (the default) or `refresh_token`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = GrantType))]
    pub grant_type: Option<String>,
    /// The password grant's username.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "alice"))]
    pub username: Option<String>,
    /// The password grant's password (at most 72 bytes).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "correct horse battery"))]
    pub password: Option<String>,
    /// The refresh-token grant's refresh token (ignored by the password grant).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "q2Vb0tqJ8m6rXH3sT1yN4eWcZpK7uA9dLfG5iR0oE2w"))]
    pub refresh_token: Option<String>,
    /// Accepted and ignored.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = ""))]
    #[allow(dead_code)] // accepted and ignored: scopes are not used
    pub scope: Option<String>,
}

/// `POST /refresh`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = RefreshRequest, example = json!({
    "refresh_token": "q2Vb0tqJ8m6rXH3sT1yN4eWcZpK7uA9dLfG5iR0oE2w"
})))]
pub(crate) struct RefreshBody {
    /// A refresh token from a token response.
    pub refresh_token: String,
}

/// `GET /token_expiry`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "expire_time": "2026-11-22T10:15:00Z",
    "expires_in": 840,
    "issued_at": "2026-11-22T10:00:00Z"
})))]
pub(crate) struct TokenExpiry {
    /// When the presented token expires (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub expire_time: String,
    /// Seconds left; never negative.
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub expires_in: i64,
    /// When it was issued (RFC 3339, UTC).
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub issued_at: String,
}

/// `?scope=` of `POST /logout`: this session, the caller's other sessions, or all of them.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "openapi", schema(as = LogoutScope))]
pub(crate) enum ScopeParam {
    Local,
    Others,
    Global,
}

/// The query of `POST /logout`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub(crate) struct LogoutQuery {
    /// Which sessions end: `local` (the default), `others` or `global`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(inline))]
    pub scope: Option<ScopeParam>,
}
