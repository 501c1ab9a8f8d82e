//! Fetching, verifying and replacing a cached list, and the thread that does it every `ttl`.

use std::{
    sync::{Arc, Weak},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use super::{
    FetchRequest, FetchResponse,
    cache::{Shared, Slot, SlotState, Wake, read, write},
};
use crate::{StatusList, status_list::StatusListClaims};

/// How long the refresh thread sleeps when no list is due sooner.
const IDLE: Duration = Duration::from_secs(60);

/// Starts the refresh thread of `shared`. It holds only a weak reference between rounds, and
/// ends when the verifier (all its clones) is dropped.
pub(super) fn spawn(shared: &Arc<Shared>) {
    let weak = Arc::downgrade(shared);
    let wake = Arc::clone(&shared.wake);
    let started = std::thread::Builder::new()
        .name("status-list-refresh".into())
        .spawn(move || run(weak, wake));
    if let Err(error) = started {
        // Lists are then fetched on first sight only and go stale: refused or accepted as
        // configured, and logged as such.
        tracing::error!(%error, "cannot start the status list refresh thread");
    }
}

fn run(shared: Weak<Shared>, wake: Arc<Wake>) {
    loop {
        let next = {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let slots: Vec<Arc<Slot>> = read(&shared.lists).values().cloned().collect();
            let mut next = Instant::now() + IDLE;
            for slot in slots {
                shared.refresh(&slot, |state, now| {
                    !state.attempted || state.next_attempt <= now
                });
                next = next.min(read(&slot.state).next_attempt);
            }
            next
        };
        if !wake.wait_until(next) {
            return;
        }
    }
}

/// What a successful fetch changes.
struct Fetched {
    list: StatusList,
    claims: StatusListClaims,
    etag: Option<String>,
}

impl Shared {
    /// Fetches the list of `slot` if `due` says so once the fetch lock is held (another
    /// thread may have fetched it meanwhile), and records the outcome.
    pub(super) fn refresh(&self, slot: &Slot, due: impl Fn(&SlotState, Instant) -> bool) {
        let _fetching = slot.fetching.lock().unwrap_or_else(|e| e.into_inner());
        let (etag, iat) = {
            let state = read(&slot.state);
            if !due(&state, Instant::now()) {
                return;
            }
            let etag = state.list.as_ref().and(state.etag.clone());
            (etag, state.iat)
        };
        let response = self.fetcher.fetch(&FetchRequest {
            uri: &slot.uri,
            if_none_match: etag.as_deref(),
            timeout: self.config.fetch_timeout,
            max_bytes: self.config.max_list_bytes,
        });
        let outcome = match response {
            Ok(FetchResponse::NotModified) if etag.is_some() => Ok(None),
            Ok(FetchResponse::NotModified) => Err("304 Not Modified without a cached list".into()),
            Ok(FetchResponse::Fetched { body, etag }) => self
                .verify(&slot.uri, &body, iat)
                .map(|(claims, list)| Some(Fetched { list, claims, etag })),
            Err(error) => Err(error.to_string()),
        };
        let now = Instant::now();
        let mut state = write(&slot.state);
        state.attempted = true;
        match outcome {
            Ok(fetched) => {
                if let Some(Fetched { list, claims, etag }) = fetched {
                    state.interval = self.interval(&claims);
                    state.expires_at = Some(now + self.until_expiry(claims.exp));
                    state.list = Some(list);
                    state.iat = claims.iat;
                    state.etag = etag;
                }
                let stale_after = self
                    .config
                    .max_stale
                    .unwrap_or(state.interval * super::StatusChecker::DEFAULT_MAX_STALE_TTLS);
                let until = now + stale_after;
                state.usable_until = Some(state.expires_at.map_or(until, |exp| exp.min(until)));
                state.last_success = Some(now);
                state.next_attempt = now + state.interval;
                state.last_error = None;
            }
            Err(reason) => {
                tracing::debug!(uri = %slot.uri, %reason, "status list fetch failed");
                state.last_error = Some(reason);
                state.next_attempt = now
                    + match state.list {
                        Some(_) => state.interval,
                        None => self.config.ttl_floor,
                    };
            }
        }
        self.log_change(slot, &mut state, now);
    }

    /// Verifies a fetched Status List Token and decodes its list; a list older than the cached
    /// one (a replay) is refused.
    fn verify(
        &self,
        uri: &str,
        token: &str,
        cached_iat: i64,
    ) -> Result<(StatusListClaims, StatusList), String> {
        let claims = self
            .verifier
            .verify_status_list(token, uri)
            .map_err(|e| e.to_string())?;
        if claims.iat < cached_iat {
            return Err(format!(
                "the list was issued at {}, before the cached one ({cached_iat})",
                claims.iat
            ));
        }
        let list = claims
            .status_list
            .decode(self.config.max_list_bytes)
            .map_err(|e| e.to_string())?;
        Ok((claims, list))
    }

    /// The refresh interval of a list: its `ttl` (or, without one, the time to its `exp`)
    /// within the configured floor and ceiling.
    fn interval(&self, claims: &StatusListClaims) -> Duration {
        let asked = match claims.ttl {
            Some(ttl) => Duration::from_secs(ttl),
            None => self.until_expiry(claims.exp),
        };
        asked.clamp(self.config.ttl_floor, self.config.ttl_ceiling)
    }

    /// Time until `exp` (with the verifier's leeway) from now, by the wall clock.
    fn until_expiry(&self, exp: i64) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let exp = u64::try_from(exp).unwrap_or(0) + self.verifier.leeway_secs;
        Duration::from_secs(exp.saturating_sub(now))
    }

    /// Logs when the list becomes unusable or usable again, once per change.
    fn log_change(&self, slot: &Slot, state: &mut SlotState, now: Instant) {
        let stale = state.usable_until.is_none_or(|until| now >= until);
        if stale == state.stale {
            return;
        }
        state.stale = stale;
        let uri = slot.uri.as_str();
        if stale {
            let reason = state.last_error.as_deref().unwrap_or("it expired");
            if self.config.fail_open {
                tracing::warn!(
                    uri,
                    reason,
                    "status list is stale; accepting the tokens it covers unchecked (fail-open)"
                );
            } else {
                tracing::warn!(
                    uri,
                    reason,
                    "status list is stale; refusing the tokens it covers (fail-closed)"
                );
            }
        } else {
            tracing::info!(uri, "status list is fresh again");
        }
    }
}
