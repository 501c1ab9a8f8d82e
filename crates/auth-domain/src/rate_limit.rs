//! Request budgets per client kept in the store, so that every process on one database shares
//! them: [`RateQuota`], [`RateDecision`] and the [`RateLimitStore`] port.

use std::num::NonZeroU32;

use chrono::{DateTime, TimeDelta, Utc};

use crate::StoreError;

/// A budget of `burst` requests at once, refilled by one request every `interval` (a token
/// bucket, kept as GCRA: one "theoretical arrival time" per key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateQuota {
    /// Requests allowed at once, with a full bucket.
    pub burst: NonZeroU32,
    /// One more request is allowed each time this passes (at least 1 µs).
    pub interval: TimeDelta,
}

impl RateQuota {
    /// `per_minute` requests at once, refilled evenly over a minute (as the in-process limiter).
    pub fn per_minute(per_minute: NonZeroU32) -> Self {
        let interval = TimeDelta::microseconds(60_000_000 / i64::from(per_minute.get()));
        Self {
            burst: per_minute,
            interval: interval.max(TimeDelta::microseconds(1)),
        }
    }

    /// The interval in whole microseconds (at least 1).
    pub fn interval_micros(&self) -> i64 {
        self.interval.num_microseconds().unwrap_or(i64::MAX).max(1)
    }

    /// How far ahead of now a key's theoretical arrival time may be for one more request to
    /// pass: `(burst - 1) × interval`, in microseconds.
    pub fn tolerance_micros(&self) -> i64 {
        self.interval_micros()
            .saturating_mul(i64::from(self.burst.get() - 1))
    }
}

/// The answer of [`RateLimitStore::take_rate_token`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    /// The request is within the budget, and was counted.
    Allowed,
    /// The budget is spent; nothing was counted. One more request is allowed within
    /// `retry_after` (never more than the quota's interval).
    Refused {
        /// The longest the client has to wait.
        retry_after: TimeDelta,
    },
}

/// Request budgets per key (a client address), shared by every process on the store. Methods
/// block.
pub trait RateLimitStore: Send + Sync {
    /// Takes one request of `key`'s budget under `quota` at `at`, atomically: concurrent calls
    /// for one key (from any process) never let more than the budget through. A key never seen,
    /// or quiet for long enough, has a full budget. A refused request is not counted.
    fn take_rate_token(
        &self,
        key: &str,
        quota: &RateQuota,
        at: DateTime<Utc>,
    ) -> Result<RateDecision, StoreError>;
}

/// The GCRA step on a key's stored theoretical arrival time `tat` (µs since the epoch, `None`
/// for a key never seen): the new time to store when the request at `at` passes, or how long
/// to wait. Stores that keep the time themselves use this, or its SQL equivalent.
pub fn gcra_step(tat: Option<i64>, quota: &RateQuota, at: DateTime<Utc>) -> Result<i64, TimeDelta> {
    let at = at.timestamp_micros();
    let tat = tat.unwrap_or(at).max(at);
    let allowed_from = tat.saturating_sub(quota.tolerance_micros());
    if allowed_from > at {
        return Err(TimeDelta::microseconds(allowed_from - at));
    }
    Ok(tat.saturating_add(quota.interval_micros()))
}
