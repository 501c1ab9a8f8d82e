//! The caller's sessions: list them, end one.

use actix_web::{HttpResponse, web};
use auth_domain::SessionId;
use uuid::Uuid;

use crate::{
    AuthState,
    dto::SessionResponse,
    error::{ApiError, ErrorBody},
    extract::CurrentUser,
};

/// `GET /sessions`: the caller's live sessions, the current one marked.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/sessions",
    tag = "sessions",
    operation_id = "list_sessions",
    summary = "The caller's live sessions",
    responses(
        (status = 200, description = "Newest first; the current one marked", body = Vec<SessionResponse>),
        (status = 403, description = "`session_required`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn list(
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

/// `DELETE /sessions/{id}`: ends one of the caller's sessions.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/sessions/{id}",
    tag = "sessions",
    operation_id = "delete_session",
    summary = "End one of the caller's sessions",
    params(("id" = Uuid, Path, description = "The session id")),
    responses(
        (status = 204, description = "Ended"),
        (status = 403, description = "`session_required`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such session of the caller's (another user's is not found either), or an id that is not a UUID", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn delete(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .revoke_own_session(&me, SessionId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
