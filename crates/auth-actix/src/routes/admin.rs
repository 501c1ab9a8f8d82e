//! Administration: the admin greeting, the users, their sessions, and the audit log.
//!
//! Every route of the admin API takes [`AdminSession`]: an admin who logged in. `GET /admin`
//! alone takes [`AdminUser`], so an admin's API key reaches it.

use actix_web::{HttpResponse, http::StatusCode, web};
use auth_core::MAX_PAGE;
use auth_domain::{AuditQuery, UserId, UserQuery};
use chrono::{DateTime, Datelike, Utc};
use uuid::Uuid;

use crate::{
    AuthState,
    dto::{
        AdminWelcome, AuditPage, AuditParams, AuditResponse, UserPatch, UserResponse, UsersPage,
        UsersQuery,
    },
    error::{ApiError, ErrorBody, ErrorCode},
    extract::{AdminSession, AdminUser, JsonBody},
};

/// 422 `validation_error` for a query parameter.
fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationError,
        format!("{field}: {why}"),
    )
}

/// `limit` (default 50, at most [`MAX_PAGE`]) and `offset` (default 0).
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

/// The years of a client's time that every store keeps: SQLite orders times as text, which
/// holds for four-digit years only, and PostgreSQL refuses years past 294276 (or before 4714
/// BC) with an error.
const STORABLE_YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// `at` if every store can compare with it; 422 `validation_error` naming `field` otherwise.
fn storable(field: &str, at: Option<DateTime<Utc>>) -> Result<Option<DateTime<Utc>>, ApiError> {
    match at {
        Some(at) if !STORABLE_YEARS.contains(&at.year()) => Err(invalid(
            field,
            &format!(
                "must be between the years {} and {} (UTC)",
                STORABLE_YEARS.start(),
                STORABLE_YEARS.end()
            ),
        )),
        _ => Ok(at),
    }
}

/// `GET /admin`: any admin, by session or API key.
#[utoipa::path(
    get,
    path = "/admin",
    tag = "admin",
    operation_id = "admin_welcome",
    summary = "The tutorial's admin route",
    responses(
        (status = 200, description = "A greeting, for admins", body = AdminWelcome),
        (status = 403, description = "`forbidden`: not an admin (the role is read from the store)", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn welcome(AdminUser(_): AdminUser) -> HttpResponse {
    HttpResponse::Ok().json(AdminWelcome {
        msg: "welcome admin",
    })
}

/// `GET /admin/users?q=&limit=&offset=`: a page of users, `q` matching usernames and emails.
#[utoipa::path(
    get,
    path = "/admin/users",
    tag = "admin",
    operation_id = "list_users",
    summary = "Find users",
    params(UsersQuery),
    responses(
        (status = 200, description = "A page of users, oldest first", body = UsersPage),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad `limit`, `offset` or `q`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
)]
pub(super) async fn list_users(
    state: web::Data<AuthState>,
    _: AdminSession,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
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

/// `GET /admin/users/{id}`.
#[utoipa::path(
    get,
    path = "/admin/users/{id}",
    tag = "admin",
    operation_id = "get_user",
    summary = "One user",
    params(("id" = Uuid, Path, description = "The user id")),
    responses(
        (status = 200, description = "The user", body = UserResponse),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
)]
pub(super) async fn get_user(
    state: web::Data<AuthState>,
    _: AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state.service.user(UserId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `PATCH /admin/users/{id}`: changes the role or whether the user may log in.
#[utoipa::path(
    patch,
    path = "/admin/users/{id}",
    tag = "admin",
    operation_id = "update_user",
    summary = "Change a user's role, or disable or enable them",
    description = "Disabling ends every session of the user. The last active admin cannot be demoted or disabled.",
    params(("id" = Uuid, Path, description = "The user id")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "The changed user", body = UserResponse),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`last_admin`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
)]
pub(super) async fn patch_user(
    state: web::Data<AuthState>,
    AdminSession(actor): AdminSession,
    id: web::Path<Uuid>,
    JsonBody(body): JsonBody<UserPatch>,
) -> Result<HttpResponse, ApiError> {
    let user = state
        .service
        .set_role_and_state(&actor, UserId(id.into_inner()), body.role, body.is_active)
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `DELETE /admin/users/{id}`.
#[utoipa::path(
    delete,
    path = "/admin/users/{id}",
    tag = "admin",
    operation_id = "delete_user",
    summary = "Delete a user, with their sessions and API keys",
    params(("id" = Uuid, Path, description = "The user id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last active admin cannot be deleted", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
)]
pub(super) async fn delete_user(
    state: web::Data<AuthState>,
    AdminSession(actor): AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .delete_user(&actor, UserId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /admin/users/{id}/sessions`: logs the user out everywhere.
#[utoipa::path(
    delete,
    path = "/admin/users/{id}/sessions",
    tag = "admin",
    operation_id = "end_user_sessions",
    summary = "Log a user out everywhere",
    params(("id" = Uuid, Path, description = "The user id")),
    responses(
        (status = 204, description = "Every session of the user ended"),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
)]
pub(super) async fn end_user_sessions(
    state: web::Data<AuthState>,
    AdminSession(actor): AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .end_user_sessions(&actor, UserId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /admin/audit?user=&since=&until=&limit=&offset=`: a page of the audit log.
#[utoipa::path(
    get,
    path = "/admin/audit",
    tag = "admin",
    operation_id = "audit_log",
    summary = "Read the audit log",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events, newest first", body = AuditPage),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad filter or page", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
)]
pub(super) async fn audit_log(
    state: web::Data<AuthState>,
    _: AdminSession,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let (limit, offset) = page(params.limit, params.offset)?;
    let (events, total) = state
        .service
        .audit_log(AuditQuery {
            user: params.user.map(UserId),
            since: storable("since", params.since)?,
            until: storable("until", params.until)?,
            limit,
            offset,
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        events: events.iter().map(AuditResponse::from).collect(),
        total,
    }))
}
