//! [`AuditStore`] for [`MemoryStore`].

use auth_domain::{AuditEvent, AuditQuery, AuditStore, StoreError};

use super::{MemoryStore, page};

impl AuditStore for MemoryStore {
    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.state().audit.push(event.clone());
        Ok(())
    }

    fn audit_events(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEvent>, Option<u64>), StoreError> {
        let state = self.state();
        let mut events: Vec<AuditEvent> = state
            .audit
            .iter()
            .filter(|e| {
                query
                    .user
                    .is_none_or(|u| e.actor == Some(u) || e.target == Some(u))
                    && query.since.is_none_or(|since| e.at >= since)
                    && query.until.is_none_or(|until| e.at < until)
            })
            .cloned()
            .collect();
        let total = events.len() as u64;
        events.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        if let Some(after) = query.after {
            events.retain(|e| (e.at, e.id) < (after.at, after.id));
        }
        let (events, _) = page(events, query.offset, query.limit);
        Ok((events, query.count.total(total)))
    }
}
