//! Administration: the admin greeting, the users, their sessions, and the audit log.
//!
//! Every route of the admin API takes [`AdminSession`]: an admin who logged in. `GET /admin`
//! alone takes [`AdminUser`], so an admin's API key reaches it.

use actix_web::{HttpResponse, http::StatusCode, web};
use auth_core::MAX_PAGE;
use auth_domain::{AuditQuery, Count, Cursor, UserId, UserQuery};
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

/// How many matches a page without `after` counts unless `total=true` asks for every one: so
/// many are read quickly from an index, a million are not.
const COUNTED: u64 = 10_000;

/// Where a page starts, how long it is and what it counts, as the query asked.
struct Paging {
    after: Option<Cursor>,
    limit: u32,
    offset: u32,
    count: Count,
}

impl Paging {
    /// `limit` (default 50, at most [`MAX_PAGE`]); `after` (a cursor of the listing named by
    /// `kind`) or `offset` (default 0), not both; `total`: `true` counts every match, `false`
    /// none, and by default a page without `after` counts up to [`COUNTED`] (see `total`).
    fn parse(
        kind: char,
        limit: Option<u32>,
        offset: Option<u32>,
        after: Option<&str>,
        total: Option<bool>,
    ) -> Result<Self, ApiError> {
        let limit = limit.unwrap_or(50);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(invalid(
                "limit",
                &format!("must be between 1 and {MAX_PAGE}"),
            ));
        }
        let after = after.map(|raw| decode_cursor(kind, raw)).transpose()?;
        if after.is_some() && offset.is_some_and(|offset| offset > 0) {
            return Err(invalid("offset", "cannot be combined with after"));
        }
        Ok(Self {
            after,
            limit,
            offset: offset.unwrap_or(0),
            count: match total {
                Some(true) => Count::All,
                Some(false) => Count::Skip,
                None if after.is_some() => Count::Skip,
                None => Count::UpTo(COUNTED + 1),
            },
        })
    }

    /// The total to show: none when a default count found more than [`COUNTED`] matches.
    fn total(&self, counted: Option<u64>) -> Option<u64> {
        counted.filter(|&n| self.count != Count::UpTo(COUNTED + 1) || n <= COUNTED)
    }
}

/// A cursor as clients see it: an opaque string, in fact the listing's letter (`u` or `a`),
/// then the time in microseconds since 1970 (16 hex digits, two's complement) and the id (32
/// hex digits).
fn encode_cursor(kind: char, cursor: Cursor) -> String {
    // The cast keeps the bits of a time before 1970; `decode_cursor` casts back.
    let micros = cursor.at.timestamp_micros() as u64;
    format!("{kind}{micros:016x}{}", cursor.id.simple())
}

/// The cursor `raw` names in the listing `kind`; 422 `validation_error` for anything that is
/// not such a cursor (another listing's, a made-up time, garbage).
fn decode_cursor(kind: char, raw: &str) -> Result<Cursor, ApiError> {
    let bad = || {
        invalid(
            "after",
            "not a cursor of this listing: give the `next` of a previous page",
        )
    };
    let rest = raw.strip_prefix(kind).ok_or_else(bad)?;
    if rest.len() != 48 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let (micros, id) = rest.split_at(16);
    let micros = u64::from_str_radix(micros, 16).map_err(|_| bad())? as i64;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    if !STORABLE_YEARS.contains(&at.year()) {
        return Err(bad());
    }
    let id = Uuid::try_parse(id).map_err(|_| bad())?;
    Ok(Cursor { at, id })
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
#[cfg_attr(feature = "openapi", utoipa::path(
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
))]
pub(super) async fn welcome(AdminUser(_): AdminUser) -> HttpResponse {
    HttpResponse::Ok().json(AdminWelcome {
        msg: "welcome admin",
    })
}

/// `GET /admin/users?q=&limit=&after=&offset=&total=`: a page of users, oldest first, `q`
/// matching the start of usernames and emails.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/admin/users",
    tag = "admin",
    operation_id = "list_users",
    summary = "Find users",
    params(UsersQuery),
    responses(
        (status = 200, description = "A page of users, oldest first", body = UsersPage),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad `limit`, `offset`, `q`, `after` or `total`, or `after` with an `offset`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn list_users(
    state: web::Data<AuthState>,
    _: AdminSession,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.into_inner();
    let paging = Paging::parse(
        'u',
        query.limit,
        query.offset,
        query.after.as_deref(),
        query.total,
    )?;
    if query
        .q
        .as_ref()
        .is_some_and(|q| q.chars().count() > 64 || q.chars().any(char::is_control))
    {
        return Err(invalid("q", "must be at most 64 printable characters"));
    }
    let page = state
        .service
        .list_users(UserQuery {
            q: query.q.filter(|q| !q.is_empty()),
            after: paging.after,
            limit: paging.limit,
            offset: paging.offset,
            count: paging.count,
        })
        .await?;
    Ok(HttpResponse::Ok().json(UsersPage {
        users: page.items.iter().map(UserResponse::from).collect(),
        total: paging.total(page.total),
        next: page.next.map(|next| encode_cursor('u', next)),
    }))
}

/// `GET /admin/users/{id}`.
#[cfg_attr(feature = "openapi", utoipa::path(
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
))]
pub(super) async fn get_user(
    state: web::Data<AuthState>,
    _: AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let user = state.service.user(UserId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `PATCH /admin/users/{id}`: changes the role or whether the user may log in.
#[cfg_attr(feature = "openapi", utoipa::path(
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
))]
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
#[cfg_attr(feature = "openapi", utoipa::path(
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
))]
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
#[cfg_attr(feature = "openapi", utoipa::path(
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
))]
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

/// `GET /admin/audit?user=&since=&until=&limit=&after=&offset=&total=`: a page of the audit
/// log, newest first.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/admin/audit",
    tag = "admin",
    operation_id = "audit_log",
    summary = "Read the audit log",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of events, newest first", body = AuditPage),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 422, description = "`validation_error`: a bad filter, `limit`, `offset`, `after` or `total`, or `after` with an `offset`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn audit_log(
    state: web::Data<AuthState>,
    _: AdminSession,
    params: web::Query<AuditParams>,
) -> Result<HttpResponse, ApiError> {
    let params = params.into_inner();
    let paging = Paging::parse(
        'a',
        params.limit,
        params.offset,
        params.after.as_deref(),
        params.total,
    )?;
    let page = state
        .service
        .audit_log(AuditQuery {
            user: params.user.map(UserId),
            since: storable("since", params.since)?,
            until: storable("until", params.until)?,
            after: paging.after,
            limit: paging.limit,
            offset: paging.offset,
            count: paging.count,
        })
        .await?;
    Ok(HttpResponse::Ok().json(AuditPage {
        events: page.items.iter().map(AuditResponse::from).collect(),
        total: paging.total(page.total),
        next: page.next.map(|next| encode_cursor('a', next)),
    }))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};
    use uuid::Uuid;

    use super::{COUNTED, Count, Cursor, Paging, decode_cursor, encode_cursor};

    #[test]
    fn cursors_round_trip_over_every_storable_time() {
        let id = Uuid::new_v4();
        for (y, m, d) in [
            (1, 1, 1),
            (1969, 12, 31),
            (1970, 1, 1),
            (2026, 11, 22),
            (9999, 12, 31),
        ] {
            let at = NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_micro_opt(23, 59, 59, 999_999)
                .unwrap()
                .and_utc();
            let cursor = Cursor { at, id };
            let text = encode_cursor('u', cursor);
            assert_eq!(text.len(), 49);
            assert_eq!(decode_cursor('u', &text).unwrap(), cursor);
            assert!(
                decode_cursor('a', &text).is_err(),
                "another listing's cursor"
            );
        }
        let epoch = Cursor {
            at: DateTime::UNIX_EPOCH,
            id,
        };
        assert!(decode_cursor('u', &encode_cursor('u', epoch).to_uppercase()).is_err());
    }

    #[test]
    fn a_default_count_shows_no_total_beyond_its_bound() {
        let default = Paging::parse('u', None, None, None, None).unwrap();
        assert_eq!(default.count, Count::UpTo(COUNTED + 1));
        assert_eq!(default.total(Some(COUNTED)), Some(COUNTED));
        assert_eq!(default.total(Some(COUNTED + 1)), None);
        let exact = Paging::parse('u', None, None, None, Some(true)).unwrap();
        assert_eq!(exact.total(Some(COUNTED + 1)), Some(COUNTED + 1));
        let cursor = encode_cursor(
            'u',
            Cursor {
                at: DateTime::UNIX_EPOCH,
                id: Uuid::nil(),
            },
        );
        let later = Paging::parse('u', None, None, Some(&cursor), None).unwrap();
        assert_eq!(later.count, Count::Skip);
    }
}
