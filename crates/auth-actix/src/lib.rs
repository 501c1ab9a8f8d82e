//! The actix-web adapter of the authentication service: the HTTP contract's routes, the
//! extractors that guard routes, and the one error type.
//!
//! # The whole API: [`configure`] and [`app`]
//!
//! [`configure`] mounts every route of the contract, with its state, into an app:
//!
//! - credentials: `POST /register`, `POST /login`, `POST /login/api-key`, `POST /logout`
//! - tokens: `POST /token` (OAuth2, form-encoded), `POST /refresh`, `GET /token_expiry`
//! - the caller: `GET`/`PUT`/`PATCH /profile`, `GET /users/me`, `GET /protected`,
//!   `GET /sessions`, `DELETE /sessions/{id}`, `POST`/`GET /api-keys`, `DELETE /api-keys/{id}`
//! - administration: `GET /admin`, `GET /admin/users`, `GET`/`PATCH`/`DELETE
//!   /admin/users/{id}`, `DELETE /admin/users/{id}/sessions`, `GET /admin/audit`
//! - the second factor: `POST`/`DELETE /mfa/totp`, `POST /mfa/totp/confirm`,
//!   `POST /login/mfa`, `DELETE /admin/users/{id}/mfa`
//! - the service: `GET /health`, `GET /.well-known/jwks.json`
//!
//! [`app`] is [`configure`] plus what a whole server wants: a JSON 404 for unknown routes,
//! trailing-slash tolerance, `X-Content-Type-Options: nosniff` and one log line per request. The
//! bundled server and the tests use it. An embedder's own routes beside the API take the
//! extractors:
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, web};
//! use auth_actix::{AdminSession, AuthState, CurrentUser};
//!
//! async fn mine(CurrentUser(me): CurrentUser) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("hello {}", me.user.username.as_str()))
//! }
//!
//! async fn reindex(AdminSession(_actor): AdminSession) -> HttpResponse {
//!     HttpResponse::Accepted().finish()
//! }
//!
//! fn wire(state: AuthState) {
//!     let _app = App::new()
//!         .configure(auth_actix::configure(state))
//!         .route("/mine", web::get().to(mine))
//!         .route("/reindex", web::post().to(reindex));
//! }
//! ```
//!
//! # Extractors only: a service that trusts our tokens
//!
//! A service that only needs to know who calls puts a [`TokenVerifier`](auth_core::TokenVerifier)
//! in its `app_data` and takes [`VerifiedToken`]: no store, no [`AuthService`], no route of ours.
//! The verifier can be built from our published JWKS, with no secret at all:
//!
//! ```no_run
//! use actix_web::{App, HttpResponse, HttpServer, web};
//! use auth_actix::VerifiedToken;
//! use auth_core::TokenVerifier;
//!
//! async fn mine(VerifiedToken(claims): VerifiedToken) -> HttpResponse {
//!     HttpResponse::Ok().body(format!("hello {}", claims.sub))
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     // The document `GET /.well-known/jwks.json` serves.
//!     let jwks = std::fs::read_to_string("jwks.json")?;
//!     let verifier = TokenVerifier::from_jwks(&jwks, "auth-server", "auth-server")
//!         .expect("a usable JWKS");
//!     let verifier = web::Data::new(verifier);
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(verifier.clone())
//!             .route("/mine", web::get().to(mine))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! A missing token is 401 `not_authenticated`, a bad one 401 `invalid_token`, as on our own
//! routes. [`bearer_token`] reads the token for an embedder that checks it some other way.
//!
//! # Guards and errors
//!
//! - [`CurrentUser`]: a live session or API key, read from the store.
//! - [`AdminUser`]: a [`CurrentUser`] who is an admin now; 403 `forbidden` otherwise.
//! - [`AdminSession`]: an [`AdminUser`] who logged in (no API key); yields the audit
//!   [`Actor`](auth_core::Actor).
//! - [`VerifiedToken`]: a bearer token's claims, checked by a verifier alone.
//! - [`ApiError`] is the one error type: the contract's status codes, bodies and headers, its
//!   `error` field one of the [`ErrorCode`]s.
#![forbid(unsafe_code)]

mod dto;
mod error;
mod extract;
mod rate_limit;
mod routes;

use std::{net::IpAddr, time::Instant};

use actix_web::{
    App, Error,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::{DefaultHeaders, Next, NormalizePath, from_fn},
    web,
};
use auth_core::AuthService;

pub use dto::UserResponse;
pub use error::{ApiError, ErrorCode};
pub use extract::{
    AdminSession, AdminUser, CurrentUser, FormBody, JsonBody, VerifiedToken, bearer_token,
    client_ip,
};
pub use rate_limit::RateLimited;

/// HTTP-level settings.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The header that carries an API key.
    pub api_key_header: String,
    /// Requests per minute and client IP on login (both steps), token, register and refresh; 0
    /// disables.
    pub rate_limit_per_minute: u32,
}

impl Default for HttpSettings {
    /// 64 KiB bodies, no trusted proxies, API keys in `X-API-Key`, 60 requests a minute per IP
    /// on the credential routes.
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            trusted_proxies: Vec::new(),
            api_key_header: "X-API-Key".to_owned(),
            rate_limit_per_minute: 60,
        }
    }
}

/// What the routes need: the service, the HTTP settings, and the per-IP rate limiter.
#[derive(Clone, Debug)]
pub struct AuthState {
    /// The authentication service.
    pub service: AuthService,
    /// HTTP-level settings.
    pub http: HttpSettings,
    limiter: std::sync::Arc<rate_limit::IpRateLimiter>,
}

impl AuthState {
    /// The state for `service` with `http` settings.
    pub fn new(service: AuthService, http: HttpSettings) -> Self {
        let limiter =
            std::sync::Arc::new(rate_limit::IpRateLimiter::new(http.rate_limit_per_minute));
        Self {
            service,
            http,
            limiter,
        }
    }
}

/// Mounts every route of the contract (listed in the [crate] docs) and its state into `cfg`;
/// query and path errors become JSON errors (422 `validation_error`, 404 `not_found`).
pub fn configure(state: AuthState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.app_data(web::Data::new(state))
            .app_data(web::QueryConfig::default().error_handler(|err, _| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ErrorCode::ValidationError,
                    format!("query: {err}"),
                )
                .into()
            }))
            .app_data(web::PathConfig::default().error_handler(|err, _| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    format!("path: {err}"),
                )
                .into()
            }));
        routes::routes(cfg);
    }
}

/// The whole application: [`configure`] plus a JSON 404 for unknown routes, trailing-slash
/// tolerance (`/admin/` is `/admin`), `X-Content-Type-Options: nosniff`, and one log line per
/// request (method, path without query, status, latency).
pub fn app(
    state: AuthState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = Error,
        InitError = (),
    >,
> {
    App::new()
        .configure(configure(state))
        .default_service(web::to(routes::not_found))
        .wrap(NormalizePath::trim())
        .wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
        .wrap(from_fn(log_request))
}

/// Logs one line per request. Only the path is logged, never the query string or headers, so a
/// token sent where it does not belong never reaches the log.
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let path: String = req.path().chars().take(200).collect();
    let response = next.call(req).await;
    let status = match &response {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    tracing::info!(
        %method,
        %path,
        status,
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// The embedding guide, `docs/embedding.md`, compiled as doctests so that its examples cannot
/// drift from the code.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/embedding.md")]
pub struct EmbeddingGuide;
