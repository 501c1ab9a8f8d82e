//! [`PublishedStatusLists`]: this process's copy of the Token Status Lists it publishes at
//! `GET /statuslists/{id}` (docs/revocation.md).
//!
//! Built from the store once, then kept up to date incrementally: each announced invalidation
//! (this process's, at once; other processes', through the store's listener) names a scope,
//! whose INVALID entries are read again at the next request for a list; an INVALID entry is
//! cleared [`STATUS_ENTRY_GRACE`] after its token expired (the store reuses it only later). A
//! request never rescans the store, except while the listener is not connected, when changes
//! may be missed: then every request rebuilds from the store.
//!
//! The signed Status List Token is kept too, one per list ([`PublishedStatusLists::signed`]):
//! signed again only when the bits, the URL, the `ttl` or the signing key change, or when its
//! `iat` window ([`StatusListWindow`]) has passed, never per request.

use std::{
    collections::{BTreeMap, HashMap},
    hash::{DefaultHasher, Hash, Hasher},
    sync::{Arc, Mutex, MutexGuard},
};

use auth_domain::{
    Invalidation, RevokedStatusEntry, STATUS_ENTRY_GRACE, StatusListStore, StatusScope, StoreError,
};
use chrono::{DateTime, Utc};

use crate::status_list::{Bits, StatusList};

/// Entries per list: a new entry's index is drawn at random from `0..STATUS_LIST_SIZE` (1 bit
/// each: 128 KiB per list in memory, a few hundred bytes compressed while few are INVALID).
pub const STATUS_LIST_SIZE: u64 = 1 << 20;

/// One list as published now: its bits, compressed, and a tag that changes with them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedStatusList {
    /// The list's id.
    pub id: u32,
    /// The list (1 bit per entry).
    pub list: Arc<StatusList>,
    /// Its `lst`: zlib, then base64url without padding.
    pub lst: Arc<str>,
    /// A hash of `lst`, the same in every process that publishes the same bits.
    pub digest: u64,
    /// The unsigned JSON form, `{"status_list": {"bits": 1, "lst": …}}`, built with `lst`.
    pub json: Arc<str>,
}

/// When a Status List Token published now is stamped: its `iat` is `now` rounded down to a
/// multiple of the list's `ttl`, so that every instance serving the same bits in the same
/// window signs the same `iat` (a verifier refuses a list older than the one it holds, and may
/// be answered by any instance), and a process signs a list at most once per `ttl` while its
/// bits stay the same. The token's `exp` is `iat` plus
/// [`StatusListClaims::DEFAULT_VALIDITY`](crate::status_list::StatusListClaims::DEFAULT_VALIDITY)
/// (an hour); `epoch` (the half hour `iat` falls in) is part of the `ETag`, so a verifier that
/// keeps getting `304` still takes a new token, with at least half an hour left, every half
/// hour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusListWindow {
    /// The `iat` of a token signed now.
    pub iat: i64,
    /// `iat` divided by [`Self::EPOCH_SECS`].
    pub epoch: i64,
}

impl StatusListWindow {
    /// Seconds per `ETag` epoch: half of the token's validity.
    pub const EPOCH_SECS: i64 = 1800;

    /// The window of a token signed at `now` for a list with `ttl` (seconds, at least 1).
    pub fn at(now: DateTime<Utc>, ttl: u64) -> Self {
        let ttl = i64::try_from(ttl.max(1)).unwrap_or(i64::MAX);
        let iat = now.timestamp().div_euclid(ttl) * ttl;
        Self {
            iat,
            epoch: iat.div_euclid(Self::EPOCH_SECS),
        }
    }
}

/// The signed token kept for a list, and what it was signed for.
struct Signed {
    uri: String,
    kid: String,
    ttl: u64,
    iat: i64,
    lst: Arc<str>,
    token: Arc<str>,
}

struct ListState {
    list: StatusList,
    /// INVALID entries, with their token's expiry.
    revoked: HashMap<u64, DateTime<Utc>>,
    encoded: Option<PublishedStatusList>,
}

impl ListState {
    fn new() -> Self {
        Self {
            list: StatusList::new(Bits::One, STATUS_LIST_SIZE),
            revoked: HashMap::new(),
            encoded: None,
        }
    }

    fn set(&mut self, idx: u64, value: u8) {
        if idx >= self.list.len() {
            // A list made with a larger size by another version: grow to hold the index.
            let mut bytes = self.list.as_bytes().to_vec();
            bytes.resize(usize::try_from(idx / 8 + 1).unwrap_or(usize::MAX), 0);
            self.list = StatusList::from_bytes(Bits::One, bytes);
        }
        if self.list.get(idx) != Some(value) && self.list.set(idx, value).is_ok() {
            self.encoded = None;
        }
    }
}

#[derive(Default)]
struct Lists {
    built: bool,
    lists: BTreeMap<u32, ListState>,
}

impl Lists {
    fn apply(&mut self, entries: Vec<RevokedStatusEntry>) {
        for RevokedStatusEntry { entry, expires_at } in entries {
            let list = self.lists.entry(entry.list).or_insert_with(ListState::new);
            list.revoked.insert(entry.idx, expires_at);
            list.set(entry.idx, 1);
        }
    }

    /// Clears the entries whose token expired more than the grace ago.
    fn retire(&mut self, now: DateTime<Utc>) {
        for list in self.lists.values_mut() {
            let gone: Vec<u64> = list
                .revoked
                .iter()
                .filter(|(_, exp)| **exp + STATUS_ENTRY_GRACE < now)
                .map(|(idx, _)| *idx)
                .collect();
            for idx in gone {
                list.revoked.remove(&idx);
                list.set(idx, 0);
            }
        }
    }
}

#[derive(Default)]
struct Pending {
    scopes: Vec<StatusScope>,
    rebuild: bool,
    /// While the listener is not connected, every request rebuilds.
    suspended: bool,
}

/// The status lists this process publishes. Shared by the service (which announces its own
/// changes) and the listener (other processes' changes).
#[derive(Default)]
pub struct PublishedStatusLists {
    lists: Mutex<Lists>,
    pending: Mutex<Pending>,
    /// The last Status List Token signed for each list.
    signed: Mutex<HashMap<u32, Signed>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl std::fmt::Debug for PublishedStatusLists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishedStatusLists")
            .finish_non_exhaustive()
    }
}

impl PublishedStatusLists {
    /// Takes note of a committed change: the INVALID entries in its scope are read again at
    /// the next request for a list.
    pub fn invalidate(&self, what: Invalidation) {
        let mut pending = lock(&self.pending);
        match what {
            Invalidation::Session(id) => pending.scopes.push(StatusScope::Session(id)),
            Invalidation::User(id) => pending.scopes.push(StatusScope::User(id)),
            Invalidation::ApiKey(id) => pending.scopes.push(StatusScope::ApiKey(id)),
            Invalidation::All => pending.rebuild = true,
        }
    }

    /// Changes may be missed from now on (the listener lost the database): every request
    /// rebuilds the lists from the store until [`Self::resume`].
    pub fn suspend(&self) {
        let mut pending = lock(&self.pending);
        pending.suspended = true;
        pending.rebuild = true;
    }

    /// Changes are heard again: rebuild once, then follow them.
    pub fn resume(&self) {
        let mut pending = lock(&self.pending);
        pending.suspended = false;
        pending.rebuild = true;
    }

    /// Takes note of a list this process allocated an entry in.
    pub(crate) fn know(&self, list: u32) {
        lock(&self.lists)
            .lists
            .entry(list)
            .or_insert_with(ListState::new);
    }

    /// List `id` as published now, brought up to date first; `None` if no entry was ever
    /// allocated in it. Blocks on the store.
    pub fn get(
        &self,
        store: &dyn StatusListStore,
        id: u32,
        now: DateTime<Utc>,
    ) -> Result<Option<PublishedStatusList>, StoreError> {
        let since = now - STATUS_ENTRY_GRACE;
        let mut lists = lock(&self.lists);
        let (scopes, rebuild) = {
            let mut pending = lock(&self.pending);
            let rebuild = pending.rebuild || pending.suspended || !lists.built;
            pending.rebuild = false;
            (std::mem::take(&mut pending.scopes), rebuild)
        };
        if rebuild {
            let mut fresh = Lists {
                built: true,
                lists: BTreeMap::new(),
            };
            for list in store.status_lists()? {
                fresh.lists.insert(list, ListState::new());
            }
            fresh.apply(store.revoked_status_entries(StatusScope::All, since)?);
            *lists = fresh;
        } else {
            for scope in scopes {
                let entries = store.revoked_status_entries(scope, since)?;
                lists.apply(entries);
            }
        }
        let known = lists.lists.contains_key(&id);
        // A list this process has not seen: another process may have opened it since.
        if !known && store.status_lists()?.contains(&id) {
            let entries = store.revoked_status_entries(StatusScope::List(id), since)?;
            lists.lists.entry(id).or_insert_with(ListState::new);
            lists.apply(entries);
        }
        lists.retire(now);
        let Some(state) = lists.lists.get_mut(&id) else {
            return Ok(None);
        };
        let published = state.encoded.get_or_insert_with(|| {
            let lst = state.list.encode();
            let mut hasher = DefaultHasher::new();
            lst.hash(&mut hasher);
            let json = serde_json::json!({"status_list": {"bits": 1, "lst": &lst}}).to_string();
            PublishedStatusList {
                id,
                list: Arc::new(state.list.clone()),
                lst: lst.into(),
                digest: hasher.finish(),
                json: json.into(),
            }
        });
        Ok(Some(published.clone()))
    }

    /// The Status List Token publishing `list` at `uri` with `ttl`, signed by the key `kid`
    /// with `iat` = `window.iat`: the one signed before if it was signed for the same bits, URL,
    /// `ttl`, key and window, else a new one made by `sign` (called with the lock held, so
    /// concurrent requests sign once) and kept.
    pub fn signed<E>(
        &self,
        list: &PublishedStatusList,
        uri: &str,
        kid: &str,
        ttl: u64,
        window: StatusListWindow,
        sign: impl FnOnce() -> Result<String, E>,
    ) -> Result<Arc<str>, E> {
        let mut signed = lock(&self.signed);
        if let Some(kept) = signed.get(&list.id)
            && kept.iat == window.iat
            && kept.ttl == ttl
            && kept.kid == kid
            && kept.uri == uri
            && kept.lst == list.lst
        {
            return Ok(kept.token.clone());
        }
        let token: Arc<str> = sign()?.into();
        signed.insert(
            list.id,
            Signed {
                uri: uri.to_owned(),
                kid: kid.to_owned(),
                ttl,
                iat: window.iat,
                lst: list.lst.clone(),
                token: token.clone(),
            },
        );
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(id: u32, revoked: &[u64]) -> PublishedStatusList {
        let mut list = StatusList::new(Bits::One, 64);
        for idx in revoked {
            list.set(*idx, 1).unwrap();
        }
        let lst: Arc<str> = list.encode().into();
        PublishedStatusList {
            id,
            list: Arc::new(list),
            json: format!("{{\"status_list\":{{\"bits\":1,\"lst\":\"{lst}\"}}}}").into(),
            lst,
            digest: 0,
        }
    }

    #[test]
    fn a_window_starts_at_a_multiple_of_the_ttl() {
        let at = |secs| DateTime::from_timestamp(secs, 0).unwrap();
        assert_eq!(StatusListWindow::at(at(1_000_001), 2).iat, 1_000_000);
        assert_eq!(StatusListWindow::at(at(1_000_000), 2).iat, 1_000_000);
        assert_eq!(StatusListWindow::at(at(1_000_009), 10).iat, 1_000_000);
        assert_eq!(StatusListWindow::at(at(1_000_009), 0).iat, 1_000_009);
        assert_eq!(StatusListWindow::at(at(3599), 1).epoch, 1);
        assert_eq!(StatusListWindow::at(at(3600), 1).epoch, 2);
    }

    #[test]
    fn a_signed_token_is_kept_until_what_it_states_changes() {
        let lists = PublishedStatusLists::default();
        let signs = std::cell::Cell::new(0);
        let sign = || -> Result<String, ()> {
            signs.set(signs.get() + 1);
            Ok(format!("token {}", signs.get()))
        };
        let window = StatusListWindow { iat: 100, epoch: 0 };
        let uri = "https://a.example/statuslists/1";
        let one = published(1, &[3]);
        let first = lists.signed(&one, uri, "k1", 2, window, sign).unwrap();
        // The same bits (even rebuilt), URL, ttl, key and window: the same token, not signed.
        let again = lists
            .signed(&published(1, &[3]), uri, "k1", 2, window, sign)
            .unwrap();
        assert_eq!((&*first, &*again, signs.get()), ("token 1", "token 1", 1));
        // Each change signs anew: the bits, the window, the key, the URL, the ttl.
        let revoked = published(1, &[3, 5]);
        let changed = [
            lists.signed(&revoked, uri, "k1", 2, window, sign),
            lists.signed(
                &revoked,
                uri,
                "k1",
                2,
                StatusListWindow { iat: 102, epoch: 0 },
                sign,
            ),
            lists.signed(
                &revoked,
                uri,
                "k2",
                2,
                StatusListWindow { iat: 102, epoch: 0 },
                sign,
            ),
            lists.signed(
                &revoked,
                "https://b.example/statuslists/1",
                "k2",
                2,
                StatusListWindow { iat: 102, epoch: 0 },
                sign,
            ),
            lists.signed(
                &revoked,
                "https://b.example/statuslists/1",
                "k2",
                3,
                StatusListWindow { iat: 102, epoch: 0 },
                sign,
            ),
        ];
        let tokens: Vec<String> = changed
            .into_iter()
            .map(|t| t.unwrap().to_string())
            .collect();
        assert_eq!(
            tokens,
            ["token 2", "token 3", "token 4", "token 5", "token 6"]
        );
        // Another list has its own token.
        let other = lists
            .signed(&published(2, &[]), uri, "k2", 3, window, sign)
            .unwrap();
        assert_eq!(&*other, "token 7");
        // A failed signature keeps nothing.
        let failed = lists.signed(&published(3, &[]), uri, "k2", 3, window, || Err(()));
        assert!(failed.is_err());
    }
}
