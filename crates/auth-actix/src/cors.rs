//! CORS for browser apps on other origins: only the origins listed in
//! [`HttpSettings::cors_allowed_origins`] (`server.cors_allowed_origins`), none by default.
//!
//! - A listed origin's preflight (`OPTIONS` with `Access-Control-Request-Method`) is answered
//!   200 by `actix-cors`: `Access-Control-Allow-Origin` (that origin, never `*`), `-Methods`
//!   (`GET, POST, PUT, PATCH, DELETE`), `-Headers` (`Authorization`, `Content-Type`, `Accept`
//!   and the API-key header) and `-Max-Age`. A preflight asking for another method or header is
//!   refused with 400, and the browser then blocks the request.
//! - A listed origin's requests get `Access-Control-Allow-Origin` and
//!   `Access-Control-Expose-Headers: WWW-Authenticate, Retry-After` on every answer, errors
//!   included.
//! - No credentials mode (`Access-Control-Allow-Credentials` is never sent): clients send the
//!   bearer token (or API key) themselves; there are no cookies.
//! - Any other origin, and a request without `Origin`, gets no `Access-Control-*` header at all:
//!   its preflight reaches the routes like any `OPTIONS` (405 with `Allow`), and its other
//!   requests are answered as if CORS did not exist. A browser then blocks what it must.

use actix_cors::Cors;
use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, Uri, header},
    middleware::{Condition, Next},
    web,
};

use crate::{AuthState, HttpSettings};

/// How long a browser may cache a preflight answer, in seconds.
const PREFLIGHT_MAX_AGE_SECS: usize = 600;

/// Whether `origin` can be listed in `server.cors_allowed_origins`: an origin exactly as
/// browsers send it in `Origin` (`https://app.example.com`, `http://localhost:5173`): `http` or
/// `https`, a host, a port only when it is not the scheme's default, no path, no trailing slash,
/// lowercase. Never `*`: the origins are listed one by one.
pub fn check_cors_origin(origin: &str) -> Result<(), String> {
    let refuse = |why: &str| {
        Err(format!(
            "{origin:?} is not an origin as browsers send it (e.g. https://app.example.com): {why}"
        ))
    };
    if origin == "*" {
        return refuse("a wildcard is not allowed; list each origin");
    }
    let Ok(uri) = origin.parse::<Uri>() else {
        return refuse("not a URL");
    };
    let Some(scheme @ ("http" | "https")) = uri.scheme_str() else {
        return refuse("the scheme must be http or https");
    };
    if uri.host().is_none_or(str::is_empty) || origin.contains('@') {
        return refuse("it needs a host, and nothing else before it");
    }
    if origin.matches('/').count() != 2 || origin.contains(['?', '#']) {
        return refuse("an origin has no path, query or trailing slash");
    }
    if matches!(
        (scheme, uri.port_u16()),
        ("http", Some(80)) | ("https", Some(443))
    ) {
        return refuse("browsers leave the default port out");
    }
    if origin != origin.to_ascii_lowercase() {
        return refuse("browsers send origins in lowercase");
    }
    Ok(())
}

/// `actix-cors` for the listed origins; not applied at all when none are listed.
pub(crate) fn cors(http: &HttpSettings) -> Condition<Cors> {
    let mut cors = Cors::default()
        .allowed_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allowed_headers([
            header::AUTHORIZATION.as_str(),
            header::CONTENT_TYPE.as_str(),
            header::ACCEPT.as_str(),
            http.api_key_header.as_str(),
        ])
        .expose_headers([header::WWW_AUTHENTICATE, header::RETRY_AFTER])
        .max_age(PREFLIGHT_MAX_AGE_SECS)
        // Another origin is answered as if CORS did not exist, not with an error.
        .block_on_origin_mismatch(false);
    for origin in &http.cors_allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!http.cors_allowed_origins.is_empty(), cors)
}

/// Put outside [`cors`]: a request whose `Origin` is not listed never sees an `Access-Control-*`
/// header, and its preflight is an ordinary `OPTIONS` (which `actix-cors` would refuse with a
/// plain-text 400 instead).
pub(crate) async fn listed_origins_only(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let listed = match req.headers().get(header::ORIGIN) {
        Some(origin) => req.app_data::<web::Data<AuthState>>().is_some_and(|state| {
            state
                .http
                .cors_allowed_origins
                .iter()
                .any(|listed| listed.as_bytes() == origin.as_bytes())
        }),
        None => false,
    };
    if listed {
        return next.call(req).await;
    }
    req.headers_mut()
        .remove(header::ACCESS_CONTROL_REQUEST_METHOD);
    match next.call(req).await {
        Ok(mut response) => {
            remove_cors_headers(response.headers_mut());
            Ok(response)
        }
        Err(mut error) => {
            // Rendered later: the filter runs last, after whatever was added on the way out.
            error.add_response_mapper(|mut response| {
                remove_cors_headers(response.headers_mut());
                response
            });
            Err(error)
        }
    }
}

fn remove_cors_headers(headers: &mut header::HeaderMap) {
    let names: Vec<_> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in names {
        headers.remove(name);
    }
}
