//! Pruning: what a store removes once it is past its use, and the report of what it removed.

use std::fmt;

use chrono::{DateTime, Utc};

/// What [`PruneStore::prune`](crate::PruneStore::prune) removes: every row past its use as of
/// these cut-offs. Each is a moment; rows older than it go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrunePolicy {
    /// Sessions that ended (revoked, idle past their idle deadline, or past their absolute
    /// deadline) before this moment go, with their refresh tokens (live and retired): the
    /// retired tokens of a live session are kept, since presenting one revokes the session
    /// (reuse detection).
    pub sessions_ended_before: DateTime<Utc>,
    /// Login-throttle rows whose last failure is older than this and whose lock (if any) ended
    /// before it go: their count has decayed to zero, so they change nothing.
    pub throttles_quiet_since: DateTime<Utc>,
    /// Audit events recorded before this go; `None` keeps the audit log whole.
    pub audit_before: Option<DateTime<Utc>>,
    /// Cross-process cache-invalidation announcements written before this go (every process
    /// has read them long before).
    pub invalidations_before: DateTime<Utc>,
    /// Tokens sent by email (password reset, verification) that expired before this go. An
    /// expired one is refused whether or not its row is still there, so any moment up to now is
    /// safe. (Expired `mfa_token` challenges go whenever a new challenge is made.)
    pub expired_before: DateTime<Utc>,
    /// Records of mail requests made before this go (the per-account mail limits look back one
    /// hour).
    pub mail_requests_before: DateTime<Utc>,
    /// The most rows one delete statement removes, so that a large backlog never holds locks
    /// for long (at least 1).
    pub batch_size: u32,
}

/// How many rows [`PruneStore::prune`](crate::PruneStore::prune) removed, per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Ended sessions.
    pub sessions: u64,
    /// Refresh tokens of those sessions.
    pub refresh_tokens: u64,
    /// Login-throttle rows past their decay window.
    pub login_throttles: u64,
    /// Audit events older than the retention.
    pub audit_events: u64,
    /// Cache-invalidation announcements every process has read.
    pub cache_invalidations: u64,
    /// Expired tokens sent by email.
    pub email_tokens: u64,
    /// Mail requests older than the limits' window.
    pub mail_requests: u64,
}

impl PruneReport {
    /// Each table (as the SQL stores name it) and how many of its rows were removed.
    pub fn tables(&self) -> [(&'static str, u64); 7] {
        [
            ("sessions", self.sessions),
            ("refresh_tokens", self.refresh_tokens),
            ("login_throttles", self.login_throttles),
            ("audit_events", self.audit_events),
            ("cache_invalidations", self.cache_invalidations),
            ("email_tokens", self.email_tokens),
            ("mail_requests", self.mail_requests),
        ]
    }

    /// Rows removed in all.
    pub fn total(&self) -> u64 {
        self.tables().iter().map(|(_, n)| n).sum()
    }
}

impl fmt::Display for PruneReport {
    /// `sessions=3 refresh_tokens=9 …`: one line, every table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (table, removed)) in self.tables().iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{table}={removed}")?;
        }
        Ok(())
    }
}

/// Whether a prune ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneOutcome {
    /// It ran, and removed this.
    Pruned(PruneReport),
    /// Another process is pruning the same database right now; nothing was done.
    Busy,
}
