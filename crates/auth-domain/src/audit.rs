use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::UserId;

/// One entry of the audit log. Never holds a password, token or key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, e.g. `login`, `refresh`, `api_key.created` (see `auth_core::audit`).
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// Who did it, when known.
    pub actor: Option<UserId>,
    /// Whom it was done to, when another user or the same.
    pub target: Option<UserId>,
    /// The client address.
    pub ip: Option<String>,
    /// A short, secret-free explanation (e.g. `wrong_password`, `scope=global`).
    pub detail: Option<String>,
}

/// Which audit events to list.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    /// Events whose actor or target is this user.
    pub user: Option<UserId>,
    /// At or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Before this time.
    pub until: Option<DateTime<Utc>>,
    /// At most this many (newest first).
    pub limit: u32,
    /// Skip this many.
    pub offset: u32,
}

/// Which users to list.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Case-insensitive substring of the username or email.
    pub q: Option<String>,
    /// At most this many (oldest first).
    pub limit: u32,
    /// Skip this many.
    pub offset: u32,
}
