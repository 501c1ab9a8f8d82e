//! Routes about the service rather than a user: health and readiness, metrics, the published
//! keys, and the JSON answers for unknown routes (404) and unsupported methods (405, with
//! `Allow`).

use actix_web::{
    HttpResponse,
    http::{StatusCode, header},
    web,
};

use auth_core::AuthError;

#[cfg(feature = "openapi")]
use crate::dto::Jwks;
use crate::{
    AuthState,
    dto::{Health, HealthUnavailable, Liveness},
    error::{ApiError, ErrorBody, ErrorCode},
};

/// `GET /health` and `GET /health/ready` (readiness): 200 when the store answers, 503 with the
/// JSON error body otherwise.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    operation_id = "health",
    summary = "Whether the server and its database answer",
    responses(
        (status = 200, description = "Up", body = Health),
        (status = 503, description = "The database cannot be reached", body = HealthUnavailable),
    ),
))]
pub(super) async fn health(state: web::Data<AuthState>) -> HttpResponse {
    match state.service.health().await {
        Ok(()) => HttpResponse::Ok().json(Health {
            status: "ok",
            database: "ok",
        }),
        Err(e) => {
            // An outage is logged by the store when it starts and ends, not at every probe.
            if !matches!(&e, AuthError::Unavailable(cause) if cause.is_outage()) {
                tracing::warn!(error = %auth_core::cause_chain(&e), "health check failed");
            }
            HttpResponse::ServiceUnavailable().json(HealthUnavailable {
                status: "unavailable",
                database: "unavailable",
                error: ErrorCode::ServiceUnavailable,
                detail: "The database cannot be reached",
            })
        }
    }
}

/// `GET /health/ready` (readiness): [`health`], described at its own path.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/health/ready",
    tag = "meta",
    operation_id = "ready",
    summary = "Readiness: whether the server and its database answer",
    description = "As `GET /health`: for a load balancer or an orchestrator's readiness probe.",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database cannot be reached", body = HealthUnavailable),
    ),
))]
pub(super) async fn ready(state: web::Data<AuthState>) -> HttpResponse {
    health(state).await
}

/// `GET /health/live` (liveness): 200 while the process serves requests; asks no store.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/health/live",
    tag = "meta",
    operation_id = "live",
    summary = "Liveness: whether the process serves requests",
    description = "Never asks the database: for an orchestrator's liveness probe.",
    responses(
        (status = 200, description = "Alive", body = Liveness),
    ),
))]
pub(super) async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Liveness { status: "ok" })
}

/// `GET /metrics`: every metric in the Prometheus text format; 404 when metrics are off.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/metrics",
    tag = "meta",
    operation_id = "metrics",
    summary = "Metrics in the Prometheus text format",
    description = "Only when `metrics.enabled`; keep it from the public (docs/operations.md).",
    responses(
        (status = 200, description = "Every metric; never cached", body = String,
            content_type = "text/plain; version=0.0.4; charset=utf-8"),
        (status = 404, description = "`not_found`: metrics are off", body = ErrorBody),
    ),
))]
pub(super) async fn metrics(state: web::Data<AuthState>) -> Result<HttpResponse, ApiError> {
    // Without the `metrics` feature there are none: 404, as when they are off.
    #[cfg(not(feature = "metrics"))]
    return Err({
        let _ = state;
        ApiError::not_found()
    });
    #[cfg(feature = "metrics")]
    {
        let metrics = state.metrics().ok_or_else(ApiError::not_found)?;
        Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(metrics.render(&state.service)))
    }
}

/// `GET /.well-known/jwks.json`: the public keys that verify our tokens.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "meta",
    operation_id = "jwks",
    summary = "The public keys that verify access tokens (JWKS)",
    responses(
        (status = 200, description = "Cacheable for 5 minutes", body = Jwks,
            headers(("Cache-Control" = String, description = "`public, max-age=300`"))),
    ),
))]
pub(super) async fn jwks(state: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(state.service.verifier().jwks())
}

/// The fallback of every resource: a JSON 405 whose `Allow` lists the methods the resource
/// serves (RFC 9110 §15.5.6).
pub(super) fn method_not_allowed(allow: &str) -> HttpResponse {
    let mut response = actix_web::ResponseError::error_response(&ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::MethodNotAllowed,
        "Method Not Allowed",
    ));
    if let Ok(value) = header::HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The app-wide fallback: a JSON 404.
pub(crate) async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}
