//! Routes about the service rather than a user: health and readiness, metrics, the published
//! keys, and the JSON answers for unknown routes (404) and unsupported methods (405).

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
    web,
};

use auth_core::AuthError;

use crate::{
    AuthState,
    error::{ApiError, ErrorCode},
};

/// `GET /health` and `GET /health/ready` (readiness): 200 when the store answers, 503 with the
/// JSON error body otherwise.
pub(super) async fn health(state: web::Data<AuthState>) -> HttpResponse {
    match state.service.health().await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "database": "ok"})),
        Err(e) => {
            // An outage is logged by the store when it starts and ends, not at every probe.
            if !matches!(&e, AuthError::Unavailable(cause) if cause.is_outage()) {
                tracing::warn!(error = %auth_core::cause_chain(&e), "health check failed");
            }
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "status": "unavailable",
                "database": "unavailable",
                "error": ErrorCode::ServiceUnavailable,
                "detail": "The database cannot be reached",
            }))
        }
    }
}

/// `GET /health/live` (liveness): 200 while the process serves requests; asks no store.
pub(super) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// `GET /metrics`: every metric in the Prometheus text format; 404 when metrics are off.
pub(super) async fn metrics(state: web::Data<AuthState>) -> Result<HttpResponse, ApiError> {
    let metrics = state.metrics().ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(metrics.render(&state.service)))
}

/// `GET /.well-known/jwks.json`: the public keys that verify our tokens.
pub(super) async fn jwks(state: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.service.verifier().jwks())
}

/// The fallback of every resource: a JSON 405.
pub(super) async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "Method Not Allowed",
    ))
}

/// The app-wide fallback: a JSON 404.
pub(crate) async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}
