//! API keys, the API-key exchange, the admin API and the audit log.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use auth_core::{Actor, MAX_PAGE};
use auth_domain::{ApiKey, ApiKeyId, AuditEvent, AuditQuery, Role, UserId, UserQuery};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    AuthState,
    error::ApiError,
    extract::{AdminUser, CurrentUser, JsonBody, api_key, client_info},
    routes::{UserResponse, resource, rfc3339, token_response},
};

#[derive(Serialize)]
struct ApiKeyResponse {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl ApiKeyResponse {
    fn new(key: &ApiKey, secret: Option<String>) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            created_at: rfc3339(key.created_at),
            expires_at: key.expires_at.map(rfc3339),
            last_used_at: key.last_used_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
            key: secret,
        }
    }
}

#[derive(Deserialize)]
struct NewKeyBody {
    name: String,
    #[serde(default)]
    expires_in_days: Option<i64>,
}

async fn create_api_key(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = state
        .service
        .create_api_key(&me, &body.name, body.expires_in_days)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(ApiKeyResponse::new(&key, Some(secret))))
}

async fn list_api_keys(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let keys = state.service.api_keys(&me).await?;
    let body: Vec<_> = keys.iter().map(|k| ApiKeyResponse::new(k, None)).collect();
    Ok(HttpResponse::Ok().json(body))
}

async fn delete_api_key(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .revoke_api_key(&me, ApiKeyId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /login/api-key`: the key in the API-key header, exchanged for an access token.
async fn login_with_api_key(
    req: HttpRequest,
    state: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let key = api_key(&req, &state.http.api_key_header)?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "not_authenticated",
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

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_error",
        format!("{field}: {why}"),
    )
}

fn page(limit: Option<u32>, offset: Option<u32>) -> Result<(u32, u32), ApiError> {
    let limit = limit.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(invalid(
            "limit",
            &format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok((limit, offset.unwrap_or(0)))
}

/// Admin routes need an admin with a bearer session: an API key never administers.
fn admin_actor(admin: &AdminUser) -> Result<Actor, ApiError> {
    admin.0.session()?;
    Ok(Actor::from(&admin.0))
}

#[derive(Deserialize)]
struct UsersQuery {
    limit: Option<u32>,
    offset: Option<u32>,
    q: Option<String>,
}

#[derive(Serialize)]
struct UsersPage {
    users: Vec<UserResponse>,
    total: u64,
}

async fn list_users(
    state: web::Data<AuthState>,
    admin: AdminUser,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    admin_actor(&admin)?;
    let query = query.into_inner();
    let (limit, offset) = page(query.limit, query.offset)?;
    if query
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > 64 || q.chars().any(char::is_control))
    {
        return Err(invalid("q", "must be at most 64 printable characters"));
    }
    let (users, total) = state
        .service
        .list_users(UserQuery {
            q: query.q.filter(|q| !q.is_empty()),
            limit,
            offset,
        })
        .await?;
    Ok(HttpResponse::Ok().json(UsersPage {
        users: users.iter().map(UserResponse::from).collect(),
        total,
    }))
}

async fn get_user(
    state: web::Data<AuthState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    admin_actor(&admin)?;
    let user = state.service.user(UserId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

#[derive(Deserialize)]
struct UserPatch {
    #[serde(default)]
    role: Option<Role>,
    #[serde(default)]
    is_active: Option<bool>,
}

async fn patch_user(
    state: web::Data<AuthState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
    JsonBody(body): JsonBody<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let actor = admin_actor(&admin)?;
    let user = state
        .service
        .set_role_and_state(&actor, UserId(id.into_inner()), body.role, body.is_active)
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

async fn delete_user(
    state: web::Data<AuthState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = admin_actor(&admin)?;
    state
        .service
        .delete_user(&actor, UserId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn end_user_sessions(
    state: web::Data<AuthState>,
    admin: AdminUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let actor = admin_actor(&admin)?;
    state
        .service
        .end_user_sessions(&actor, UserId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
struct AuditParams {
    user: Option<Uuid>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Serialize)]
struct AuditResponse {
    id: String,
    at: String,
    action: String,
    outcome: String,
    actor: Option<String>,
    target: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
}

impl From<&AuditEvent> for AuditResponse {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            at: event
                .at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            action: event.action.clone(),
            outcome: event.outcome.clone(),
            actor: event.actor.map(|u| u.to_string()),
            target: event.target.map(|u| u.to_string()),
            ip: event.ip.clone(),
            detail: event.detail.clone(),
        }
    }
}

#[derive(Serialize)]
struct AuditPage {
    events: Vec<AuditResponse>,
    total: u64,
}

async fn audit_log(
    state: web::Data<AuthState>,
    admin: AdminUser,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    admin_actor(&admin)?;
    let params = params.into_inner();
    let (limit, offset) = page(params.limit, params.offset)?;
    let (events, total) = state
        .service
        .audit_log(AuditQuery {
            user: params.user.map(UserId),
            since: params.since,
            until: params.until,
            limit,
            offset,
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        events: events.iter().map(AuditResponse::from).collect(),
        total,
    }))
}

/// Mounts the routes of this module.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource("/api-keys")
            .route(web::post().to(create_api_key))
            .route(web::get().to(list_api_keys)),
    )
    .service(resource("/api-keys/{id}").route(web::delete().to(delete_api_key)))
    .service(resource("/login/api-key").route(web::post().to(login_with_api_key)))
    .service(resource("/admin/users").route(web::get().to(list_users)))
    .service(
        resource("/admin/users/{id}")
            .route(web::get().to(get_user))
            .route(web::patch().to(patch_user))
            .route(web::delete().to(delete_user)),
    )
    .service(resource("/admin/users/{id}/sessions").route(web::delete().to(end_user_sessions)))
    .service(resource("/admin/audit").route(web::get().to(audit_log)));
}
