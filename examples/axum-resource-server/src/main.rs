//! An axum service that trusts the auth server's access tokens without asking it per request:
//! `auth_core::TokenVerifier` checks each token's signature and claims, and its
//! `StatusChecker` the token's bit in the Token Status List the token references, so a token
//! whose session ended (logout, password change, disable, `/revoke`) or whose role changed is
//! refused within the list's `ttl` plus a fetch (docs/revocation.md, docs/embedding.md).
//!
//! Settings (environment):
//! - `AUTH_URL`: the auth server, e.g. `https://auth.example.com` (required). Lists are fetched
//!   only under `{AUTH_URL}/statuslists/`, or `AUTH_STATUS_LIST_PREFIX`.
//! - the keys: `AUTH_HMAC_SECRET` (the server's HS256 `jwt.secret`), else the JWKS fetched
//!   once from `{AUTH_URL}/.well-known/jwks.json` at start.
//! - `AUTH_ISSUER`, `AUTH_AUDIENCE`: the server's `jwt.issuer` and `jwt.audience`
//!   (`auth-server` by default).
//! - `AUTH_STATUS_MAX_STALE_SECS`: refuse (503) the tokens of a list not refreshed for this
//!   long (default: 10 refresh intervals); `AUTH_STATUS_FAIL_OPEN=1` accepts them instead.
//! - `BIND`: the address to listen on (default `127.0.0.1:0`, a free port); it prints
//!   `listening on http://ADDRESS`.
//!
//! Routes: `GET /items` (a verified, unrevoked token), `GET /items/unchecked` (the same
//! verifier without the status check, to measure what the check costs), `GET /bare` (no token
//! at all: the framework's own cost), `GET /health`.

use std::{sync::Arc, time::Duration};

use auth_core::{Algorithm, JwtKey, StatusChecker, TokenError, TokenVerifier};
use auth_domain::Claims;
use axum::{
    Json, Router,
    extract::{FromRef, FromRequestParts},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;

/// The verifiers the routes use: with the status check, and without it (for comparison).
#[derive(Clone)]
struct Verifiers {
    checked: TokenVerifier,
    unchecked: TokenVerifier,
}

/// The claims of a verified token whose status list entry is VALID.
struct Verified(Claims);

/// The same without the status check (`/items/unchecked`).
struct VerifiedUnchecked(Claims);

/// A refusal: 401 `invalid_token`, or 503 with `Retry-After` while the list is stale.
struct Refused(TokenError);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        if let TokenError::StatusUnavailable { retry_after } = self.0 {
            let body = json!({"error": "service_unavailable", "detail": self.0.to_string()});
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
            return response;
        }
        let body = json!({"error": "invalid_token", "detail": self.0.to_string()});
        let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        response
    }
}

fn bearer(parts: &Parts) -> Result<String, Refused> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or(Refused(TokenError::Malformed))
}

/// Verifies from async code without blocking the executor: the cached list answers at once;
/// only the first token that references a list not fetched yet goes to a blocking thread.
async fn verify(verifier: &TokenVerifier, token: String) -> Result<Claims, TokenError> {
    match verifier.verify_cached(&token) {
        Err(TokenError::StatusNotCached) => {
            let verifier = verifier.clone();
            tokio::task::spawn_blocking(move || verifier.verify(&token))
                .await
                .unwrap_or(Err(TokenError::StatusUnavailable { retry_after: 1 }))
        }
        other => other,
    }
}

impl<S> FromRequestParts<S> for Verified
where
    Arc<Verifiers>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refused> {
        let verifiers = Arc::<Verifiers>::from_ref(state);
        let token = bearer(parts)?;
        verify(&verifiers.checked, token)
            .await
            .map(Verified)
            .map_err(Refused)
    }
}

impl<S> FromRequestParts<S> for VerifiedUnchecked
where
    Arc<Verifiers>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refused> {
        let verifiers = Arc::<Verifiers>::from_ref(state);
        let token = bearer(parts)?;
        verifiers
            .unchecked
            .verify(&token)
            .map(VerifiedUnchecked)
            .map_err(Refused)
    }
}

async fn items(Verified(claims): Verified) -> Json<serde_json::Value> {
    Json(json!({"owner": claims.username, "role": claims.role, "items": ["apple", "pear"]}))
}

async fn items_unchecked(VerifiedUnchecked(claims): VerifiedUnchecked) -> Json<serde_json::Value> {
    Json(json!({"owner": claims.username, "role": claims.role, "items": ["apple", "pear"]}))
}

async fn bare() -> Json<serde_json::Value> {
    Json(json!({"owner": null, "items": ["apple", "pear"]}))
}

/// The app: the routes over the two verifiers.
fn app(checked: TokenVerifier, unchecked: TokenVerifier) -> Router {
    Router::new()
        .route("/items", get(items))
        .route("/items/unchecked", get(items_unchecked))
        .route("/bare", get(bare))
        .route("/health", get(|| async { "ok" }))
        .with_state(Arc::new(Verifiers { checked, unchecked }))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// The server's JWKS, fetched once (a service that must follow key rotation fetches it again
/// on an unknown `kid`).
fn fetch_jwks(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    Ok(agent.get(url).call()?.body_mut().read_to_string()?)
}

fn verifiers() -> Result<(TokenVerifier, TokenVerifier), Box<dyn std::error::Error>> {
    let auth_url = env("AUTH_URL").ok_or("AUTH_URL is required")?;
    let auth_url = auth_url.trim_end_matches('/');
    let issuer = env("AUTH_ISSUER").unwrap_or_else(|| "auth-server".into());
    let audience = env("AUTH_AUDIENCE").unwrap_or_else(|| "auth-server".into());
    let unchecked = match env("AUTH_HMAC_SECRET") {
        Some(secret) => TokenVerifier::new(
            [JwtKey::hmac(Algorithm::HS256, secret.as_bytes())?],
            &issuer,
            &audience,
        ),
        None => TokenVerifier::from_jwks(
            &fetch_jwks(&format!("{auth_url}/.well-known/jwks.json"))?,
            &issuer,
            &audience,
        )?,
    };
    let prefix =
        env("AUTH_STATUS_LIST_PREFIX").unwrap_or_else(|| format!("{auth_url}/statuslists/"));
    let mut checker = StatusChecker::builder().allow_prefix(prefix);
    if let Some(secs) = env("AUTH_STATUS_MAX_STALE_SECS") {
        checker = checker.max_stale(Duration::from_secs_f64(secs.parse()?));
    }
    if env("AUTH_STATUS_FAIL_OPEN").as_deref() == Some("1") {
        checker = checker.fail_open();
    }
    let checked = unchecked.clone().with_status_checker(checker.build()?);
    Ok((checked, unchecked))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (checked, unchecked) = verifiers()?;
    let bind = env("BIND").unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(checked, unchecked)).await?;
    Ok(())
}
