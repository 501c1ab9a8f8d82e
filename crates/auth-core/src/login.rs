//! Password login: the lockout (counted in the store before bcrypt runs; see
//! [`crate::lockout`]), the dummy verify for unknown users, and the hash upgrade after a
//! successful login.

use std::{
    fmt,
    hash::{BuildHasher, BuildHasherDefault, DefaultHasher},
    sync::{Mutex, MutexGuard},
};

use auth_domain::{
    AuditAction, ClientInfo, Invalidation, Password, PasswordError, User, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    lockout::PasswordAttempt,
    observer::Outcome,
    service::{AuthService, Inner},
    sessions::TokenPair,
};

/// A login attempt.
#[derive(Clone)]
pub struct LoginAttempt {
    /// The username as typed.
    pub username: String,
    /// The password as typed.
    pub password: Password,
    /// The access-token lifetime the client asks for, in seconds (clamped to the bounds).
    pub expires_in: Option<i64>,
}

impl fmt::Debug for LoginAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginAttempt")
            .field("username", &self.username)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Short locks by stripe of a name's hash: taking a login attempt in the store and marking it
/// in flight happen under one, so that an attempt that finds its client locked sees every
/// counted attempt still being checked ([`crate::lockout`]). Never held while bcrypt runs.
pub(crate) struct LoginStripes(Vec<Mutex<()>>);

impl LoginStripes {
    const COUNT: usize = 64;

    pub(crate) fn new() -> Self {
        Self((0..Self::COUNT).map(|_| Mutex::new(())).collect())
    }

    /// Holds the stripe of `username` until the guard is dropped.
    pub(crate) fn lock(&self, username: &str) -> MutexGuard<'_, ()> {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(username);
        let stripe = &self.0[(hash % Self::COUNT as u64) as usize];
        // Nothing is left half-done under this lock, so a poisoned one is still usable.
        stripe
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Inner {
    /// Replaces a hash made with another cost. A failure is logged, not fatal: the old hash
    /// still works.
    fn upgrade_hash(&self, user: User, verified: &Password) -> User {
        if !self.hasher.needs_rehash(&user.password_hash) {
            return user;
        }
        // Compare-and-set: a password change committed since the verify is never undone.
        let at = now();
        let result = self
            .hasher
            .rehash(verified)
            .map_err(AuthError::from)
            .and_then(|hash| {
                let replaced =
                    self.store
                        .replace_password_hash(user.id, &user.password_hash, &hash, at)?;
                Ok((replaced, hash))
            });
        match result {
            Ok((true, hash)) => {
                self.invalidate(Invalidation::User(user.id));
                tracing::info!(user_id = %user.id, cost = self.hasher.cost(), "password hash upgraded");
                User {
                    password_hash: hash,
                    updated_at: at,
                    ..user
                }
            }
            Ok((false, _)) => user,
            Err(e) => {
                tracing::warn!(user_id = %user.id, error = %crate::error::cause_chain(&e), "password hash upgrade failed");
                user
            }
        }
    }
}

impl AuthService {
    /// Checks credentials, opens a session and signs an access token.
    ///
    /// An unknown user costs one bcrypt verification like a wrong password, and both give
    /// [`AuthError::InvalidCredentials`]. A disabled account is reported only after the right
    /// password, so the state of an account is never revealed to someone who does not own it.
    /// So is a second factor: for an account with one, the right password answers
    /// [`AuthError::MfaRequired`] with the token of the second step
    /// ([`Self::login_with_second_factor`]) instead of tokens.
    ///
    /// Its outcome is reported to the [`Observer`](crate::Observer).
    pub async fn login(
        &self,
        attempt: LoginAttempt,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let result = self.check_password_and_open_session(attempt, client).await;
        self.inner.observer().login(match &result {
            Ok(_) => Outcome::Success,
            Err(
                AuthError::InvalidCredentials
                | AuthError::InvalidPassword(_)
                | AuthError::InvalidUsername(_),
            ) => Outcome::Failure,
            Err(AuthError::AccountDisabled | AuthError::EmailNotVerified) => Outcome::Disabled,
            Err(AuthError::TooManyAttempts { .. }) => Outcome::Locked,
            Err(AuthError::Overloaded { .. }) => Outcome::Overloaded,
            Err(_) => Outcome::Error,
        });
        result
    }

    async fn check_password_and_open_session(
        &self,
        attempt: LoginAttempt,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        if !attempt.password.fits_bcrypt() {
            // Independent of the account, so it reveals nothing; and such a password can never
            // have been set.
            return Err(PasswordError::TooLong.into());
        }
        let ttl = self.access_ttl(attempt.expires_in);
        self.hashing(move |inner| {
            let username = Username::parse(&attempt.username).ok();
            // A name that cannot exist is refused like a wrong password, without a count.
            let lockout = username
                .as_ref()
                .map(|name| inner.take_password_attempt(name, &client, AuditAction::Login))
                .transpose()?;
            let user = match &username {
                Some(username) => inner.store.user_by_username(username)?,
                None => None,
            };
            let audit_failure = |user: Option<UserId>, why: &str| {
                let event = audit::event(AuditAction::Login, false)
                    .ip(client.ip.clone())
                    .detail(why);
                inner.record(match user {
                    Some(user) => event.on(user),
                    None => event,
                });
            };
            let Some(user) = user else {
                inner.hasher.verify_dummy(&attempt.password);
                audit_failure(None, "unknown_user");
                lockout.map(PasswordAttempt::failed).transpose()?;
                return Err(AuthError::InvalidCredentials);
            };
            if !inner.verify_stored(&user, &attempt.password) {
                audit_failure(Some(user.id), "wrong_password");
                lockout.map(PasswordAttempt::failed).transpose()?;
                return Err(AuthError::InvalidCredentials);
            }
            if user.mfa_enabled && user.is_active {
                // The password alone does not clear this client's failures: the second factor
                // will (a wrong code counts as a failure, so guessing codes locks out too). Nor
                // is a right password one of them: its attempt is taken back.
                lockout.map(PasswordAttempt::withdrawn).transpose()?;
            } else {
                lockout.map(PasswordAttempt::succeeded).transpose()?;
            }
            if !user.is_active {
                audit_failure(Some(user.id), "disabled");
                return Err(AuthError::AccountDisabled);
            }
            if inner.config.require_verified_email && !user.email_verified {
                audit_failure(Some(user.id), "email_not_verified");
                return Err(AuthError::EmailNotVerified);
            }
            let user = inner.upgrade_hash(user, &attempt.password);
            if user.mfa_enabled {
                return Err(inner.mfa_challenge(&user, &client, ttl));
            }
            let ip = client.ip.clone();
            let pair = match inner.open_session(&user, client, ttl, None) {
                // The password changed (or the user was disabled) since it was read: the
                // password given is not the password any more.
                Err(AuthError::InvalidCredentials) => {
                    inner.record(
                        audit::event(AuditAction::Login, false)
                            .on(user.id)
                            .ip(ip)
                            .detail("credentials_changed"),
                    );
                    return Err(AuthError::InvalidCredentials);
                }
                other => other?,
            };
            inner.record(
                audit::event(AuditAction::Login, true)
                    .by(user.id)
                    .on(user.id)
                    .ip(ip)
                    .detail("password"),
            );
            Ok(pair)
        })
        .await
    }
}
