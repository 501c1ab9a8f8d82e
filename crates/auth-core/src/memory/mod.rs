//! An in-memory [`Store`](auth_domain::Store) for tests and embedders' tests. It passes the same
//! contract suite as the diesel stores; it keeps nothing across restarts.
//!
//! The state and the lock live here; each store trait's implementation has its own file.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use auth_domain::{
    ApiKey, ApiKeyId, AuditEvent, EmailToken, EmailTokenHash, LoginThrottle, MfaChallenge,
    MfaTokenHash, RefreshTokenHash, Session, SessionId, TotpEnrolment, User, UserId, UserImport,
};
use chrono::{DateTime, Utc};

mod api_keys;
mod audit;
mod credentials;
mod imports;
mod login_throttle;
mod mfa;
mod prune;
mod rate_limit;
mod recovery;
mod sessions;
mod status;
mod users;

struct RefreshRecord {
    session: SessionId,
    superseded_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, Session>,
    refresh_tokens: HashMap<RefreshTokenHash, RefreshRecord>,
    api_keys: HashMap<ApiKeyId, (ApiKey, String)>,
    audit: Vec<AuditEvent>,
    throttles: HashMap<String, LoginThrottle>,
    totp: HashMap<UserId, TotpEnrolment>,
    recovery_codes: HashMap<UserId, mfa::RecoveryCodes>,
    mfa_challenges: HashMap<MfaTokenHash, MfaChallenge>,
    status_entries: status::Entries,
    imports: HashMap<UserId, UserImport>,
    email_tokens: HashMap<EmailTokenHash, EmailToken>,
    // The times of the messages each account's requests asked for, within the last hour.
    mail_requests: HashMap<UserId, Vec<DateTime<Utc>>>,
    // Each rate-limit key's theoretical arrival time, µs since the epoch.
    rate_limits: HashMap<String, i64>,
}

/// One page of `items` (already filtered and sorted) and how many there are in all.
fn page<T>(items: Vec<T>, offset: u32, limit: u32) -> (Vec<T>, u64) {
    let total = items.len() as u64;
    let page = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    (page, total)
}

/// A thread-safe store that lives in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The state, locked. When the guard is dropped, the status list entries are settled
    /// (those whose token's claims no longer hold become INVALID) before the lock is released,
    /// so every change is seen with its consequence for the status lists.
    fn state(&self) -> StateGuard<'_> {
        // A panic while holding the lock leaves consistent data (every write is one insert), so
        // a poisoned lock is still usable.
        StateGuard(
            self.state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// The locked state; settles the status list entries when dropped.
struct StateGuard<'a>(MutexGuard<'a, State>);

impl std::ops::Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.0
    }
}

impl std::ops::DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.0
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        self.0.settle_status();
    }
}
