use chrono::{DateTime, TimeDelta, Utc};

/// When repeated login failures lock a throttle key (a username from one client, or a username
/// from all clients), for how long, and when the count is forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that trigger the first lock.
    pub max_failures: u32,
    /// The first lock's length; each further failure doubles it.
    pub base_delay: TimeDelta,
    /// The longest lock.
    pub max_delay: TimeDelta,
    /// A count with no failure for this long starts again from zero (so one guess each time a
    /// lock ends cannot keep a key locked forever, and old typos are forgotten).
    pub decay: TimeDelta,
}

impl LockoutPolicy {
    /// The failures that still count at `at` for a record whose last failure was at `last`.
    pub fn live_failures(
        &self,
        failures: u32,
        last: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> u32 {
        match last {
            Some(last) if at - last >= self.decay => 0,
            _ => failures,
        }
    }

    /// How long to lock after the `failures`-th failure in a row: nothing before
    /// `max_failures`, then `base_delay`, doubling with every further failure, up to `max_delay`.
    pub fn delay_after(&self, failures: u32) -> Option<TimeDelta> {
        let beyond = failures.checked_sub(self.max_failures)?;
        let factor = 1i32.checked_shl(beyond.min(30)).unwrap_or(i32::MAX);
        Some(
            self.base_delay
                .checked_mul(factor)
                .unwrap_or(self.max_delay)
                .min(self.max_delay),
        )
    }
}

/// What taking a login attempt found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptVerdict {
    /// The username is locked: the attempt was not counted and must be refused.
    Locked(LoginThrottle),
    /// The attempt was counted (as a failure until a success clears it); go ahead.
    Counted(LoginThrottle),
}

/// The failed-login record of one throttle key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoginThrottle {
    /// Failures in a row since the last success (or since the count decayed).
    pub failures: u32,
    /// Until when logins are refused, if locked.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the last failure was counted.
    pub last_failure_at: Option<DateTime<Utc>>,
}

impl LoginThrottle {
    /// Seconds until the lock ends (rounded up), if locked at `now`.
    pub fn retry_after(&self, now: DateTime<Utc>) -> Option<u64> {
        let left = self.locked_until? - now;
        (left > TimeDelta::zero()).then(|| {
            let millis = u64::try_from(left.num_milliseconds()).unwrap_or(0);
            millis.div_ceil(1000).max(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_starts_at_the_limit_and_doubles_up_to_the_cap() {
        let policy = LockoutPolicy {
            max_failures: 5,
            base_delay: TimeDelta::seconds(30),
            max_delay: TimeDelta::seconds(300),
            decay: TimeDelta::minutes(15),
        };
        let delays: Vec<_> = (3..=11)
            .map(|n| policy.delay_after(n).map(|d| d.num_seconds()))
            .collect();
        assert_eq!(
            delays,
            [
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(300),
                Some(300),
                Some(300)
            ]
        );
        assert_eq!(policy.delay_after(u32::MAX), Some(TimeDelta::seconds(300)));
    }

    #[test]
    fn retry_after_rounds_up_and_ends_with_the_lock() {
        let now = crate::now();
        let locked = LoginThrottle {
            failures: 5,
            locked_until: Some(now + TimeDelta::milliseconds(1500)),
            last_failure_at: Some(now),
        };
        assert_eq!(locked.retry_after(now), Some(2));
        assert_eq!(locked.retry_after(now + TimeDelta::seconds(2)), None);
        assert_eq!(LoginThrottle::default().retry_after(now), None);
    }
}
