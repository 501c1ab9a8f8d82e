//! [`LoginThrottleStore`] for [`MemoryStore`].

use auth_domain::{AttemptVerdict, LockoutPolicy, LoginThrottleStore, StoreError};
use chrono::{DateTime, Utc};

use super::MemoryStore;

impl LoginThrottleStore for MemoryStore {
    fn take_login_attempt(
        &self,
        username: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError> {
        let mut state = self.state();
        let throttle = state.throttles.entry(username.to_owned()).or_default();
        if throttle.locked_until.is_some_and(|until| at < until) {
            return Ok(AttemptVerdict::Locked(*throttle));
        }
        throttle.failures = throttle.failures.saturating_add(1);
        if let Some(delay) = policy.delay_after(throttle.failures) {
            throttle.locked_until = Some(at + delay);
        }
        Ok(AttemptVerdict::Counted(*throttle))
    }

    fn clear_login_failures(&self, username: &str) -> Result<(), StoreError> {
        self.state().throttles.remove(username);
        Ok(())
    }
}
