//! Every request's id, its tracing span, its log line and its metrics.
//!
//! The id is the client's (or proxy's) `X-Request-Id` when it is 1 to 64 characters of
//! `[A-Za-z0-9._-]`, and otherwise a new UUID. It is sent back in `X-Request-Id`, and every
//! line logged while serving the request (its audit events among them, even those written on
//! the blocking and hashing threads) is inside the span `request{request_id=…}`.

use std::{future::Future, pin::Pin, time::Instant};

use actix_web::{
    Error, FromRequest, HttpMessage, HttpRequest,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web,
};
use tracing::Instrument;

#[cfg(feature = "metrics")]
use crate::metrics::Metrics;
use crate::{ApiError, AuthState, client_ip};

/// The route of a request that matched no route, in its log line and as its metrics label.
pub const UNMATCHED: &str = "unmatched";

/// The header that carries a request's id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest id taken from a request.
const MAX_LEN: usize = 64;

/// The id of the request being served. Also an extractor, for embedders' handlers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    /// The id in `header` if it is valid (1 to 64 characters of `[A-Za-z0-9._-]`), otherwise a
    /// new random one (a UUID).
    pub fn from_header(header: Option<&HeaderValue>) -> Self {
        let given = header
            .and_then(|value| value.to_str().ok())
            .filter(|id| is_valid(id));
        Self(given.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned))
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_valid(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl FromRequest for RequestId {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// The id [`app`](crate::app) gave the request; outside it, one read from the header now.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let id = req
            .extensions()
            .get::<RequestId>()
            .cloned()
            .unwrap_or_else(|| RequestId::from_header(req.headers().get(REQUEST_ID_HEADER)));
        Box::pin(async move { Ok(id) })
    }
}

/// The outermost middleware of [`app`](crate::app): gives the request its id and span, logs
/// one line when it is answered (client IP as resolved through the trusted proxies, method,
/// route pattern, path without the query, status, latency in milliseconds), records its
/// metrics, and returns the id in `X-Request-Id`.
pub(crate) async fn trace_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let id = RequestId::from_header(req.headers().get(REQUEST_ID_HEADER));
    req.extensions_mut().insert(id.clone());
    // At error level, so that the span (and the id on every line) survives any log filter.
    let span = tracing::error_span!("request", request_id = %id);
    let state = req.app_data::<web::Data<AuthState>>().cloned();
    let method = req.method().clone();
    // The request line's own fields are gathered only when that line is logged.
    let logged = tracing::enabled!(tracing::Level::INFO);
    // Only the path: a token sent in a query string never reaches the log.
    let path: String = if logged {
        req.path().chars().take(200).collect()
    } else {
        String::new()
    };
    let response = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let _in_request = span.enter();
    let mut response = match response {
        Ok(response) => response,
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            if logged {
                tracing::info!(%method, %path, status, latency_ms = millis(elapsed), "request");
            }
            return Err(error);
        }
    };
    let status = response.status().as_u16();
    let route = response.request().match_pattern();
    let route = route.as_deref().unwrap_or(UNMATCHED);
    if logged {
        let ip = state
            .as_ref()
            .and_then(|state| client_ip(response.request(), &state.http.trusted_proxies));
        tracing::info!(
            client_ip = ip.map(tracing::field::display),
            %method,
            route,
            %path,
            status,
            latency_ms = millis(elapsed),
            "request"
        );
    }
    #[cfg(feature = "metrics")]
    if let Some(metrics) = state.as_ref().and_then(|state| state.metrics()) {
        metrics.record_request(&method, route, status, elapsed);
        count_rate_limited(metrics, route, &response);
    }
    if let Ok(value) = HeaderValue::from_str(id.as_str()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

/// Milliseconds, rounded to at most three decimals.
fn millis(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// The per-IP rate limit refuses before the service sees a login or refresh, so its refusals
/// are counted here. At `/token` the grant type is not read before the limit: a refused
/// `/token` request counts as a login.
#[cfg(feature = "metrics")]
fn count_rate_limited<B>(metrics: &Metrics, route: &str, response: &ServiceResponse<B>) {
    let code = response
        .response()
        .error()
        .and_then(|error| error.as_error::<ApiError>())
        .map(ApiError::code);
    if code != Some(crate::ErrorCode::TooManyRequests) {
        return;
    }
    use auth_core::{Observer, Outcome};
    match route {
        "/login" | "/token" => metrics.login(Outcome::RateLimited),
        "/refresh" => metrics.refresh(Outcome::RateLimited),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_id_is_kept_and_anything_else_replaced() {
        for id in ["abc", "A.b_c-9", &"x".repeat(64)] {
            let header = HeaderValue::from_str(id).unwrap();
            assert_eq!(RequestId::from_header(Some(&header)).as_str(), id);
        }
        for bad in ["", "a b", "a/b", "ä", &"x".repeat(65), "a\"b", "a{b}"] {
            let header = HeaderValue::from_bytes(bad.as_bytes()).unwrap();
            let id = RequestId::from_header(Some(&header));
            assert_ne!(id.as_str(), bad);
            assert!(uuid::Uuid::parse_str(id.as_str()).is_ok(), "{id}");
        }
        assert!(uuid::Uuid::parse_str(RequestId::from_header(None).as_str()).is_ok());
    }

    #[test]
    fn latency_has_at_most_three_decimals() {
        let ms = millis(std::time::Duration::from_nanos(1_234_567));
        assert_eq!(ms, 1.235);
        assert_eq!(ms.to_string(), "1.235");
    }
}
