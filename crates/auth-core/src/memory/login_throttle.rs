//! [`LoginThrottleStore`] for [`MemoryStore`].

use auth_domain::{AttemptVerdict, LockoutPolicy, LoginThrottle, LoginThrottleStore, StoreError};
use chrono::{DateTime, Utc};

use super::MemoryStore;

impl LoginThrottleStore for MemoryStore {
    fn take_login_attempt(
        &self,
        key: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError> {
        let mut state = self.state();
        let throttle = state.throttles.entry(key.to_owned()).or_default();
        if throttle.locked_until.is_some_and(|until| at < until) {
            return Ok(AttemptVerdict::Locked(*throttle));
        }
        let live = policy.live_failures(throttle.failures, throttle.last_failure_at, at);
        if live < throttle.failures {
            // Decayed: the old lock (over by now) goes with the old count.
            throttle.locked_until = None;
        }
        throttle.failures = live.saturating_add(1);
        throttle.last_failure_at = Some(at);
        if let Some(delay) = policy.delay_after(throttle.failures) {
            throttle.locked_until = Some(at + delay);
        }
        Ok(AttemptVerdict::Counted(*throttle))
    }

    fn login_throttle(&self, key: &str) -> Result<Option<LoginThrottle>, StoreError> {
        Ok(self.state().throttles.get(key).copied())
    }

    fn clear_login_failures(&self, key: &str) -> Result<(), StoreError> {
        self.state().throttles.remove(key);
        Ok(())
    }

    fn withdraw_login_attempt(&self, key: &str, counted: &LoginThrottle) -> Result<(), StoreError> {
        let mut state = self.state();
        if let Some(throttle) = state.throttles.get_mut(key) {
            throttle.failures = throttle.failures.saturating_sub(1);
            if counted.locked_until.is_some() && throttle.locked_until == counted.locked_until {
                throttle.locked_until = None;
            }
        }
        Ok(())
    }
}
