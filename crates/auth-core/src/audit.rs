//! Building audit events. Every event names an action, an outcome, and when known the actor,
//! the target user, the client address and a short secret-free detail.

use auth_domain::{AuditAction, AuditEvent, UserId, now};

/// A new event for `action`.
pub(crate) fn event(action: AuditAction, success: bool) -> AuditEvent {
    AuditEvent {
        id: uuid::Uuid::new_v4(),
        at: now(),
        action: action.as_str().to_owned(),
        outcome: if success { "success" } else { "failure" }.to_owned(),
        actor: None,
        target: None,
        ip: None,
        detail: None,
    }
}

/// Builder methods on [`AuditEvent`].
pub(crate) trait EventBuilder {
    /// Who did it.
    fn by(self, actor: UserId) -> Self;
    /// Whom it was done to.
    fn on(self, target: UserId) -> Self;
    /// From where.
    fn ip(self, ip: Option<String>) -> Self;
    /// A short explanation; never a secret.
    fn detail(self, detail: impl Into<String>) -> Self;
}

impl EventBuilder for AuditEvent {
    fn by(mut self, actor: UserId) -> Self {
        self.actor = Some(actor);
        self
    }

    fn on(mut self, target: UserId) -> Self {
        self.target = Some(target);
        self
    }

    fn ip(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }

    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}
