//! Per-client-IP rate limits on the routes that take credentials: in this process (governor,
//! keyed by IP), or in the store that every instance shares
//! ([`RateLimitStorage::Database`](crate::RateLimitStorage)).

use std::{
    future::Future,
    net::IpAddr,
    num::NonZeroU32,
    pin::Pin,
    sync::atomic::{AtomicBool, Ordering},
};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use auth_core::AuthError;
use auth_domain::{RateDecision, RateQuota};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::{
    AuthState, RateLimitStorage,
    error::{ApiError, ErrorCode},
    extract::{client_ip, state},
};

/// Past this many tracked addresses, those whose buckets are full again are forgotten.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

/// A token bucket per client IP: `per_minute` requests at once, refilled evenly over a minute;
/// with [`RateLimitStorage::Database`], kept in the store (this process's buckets then only
/// serve while the store is unavailable).
pub(crate) struct IpRateLimiter {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
    shared: Option<RateQuota>,
    // Whether the store failed the last shared check: logged once when that starts, once when
    // it ends.
    falling_back: AtomicBool,
}

impl std::fmt::Debug for IpRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpRateLimiter")
            .field("enabled", &self.limiter.is_some())
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl IpRateLimiter {
    pub(crate) fn new(per_minute: u32, storage: RateLimitStorage) -> Self {
        let per_minute = NonZeroU32::new(per_minute);
        Self {
            limiter: per_minute.map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
            shared: per_minute
                .filter(|_| storage == RateLimitStorage::Database)
                .map(RateQuota::per_minute),
            falling_back: AtomicBool::new(false),
        }
    }

    /// `Err(seconds to wait)` when `ip` is over its limit in this process.
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

    /// `Err(seconds to wait)` when `ip` is over its limit in the shared store; while the store
    /// is unavailable, in this process (fail open to the per-instance limit, not to none).
    async fn check_shared(
        &self,
        service: &auth_core::AuthService,
        quota: RateQuota,
        ip: IpAddr,
    ) -> Result<(), u64> {
        match service.take_rate_token(ip.to_string(), quota).await {
            Ok(decision) => {
                if self.falling_back.swap(false, Ordering::AcqRel) {
                    tracing::info!("rate limits are shared through the database again");
                }
                match decision {
                    RateDecision::Allowed => Ok(()),
                    RateDecision::Refused { retry_after } => {
                        let micros = u64::try_from(retry_after.num_microseconds().unwrap_or(0));
                        Err(micros.unwrap_or(0).div_ceil(1_000_000).max(1))
                    }
                }
            }
            Err(error) => {
                if !self.falling_back.swap(true, Ordering::AcqRel) {
                    tracing::warn!(
                        error = %cause(&error),
                        "the database cannot keep the shared rate limits; each instance limits \
                         by itself until it can (logged again then)"
                    );
                }
                self.check(ip)
            }
        }
    }
}

fn cause(error: &AuthError) -> String {
    auth_core::cause_chain(error)
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
        let counted = limit(req);
        Box::pin(async move { counted?.await.map(|()| RateLimited) })
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
        let counted = limit(req);
        Box::pin(async move {
            counted?
                .await
                .map(|()| OAuthRateLimited)
                .map_err(ApiError::in_oauth_format)
        })
    }
}

/// Counts `req` against its client IP's limit: 429 `too_many_requests` past it. In this
/// process the answer is there at once; in the shared store it takes one store call.
fn limit(
    req: &HttpRequest,
) -> Result<impl Future<Output = Result<(), ApiError>> + 'static, ApiError> {
    let state: web::Data<AuthState> = state(req)?;
    let ip = client_ip(req, &state.http.trusted_proxies);
    Ok(async move {
        let Some(ip) = ip else {
            return Ok(());
        };
        let limiter = &state.limiter;
        let counted = match limiter.shared {
            Some(quota) => limiter.check_shared(&state.service, quota, ip).await,
            None => limiter.check(ip),
        };
        counted.map_err(|retry_after| {
            ApiError::too_many(
                ErrorCode::TooManyRequests,
                format!("Too many requests from this address; retry in {retry_after} seconds"),
                retry_after,
            )
        })
    })
}
