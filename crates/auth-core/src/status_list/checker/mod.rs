//! [`StatusChecker`]: what a [`TokenVerifier`](crate::TokenVerifier) needs to check the status
//! of the tokens it accepts (feature `status-list`).
//!
//! Configured once with [`StatusChecker::builder`] and handed to
//! [`TokenVerifier::with_status_checker`](crate::TokenVerifier::with_status_checker). The
//! verifier then fetches each list a token references on first sight (only under an allowed
//! URL prefix), verifies it with its own keys, caches it, and refreshes it on a background
//! thread every `ttl`, sending the `ETag` back; a request only reads the cache.

mod cache;
mod fetch;
mod refresh;

use std::{fmt, sync::Arc, time::Duration};

pub use cache::ListHealth;
pub(crate) use cache::StatusCache;
pub use fetch::{FetchError, FetchRequest, FetchResponse, StatusListFetcher, UreqFetcher};

/// How a [`TokenVerifier`](crate::TokenVerifier) checks token status: which list URLs it may
/// fetch, how often, how stale a list may grow, and what happens then. Build one with
/// [`StatusChecker::builder`].
#[derive(Clone)]
pub struct StatusChecker {
    pub(crate) config: Arc<Config>,
    pub(crate) fetcher: Arc<dyn StatusListFetcher>,
}

impl fmt::Debug for StatusChecker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StatusChecker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) prefixes: Vec<String>,
    pub(crate) ttl_floor: Duration,
    pub(crate) ttl_ceiling: Duration,
    pub(crate) max_stale: Option<Duration>,
    pub(crate) fail_open: bool,
    pub(crate) require_status: bool,
    pub(crate) fetch_timeout: Duration,
    pub(crate) max_list_bytes: usize,
}

impl StatusChecker {
    /// The default shortest refresh interval, whatever a list's `ttl` says: 1 second.
    pub const DEFAULT_TTL_FLOOR: Duration = Duration::from_secs(1);
    /// The default longest refresh interval, whatever a list's `ttl` says: 5 minutes.
    pub const DEFAULT_TTL_CEILING: Duration = Duration::from_secs(300);
    /// Without [`StatusCheckerBuilder::max_stale`], a list may go this many refresh
    /// intervals without a successful refresh before the tokens it covers are refused.
    pub const DEFAULT_MAX_STALE_TTLS: u32 = 10;
    /// The default time a fetch may take: 5 seconds.
    pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default size limit of a list, decompressed (and of the fetched token): 16 MiB,
    /// 134 million entries at 1 bit.
    pub const DEFAULT_MAX_LIST_BYTES: usize = 16 << 20;

    /// A builder, with: status required, fail-closed, refresh every `ttl` clamped to
    /// [1 s, 5 min], `max_stale` = 10 × that interval, no allowed prefix yet.
    pub fn builder() -> StatusCheckerBuilder {
        StatusCheckerBuilder {
            config: Config {
                prefixes: Vec::new(),
                ttl_floor: Self::DEFAULT_TTL_FLOOR,
                ttl_ceiling: Self::DEFAULT_TTL_CEILING,
                max_stale: None,
                fail_open: false,
                require_status: true,
                fetch_timeout: Self::DEFAULT_FETCH_TIMEOUT,
                max_list_bytes: Self::DEFAULT_MAX_LIST_BYTES,
            },
            fetcher: None,
        }
    }
}

/// Builds a [`StatusChecker`]; made by [`StatusChecker::builder`].
#[must_use]
pub struct StatusCheckerBuilder {
    config: Config,
    fetcher: Option<Arc<dyn StatusListFetcher>>,
}

/// Why a [`StatusCheckerBuilder`] could not build.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusCheckerError {
    /// No prefix was allowed: every token would be refused.
    #[error("a status checker needs at least one allowed URL prefix (allow_prefix)")]
    NoPrefix,
    /// A prefix is not an absolute `https://` or `http://` URL with a host.
    #[error("the allowed prefix {0:?} is not an absolute http(s) URL with a host")]
    BadPrefix(String),
    /// The floor of the refresh interval is above its ceiling, or zero.
    #[error("ttl_floor must be positive and at most ttl_ceiling")]
    TtlBounds,
}

impl StatusCheckerBuilder {
    /// Allows fetching lists whose URL starts with `prefix`, an absolute URL such as
    /// `https://auth.example.com/statuslists/`. A prefix without a trailing `/` matches only
    /// at a path boundary (`https://auth.example.com` matches `https://auth.example.com/x`,
    /// never `https://auth.example.com.evil.example/x`). A token that references a list
    /// elsewhere is refused without any fetch. Call it once per trusted publisher.
    pub fn allow_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.prefixes.push(prefix.into());
        self
    }

    /// Never refreshes a list more often than this, even if its `ttl` asks for it
    /// (default 1 s): protects the publisher from a list that asks for too much.
    pub fn ttl_floor(mut self, floor: Duration) -> Self {
        self.config.ttl_floor = floor;
        self
    }

    /// Refreshes every list at least this often, even if its `ttl` is longer (default 5 min).
    pub fn ttl_ceiling(mut self, ceiling: Duration) -> Self {
        self.config.ttl_ceiling = ceiling;
        self
    }

    /// How long a list may go without a successful refresh before the tokens it covers are
    /// refused (fail-closed) or accepted unchecked (fail-open). Default: 10 refresh intervals.
    pub fn max_stale(mut self, max_stale: Duration) -> Self {
        self.config.max_stale = Some(max_stale);
        self
    }

    /// Fail open: when a list is stale beyond `max_stale` (or could never be fetched), accept
    /// the tokens it covers instead of refusing them. A stale list still refuses the tokens it
    /// already knew as revoked. Logged once when a list goes stale.
    pub fn fail_open(mut self) -> Self {
        self.config.fail_open = true;
        self
    }

    /// Accepts tokens that carry no `status` claim (by default they are refused, so that a
    /// token cannot escape the check by leaving the claim out). Only for a migration, while
    /// tokens issued before the issuer stamped the claim are still valid.
    pub fn allow_missing_status(mut self) -> Self {
        self.config.require_status = false;
        self
    }

    /// How long a fetch may take (default 5 s).
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.config.fetch_timeout = timeout;
        self
    }

    /// The largest list accepted, decompressed, in bytes (default 16 MiB); the fetched token
    /// is limited to the same size.
    pub fn max_list_bytes(mut self, max: usize) -> Self {
        self.config.max_list_bytes = max;
        self
    }

    /// Fetches with `fetcher` instead of the default [`UreqFetcher`].
    pub fn fetcher(mut self, fetcher: impl StatusListFetcher) -> Self {
        self.fetcher = Some(Arc::new(fetcher));
        self
    }

    /// The checker, or why the configuration cannot work.
    pub fn build(self) -> Result<StatusChecker, StatusCheckerError> {
        let config = self.config;
        if config.prefixes.is_empty() {
            return Err(StatusCheckerError::NoPrefix);
        }
        if let Some(bad) = config.prefixes.iter().find(|p| !is_absolute_http_url(p)) {
            return Err(StatusCheckerError::BadPrefix(bad.clone()));
        }
        if config.ttl_floor.is_zero() || config.ttl_floor > config.ttl_ceiling {
            return Err(StatusCheckerError::TtlBounds);
        }
        Ok(StatusChecker {
            config: Arc::new(config),
            fetcher: self.fetcher.unwrap_or_else(|| Arc::new(UreqFetcher::new())),
        })
    }
}

impl Config {
    /// Whether `uri` may be fetched: under an allowed prefix (at a path boundary), and with
    /// no dot segments, fragment, backslash, whitespace or control character that could make
    /// it mean another resource than it reads.
    pub(crate) fn allows(&self, uri: &str) -> bool {
        let clean = !uri
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || b == b'\\' || b == b'#')
            && !uri.to_ascii_lowercase().contains("%2e")
            && !uri.split(['/', '?']).any(|s| s == "." || s == "..");
        clean
            && self.prefixes.iter().any(|prefix| {
                uri.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                    prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '?'])
                })
            })
    }
}

fn is_absolute_http_url(prefix: &str) -> bool {
    let rest = prefix
        .strip_prefix("https://")
        .or_else(|| prefix.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        !host.is_empty() && !host.contains('@') && !rest.contains('#')
    })
}
