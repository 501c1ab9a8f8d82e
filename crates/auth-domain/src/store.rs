use chrono::{DateTime, Utc};

use crate::{
    ApiKey, ApiKeyId, AttemptVerdict, AuditEvent, AuditQuery, ImportStore, LockoutPolicy,
    LoginThrottle, MfaStore, NewApiKey, NewSession, NewUser, PasswordChange, PasswordChanged,
    PasswordHash, PruneOutcome, PrunePolicy, RateLimitStore, RecoveryStore, RefreshOutcome,
    RefreshRotation, Session, SessionId, SessionRevocation, StatusListStore, User, UserChanges,
    UserId, UserQuery, Username,
};

/// Which unique value a write collided with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The username is taken (without regard to case).
    Username,
    /// The email is taken (without regard to case).
    Email,
    /// The change would leave no active admin.
    LastAdmin,
    /// An API key prefix is taken (callers retry with another).
    KeyPrefix,
}

/// A store failure, saying what happened without leaking the backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A unique value is already taken.
    #[error("{0:?} already taken")]
    Conflict(Conflict),
    /// The record to change does not exist.
    #[error("not found")]
    NotFound,
    /// What a credential check produced was not stored, because the credentials it checked
    /// have changed since: the user's [credential generation](crate::CredentialGeneration) has
    /// moved on (a password change, disabling, a second factor turned on), or the API key that
    /// opens a session was revoked.
    #[error("the credentials checked have changed since")]
    CredentialsChanged,
    /// The backend cannot be reached or failed; retrying later may work. The source is for
    /// logs only and never contains parameter values or connection secrets.
    #[error("store unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    /// A [`StoreError::Unavailable`] caused by `cause`.
    pub fn unavailable(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Unavailable(cause.into())
    }

    /// A [`StoreError::Unavailable`] during an outage that the store logs itself, once when it
    /// starts and once when it ends: callers should not log each such failure again.
    pub fn outage(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        StoreError::Unavailable(Box::new(Outage(cause.into())))
    }

    /// Whether this is an [outage](Self::outage) failure, already logged by the store.
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Unavailable(cause) if cause.is::<Outage>())
    }
}

/// The cause of an [`StoreError::outage`]: the store's own cause, unchanged in messages.
#[derive(Debug)]
struct Outage(Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Outage {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// Persistence of users. Methods block: async callers run them on a blocking pool.
pub trait UserStore: Send + Sync {
    /// Creates a user; [`StoreError::Conflict`] when the username or email is taken.
    fn create_user(&self, user: NewUser) -> Result<User, StoreError>;
    /// The user with this id.
    fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user with this username, compared without regard to case.
    fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;
    /// Applies changes; [`StoreError::NotFound`] for an unknown id, `Conflict` on a taken value.
    /// A change of role or active state that would leave no active admin (when there was one)
    /// is refused with [`Conflict::LastAdmin`], atomically: two concurrent demotions of the
    /// last two admins cannot both succeed.
    ///
    /// Disabling (`is_active: Some(false)`) also ends everything the user's credentials gave,
    /// in the same transaction: the credential generation moves on, every session ends, every
    /// API key is revoked (re-enabling the user does not bring them back), and every
    /// `mfa_token` waiting for its second step is forgotten.
    fn update_user(&self, id: UserId, changes: &UserChanges) -> Result<User, StoreError>;
    /// Changes a password as [`PasswordChange`] says, in one transaction, if the user's
    /// credential generation is still `change.expected`; otherwise
    /// [`StoreError::CredentialsChanged`] and nothing changes. [`StoreError::NotFound`] for an
    /// unknown user. Every password-reset token of the user is deleted with it: a reset link
    /// sent before a change does not work after it.
    fn change_password(&self, change: &PasswordChange) -> Result<PasswordChanged, StoreError>;
    /// Replaces the password hash only if it is still `expected` (a compare-and-set, so that an
    /// upgrade of the hash never undoes a password change made meanwhile); returns whether it
    /// was replaced. The credential generation stays: this is the same password, hashed at
    /// another cost.
    fn replace_password_hash(
        &self,
        id: UserId,
        expected: &PasswordHash,
        new: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Deletes a user with their sessions and API keys; `NotFound` for an unknown id,
    /// [`Conflict::LastAdmin`] for the last active admin (atomically, as `update_user`).
    fn delete_user(&self, id: UserId) -> Result<(), StoreError>;
    /// Users matching `query`, oldest first, and how many match in all, counted as
    /// `query.count` says (`None` for [`Count::Skip`](crate::Count::Skip)).
    fn list_users(&self, query: &UserQuery) -> Result<(Vec<User>, Option<u64>), StoreError>;
    /// Whether the backend answers.
    fn ping(&self) -> Result<(), StoreError>;
}

/// Persistence of sessions. Methods block: async callers run them on a blocking pool.
pub trait SessionStore: Send + Sync {
    /// Opens a session with the digest of its first refresh token, if `session.generation` is
    /// still the user's and, for a session opened with an API key, the key is not revoked,
    /// checked in the same transaction: otherwise [`StoreError::CredentialsChanged`] and
    /// nothing is stored. [`StoreError::NotFound`] for an unknown user.
    fn create_session(&self, session: NewSession) -> Result<Session, StoreError>;
    /// The session and its user, in one lookup: what every authenticated request needs.
    fn session_with_user(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError>;
    /// Ends one session at `at`; [`StoreError::NotFound`] if there is no such session.
    /// Ending an already-ended session keeps its first end time.
    fn revoke_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError>;
    /// The user's sessions, newest first (ended ones included; callers filter).
    fn user_sessions(&self, user: UserId) -> Result<Vec<Session>, StoreError>;
    /// Exchanges a refresh token, atomically (two concurrent calls serialize):
    /// - unknown token, or its session revoked or expired at `at`: [`RefreshOutcome::Invalid`];
    /// - a live token: every live token of the session is superseded at `at`, the replacement
    ///   is stored, and the session's `last_used_at` and idle deadline are renewed;
    /// - a token superseded no longer than `reuse_grace` ago: the replacement is stored beside
    ///   the live ones (so two concurrent refreshes both succeed), and the session is renewed;
    /// - a token superseded longer ago: the session is revoked at `at`
    ///   ([`RefreshOutcome::ReuseDetected`]).
    fn rotate_refresh_token(
        &self,
        rotation: &RefreshRotation,
    ) -> Result<RefreshOutcome, StoreError>;
    /// Ends the user's live sessions selected by `which`; returns how many were ended.
    fn revoke_user_sessions(
        &self,
        user: UserId,
        which: SessionRevocation,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError>;
}

/// Persistence of API keys. Methods block.
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; `Conflict` if its prefix is taken (callers retry with another);
    /// [`StoreError::CredentialsChanged`] (and nothing is stored) unless `key.generation` is
    /// still the owner's, checked in the same transaction.
    fn create_api_key(&self, key: NewApiKey) -> Result<ApiKey, StoreError>;
    /// A user's keys, newest first (revoked ones included; callers filter).
    fn user_api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, StoreError>;
    /// The key with this prefix, its digest, and its user, in one lookup.
    fn api_key_by_prefix(&self, prefix: &str)
    -> Result<Option<(ApiKey, String, User)>, StoreError>;
    /// Revokes one of `user`'s live keys, and ends the sessions opened by exchanging it;
    /// `NotFound` if there is no such live key of theirs.
    fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Revokes every live key of `user`, and ends the sessions opened by exchanging them;
    /// returns how many keys. (A password change and disabling a user do this themselves, in
    /// their own transactions: [`UserStore::change_password`], [`UserStore::update_user`].)
    fn revoke_user_api_keys(&self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Records a use of the key.
    fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError>;
}

/// The audit log. Methods block.
pub trait AuditStore: Send + Sync {
    /// Appends an event.
    fn record(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Events matching `query`, newest first, and how many match in all, counted as
    /// `query.count` says (`None` for [`Count::Skip`](crate::Count::Skip)).
    fn audit_events(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEvent>, Option<u64>), StoreError>;
}

/// Failed-login counting per username (existing or not). Methods block.
pub trait LoginThrottleStore: Send + Sync {
    /// Takes a login attempt for `key` (e.g. a normalized username and a client address) at
    /// `at`, atomically: if it is locked, [`AttemptVerdict::Locked`] and nothing changes;
    /// otherwise the attempt is counted as a failure (a success clears it afterwards) and the
    /// key is locked as `policy` says. A count whose last failure is older than `policy.decay`
    /// starts again from zero. Counting before the password is checked means concurrent guesses
    /// cannot slip past the limit while bcrypt runs.
    fn take_login_attempt(
        &self,
        key: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError>;
    /// The record of `key`, if any, without changing it.
    fn login_throttle(&self, key: &str) -> Result<Option<LoginThrottle>, StoreError>;
    /// Forgets the failures of `key` (after a successful login).
    fn clear_login_failures(&self, key: &str) -> Result<(), StoreError>;
    /// Takes back an attempt that [`Self::take_login_attempt`] counted as `counted` and that
    /// turned out to be no failure, without forgetting the failures before it (the right
    /// password of an account with a second factor: only the second factor clears them). The
    /// count goes down by one, and the lock that attempt set, if it is still the key's lock, is
    /// lifted; a lock that a failure counted since has set stays.
    fn withdraw_login_attempt(&self, key: &str, counted: &LoginThrottle) -> Result<(), StoreError>;
}

/// Removing what is past its use. Methods block.
pub trait PruneStore: Send + Sync {
    /// Removes what `policy` says is past its use (ended sessions with their refresh tokens,
    /// decayed login-throttle rows, old audit events, read cache-invalidation announcements,
    /// rate-limit buckets full again),
    /// deleting at most `policy.batch_size` rows per statement, and reports how many rows of
    /// each table it removed. Nothing a live credential needs is removed, so no cache needs
    /// telling. [`PruneOutcome::Busy`] when another process is pruning the same database (a
    /// store shared by several processes lets one prune at a time).
    fn prune(&self, policy: &PrunePolicy) -> Result<PruneOutcome, StoreError>;
}

/// Everything the authentication service needs from persistence.
pub trait Store:
    UserStore
    + SessionStore
    + ApiKeyStore
    + AuditStore
    + LoginThrottleStore
    + PruneStore
    + MfaStore
    + ImportStore
    + RecoveryStore
    + StatusListStore
    + RateLimitStore
{
}

impl<T> Store for T where
    T: UserStore
        + SessionStore
        + ApiKeyStore
        + AuditStore
        + LoginThrottleStore
        + PruneStore
        + MfaStore
        + ImportStore
        + RecoveryStore
        + StatusListStore
        + RateLimitStore
{
}
