use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::UserId;

/// Declares [`AuditAction`] from one list: each variant beside its stored name, so that
/// [`AuditAction::as_str`] and [`AuditAction::ALL`] cannot drift from the enum.
macro_rules! audit_actions {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Every action the audit log records. The stored and shown form is [`AuditAction::as_str`];
        /// [`AuditAction::ALL`] is the complete list (the documentation is checked against it).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditAction {
            $($(#[$doc])* $variant,)*
        }

        impl AuditAction {
            /// Every action, in the order of the documentation (the declaration order).
            pub const ALL: &'static [AuditAction] = &[$(AuditAction::$variant,)*];

            /// The name stored and shown, e.g. `login.locked`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditAction::$variant => $name,)*
                }
            }
        }
    };
}

audit_actions! {
/// A user registered.
Register = "register",
/// A password login, successful or not (the detail says why not).
Login = "login",
/// Failed logins locked a username.
LoginLocked = "login.locked",
/// A refresh-token rotation, successful or not (including reuse detection).
Refresh = "refresh",
/// A logout (the detail gives the scope).
Logout = "logout",
/// A user ended one of their sessions.
SessionRevoked = "session.revoked",
/// A user changed their password, or failed to (wrong current password).
PasswordChanged = "password.changed",
/// An API key was created.
ApiKeyCreated = "api_key.created",
/// An API key was revoked.
ApiKeyRevoked = "api_key.revoked",
/// An API key was exchanged for an access token, or refused.
ApiKeyUsed = "api_key.used",
/// An admin changed a user.
AdminUserUpdated = "admin.user_updated",
/// An admin deleted a user.
AdminUserDeleted = "admin.user_deleted",
/// An admin ended a user's sessions.
AdminSessionsRevoked = "admin.sessions_revoked",
/// The command line created an admin.
AdminCreated = "admin.created",
/// The command line promoted a user to admin.
AdminPromoted = "admin.promoted",
/// `auth-server import-users` imported a user from another application's database.
UserImported = "user.imported",
/// A right password for an account with a second factor: an `mfa_token` was handed out.
MfaChallenged = "mfa.challenged",
/// A user confirmed a TOTP enrolment (the second factor is on), or failed to.
MfaEnrolled = "mfa.enrolled",
/// A wrong or replayed code (or recovery code) was given for an `mfa_token`.
MfaChallengeFailed = "mfa.challenge_failed",
/// A recovery code stood in for a TOTP code.
MfaRecoveryUsed = "mfa.recovery_used",
/// A user turned their second factor off, or failed to.
MfaDisabled = "mfa.disabled",
/// An admin removed a user's second factor (a lost device).
MfaReset = "mfa.reset",
/// A password was reset with a link from a `password_reset` message.
PasswordReset = "password.reset",
/// An admin had a `password_reset` message sent to a user (a support desk).
PasswordResetRequested = "password.reset_requested",
/// An address was verified with a link from an `email_verification` or `email_change` message.
EmailVerified = "email.verified",
/// A user changed their email (the detail says `pending` for a change waiting for its link,
/// `applied` for one made at once), or failed to (wrong current password).
EmailChanged = "email.changed",}

impl std::fmt::Display for AuditAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the audit log. Never holds a password, token or key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened: one of [`AuditAction::as_str`] (kept as text, so that rows written by
    /// another version still read).
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

/// Where a page of a listing starts: just after the item with this sort key (the last item of
/// the previous page). Users are listed by `(created_at, id)` ascending and audit events by
/// `(at, id)` descending, so a page after a cursor is one indexed range read, however deep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The time of that item: a user's `created_at`, an event's `at`.
    pub at: DateTime<Utc>,
    /// Its id, which orders items of the same time.
    pub id: Uuid,
}

/// Whether, and how far, a listing counts the items that match its filters (whatever `after`,
/// `offset` and `limit` say). Counting reads every match, so it may stop early.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Count {
    /// No count: the total is `None`.
    #[default]
    Skip,
    /// Count at most this many: a total of this many means "at least this many".
    UpTo(u64),
    /// Count every match.
    All,
}

impl Count {
    /// The total this count reports when `matches` items match.
    pub fn total(self, matches: u64) -> Option<u64> {
        match self {
            Count::Skip => None,
            Count::UpTo(most) => Some(matches.min(most)),
            Count::All => Some(matches),
        }
    }
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
    /// Only events after this one in the listing's order (older, or as old with a smaller id).
    pub after: Option<Cursor>,
    /// At most this many (newest first).
    pub limit: u32,
    /// Skip this many (after `after`, if given). Costs a read of every skipped event.
    pub offset: u32,
    /// Whether to count the matching events.
    pub count: Count,
}

/// Which users to list.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// A case-insensitive prefix of the username or of the email.
    pub q: Option<String>,
    /// Only users after this one in the listing's order (newer, or as new with a larger id).
    pub after: Option<Cursor>,
    /// At most this many (oldest first).
    pub limit: u32,
    /// Skip this many (after `after`, if given). Costs a read of every skipped user.
    pub offset: u32,
    /// Whether to count the matching users.
    pub count: Count,
}

impl Cursor {
    /// The cursor just after `user` in the users listing.
    pub fn of_user(user: &crate::User) -> Self {
        Self {
            at: user.created_at,
            id: user.id.0,
        }
    }

    /// The cursor just after `event` in the audit log.
    pub fn of_event(event: &AuditEvent) -> Self {
        Self {
            at: event.at,
            id: event.id,
        }
    }
}
