//! Operator actions: list, inspect, change, delete users, end their sessions, read the audit
//! log. Callers authorize (the HTTP adapter requires an admin with a bearer session; the CLI is
//! the operator); the service enforces the rules every caller shares, such as never leaving
//! the system without an active admin.

use auth_domain::{
    AuditAction, AuditEvent, AuditQuery, Cursor, Invalidation, NewPassword, NewUser, Password,
    Role, SessionRevocation, User, UserChanges, UserId, UserQuery, Username, now,
};
use chrono::{DateTime, Utc};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    service::AuthService,
    sessions::Principal,
};

/// Who performs an operator action, for the audit log.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    /// The admin, or `None` for the command line.
    pub user: Option<UserId>,
    /// The client address.
    pub ip: Option<String>,
}

impl Actor {
    /// The operator at the command line.
    pub fn cli() -> Self {
        Self::default()
    }
}

impl From<&Principal> for Actor {
    fn from(principal: &Principal) -> Self {
        Self {
            user: Some(principal.user.id),
            ip: principal.client.ip.clone(),
        }
    }
}

fn event(action: AuditAction, success: bool, actor: &Actor, target: UserId) -> AuditEvent {
    let event = audit::event(action, success)
        .on(target)
        .ip(actor.ip.clone());
    let event = match actor.user {
        Some(user) => event.by(user),
        None => event,
    };
    if actor.user.is_none() {
        event.detail("cli")
    } else {
        event
    }
}

/// The most users or events one page may hold.
pub const MAX_PAGE: u32 = 200;

/// One page of a listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// How many items match the filters in all, counted as the query's `count` said.
    pub total: Option<u64>,
    /// Where the next page starts (give it as the query's `after`); `None` on the last page.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// The page out of `items`, which the store read with a limit of `limit + 1`: one more
    /// item than shown says that there is a next page, without counting.
    fn of(mut items: Vec<T>, limit: u32, total: Option<u64>, cursor: fn(&T) -> Cursor) -> Self {
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next = items.last().filter(|_| more).map(cursor);
        Self { items, total, next }
    }
}

/// What `ensure_admin` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// A new admin was created.
    Created,
    /// An existing user became admin (password unchanged).
    Promoted,
    /// The user was already an active admin.
    AlreadyAdmin,
}

impl AuthService {
    /// A page of the users matching `query` (oldest first), with where the next page starts
    /// and how many match (as `query.count` says); `limit` is capped at [`MAX_PAGE`].
    pub async fn list_users(&self, mut query: UserQuery) -> Result<Page<User>, AuthError> {
        let limit = query.limit.min(MAX_PAGE);
        query.limit = limit + 1;
        let (users, total) = self
            .blocking(move |inner| Ok(inner.store.list_users(&query)?))
            .await?;
        Ok(Page::of(users, limit, total, Cursor::of_user))
    }

    /// The user with this username (any case), or [`AuthError::NotFound`].
    pub async fn user_by_username(&self, username: &str) -> Result<User, AuthError> {
        let username = auth_domain::Username::parse(username)?;
        self.blocking(move |inner| {
            inner
                .store
                .user_by_username(&username)?
                .ok_or(AuthError::NotFound)
        })
        .await
    }

    /// One user, or [`AuthError::NotFound`].
    pub async fn user(&self, id: UserId) -> Result<User, AuthError> {
        self.blocking(move |inner| inner.store.user_by_id(id)?.ok_or(AuthError::NotFound))
            .await
    }

    /// Changes a user's role or active state. Disabling ends every session of the user and
    /// revokes every API key (re-enabling brings neither back), in the store transaction that
    /// disables. [`AuthError::LastAdmin`] when that would leave no active admin.
    pub async fn set_role_and_state(
        &self,
        actor: &Actor,
        id: UserId,
        role: Option<Role>,
        is_active: Option<bool>,
    ) -> Result<User, AuthError> {
        let actor = actor.clone();
        self.blocking(move |inner| {
            let mut changes = UserChanges::at(now());
            changes.role = role;
            changes.is_active = is_active;
            let detail = format!(
                "role={}, is_active={}",
                role.map_or("unchanged", Role::as_str),
                is_active.map_or("unchanged".into(), |a| a.to_string())
            );
            let user = match inner.store.update_user(id, &changes) {
                Ok(user) => user,
                Err(e) => {
                    let error = AuthError::from(e);
                    if matches!(error, AuthError::LastAdmin) {
                        inner.record(
                            event(AuditAction::AdminUserUpdated, false, &actor, id)
                                .detail(format!("{detail}: last active admin")),
                        );
                    }
                    return Err(error);
                }
            };
            inner.invalidate(Invalidation::User(id));
            inner.record(event(AuditAction::AdminUserUpdated, true, &actor, id).detail(detail));
            Ok(user)
        })
        .await
    }

    /// Deletes a user with their sessions and API keys. [`AuthError::LastAdmin`] for the last
    /// active admin.
    pub async fn delete_user(&self, actor: &Actor, id: UserId) -> Result<(), AuthError> {
        let actor = actor.clone();
        self.blocking(move |inner| match inner.store.delete_user(id) {
            Ok(()) => {
                inner.invalidate(Invalidation::User(id));
                inner.record(event(AuditAction::AdminUserDeleted, true, &actor, id));
                Ok(())
            }
            Err(e) => {
                let error = AuthError::from(e);
                if matches!(error, AuthError::LastAdmin) {
                    inner.record(
                        event(AuditAction::AdminUserDeleted, false, &actor, id)
                            .detail("last active admin"),
                    );
                }
                Err(error)
            }
        })
        .await
    }

    /// Ends every session of a user; [`AuthError::NotFound`] for an unknown user.
    pub async fn end_user_sessions(&self, actor: &Actor, id: UserId) -> Result<usize, AuthError> {
        let actor = actor.clone();
        self.blocking(move |inner| {
            inner.store.user_by_id(id)?.ok_or(AuthError::NotFound)?;
            let ended = inner
                .store
                .revoke_user_sessions(id, SessionRevocation::All, now())?;
            inner.invalidate(Invalidation::User(id));
            inner.record(
                event(AuditAction::AdminSessionsRevoked, true, &actor, id)
                    .detail(format!("ended={ended}")),
            );
            Ok(ended)
        })
        .await
    }

    /// A page of the audit events matching `query` (newest first), with where the next page
    /// starts and how many match (as `query.count` says); `limit` is capped at [`MAX_PAGE`].
    pub async fn audit_log(&self, mut query: AuditQuery) -> Result<Page<AuditEvent>, AuthError> {
        let limit = query.limit.min(MAX_PAGE);
        query.limit = limit + 1;
        let (events, total) = self
            .blocking(move |inner| Ok(inner.store.audit_events(&query)?))
            .await?;
        Ok(Page::of(events, limit, total, Cursor::of_event))
    }

    /// Creates an active admin, or promotes (and re-enables) an existing user: for tests and
    /// embedders that provision their own accounts. An existing user's password is left
    /// unchanged; `password` is only used to create. The CLI never promotes by this path:
    /// `create-admin` uses [`Self::create_admin`] and `users promote` [`Self::promote_admin`],
    /// so that promoting an account someone else may have registered is an explicit act.
    pub async fn ensure_admin(
        &self,
        username: &str,
        password: Password,
    ) -> Result<(User, AdminOutcome), AuthError> {
        match self.create_admin(username, password).await {
            Ok(user) => Ok((user, AdminOutcome::Created)),
            Err(AuthError::UsernameTaken) => self.promote_admin(username).await,
            Err(e) => Err(e),
        }
    }

    /// Creates a new active admin (audit event `admin.created`, detail `cli`), and only that:
    /// [`AuthError::UsernameTaken`] when a user of that name (any case) exists, whoever
    /// registered it. The password must pass the rules of a new password.
    pub async fn create_admin(
        &self,
        username: &str,
        password: Password,
    ) -> Result<User, AuthError> {
        let username = Username::parse(username)?;
        let min = self.inner.config.password_min_length;
        self.hashing(move |inner| {
            if inner.store.user_by_username(&username)?.is_some() {
                return Err(AuthError::UsernameTaken);
            }
            let password = NewPassword::parse(password.expose(), min)?;
            inner.check_strength(&password, &[username.as_str()])?;
            // The store refuses a name taken since the check (a unique index), so this never
            // lands on someone else's account.
            let user = inner.store.create_user(NewUser {
                id: UserId::new(),
                username,
                email: None,
                password_hash: inner.hasher.hash(&password)?,
                role: Role::Admin,
                created_at: now(),
            })?;
            inner.record(
                audit::event(AuditAction::AdminCreated, true)
                    .on(user.id)
                    .detail("cli"),
            );
            Ok(user)
        })
        .await
    }

    /// Makes an existing user an active admin, password unchanged (audit event
    /// `admin.promoted`, detail `cli`): `users promote`. [`AuthError::NotFound`] for an unknown
    /// name; [`AdminOutcome::AlreadyAdmin`] (and nothing written) for an active admin.
    pub async fn promote_admin(&self, username: &str) -> Result<(User, AdminOutcome), AuthError> {
        let username = Username::parse(username)?;
        self.blocking(move |inner| {
            let user = inner
                .store
                .user_by_username(&username)?
                .ok_or(AuthError::NotFound)?;
            if user.role == Role::Admin && user.is_active {
                return Ok((user, AdminOutcome::AlreadyAdmin));
            }
            let mut changes = UserChanges::at(now());
            changes.role = Some(Role::Admin);
            changes.is_active = Some(true);
            let user = inner.store.update_user(user.id, &changes)?;
            inner.invalidate(Invalidation::User(user.id));
            inner.record(
                audit::event(AuditAction::AdminPromoted, true)
                    .on(user.id)
                    .detail("cli"),
            );
            Ok((user, AdminOutcome::Promoted))
        })
        .await
    }

    /// When the user last logged in, as far as the store still knows: the start of their
    /// newest session (ended sessions count until pruned), or `None`.
    pub async fn last_login(&self, user: UserId) -> Result<Option<DateTime<Utc>>, AuthError> {
        self.blocking(move |inner| {
            Ok(inner
                .store
                .user_sessions(user)?
                .into_iter()
                .map(|session| session.created_at)
                .max())
        })
        .await
    }
}
