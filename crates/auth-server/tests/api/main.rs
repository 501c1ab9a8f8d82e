//! HTTP tests through the real app (routes, extractors, error mapping, settings, real database),
//! each run on SQLite and on PostgreSQL. The PostgreSQL variants (and the PyJWT interop test)
//! are reported as ignored, with the reason, unless AUTH_TEST_DATABASE_URL (and
//! AUTH_TEST_REQUIRE_INTEROP) is set: see build.rs.

mod helpers;

mod keys;

mod admin;
mod admin_paging;
mod api_key_hardening;
mod api_keys;
mod authentication;
mod blocking;
mod catalogue;
mod cors;
mod credential_races;
mod credentials_hardening;
mod defaults;
mod forgery;
mod hardening;
mod input_hardening;
mod login;
mod mfa;
mod mfa_hardening;
mod oauth;
mod openapi;
mod operations;
mod outage;
mod pages;
mod profile;
mod recovery;
mod register;
mod routing;
mod sessions;
mod status_lists;
mod swagger_ui;
mod token_endpoint;
mod verification;
mod verify_cost;
