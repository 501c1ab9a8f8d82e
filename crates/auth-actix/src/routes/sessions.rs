//! The caller's sessions: list them, end one.

use actix_web::{HttpResponse, web};
use auth_domain::SessionId;
use uuid::Uuid;

use crate::{AuthState, dto::SessionResponse, error::ApiError, extract::CurrentUser};

/// `GET /sessions`: the caller's live sessions, the current one marked.
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
