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
//! Both counts decay after a quiet period.
//!
//! No lock is held while bcrypt runs. Concurrent guesses cannot pass the client's limit
//! because its count is taken atomically in the store *before* bcrypt: the sixth of twelve
//! concurrent wrong guesses finds the client locked. What a lock around the whole check gave
//! besides (each attempt seeing the outcome of the one before) matters for one case: a burst
//! of concurrent *right* logins from one client, whose counted attempts would lock the later
//! ones out before the first ones succeed and clear the count. So this process keeps, per
//! client and name, the number of its counted attempts still being checked
//! ([`AttemptsInFlight`]). Taking an attempt and marking it in flight happen together under a
//! short lock (a stripe of the name's hash, held for the store call only, never for bcrypt); an
//! attempt that finds the client locked while counted attempts of that client are in flight
//! here waits for them (on a condition variable, holding no lock), and then takes its attempt
//! again: if they were right, the count was cleared and it goes ahead; if they were wrong, the
//! lock holds and it is refused. An attempt that finds the client locked with none in flight is
//! refused at once, so locked attempts never wait for each other. A wait lasts as long as the
//! verifications already running, each bounded by `password.max_verify_cost` (a stored hash
//! above it is never verified: see [`Inner::verify_stored`]), and [`MAX_WAIT`] at most.
//!
//! The count from all clients is read before bcrypt and counted after a failure, so attempts in
//! flight at once (at most the hashing threads of each instance) may pass its much higher limit
//! by that many.

use std::{
    collections::{HashMap, HashSet},
    sync::{Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use auth_domain::{
    AttemptVerdict, AuditAction, ClientInfo, LoginThrottle, Password, User, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    login::LoginStripes,
    service::Inner,
};

/// The longest an attempt waits for the attempts in flight of its client before it is refused.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// The counted password attempts being checked in this process, per client and name, and the
/// accounts whose stored hash was found too costly to verify (each logged once). No lock here
/// is ever held while bcrypt runs.
pub(crate) struct AttemptsInFlight {
    stripes: LoginStripes,
    counts: Mutex<HashMap<String, usize>>,
    resolved: Condvar,
    too_costly_logged: Mutex<HashSet<UserId>>,
}

impl AttemptsInFlight {
    pub(crate) fn new() -> Self {
        Self {
            stripes: LoginStripes::new(),
            counts: Mutex::new(HashMap::new()),
            resolved: Condvar::new(),
            too_costly_logged: Mutex::new(HashSet::new()),
        }
    }

    fn counts(&self) -> MutexGuard<'_, HashMap<String, usize>> {
        // A number is changed under this lock, never left half-done: a poisoned one is usable.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks a counted attempt of `key` in flight until the returned guard is dropped.
    fn enter(&self, key: &str) -> InFlight<'_> {
        *self.counts().entry(key.to_owned()).or_default() += 1;
        InFlight {
            attempts: self,
            key: key.to_owned(),
        }
    }

    fn in_flight(&self, key: &str) -> bool {
        self.counts().contains_key(key)
    }

    /// Waits, holding no lock, until no counted attempt of `key` is in flight; false if
    /// `deadline` came first.
    fn wait_resolved(&self, key: &str, deadline: Instant) -> bool {
        let mut counts = self.counts();
        while counts.contains_key(key) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            counts = self
                .resolved
                .wait_timeout(counts, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// Whether `user`'s too costly hash is reported for the first time in this process.
    pub(crate) fn first_report_of_too_costly(&self, user: UserId) -> bool {
        self.too_costly_logged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user)
    }
}

/// One counted attempt in flight; resolved when dropped.
struct InFlight<'a> {
    attempts: &'a AttemptsInFlight,
    key: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut counts = self.attempts.counts();
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
        drop(counts);
        self.attempts.resolved.notify_all();
    }
}

/// A password attempt that was let through: report how it went with [`Self::failed`],
/// [`Self::succeeded`] or [`Self::withdrawn`]. Counts as in flight for its client and name
/// until dropped (after its outcome is written).
pub(crate) struct PasswordAttempt<'a> {
    inner: &'a Inner,
    user_key: String,
    client_key: String,
    ip: Option<String>,
    // The client's count as this attempt left it, to take the attempt back.
    counted: LoginThrottle,
    _in_flight: InFlight<'a>,
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
        let deadline = Instant::now() + MAX_WAIT;
        let verdict = loop {
            // Taken and marked in flight under the stripe (for the store call only), so that an
            // attempt that finds the client locked sees every counted attempt still running.
            let stripe = self.attempts.stripes.lock(&client_key);
            let verdict =
                self.store
                    .take_login_attempt(&client_key, &self.config.lockout, now())?;
            match verdict {
                AttemptVerdict::Counted(throttle) => {
                    break (throttle, self.attempts.enter(&client_key));
                }
                AttemptVerdict::Locked(throttle) => {
                    let running = self.attempts.in_flight(&client_key);
                    drop(stripe);
                    // Locked while counted attempts of this client are being checked: they may
                    // be right and clear the count. Take the attempt again once they are done.
                    if !running || !self.attempts.wait_resolved(&client_key, deadline) {
                        let retry_after = throttle.retry_after(now()).unwrap_or(1);
                        return Err(refuse(retry_after, "this client"));
                    }
                }
            }
        };
        let (throttle, in_flight) = verdict;
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
            _in_flight: in_flight,
        })
    }
}

impl Inner {
    /// Whether `password` is `user`'s, checked against the stored hash, unless that hash costs
    /// more than `password.max_verify_cost` (an imported `$2b$31$` would hold a hashing thread
    /// for hours): such a hash is never verified, the answer is "wrong" after the time of one
    /// verification at the configured cost (the dummy an unknown user costs), and the operator
    /// is told once per account in this process. The configured cost itself is always allowed.
    pub(crate) fn verify_stored(&self, user: &User, password: &Password) -> bool {
        let limit = self.config.max_verify_cost.max(self.hasher.cost());
        match crate::password::bcrypt_cost(&user.password_hash) {
            Some(cost) if cost > limit => {
                self.hasher.verify_dummy(password);
                if self.attempts.first_report_of_too_costly(user.id) {
                    tracing::warn!(
                        user_id = %user.id,
                        cost,
                        max_verify_cost = limit,
                        "the stored password hash of this user costs more than \
                         password.max_verify_cost: it is never verified, so the user cannot log in \
                         until an admin sets a new password"
                    );
                }
                false
            }
            _ => self.hasher.verify(password, &user.password_hash),
        }
    }

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
        if self.verify_stored(user, current) {
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
