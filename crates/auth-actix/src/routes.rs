//! The routes of the HTTP contract and their request and response shapes.

use actix_web::{
    HttpRequest, HttpResponse,
    http::{StatusCode, header},
    web,
};
use auth_core::{LoginAttempt, LogoutScope, ProfileUpdate, RefreshToken, Registration, TokenPair};
use auth_domain::{Password, Session, SessionId, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{
    AuthState,
    error::ApiError,
    extract::{AdminUser, CurrentUser, FormBody, JsonBody, client_info},
    rate_limit::RateLimited,
};

/// A user as the API shows it. There is no field for the password hash, so none can leak.
#[derive(Debug, Serialize)]
pub struct UserResponse {
    /// The user id.
    pub id: String,
    /// The username as registered.
    pub username: String,
    /// The email, or null.
    pub email: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// Whether the user may log in.
    pub is_active: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            email: user.email.as_ref().map(ToString::to_string),
            role: user.role.to_string(),
            is_active: user.is_active,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// `TokenResponse` of the contract.
#[derive(Debug, Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

pub(crate) fn token_response(pair: &TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: &pair.access_token,
            token_type: "bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token.as_ref().map(|t| t.expose()),
        })
}

#[derive(Deserialize)]
struct RegisterBody {
    username: String,
    password: String,
    #[serde(default)]
    email: Option<String>,
}

async fn register(
    _: RateLimited,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<RegisterBody>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .service
        .register(Registration {
            username: body.username,
            password: Password::new(body.password),
            email: body.email,
        })
        .await?;
    Ok(HttpResponse::Created().json(UserResponse::from(&user)))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

async fn login(
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

/// The OAuth2 token request (RFC 6749 §4.3). Every field is optional here so that a missing one
/// is answered with `invalid_request` naming it, as §5.2 asks.
#[derive(Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    #[allow(dead_code)] // accepted and ignored: scopes are not used
    scope: Option<String>,
}

async fn token(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    FormBody(form): FormBody<TokenForm>,
) -> Result<HttpResponse, ApiError> {
    match form.grant_type.as_deref() {
        None | Some("password") => {}
        Some("refresh_token") => {
            let presented = form
                .refresh_token
                .ok_or_else(|| ApiError::oauth("invalid_request", "refresh_token is required"))?;
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
                "unsupported_grant_type",
                format!(
                    "grant_type {shown:?} is not supported; use \"password\" or \"refresh_token\""
                ),
            ));
        }
    }
    let (Some(username), Some(password)) = (form.username, form.password) else {
        return Err(ApiError::oauth(
            "invalid_request",
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

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

async fn refresh(
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

#[derive(Serialize)]
struct SessionResponse {
    id: String,
    created_at: String,
    last_used_at: String,
    expires_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
    current: bool,
}

impl SessionResponse {
    fn new(session: &Session, current: SessionId) -> Self {
        Self {
            id: session.id.to_string(),
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            expires_at: rfc3339(session.ends_at()),
            user_agent: session.client.user_agent.clone(),
            ip: session.client.ip.clone(),
            current: session.id == current,
        }
    }
}

async fn sessions(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let sessions = state.service.sessions(&me).await?;
    let current = me.session()?.0.id;
    let body: Vec<_> = sessions
        .iter()
        .map(|s| SessionResponse::new(s, current))
        .collect();
    Ok(HttpResponse::Ok().json(body))
}

async fn delete_session(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    id: web::Path<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .revoke_own_session(&me, SessionId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn profile(CurrentUser(me): CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(UserResponse::from(&me.user))
}

/// Distinguishes `"email": null` (remove it) from a missing `email` (leave it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
struct ProfileBody {
    #[serde(default)]
    username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    email: Option<Option<String>>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    current_password: Option<String>,
}

async fn update_profile(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let update = ProfileUpdate {
        username: body.username,
        email: body.email,
        password: body.password.map(Password::new),
        current_password: body.current_password.map(Password::new),
    };
    let user = state.service.update_profile(&me, update).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

#[derive(Serialize)]
struct TokenExpiry {
    expire_time: String,
    expires_in: i64,
    issued_at: String,
}

async fn token_expiry(CurrentUser(me): CurrentUser) -> Result<HttpResponse, ApiError> {
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

async fn protected(CurrentUser(me): CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "message": "This is a protected route",
        "username": me.user.username.as_str(),
    }))
}

async fn admin(AdminUser(_): AdminUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "msg": "welcome admin" }))
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ScopeParam {
    Local,
    Others,
    Global,
}

#[derive(Deserialize)]
struct LogoutQuery {
    #[serde(default)]
    scope: Option<ScopeParam>,
}

async fn logout(
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

async fn health(state: web::Data<AuthState>) -> HttpResponse {
    match state.service.health().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            tracing::warn!(error = %auth_core::cause_chain(&e), "health check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "status": "unavailable",
                "database": "unavailable",
                "error": "service_unavailable",
                "detail": "The database cannot be reached",
            }))
        }
    }
}

async fn jwks(state: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.service.verifier().jwks())
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Method Not Allowed",
    ))
}

/// The app-wide fallback: a JSON 404.
pub(crate) async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}

/// A resource whose unsupported methods get a JSON 405.
pub(crate) fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

/// Mounts every route of the contract.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/register").route(web::post().to(register)))
        .service(resource("/login").route(web::post().to(login)))
        .service(resource("/token").route(web::post().to(token)))
        .service(resource("/refresh").route(web::post().to(refresh)))
        .service(resource("/sessions").route(web::get().to(sessions)))
        .service(resource("/sessions/{id}").route(web::delete().to(delete_session)))
        .service(
            resource("/profile")
                .route(web::get().to(profile))
                .route(web::put().to(update_profile))
                .route(web::patch().to(update_profile)),
        )
        .service(resource("/users/me").route(web::get().to(profile)))
        .service(resource("/token_expiry").route(web::get().to(token_expiry)))
        .service(resource("/protected").route(web::get().to(protected)))
        .service(resource("/admin").route(web::get().to(admin)))
        .service(resource("/logout").route(web::post().to(logout)))
        .service(resource("/health").route(web::get().to(health)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(jwks)));
}
