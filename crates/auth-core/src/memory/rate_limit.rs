//! [`RateLimitStore`] for [`MemoryStore`]: each key's theoretical arrival time under the lock.

use auth_domain::{RateDecision, RateLimitStore, RateQuota, StoreError, gcra_step};
use chrono::{DateTime, Utc};

use super::MemoryStore;

impl RateLimitStore for MemoryStore {
    fn take_rate_token(
        &self,
        key: &str,
        quota: &RateQuota,
        at: DateTime<Utc>,
    ) -> Result<RateDecision, StoreError> {
        let mut state = self.state();
        let tat = state.rate_limits.get(key).copied();
        Ok(match gcra_step(tat, quota, at) {
            Ok(next) => {
                state.rate_limits.insert(key.to_owned(), next);
                RateDecision::Allowed
            }
            Err(retry_after) => RateDecision::Refused { retry_after },
        })
    }
}
