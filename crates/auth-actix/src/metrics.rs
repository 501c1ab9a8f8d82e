//! Prometheus metrics: one registry per [`AuthState`](crate::AuthState), filled by the request
//! middleware and by the service's [`Observer`] reports, and rendered in the text format by
//! `GET /metrics` (only when [`HttpSettings::metrics`](crate::HttpSettings::metrics) is on).
//!
//! Requests are labelled by the route *pattern* (`/sessions/{id}`), never by a raw path, id or
//! token; a request that matched no route is `unmatched`, and a method outside the usual ones
//! is `other`, so that no client can create new series.

use std::{sync::Mutex, time::Duration};

use actix_web::http::Method;
use auth_core::{AuthService, Observer, Outcome};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

/// The content type of the Prometheus text format.
pub(crate) const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The outcomes a login can have, and a refresh: their series exist from the start at 0, so
/// that `rate()` and `increase()` work from the first scrape.
const LOGIN_OUTCOMES: [Outcome; 7] = [
    Outcome::Success,
    Outcome::Failure,
    Outcome::Disabled,
    Outcome::Locked,
    Outcome::RateLimited,
    Outcome::Overloaded,
    Outcome::Error,
];
const REFRESH_OUTCOMES: [Outcome; 6] = [
    Outcome::Success,
    Outcome::Invalid,
    Outcome::ReuseDetected,
    Outcome::Disabled,
    Outcome::RateLimited,
    Outcome::Error,
];

type Sampler = Box<dyn Fn() -> f64 + Send + Sync>;

/// The metrics of one server. Cheap to share (`Arc`); every method takes `&self`.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    durations: HistogramVec,
    logins: IntCounterVec,
    refreshes: IntCounterVec,
    store_unavailable: IntCounter,
    hash_queue: IntGauge,
    cache_entries: IntGaugeVec,
    sampled: Mutex<Vec<(Gauge, Sampler)>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers `metric` in `registry`; the names are ours and fixed, so a failure is a bug.
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: M,
) -> M {
    registry
        .register(Box::new(metric.clone()))
        .expect("metric names are valid and unique");
    metric
}

impl Metrics {
    /// A registry with every metric of the server (see docs/operations.md).
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = registered(
            &registry,
            IntCounterVec::new(
                Opts::new("auth_http_requests_total", "HTTP requests answered"),
                &["method", "route", "status"],
            )
            .expect("valid metric"),
        );
        let durations = registered(
            &registry,
            HistogramVec::new(
                HistogramOpts::new(
                    "auth_http_request_duration_seconds",
                    "Time from a request's arrival to its response",
                ),
                &["method", "route"],
            )
            .expect("valid metric"),
        );
        let logins = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "auth_logins_total",
                    "Password logins (POST /login, POST /token), by outcome",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
        );
        let refreshes = registered(
            &registry,
            IntCounterVec::new(
                Opts::new(
                    "auth_refreshes_total",
                    "Refresh-token exchanges, by outcome",
                ),
                &["outcome"],
            )
            .expect("valid metric"),
        );
        for outcome in LOGIN_OUTCOMES {
            logins.with_label_values(&[outcome.as_str()]);
        }
        for outcome in REFRESH_OUTCOMES {
            refreshes.with_label_values(&[outcome.as_str()]);
        }
        let store_unavailable = registered(
            &registry,
            IntCounter::new(
                "auth_store_unavailable_total",
                "Operations that failed because the store was unavailable",
            )
            .expect("valid metric"),
        );
        let hash_queue = registered(
            &registry,
            IntGauge::new(
                "auth_hash_queue_length",
                "Password operations waiting for a hashing thread",
            )
            .expect("valid metric"),
        );
        let cache_entries = registered(
            &registry,
            IntGaugeVec::new(
                Opts::new(
                    "auth_credential_cache_entries",
                    "Credentials in the in-process cache",
                ),
                &["kind"],
            )
            .expect("valid metric"),
        );
        Self {
            registry,
            requests,
            durations,
            logins,
            refreshes,
            store_unavailable,
            hash_queue,
            cache_entries,
            sampled: Mutex::new(Vec::new()),
        }
    }

    /// Adds a gauge whose value `sample` reads at each scrape (for instance the store's pool).
    ///
    /// # Panics
    /// If `name` is not a valid metric name or is already taken: a programming error.
    pub fn sampled_gauge(
        &self,
        name: &str,
        help: &str,
        sample: impl Fn() -> f64 + Send + Sync + 'static,
    ) {
        let gauge = registered(
            &self.registry,
            Gauge::new(name, help).expect("valid metric"),
        );
        self.sampled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((gauge, Box::new(sample)));
    }

    /// Adds a counter with `labels`, for what the server counts outside the service and the
    /// HTTP layer (for instance mail delivery); it is rendered with the others.
    ///
    /// # Panics
    /// If `name` or a label is not a valid metric name or the name is already taken: a
    /// programming error.
    pub fn counter_vec(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        registered(
            &self.registry,
            IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric"),
        )
    }

    /// Counts one answered request. `route` is the matched pattern or [`UNMATCHED`](crate::UNMATCHED).
    pub(crate) fn record_request(
        &self,
        method: &Method,
        route: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.durations
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The text format of every metric, with the sampled gauges read now.
    pub fn render(&self, service: &AuthService) -> String {
        self.hash_queue
            .set(i64::try_from(service.queued_hashes()).unwrap_or(i64::MAX));
        let (sessions, api_keys) = service.cache().entry_counts();
        for (kind, count) in [("session", sessions), ("api_key", api_keys)] {
            self.cache_entries
                .with_label_values(&[kind])
                .set(i64::try_from(count).unwrap_or(i64::MAX));
        }
        for (gauge, sample) in self
            .sampled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            gauge.set(sample());
        }
        let mut text = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut text)
            .expect("the text encoder writes to memory");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

impl Observer for Metrics {
    fn login(&self, outcome: Outcome) {
        self.logins.with_label_values(&[outcome.as_str()]).inc();
    }

    fn refresh(&self, outcome: Outcome) {
        self.refreshes.with_label_values(&[outcome.as_str()]).inc();
    }

    fn store_unavailable(&self) {
        self.store_unavailable.inc();
    }
}

/// The method as a label: the usual ones by name, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(method_label(&Method::TRACE), "other");
    }
}
