//! Per-client-IP rate limits on the routes that take credentials (governor, keyed by IP).

use std::{future::Future, net::IpAddr, num::NonZeroU32, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::{
    error::{ApiError, ErrorCode},
    extract::{client_ip, state},
};

/// Past this many tracked addresses, those whose buckets are full again are forgotten.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// A token bucket per client IP: `per_minute` requests at once, refilled evenly over a minute.
pub(crate) struct IpRateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for IpRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpRateLimiter")
            .field("enabled", &self.limiter.is_some())
            .finish_non_exhaustive()
    }
}

impl IpRateLimiter {
    pub(crate) fn new(per_minute: u32) -> Self {
        Self {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        }
    }

    /// `Err(seconds to wait)` when `ip` is over its limit.
    fn check(&self, ip: IpAddr) -> Result<(), u64> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > MAX_TRACKED_ADDRESSES {
            limiter.retain_recent();
        }
        limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()).as_secs().max(1))
    }
}

/// Put first among a handler's arguments: counts the request against the client IP's limit
/// (`security.rate_limit_per_minute`) before anything else is read, and answers 429
/// `too_many_requests` with `Retry-After` past it. The IP is the socket peer unless the peer is
/// a trusted proxy, so sending `X-Forwarded-For` cannot change a client's bucket.
#[derive(Debug)]
pub struct RateLimited;

impl FromRequest for RateLimited {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = limit(req).map(|()| RateLimited);
        Box::pin(async move { result })
    }
}

/// [`RateLimited`] for the OAuth2 token endpoint: its 429 carries `error_description` as
/// RFC 6749 clients expect.
#[derive(Debug)]
pub(crate) struct OAuthRateLimited;

impl FromRequest for OAuthRateLimited {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = limit(req)
            .map(|()| OAuthRateLimited)
            .map_err(ApiError::in_oauth_format);
        Box::pin(async move { result })
    }
}

/// Counts `req` against its client IP's limit: 429 `too_many_requests` past it.
fn limit(req: &HttpRequest) -> Result<(), ApiError> {
    let state = state(req)?;
    let Some(ip) = client_ip(req, &state.http.trusted_proxies) else {
        return Ok(());
    };
    state.limiter.check(ip).map_err(|retry_after| {
        ApiError::too_many(
            ErrorCode::TooManyRequests,
            format!("Too many requests from this address; retry in {retry_after} seconds"),
            retry_after,
        )
    })
}
