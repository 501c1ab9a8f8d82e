//! The in-process credential cache: the (session, user) pair behind each access token and the
//! (key, digest, user) behind each API key, so that authenticating a request needs no store
//! round trip.
//!
//! Exactness rules:
//! - every change that can make a credential invalid calls [`CredentialCache::invalidate`] on the
//!   instance that made it, after the store has committed it, so that instance's next request
//!   sees it;
//! - other instances hear of it through the store (PostgreSQL `NOTIFY`, see auth-diesel) and
//!   call the same method; while that channel is down the cache is [suspended](
//!   CredentialCache::suspend): emptied and not filled, so nothing missed is trusted;
//! - a read of the store that raced an invalidation does not put what it read into the cache:
//!   every invalidation bumps an epoch, and a read inserts only if the epoch it started in is
//!   still current (checked and inserted under the same lock that invalidations take);
//! - no entry is trusted longer than `max_age`, even if a notification were lost.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use auth_domain::{ApiKey, Invalidation, Session, SessionId, User};
use moka::sync::Cache;

/// A cached API key: the key, its stored digest, and its owner.
pub(crate) type CachedKey = Arc<(ApiKey, String, User)>;
/// A cached session with its user.
pub(crate) type CachedSession = Arc<(Session, User)>;

/// Bounds of the credential cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most sessions (and, separately, API keys) kept; 0 turns the cache off.
    pub max_entries: u64,
    /// No entry is trusted for longer than this, whatever the notifications say.
    pub max_age: Duration,
}

impl Default for CacheConfig {
    /// 100,000 entries, trusted for 5 seconds at most.
    fn default() -> Self {
        Self {
            max_entries: 100_000,
            max_age: Duration::from_secs(5),
        }
    }
}

/// The epoch a store read started in; see [`CredentialCache::begin_read`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadEpoch(Option<u64>);

/// The credential cache of one process. Cheap to clone (shared).
#[derive(Clone)]
pub struct CredentialCache {
    inner: Arc<Inner>,
}

struct Inner {
    sessions: Cache<SessionId, CachedSession>,
    api_keys: Cache<String, CachedKey>,
    // Bumped by every invalidation; reads insert only within the epoch they started in.
    epoch: Mutex<u64>,
    enabled: AtomicBool,
    configured_on: bool,
}

impl std::fmt::Debug for CredentialCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache")
            .field("sessions", &self.inner.sessions.entry_count())
            .field("api_keys", &self.inner.api_keys.entry_count())
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl CredentialCache {
    pub(crate) fn new(config: CacheConfig) -> Self {
        let configured_on = config.max_entries > 0 && !config.max_age.is_zero();
        let sessions = Cache::builder()
            .max_capacity(config.max_entries)
            .time_to_live(config.max_age)
            .support_invalidation_closures()
            .build();
        let api_keys = Cache::builder()
            .max_capacity(config.max_entries)
            .time_to_live(config.max_age)
            .support_invalidation_closures()
            .build();
        Self {
            inner: Arc::new(Inner {
                sessions,
                api_keys,
                epoch: Mutex::new(0),
                enabled: AtomicBool::new(configured_on),
                configured_on,
            }),
        }
    }

    fn epoch(&self) -> std::sync::MutexGuard<'_, u64> {
        // Nothing is left half-done under this lock, so a poisoned one is still usable.
        self.inner
            .epoch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the cache is in use (not turned off, not suspended).
    pub fn is_enabled(&self) -> bool {
        self.inner.enabled.load(Ordering::Acquire)
    }

    pub(crate) fn session(&self, id: SessionId) -> Option<CachedSession> {
        self.is_enabled()
            .then(|| self.inner.sessions.get(&id))
            .flatten()
    }

    pub(crate) fn api_key(&self, prefix: &str) -> Option<CachedKey> {
        self.is_enabled()
            .then(|| self.inner.api_keys.get(prefix))
            .flatten()
    }

    /// Call before reading the store; pass the result to the insert that follows.
    pub(crate) fn begin_read(&self) -> ReadEpoch {
        ReadEpoch(self.is_enabled().then(|| *self.epoch()))
    }

    pub(crate) fn insert_session(&self, read: ReadEpoch, value: CachedSession) {
        let epoch = self.epoch();
        if read.0 == Some(*epoch) && self.is_enabled() {
            self.inner.sessions.insert(value.0.id, value);
        }
    }

    pub(crate) fn insert_api_key(&self, read: ReadEpoch, value: CachedKey) {
        let epoch = self.epoch();
        if read.0 == Some(*epoch) && self.is_enabled() {
            self.inner.api_keys.insert(value.0.prefix.clone(), value);
        }
    }

    /// Forgets what `what` names, at once. Called after the store committed a change, on the
    /// instance that made it, and by the listener for changes made elsewhere.
    pub fn invalidate(&self, what: Invalidation) {
        let mut epoch = self.epoch();
        *epoch += 1;
        let (sessions, api_keys) = (&self.inner.sessions, &self.inner.api_keys);
        match what {
            Invalidation::Session(id) => sessions.invalidate(&id),
            Invalidation::User(user) => {
                // Closures are enabled at build time, so these cannot fail.
                let _ = sessions.invalidate_entries_if(move |_, v| v.1.id == user);
                let _ = api_keys.invalidate_entries_if(move |_, v| v.2.id == user);
            }
            Invalidation::ApiKey(key) => {
                let _ = api_keys.invalidate_entries_if(move |_, v| v.0.id == key);
                let _ = sessions.invalidate_entries_if(move |_, v| v.0.api_key == Some(key));
            }
            Invalidation::All => {
                sessions.invalidate_all();
                api_keys.invalidate_all();
            }
        }
    }

    /// Empties the cache and stops filling it, until [`Self::resume`]: for when notifications
    /// of other instances' changes may be missed (the listener's connection dropped).
    pub fn suspend(&self) {
        let mut epoch = self.epoch();
        *epoch += 1;
        self.inner.enabled.store(false, Ordering::Release);
        self.inner.sessions.invalidate_all();
        self.inner.api_keys.invalidate_all();
    }

    /// Empties the cache and fills it again from the store: the listener is (back) in place.
    pub fn resume(&self) {
        let mut epoch = self.epoch();
        *epoch += 1;
        self.inner.sessions.invalidate_all();
        self.inner.api_keys.invalidate_all();
        self.inner
            .enabled
            .store(self.inner.configured_on, Ordering::Release);
    }

    /// How many sessions and API keys are cached (approximately; for metrics).
    pub fn entry_counts(&self) -> (u64, u64) {
        (
            self.inner.sessions.entry_count(),
            self.inner.api_keys.entry_count(),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use auth_domain::{ClientInfo, NewUser, PasswordHash, Role, UserId, Username, now};
    use chrono::TimeDelta;

    use super::*;

    fn pair() -> CachedSession {
        let user = NewUser {
            id: UserId::new(),
            username: Username::parse("alice").unwrap(),
            email: None,
            password_hash: PasswordHash::new("x"),
            role: Role::User,
            created_at: now(),
        }
        .into_user();
        let at = now();
        let session = Session {
            id: SessionId::new(),
            user_id: user.id,
            created_at: at,
            last_used_at: at,
            idle_expires_at: at + TimeDelta::hours(1),
            expires_at: at + TimeDelta::hours(1),
            revoked_at: None,
            client: ClientInfo::default(),
            api_key: None,
            mfa: false,
        };
        Arc::new((session, user))
    }

    fn cache() -> CredentialCache {
        CredentialCache::new(CacheConfig::default())
    }

    #[test]
    fn a_read_that_raced_an_invalidation_is_not_cached() {
        let cache = cache();
        let stale = pair();
        let read = cache.begin_read();
        // A change committed while the store was read: what was read may be stale.
        cache.invalidate(Invalidation::User(stale.1.id));
        cache.insert_session(read, Arc::clone(&stale));
        assert!(cache.session(stale.0.id).is_none());
        // A read that started after the invalidation is cached.
        let read = cache.begin_read();
        cache.insert_session(read, Arc::clone(&stale));
        assert!(cache.session(stale.0.id).is_some());
    }

    #[test]
    fn invalidation_by_session_user_and_key_forgets_what_it_names() {
        let cache = cache();
        let (one, other) = (pair(), pair());
        for entry in [&one, &other] {
            cache.insert_session(cache.begin_read(), Arc::clone(entry));
        }
        cache.invalidate(Invalidation::Session(one.0.id));
        assert!(cache.session(one.0.id).is_none());
        assert!(cache.session(other.0.id).is_some());
        cache.invalidate(Invalidation::User(other.1.id));
        assert!(cache.session(other.0.id).is_none());

        let mut exchanged = (*pair()).clone();
        let key = auth_domain::ApiKeyId::new();
        exchanged.0.api_key = Some(key);
        let exchanged = Arc::new(exchanged);
        cache.insert_session(cache.begin_read(), Arc::clone(&exchanged));
        cache.invalidate(Invalidation::ApiKey(key));
        assert!(cache.session(exchanged.0.id).is_none());
    }

    #[test]
    fn a_suspended_cache_holds_nothing_until_resumed() {
        let cache = cache();
        let entry = pair();
        cache.insert_session(cache.begin_read(), Arc::clone(&entry));
        cache.suspend();
        assert!(!cache.is_enabled());
        assert!(cache.session(entry.0.id).is_none());
        cache.insert_session(cache.begin_read(), Arc::clone(&entry));
        assert!(cache.session(entry.0.id).is_none());
        cache.resume();
        assert!(cache.session(entry.0.id).is_none(), "resume starts empty");
        cache.insert_session(cache.begin_read(), Arc::clone(&entry));
        assert!(cache.session(entry.0.id).is_some());
    }

    #[test]
    fn zero_entries_or_zero_age_turns_the_cache_off() {
        for config in [
            CacheConfig {
                max_entries: 0,
                ..CacheConfig::default()
            },
            CacheConfig {
                max_age: Duration::ZERO,
                ..CacheConfig::default()
            },
        ] {
            let cache = CredentialCache::new(config);
            let entry = pair();
            cache.insert_session(cache.begin_read(), Arc::clone(&entry));
            assert!(cache.session(entry.0.id).is_none());
        }
    }
}
