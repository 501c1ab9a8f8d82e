//! The lockout around every password check (login, and the current password that profile
//! changes and API-key creation ask for).
//!
//! Two counts, both in the store so that every instance shares them, both keyed by the
//! normalized username whether the account exists or not (a lock reveals nothing):
//! - per username and client address, taken *before* bcrypt runs: `security.max_failed_logins`
//!   failures lock that client out of that account (with the right password too), so one
//!   attacker cannot lock out the owner's own client;
//! - per username from all clients, counted on each failure: a much higher limit, against
//!   guessing spread over many addresses.
//!
//! Both counts decay after a quiet period, and attempts on one username run one at a time in
//! this process, so that concurrent guesses cannot pass the limit.

use std::sync::MutexGuard;

use auth_domain::{
    AttemptVerdict, AuditAction, ClientInfo, LoginThrottle, Password, User, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    service::Inner,
};

/// A password attempt that was let through: report how it went with [`Self::failed`],
/// [`Self::succeeded`] or [`Self::withdrawn`]. Holds this username's stripe until dropped.
pub(crate) struct PasswordAttempt<'a> {
    inner: &'a Inner,
    user_key: String,
    client_key: String,
    ip: Option<String>,
    // The client's count as this attempt left it, to take the attempt back.
    counted: LoginThrottle,
    _one_at_a_time: MutexGuard<'a, ()>,
}

impl Inner {
    /// Takes a password attempt on `username` from `client`, or refuses it with
    /// [`AuthError::TooManyAttempts`] while either lock holds. `action` names the check in the
    /// audit log.
    pub(crate) fn take_password_attempt(
        &self,
        username: &Username,
        client: &ClientInfo,
        action: AuditAction,
    ) -> Result<PasswordAttempt<'_>, AuthError> {
        let user_key = username.normalized();
        let one_at_a_time = self.login_stripes.lock(&user_key);
        let client_key = format!("{user_key}|{}", client.ip.as_deref().unwrap_or("-"));
        let at = now();
        let refuse = |retry_after: u64, scope: &str| {
            self.record(
                audit::event(action, false)
                    .ip(client.ip.clone())
                    .detail(format!("locked ({scope}); retry after {retry_after}s")),
            );
            AuthError::TooManyAttempts { retry_after }
        };
        if let Some(retry_after) = self
            .store
            .login_throttle(&user_key)?
            .and_then(|throttle| throttle.retry_after(at))
        {
            return Err(refuse(retry_after, "all clients"));
        }
        match self
            .store
            .take_login_attempt(&client_key, &self.config.lockout, at)?
        {
            AttemptVerdict::Locked(throttle) => {
                Err(refuse(throttle.retry_after(at).unwrap_or(1), "this client"))
            }
            AttemptVerdict::Counted(throttle) => {
                if let Some(until) = throttle.locked_until {
                    self.record(
                        audit::event(AuditAction::LoginLocked, true)
                            .ip(client.ip.clone())
                            .detail(format!(
                                "{} failures from this client; locked until {until} unless this attempt succeeds",
                                throttle.failures
                            )),
                    );
                }
                Ok(PasswordAttempt {
                    inner: self,
                    user_key,
                    client_key,
                    ip: client.ip.clone(),
                    counted: throttle,
                    _one_at_a_time: one_at_a_time,
                })
            }
        }
    }
}

impl Inner {
    /// Checks the current password that a sensitive change asks for (a new password, a new API
    /// key), as a login attempt on the account from this client: a wrong one is counted, and
    /// while the client is locked out even the right one is refused with
    /// [`AuthError::TooManyAttempts`]. `action` names the change in the audit log.
    pub(crate) fn check_current_password(
        &self,
        user: &User,
        current: &Password,
        client: &ClientInfo,
        action: AuditAction,
    ) -> Result<(), AuthError> {
        let attempt = self.take_password_attempt(&user.username, client, action)?;
        if self.hasher.verify(current, &user.password_hash) {
            return attempt.succeeded();
        }
        attempt.failed()?;
        self.record(
            audit::event(action, false)
                .by(user.id)
                .on(user.id)
                .ip(client.ip.clone())
                .detail("wrong_current_password"),
        );
        Err(AuthError::InvalidCurrentPassword)
    }
}

impl PasswordAttempt<'_> {
    /// The password was wrong (or the user unknown): the client's count keeps this attempt,
    /// and the username's count from all clients grows.
    pub(crate) fn failed(self) -> Result<(), AuthError> {
        let inner = self.inner;
        let verdict =
            inner
                .store
                .take_login_attempt(&self.user_key, &inner.config.user_lockout, now())?;
        if let AttemptVerdict::Counted(throttle) = verdict
            && let Some(until) = throttle.locked_until
        {
            inner.record(
                audit::event(AuditAction::LoginLocked, true)
                    .ip(self.ip)
                    .detail(format!(
                        "{} failures from all clients; locked until {until}",
                        throttle.failures
                    )),
            );
        }
        Ok(())
    }

    /// The password was right: the client's count is cleared.
    pub(crate) fn succeeded(self) -> Result<(), AuthError> {
        Ok(self.inner.store.clear_login_failures(&self.client_key)?)
    }

    /// The attempt was no failure, but must not clear the failures before it either (the right
    /// password of an account with a second factor, whose wrong codes count; a code that
    /// confirms an enrolment): it is taken back, and the lock it set, if any, is lifted.
    pub(crate) fn withdrawn(self) -> Result<(), AuthError> {
        Ok(self
            .inner
            .store
            .withdraw_login_attempt(&self.client_key, &self.counted)?)
    }
}
