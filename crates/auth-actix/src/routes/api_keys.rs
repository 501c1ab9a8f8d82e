//! The caller's API keys: create (the secret is shown once), list, revoke. Exchanging a key for
//! a token is `POST /login/api-key`, in [`super::credentials`].

use actix_web::{HttpResponse, http::header, web};
use auth_domain::ApiKeyId;
use uuid::Uuid;

use crate::{
    AuthState,
    dto::{ApiKeyResponse, NewKeyBody},
    error::ApiError,
    extract::{CurrentUser, JsonBody},
};

/// `POST /api-keys`: 201 with the key, its secret included this once and never cached.
pub(super) async fn create(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = state
        .service
        .create_api_key(&me, &body.name, body.expires_in_days)
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(ApiKeyResponse::new(&key, Some(secret))))
}

/// `GET /api-keys`: the caller's keys, without their secrets.
pub(super) async fn list(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let keys = state.service.api_keys(&me).await?;
    let body: Vec<_> = keys.iter().map(|k| ApiKeyResponse::new(k, None)).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /api-keys/{id}`: revokes one of the caller's keys.
pub(super) async fn delete(
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
