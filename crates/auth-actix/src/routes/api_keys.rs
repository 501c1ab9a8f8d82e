//! The caller's API keys: create (the secret is shown once), list, revoke. Exchanging a key for
//! a token is `POST /login/api-key`, in [`super::credentials`].

use actix_web::{HttpResponse, http::header, web};
use auth_domain::{ApiKeyId, Password};
use uuid::Uuid;

use crate::{
    AuthState,
    dto::{ApiKeyResponse, NewApiKeyResponse, NewKeyBody},
    error::{ApiError, ErrorBody},
    extract::{CurrentUser, JsonBody},
};

/// `POST /api-keys`: 201 with the key, its secret included this once and never cached. The
/// body must carry the caller's `current_password`.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/api-keys",
    tag = "api-keys",
    operation_id = "create_api_key",
    summary = "Create an API key",
    description = "`current_password` is checked like a login (a wrong one counts toward the lockout), so that a stolen access token alone cannot mint a lasting credential. The key is in this answer only; it acts as its owner on the routes that accept `APIKeyHeader`.",
    request_body = NewKeyBody,
    responses(
        (status = 201, description = "The new key, with the key itself; never cached", body = NewApiKeyResponse),
        (status = 403, description = "`invalid_current_password` or `session_required`", body = ErrorBody),
        (status = 422, description = "`validation_error` (name, expiry) or `current_password_required`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn create(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<NewKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let (key, secret) = state
        .service
        .create_api_key(
            &me,
            &body.name,
            body.expires_in_days,
            body.current_password.map(Password::new),
        )
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(NewApiKeyResponse {
            record: ApiKeyResponse::new(&key),
            key: secret,
        }))
}

/// `GET /api-keys`: the caller's keys, without their secrets.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/api-keys",
    tag = "api-keys",
    operation_id = "list_api_keys",
    summary = "The caller's API keys",
    responses(
        (status = 200, description = "Newest first, revoked and expired ones included; never the keys themselves", body = Vec<ApiKeyResponse>),
        (status = 403, description = "`session_required`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn list(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
) -> Result<HttpResponse, ApiError> {
    let keys = state.service.api_keys(&me).await?;
    let body: Vec<_> = keys.iter().map(ApiKeyResponse::new).collect();
    Ok(HttpResponse::Ok().json(body))
}

/// `DELETE /api-keys/{id}`: revokes one of the caller's keys.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/api-keys/{id}",
    tag = "api-keys",
    operation_id = "revoke_api_key",
    summary = "Revoke one of the caller's API keys",
    params(("id" = Uuid, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked, with every token exchanged for it"),
        (status = 403, description = "`session_required`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such key of the caller's, or an id that is not a UUID", body = ErrorBody),
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
        .revoke_api_key(&me, ApiKeyId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
