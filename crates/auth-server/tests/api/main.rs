//! HTTP tests through the real app (routes, extractors, error mapping, settings, real database),
//! each run on SQLite and, when AUTH_TEST_DATABASE_URL is set, on PostgreSQL.

mod helpers;

mod keys;

mod admin;
mod api_keys;
mod authentication;
mod blocking;
mod catalogue;
mod forgery;
mod hardening;
mod login;
mod outage;
mod profile;
mod register;
mod routing;
mod sessions;
mod token_endpoint;
