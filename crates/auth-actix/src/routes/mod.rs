//! The routes of the HTTP contract, one module per resource:
//!
//! | module | routes |
//! | --- | --- |
//! | [`credentials`] | `POST /register`, `POST /login`, `POST /login/api-key`, `POST /logout`: getting and giving up credentials |
//! | [`token`] | `POST /token` (OAuth2), `POST /refresh`, `GET /token_expiry`: access tokens |
//! | [`sessions`] | `GET /sessions`, `DELETE /sessions/{id}`: the caller's sessions |
//! | [`profile`] | `GET`/`PUT`/`PATCH /profile`, `GET /users/me`, `GET /protected`: the caller |
//! | [`api_keys`] | `POST`/`GET /api-keys`, `DELETE /api-keys/{id}`: the caller's API keys |
//! | [`admin`] | `GET /admin`, `/admin/users…`, `GET /admin/audit`: administration |
//! | [`meta`] | `GET /health`, `/health/live`, `/health/ready`, `GET /.well-known/jwks.json`, `GET /metrics`, and the JSON 404 and 405 |
//! | [`oauth`] | `POST /introspect`, `POST /revoke`, `GET /.well-known/oauth-authorization-server`: OAuth 2.0 for other services |
//! | [`status_lists`] | `GET /statuslists/{id}`: the Token Status Lists that tokens reference |
//! | [`docs`] | `GET /openapi.json`, and Swagger UI at `GET /docs/` |
//! | [`mfa`] | `POST`/`DELETE /mfa/totp`, `POST /mfa/totp/confirm`, `POST /login/mfa`, `DELETE /admin/users/{id}/mfa`: the second factor |
//! | [`recovery`] | `POST /password/forgot`, `POST /password/reset`, `POST /admin/users/{id}/password-reset`: a way back in by email (404 with mail off) |
//! | [`verification`] | `POST /email/verify/request`, `POST /email/verify`: verified addresses and email changes (404 with mail off) |
//! | [`pages`] | `GET`/`POST /reset-password`, `GET`/`POST /verify-email`, `GET /assets/pages.css`: the HTML pages that links in messages open (404 with mail off; not in the OpenAPI document) |
//!
//! The request and response shapes are in [`crate::dto`]. [`table`] lists every route, in one
//! place, so the whole contract can be read at a glance: [`routes`] mounts it, [`served_routes`]
//! reads it, and [`Operations`] lists the handlers whose `#[utoipa::path]` describe it.

mod admin;
mod api_keys;
mod credentials;
#[cfg(feature = "openapi")]
pub(crate) mod docs;
mod meta;
mod mfa;
mod oauth;
mod pages;
mod profile;
pub(crate) mod recovery;
mod sessions;
mod status_lists;
mod token;
mod verification;

use actix_web::{
    HttpResponse, Route, guard,
    http::{Method, header},
    web,
};
use auth_core::TokenPair;

use crate::dto::TokenResponse;

pub(crate) use meta::not_found;
pub(crate) use oauth::public_base;

/// A token pair as the contract answers it: never cached.
fn token_response(pair: &TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse::from(pair))
}

/// A path and, for each method it serves, the handler.
type Resource = (&'static str, Vec<(Method, Route)>);

/// Every route of the contract. The OpenAPI document describes each of them but the Swagger UI
/// pages and the pages for people ([`docs::UNDESCRIBED`]); a test holds the document and this table to each other.
/// Each `GET` route answers `HEAD` too (RFC 9110 §9.3.2: uptime checks use it); actix-http
/// sends a `HEAD` answer's headers without its body.
fn table() -> Vec<Resource> {
    #[cfg_attr(not(feature = "openapi"), allow(unused_mut))]
    let mut table = contract();
    // The description of the API (feature `openapi`).
    #[cfg(feature = "openapi")]
    table.extend([
        (
            "/openapi.json",
            vec![on(Method::GET, web::to(docs::openapi_json))],
        ),
        (
            "/docs",
            vec![on(Method::GET, web::to(docs::swagger_ui_index))],
        ),
        (
            "/docs/{file:.*}",
            vec![on(Method::GET, web::to(docs::swagger_ui_file))],
        ),
    ]);
    table
}

/// A route for `method`: a `GET` route answers `HEAD` too.
fn on(method: Method, route: Route) -> (Method, Route) {
    let route = if method == Method::GET {
        route.guard(guard::Any(guard::Get()).or(guard::Head()))
    } else {
        route.method(method.clone())
    };
    (method, route)
}

/// The routes of the contract but those that describe it.
fn contract() -> Vec<Resource> {
    use Method as M;
    vec![
        (
            "/register",
            vec![on(M::POST, web::to(credentials::register))],
        ),
        ("/login", vec![on(M::POST, web::to(credentials::login))]),
        ("/token", vec![on(M::POST, web::to(token::token))]),
        ("/refresh", vec![on(M::POST, web::to(token::refresh))]),
        ("/sessions", vec![on(M::GET, web::to(sessions::list))]),
        (
            "/sessions/{id}",
            vec![on(M::DELETE, web::to(sessions::delete))],
        ),
        (
            "/profile",
            vec![
                on(M::GET, web::to(profile::show)),
                on(M::PUT, web::to(profile::replace)),
                on(M::PATCH, web::to(profile::update)),
            ],
        ),
        ("/users/me", vec![on(M::GET, web::to(profile::me))]),
        ("/token_expiry", vec![on(M::GET, web::to(token::expiry))]),
        ("/protected", vec![on(M::GET, web::to(profile::protected))]),
        ("/admin", vec![on(M::GET, web::to(admin::welcome))]),
        ("/logout", vec![on(M::POST, web::to(credentials::logout))]),
        ("/health", vec![on(M::GET, web::to(meta::health))]),
        ("/health/live", vec![on(M::GET, web::to(meta::live))]),
        ("/health/ready", vec![on(M::GET, web::to(meta::ready))]),
        ("/metrics", vec![on(M::GET, web::to(meta::metrics))]),
        (
            "/.well-known/jwks.json",
            vec![on(M::GET, web::to(meta::jwks))],
        ),
        (
            "/api-keys",
            vec![
                on(M::POST, web::to(api_keys::create)),
                on(M::GET, web::to(api_keys::list)),
            ],
        ),
        (
            "/api-keys/{id}",
            vec![on(M::DELETE, web::to(api_keys::delete))],
        ),
        (
            "/login/api-key",
            vec![on(M::POST, web::to(credentials::login_with_api_key))],
        ),
        ("/admin/users", vec![on(M::GET, web::to(admin::list_users))]),
        (
            "/admin/users/{id}",
            vec![
                on(M::GET, web::to(admin::get_user)),
                on(M::PATCH, web::to(admin::patch_user)),
                on(M::DELETE, web::to(admin::delete_user)),
            ],
        ),
        (
            "/admin/users/{id}/sessions",
            vec![on(M::DELETE, web::to(admin::end_user_sessions))],
        ),
        ("/admin/audit", vec![on(M::GET, web::to(admin::audit_log))]),
        (
            "/mfa/totp",
            vec![
                on(M::POST, web::to(mfa::enrol)),
                on(M::DELETE, web::to(mfa::disable)),
            ],
        ),
        (
            "/mfa/totp/confirm",
            vec![on(M::POST, web::to(mfa::confirm))],
        ),
        ("/login/mfa", vec![on(M::POST, web::to(mfa::login))]),
        (
            "/admin/users/{id}/mfa",
            vec![on(M::DELETE, web::to(mfa::reset))],
        ),
        ("/introspect", vec![on(M::POST, web::to(oauth::introspect))]),
        ("/revoke", vec![on(M::POST, web::to(oauth::revoke))]),
        (
            "/.well-known/oauth-authorization-server",
            vec![on(M::GET, web::to(oauth::metadata))],
        ),
        (
            "/statuslists/{id}",
            vec![on(M::GET, web::to(status_lists::show))],
        ),
        (
            "/password/forgot",
            vec![on(M::POST, web::to(recovery::forgot))],
        ),
        (
            "/password/reset",
            vec![on(M::POST, web::to(recovery::reset))],
        ),
        (
            "/admin/users/{id}/password-reset",
            vec![on(M::POST, web::to(recovery::admin_reset))],
        ),
        (
            "/email/verify/request",
            vec![on(M::POST, web::to(verification::request))],
        ),
        (
            "/email/verify",
            vec![on(M::POST, web::to(verification::verify))],
        ),
        // The pages for people (HTML, not described: `pages::PAGES`).
        (
            "/reset-password",
            vec![
                on(M::GET, web::to(pages::reset_password_page)),
                on(M::POST, web::to(pages::reset_password_submit)),
            ],
        ),
        (
            "/verify-email",
            vec![
                on(M::GET, web::to(pages::verify_email_page)),
                on(M::POST, web::to(pages::verify_email_submit)),
            ],
        ),
        (
            pages::STYLESHEET_PATH,
            vec![on(M::GET, web::to(pages::stylesheet))],
        ),
    ]
}

/// Mounts every route of [`table`]. Each resource answers the methods it does not serve with a
/// JSON 405 whose `Allow` lists the ones it does (`HEAD` with `GET`).
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    for (path, methods) in table() {
        let allow = methods
            .iter()
            .flat_map(|(method, _)| match method.as_str() {
                "GET" => vec!["GET", "HEAD"],
                other => vec![other],
            })
            .collect::<Vec<_>>()
            .join(", ");
        let resource = methods.into_iter().fold(
            web::resource(path).default_service(web::to(move || {
                let response = meta::method_not_allowed(&allow);
                async move { response }
            })),
            |resource, (_, route)| resource.route(route),
        );
        cfg.service(resource);
    }
}

/// Every route [`configure`](crate::configure) mounts, as (method, path pattern) in the order
/// mounted. Path parameters are written as actix-web writes them (`{id}`, `{file:.*}`). A `GET`
/// route also answers `HEAD`, which is not listed (nor described, as FastAPI does not describe
/// it).
pub fn served_routes() -> Vec<(Method, &'static str)> {
    table()
        .into_iter()
        .flat_map(|(path, methods)| methods.into_iter().map(move |(method, _)| (method, path)))
        .collect()
}

/// The described operations: every handler of [`table`] but the Swagger UI pages, with the
/// schemas their annotations name. [`crate::openapi`] adds the rest of the document.
#[cfg(feature = "openapi")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    credentials::register,
    credentials::login,
    token::token,
    token::refresh,
    sessions::list,
    sessions::delete,
    profile::show,
    profile::replace,
    profile::update,
    profile::me,
    token::expiry,
    profile::protected,
    admin::welcome,
    credentials::logout,
    meta::health,
    meta::ready,
    meta::live,
    meta::metrics,
    meta::jwks,
    api_keys::create,
    api_keys::list,
    api_keys::delete,
    credentials::login_with_api_key,
    admin::list_users,
    admin::get_user,
    admin::patch_user,
    admin::delete_user,
    admin::end_user_sessions,
    admin::audit_log,
    docs::openapi_json,
    mfa::enrol,
    mfa::confirm,
    mfa::disable,
    mfa::login,
    mfa::reset,
    oauth::introspect,
    oauth::revoke,
    oauth::metadata,
    status_lists::show,
    recovery::forgot,
    recovery::reset,
    recovery::admin_reset,
    verification::request,
    verification::verify,
))]
pub(crate) struct Operations;
