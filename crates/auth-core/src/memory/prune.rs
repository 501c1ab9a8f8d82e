//! [`PruneStore`] for [`MemoryStore`]: one process, one lock, so never busy and no batches.

use auth_domain::{PruneOutcome, PrunePolicy, PruneReport, PruneStore, StoreError};

use super::MemoryStore;

impl PruneStore for MemoryStore {
    fn prune(&self, policy: &PrunePolicy) -> Result<PruneOutcome, StoreError> {
        let mut state = self.state();
        let mut report = PruneReport::default();
        let cutoff = policy.sessions_ended_before;
        let ended: Vec<_> = state
            .sessions
            .values()
            .filter(|s| s.revoked_at.is_some_and(|at| at < cutoff) || s.ends_at() < cutoff)
            .map(|s| s.id)
            .collect();
        for id in &ended {
            state.sessions.remove(id);
        }
        report.sessions = ended.len() as u64;
        let state = &mut *state;
        let tokens_before = state.refresh_tokens.len();
        let sessions = &state.sessions;
        state
            .refresh_tokens
            .retain(|_, record| sessions.contains_key(&record.session));
        report.refresh_tokens = (tokens_before - state.refresh_tokens.len()) as u64;

        let quiet = policy.throttles_quiet_since;
        let throttles_before = state.throttles.len();
        state.throttles.retain(|_, t| {
            let decayed = t.last_failure_at.is_none_or(|at| at < quiet);
            let unlocked = t.locked_until.is_none_or(|until| until < quiet);
            !(decayed && unlocked)
        });
        report.login_throttles = (throttles_before - state.throttles.len()) as u64;

        if let Some(before) = policy.audit_before {
            let events_before = state.audit.len();
            state.audit.retain(|event| event.at >= before);
            report.audit_events = (events_before - state.audit.len()) as u64;
        }

        let expired = policy.expired_before;
        let tokens_before = state.email_tokens.len();
        state.email_tokens.retain(|_, t| t.expires_at >= expired);
        report.email_tokens = (tokens_before - state.email_tokens.len()) as u64;
        let requests_cutoff = policy.mail_requests_before;
        let mut requests_removed = 0;
        state.mail_requests.retain(|_, requests| {
            let before = requests.len();
            requests.retain(|at| *at >= requests_cutoff);
            requests_removed += before - requests.len();
            !requests.is_empty()
        });
        report.mail_requests = requests_removed as u64;
        Ok(PruneOutcome::Pruned(report))
    }
}
