//! The actix-web adapter of the authentication service: the HTTP contract's routes, the
//! extractors that guard routes, and the one error type.
//!
//! # Features
//!
//! Without any feature (the default), the crate is the light core for services that only trust
//! our tokens: [`VerifiedToken`], [`bearer_token`], [`client_ip`] and the JSON errors
//! ([`ApiError`], [`ErrorCode`]), over auth-core's verifier alone (no bcrypt, no store, no
//! OpenAPI, no metrics). Each feature adds a layer; the bundled server turns on all of them:
//!
//! | feature | adds |
//! |---|---|
//! | `service` | `CurrentUser`, `AdminUser`, `AdminSession`, `AuthState`, `HttpSettings` (auth-core's `service`) |
//! | `server` | `service`, and every route: `configure`, `app`, `JsonBody`, `FormBody`, `RateLimited`, `RequestId`, CORS |
//! | `openapi` | `server`, and `GET /openapi.json` and Swagger UI at `GET /docs/` (utoipa) |
//! | `metrics` | `server`, and `Metrics` at `GET /metrics` (prometheus) |
//!
//! docs/embedding.md gives each shape with its `Cargo.toml` lines and its crate count. The rest
//! of this page describes the crate with every feature on.
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
//! - a way back in by email: `POST /password/forgot`, `POST /password/reset`,
//!   `POST /admin/users/{id}/password-reset` (404, and left out of the OpenAPI document, while
//!   the service has no enabled mailer: [`AuthService::mail_enabled`])
//! - the pages that links in messages open, HTML for people rather than JSON:
//!   `GET`/`POST /reset-password`, `GET`/`POST /verify-email` and their stylesheet `GET /assets/pages.css` (404 with mail
//!   off; not described in the OpenAPI document)
//! - the service: `GET /health`, `GET /health/live`, `GET /health/ready`,
//!   `GET /.well-known/jwks.json`, and `GET /metrics` when [`HttpSettings::metrics`] is on
//! - OAuth 2.0 for other services: `POST /introspect` (RFC 7662), `POST /revoke` (RFC 7009),
//!   `GET /.well-known/oauth-authorization-server` (RFC 8414)
//! - the description: `GET /openapi.json` (OpenAPI 3.1, generated from the code: [`openapi`])
//!   and Swagger UI at `GET /docs/`, compiled in
//!
//! [`served_routes`] lists them. [`app`] is [`configure`] plus what a whole server wants: a JSON
//! 404 for unknown routes, trailing-slash tolerance, `GET /docs` redirected to `/docs/`, CORS for
//! the origins of [`HttpSettings::cors_allowed_origins`], `X-Content-Type-Options: nosniff`, a
//! request id (`X-Request-Id`, [`RequestId`]) with a tracing span around each request, one log
//! line per request, and the request metrics ([`Metrics`]). The bundled server and the tests use it. An embedder's own routes beside the
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
// These docs describe every feature; a build with fewer lacks some of the items they link.
#![cfg_attr(
    not(all(feature = "openapi", feature = "metrics")),
    allow(rustdoc::broken_intra_doc_links)
)]

// The light core (no feature): the JSON errors and the extractors that need only a verifier.
mod error;
mod extract;
// `server`: the routes and what a whole server wraps them in.
#[cfg(feature = "server")]
mod cors;
#[cfg(feature = "server")]
mod dto;
#[cfg(feature = "server")]
mod rate_limit;
#[cfg(feature = "server")]
mod request_id;
// Without `openapi`, the names that only its `#[utoipa::path]` attributes use are unused.
#[cfg(feature = "server")]
#[cfg_attr(not(feature = "openapi"), allow(unused_imports))]
mod routes;
// `openapi` and `metrics`.
#[cfg(feature = "metrics")]
mod metrics;
#[cfg(feature = "openapi")]
mod openapi;

#[cfg(feature = "service")]
use std::net::IpAddr;
#[cfg(feature = "server")]
use std::sync::Arc;

#[cfg(feature = "server")]
use actix_web::{
    App, Error,
    body::MessageBody,
    dev::{ServiceFactory, ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::{DefaultHeaders, NormalizePath, from_fn},
    web,
};
#[cfg(feature = "service")]
use auth_core::AuthService;

pub use error::{ApiError, ErrorCode};
pub use extract::{VerifiedToken, bearer_token, client_ip};

#[cfg(feature = "service")]
pub use extract::{AdminSession, AdminUser, CurrentUser};

#[cfg(feature = "server")]
pub use {
    cors::check_cors_origin,
    dto::UserResponse,
    extract::{FormBody, JsonBody},
    rate_limit::RateLimited,
    request_id::{REQUEST_ID_HEADER, RequestId, UNMATCHED},
    routes::served_routes,
};

#[cfg(feature = "metrics")]
pub use metrics::Metrics;

#[cfg(feature = "openapi")]
pub use {
    openapi::{API_KEY_HEADER, HTTP_BEARER, OAUTH2_PASSWORD, openapi},
    routes::docs::UNDESCRIBED as UNDESCRIBED_ROUTES,
};

/// HTTP-level settings. Most are read by the routes of the `server` feature; [`CurrentUser`]
/// reads `trusted_proxies` and `api_key_header`.
#[cfg(feature = "service")]
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Larger request bodies get 413.
    pub max_body_bytes: usize,
    /// A request body not all there this long after the route starts reading it gets 408
    /// `request_timeout`, and its connection is closed: a client that announces a body and
    /// stops sending cannot hold a connection.
    pub body_timeout: std::time::Duration,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// The header that carries an API key.
    pub api_key_header: String,
    /// Requests per minute and client IP on login (both steps), the API-key exchange, the
    /// confirmation of a second factor, token, register, refresh, revoke, and the password
    /// reset routes (`/password/forgot`, `/password/reset`); 0 disables.
    pub rate_limit_per_minute: u32,
    /// Where those limits are kept: in this process, or in the store, one budget across every
    /// process that shares it.
    pub rate_limit_store: RateLimitStorage,
    /// The absolute URL clients reach the server at (`https://auth.example.com`), for the
    /// URLs of the RFC 8414 metadata; `None`: from each request's `Host` (and, from a trusted
    /// proxy, `X-Forwarded-Host`/`-Proto`).
    pub public_url: Option<String>,
    /// Origins whose browser apps may call the API (CORS), each as [`check_cors_origin`]
    /// accepts it; empty: no CORS headers at all.
    pub cors_allowed_origins: Vec<String>,
    /// Record metrics and serve them at `GET /metrics` (Prometheus text format); needs the
    /// `metrics` feature, without which `GET /metrics` is 404.
    pub metrics: bool,
    /// The `ttl` of the Token Status Lists at `GET /statuslists/{id}`, and their
    /// `Cache-Control: max-age`, in seconds.
    pub status_list_ttl_secs: u64,
}

#[cfg(feature = "service")]
impl Default for HttpSettings {
    /// 64 KiB bodies read within 10 s, no trusted proxies, API keys in `X-API-Key`, 60 requests
    /// a minute per IP on the credential routes (counted in this process), public URL from each request, no CORS, no
    /// metrics, status lists with a `ttl` of 2 seconds.
    fn default() -> Self {
        Self {
            max_body_bytes: 64 * 1024,
            body_timeout: std::time::Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            api_key_header: "X-API-Key".to_owned(),
            rate_limit_per_minute: 60,
            rate_limit_store: RateLimitStorage::Memory,
            public_url: None,
            cors_allowed_origins: Vec::new(),
            metrics: false,
            status_list_ttl_secs: 2,
        }
    }
}

/// Where the per-IP rate limits ([`HttpSettings::rate_limit_per_minute`]) are kept.
#[cfg(feature = "service")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RateLimitStorage {
    /// In this process: each instance counts by itself, so N instances allow N times the limit.
    /// No I/O.
    #[default]
    Memory,
    /// In the store ([`RateLimitStore`](auth_domain::RateLimitStore)): one budget per IP across
    /// every instance on the database, at one store call (on the blocking pool) per limited
    /// request. While the store is unavailable, each instance limits by itself (logged once
    /// when that starts and once when it ends).
    Database,
}

/// What the routes and [`CurrentUser`] need: the service, the HTTP settings, the per-IP rate
/// limiter (`server`), and the metrics when they are on (`metrics`). Without the `server`
/// feature, put it in `app_data` as `web::Data<AuthState>` for [`CurrentUser`].
#[cfg(feature = "service")]
#[derive(Clone, Debug)]
pub struct AuthState {
    /// The authentication service.
    pub service: AuthService,
    /// HTTP-level settings.
    pub http: HttpSettings,
    #[cfg(feature = "server")]
    limiter: Arc<rate_limit::IpRateLimiter>,
    #[cfg(feature = "metrics")]
    metrics: Option<Arc<Metrics>>,
    // The OpenAPI document and Swagger UI's settings, made at the first `configure`.
    #[cfg(feature = "openapi")]
    docs: Arc<std::sync::OnceLock<routes::docs::Docs>>,
}

#[cfg(feature = "service")]
impl AuthState {
    /// The state for `service` with `http` settings. With `http.metrics` (and the `metrics`
    /// feature), a new `Metrics` registry receives the service's reports
    /// ([`AuthService::observe_with`]).
    pub fn new(service: AuthService, http: HttpSettings) -> Self {
        #[cfg(feature = "metrics")]
        let metrics = http.metrics.then(|| {
            let metrics = Arc::new(Metrics::new());
            service.observe_with(metrics.clone());
            metrics
        });
        Self {
            #[cfg(feature = "server")]
            limiter: Arc::new(rate_limit::IpRateLimiter::new(
                http.rate_limit_per_minute,
                http.rate_limit_store,
            )),
            #[cfg(feature = "metrics")]
            metrics,
            #[cfg(feature = "openapi")]
            docs: Arc::default(),
            service,
            http,
        }
    }

    /// The metrics, when [`HttpSettings::metrics`] is on (for adding sampled gauges).
    #[cfg(feature = "metrics")]
    pub fn metrics(&self) -> Option<&Metrics> {
        self.metrics.as_deref()
    }
}

/// Mounts every route of the contract (listed in the [crate] docs) and its state into `cfg`;
/// query and path errors become JSON errors (422 `validation_error`, 404 `not_found`). The
/// OpenAPI document is built here, once, for `state`'s settings.
#[cfg(feature = "server")]
pub fn configure(state: AuthState) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        #[cfg(feature = "openapi")]
        {
            let docs = state
                .docs
                .get_or_init(|| routes::docs::Docs::of(&state))
                .clone();
            cfg.app_data(docs.document).app_data(docs.swagger_ui);
        }
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
/// tolerance (`/admin/` is `/admin`), `GET /docs` redirected to `/docs/`, CORS for the origins of
/// [`HttpSettings::cors_allowed_origins`] (and for no other), `X-Content-Type-Options: nosniff`,
/// and, outermost, the request id, its span, one log line per request and the request metrics
/// ([`RequestId`]).
#[cfg(feature = "server")]
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
    let cors = cors::cors(&state.http);
    let app = App::new()
        .configure(configure(state))
        .default_service(web::to(routes::not_found))
        .wrap(cors)
        .wrap(from_fn(cors::listed_origins_only))
        .wrap(NormalizePath::trim());
    #[cfg(feature = "openapi")]
    let app = app.wrap(from_fn(routes::docs::redirect_bare_docs));
    app.wrap(DefaultHeaders::new().add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")))
        .wrap(from_fn(request_id::trace_request))
}

/// The embedding guide, `docs/embedding.md`, compiled as doctests so that its examples cannot
/// drift from the code.
#[cfg(all(doctest, feature = "server", feature = "openapi"))]
#[doc = include_str!("../../../docs/embedding.md")]
pub struct EmbeddingGuide;
