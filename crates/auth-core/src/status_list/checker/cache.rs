//! The lists a verifier has seen, and the check of one token against them (no I/O, except the
//! first fetch of a list when the caller allows it).

use std::{
    collections::HashMap,
    sync::{Arc, Condvar, Mutex, OnceLock, RwLock},
    time::{Duration, Instant},
};

use auth_domain::TokenStatus;

use super::{Config, StatusChecker, StatusListFetcher, refresh};
use crate::{StatusList, TokenError, TokenVerifier};

/// The state of one list, as [`TokenVerifier::status_lists`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListHealth {
    /// The list's URL.
    pub uri: String,
    /// Whether the list is usable: fetched, verified, not expired, and refreshed within
    /// `max_stale`. When it is not, tokens it covers are refused (fail-closed) or accepted
    /// unchecked (fail-open).
    pub fresh: bool,
    /// Time since the last successful fetch (a `200` that verified, or a `304`); `None` if the
    /// list was never fetched.
    pub since_refresh: Option<Duration>,
    /// How many entries the cached list holds (0 before the first fetch).
    pub entries: u64,
    /// Why the last fetch failed, if it did.
    pub last_error: Option<String>,
}

/// The status check of a [`TokenVerifier`]: its lists and its refresh thread. Shared by the
/// verifier's clones; the thread ends when the last clone is dropped.
pub(crate) struct StatusCache {
    shared: Arc<Shared>,
}

pub(super) struct Shared {
    pub(super) config: Arc<Config>,
    pub(super) fetcher: Arc<dyn StatusListFetcher>,
    /// Checks Status List Tokens with the keys, `iss` and leeway of the access tokens.
    pub(super) verifier: TokenVerifier,
    pub(super) lists: RwLock<HashMap<String, Arc<Slot>>>,
    pub(super) wake: Arc<Wake>,
    refresher: OnceLock<()>,
}

pub(super) struct Slot {
    pub(super) uri: String,
    pub(super) state: RwLock<SlotState>,
    /// Held while the list is fetched, so that one fetch runs at a time per list.
    pub(super) fetching: Mutex<()>,
}

pub(super) struct SlotState {
    pub(super) list: Option<StatusList>,
    pub(super) iat: i64,
    pub(super) etag: Option<String>,
    /// The refresh interval: the list's `ttl` within the configured bounds.
    pub(super) interval: Duration,
    /// Until when the list may be relied on: `max_stale` after the last success, and never
    /// beyond the list's `exp`.
    pub(super) usable_until: Option<Instant>,
    pub(super) expires_at: Option<Instant>,
    pub(super) last_success: Option<Instant>,
    pub(super) attempted: bool,
    pub(super) next_attempt: Instant,
    /// Whether the list was stale when last looked at by a fetch (to log changes only).
    pub(super) stale: bool,
    pub(super) last_error: Option<String>,
}

/// Wakes the refresh thread: a new list to fetch, or the end.
#[derive(Default)]
pub(super) struct Wake {
    state: Mutex<WakeState>,
    signal: Condvar,
}

#[derive(Default)]
struct WakeState {
    shutdown: bool,
    poked: bool,
}

impl Wake {
    fn poke(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).poked = true;
        self.signal.notify_all();
    }

    fn shut_down(&self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .shutdown = true;
        self.signal.notify_all();
    }

    /// Waits until `deadline`, a poke, or the end; `false` at the end.
    pub(super) fn wait_until(&self, deadline: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if state.shutdown {
                return false;
            }
            let now = Instant::now();
            if state.poked || now >= deadline {
                state.poked = false;
                return true;
            }
            state = self
                .signal
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for StatusCache {
    fn drop(&mut self) {
        self.shared.wake.shut_down();
    }
}

impl std::fmt::Debug for StatusCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusCache")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

/// Reads a lock even if a thread panicked while holding it (the data stays consistent: every
/// writer replaces whole fields).
pub(super) fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl StatusCache {
    pub(crate) fn new(checker: StatusChecker, verifier: TokenVerifier) -> Self {
        Self {
            shared: Arc::new(Shared {
                config: checker.config,
                fetcher: checker.fetcher,
                verifier,
                lists: RwLock::new(HashMap::new()),
                wake: Arc::new(Wake::default()),
                refresher: OnceLock::new(),
            }),
        }
    }

    /// The checker this cache was made from (to rebuild it around other keys).
    pub(crate) fn checker(&self) -> StatusChecker {
        StatusChecker {
            config: Arc::clone(&self.shared.config),
            fetcher: Arc::clone(&self.shared.fetcher),
        }
    }

    /// Checks a token's `status` claim. With `may_fetch`, the first sight of a list fetches it
    /// on this thread; without, it is left to the refresh thread and the token is refused
    /// with [`TokenError::StatusNotCached`].
    pub(crate) fn check(
        &self,
        status: Option<&TokenStatus>,
        may_fetch: bool,
    ) -> Result<(), TokenError> {
        let Some(status) = status else {
            return if self.shared.config.require_status {
                Err(TokenError::Claims)
            } else {
                Ok(())
            };
        };
        let entry = &status.status_list;
        // The common case, under read locks only (no allocation, no reference count).
        if let Some(slot) = read(&self.shared.lists).get(&entry.uri) {
            let state = read(&slot.state);
            if state.attempted {
                return self.evaluate(&state, entry.idx);
            }
        }
        let slot = self.slot(&entry.uri)?;
        if !may_fetch {
            let state = read(&slot.state);
            return if state.attempted {
                self.evaluate(&state, entry.idx)
            } else {
                Err(TokenError::StatusNotCached)
            };
        }
        self.shared.refresh(&slot, |state, _| !state.attempted);
        self.evaluate(&read(&slot.state), entry.idx)
    }

    /// Fetches the list at `uri` now unless it was fetched already (blocking), and says whether
    /// tokens it covers can be checked.
    pub(crate) fn prefetch(&self, uri: &str) -> Result<(), TokenError> {
        let slot = self.slot(uri)?;
        self.shared.refresh(&slot, |state, _| !state.attempted);
        let state = read(&slot.state);
        let now = Instant::now();
        if state.usable_until.is_some_and(|until| now < until) {
            Ok(())
        } else {
            Err(unavailable(&state, now))
        }
    }

    pub(crate) fn health(&self) -> Vec<ListHealth> {
        let now = Instant::now();
        let mut lists: Vec<ListHealth> = read(&self.shared.lists)
            .values()
            .map(|slot| {
                let state = read(&slot.state);
                ListHealth {
                    uri: slot.uri.clone(),
                    fresh: state.usable_until.is_some_and(|until| now < until),
                    since_refresh: state.last_success.map(|at| now.duration_since(at)),
                    entries: state.list.as_ref().map_or(0, StatusList::len),
                    last_error: state.last_error.clone(),
                }
            })
            .collect();
        lists.sort_by(|a, b| a.uri.cmp(&b.uri));
        lists
    }

    /// The slot of `uri`, made on first sight if the URL is allowed.
    fn slot(&self, uri: &str) -> Result<Arc<Slot>, TokenError> {
        if let Some(slot) = read(&self.shared.lists).get(uri) {
            return Ok(Arc::clone(slot));
        }
        if !self.shared.config.allows(uri) {
            return Err(TokenError::UntrustedStatusList);
        }
        let slot = Arc::clone(
            write(&self.shared.lists)
                .entry(uri.to_owned())
                .or_insert_with(|| {
                    Arc::new(Slot {
                        uri: uri.to_owned(),
                        state: RwLock::new(SlotState::new()),
                        fetching: Mutex::new(()),
                    })
                }),
        );
        self.shared
            .refresher
            .get_or_init(|| refresh::spawn(&self.shared));
        self.shared.wake.poke();
        Ok(slot)
    }

    fn evaluate(&self, state: &SlotState, idx: u64) -> Result<(), TokenError> {
        let now = Instant::now();
        let fresh = state.usable_until.is_some_and(|until| now < until);
        let fail_open = self.shared.config.fail_open;
        let unknown = || {
            if fail_open {
                Ok(())
            } else {
                Err(unavailable(state, now))
            }
        };
        let Some(list) = &state.list else {
            return unknown();
        };
        // A status other than VALID is refused even from a stale list: INVALID is
        // irreversible, and a stale list cannot lift a suspension it does not see.
        match list.get(idx) {
            Some(StatusList::VALID) if fresh => Ok(()),
            Some(StatusList::VALID) => unknown(),
            Some(StatusList::INVALID) => Err(TokenError::Revoked),
            Some(StatusList::SUSPENDED) => Err(TokenError::Suspended),
            Some(_) => Err(TokenError::StatusRejected),
            // Beyond the end of a current list: no statement can be made, so the draft
            // requires a refusal. Beyond the end of a stale one: the list may have grown.
            None if fresh => Err(TokenError::StatusRejected),
            None => unknown(),
        }
    }
}

impl SlotState {
    fn new() -> Self {
        Self {
            list: None,
            iat: i64::MIN,
            etag: None,
            interval: Duration::ZERO,
            usable_until: None,
            expires_at: None,
            last_success: None,
            attempted: false,
            next_attempt: Instant::now(),
            stale: false,
            last_error: None,
        }
    }
}

/// [`TokenError::StatusUnavailable`] with the time until the next attempt to fetch the list.
fn unavailable(state: &SlotState, now: Instant) -> TokenError {
    let wait = state.next_attempt.saturating_duration_since(now);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    TokenError::StatusUnavailable {
        retry_after: secs.max(1),
    }
}
