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
    dto::{AuditPage, AuditParams, AuditResponse, UserPatch, UserResponse, UsersPage, UsersQuery},
    error::{ApiError, ErrorCode},
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
pub(super) async fn welcome(AdminUser(_): AdminUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "msg": "welcome admin" }))
}

/// `GET /admin/users?q=&limit=&offset=`: a page of users, `q` matching usernames and emails.
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
pub(super) async fn get_user(
    state: web::Data<AuthState>,
    _: AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state.service.user(UserId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `PATCH /admin/users/{id}`: changes the role or whether the user may log in.
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
