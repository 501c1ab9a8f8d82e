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
//! | [`meta`] | `GET /health`, `GET /.well-known/jwks.json`, and the JSON 404 and 405 |
//! | [`mfa`] | `POST`/`DELETE /mfa/totp`, `POST /mfa/totp/confirm`, `POST /login/mfa`, `DELETE /admin/users/{id}/mfa`: the second factor |
//!
//! The request and response shapes are in [`crate::dto`]. [`routes`] mounts everything here, in
//! one table, so the whole contract can be read at a glance.

mod admin;
mod api_keys;
mod credentials;
mod meta;
mod mfa;
mod profile;
mod sessions;
mod token;

use actix_web::{HttpResponse, http::header, web};
use auth_core::TokenPair;

use crate::dto::TokenResponse;

pub(crate) use meta::not_found;

/// A token pair as the contract answers it: never cached.
fn token_response(pair: &TokenPair) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse::from(pair))
}

/// A resource whose unsupported methods get a JSON 405.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(meta::method_not_allowed))
}

/// Mounts every route of the contract.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/register").route(web::post().to(credentials::register)))
        .service(resource("/login").route(web::post().to(credentials::login)))
        .service(resource("/token").route(web::post().to(token::token)))
        .service(resource("/refresh").route(web::post().to(token::refresh)))
        .service(resource("/sessions").route(web::get().to(sessions::list)))
        .service(resource("/sessions/{id}").route(web::delete().to(sessions::delete)))
        .service(
            resource("/profile")
                .route(web::get().to(profile::show))
                .route(web::put().to(profile::update))
                .route(web::patch().to(profile::update)),
        )
        .service(resource("/users/me").route(web::get().to(profile::show)))
        .service(resource("/token_expiry").route(web::get().to(token::expiry)))
        .service(resource("/protected").route(web::get().to(profile::protected)))
        .service(resource("/admin").route(web::get().to(admin::welcome)))
        .service(resource("/logout").route(web::post().to(credentials::logout)))
        .service(resource("/health").route(web::get().to(meta::health)))
        .service(resource("/.well-known/jwks.json").route(web::get().to(meta::jwks)))
        .service(
            resource("/api-keys")
                .route(web::post().to(api_keys::create))
                .route(web::get().to(api_keys::list)),
        )
        .service(resource("/api-keys/{id}").route(web::delete().to(api_keys::delete)))
        .service(resource("/login/api-key").route(web::post().to(credentials::login_with_api_key)))
        .service(resource("/admin/users").route(web::get().to(admin::list_users)))
        .service(
            resource("/admin/users/{id}")
                .route(web::get().to(admin::get_user))
                .route(web::patch().to(admin::patch_user))
                .route(web::delete().to(admin::delete_user)),
        )
        .service(
            resource("/admin/users/{id}/sessions")
                .route(web::delete().to(admin::end_user_sessions)),
        )
        .service(resource("/admin/audit").route(web::get().to(admin::audit_log)))
        .service(
            resource("/mfa/totp")
                .route(web::post().to(mfa::enrol))
                .route(web::delete().to(mfa::disable)),
        )
        .service(resource("/mfa/totp/confirm").route(web::post().to(mfa::confirm)))
        .service(resource("/login/mfa").route(web::post().to(mfa::login)))
        .service(resource("/admin/users/{id}/mfa").route(web::delete().to(mfa::reset)));
}
