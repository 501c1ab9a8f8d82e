//! [`PublishedStatusLists`]: this process's copy of the Token Status Lists it publishes at
//! `GET /statuslists/{id}` (docs/revocation.md).
//!
//! Built from the store once, then kept up to date incrementally: each announced invalidation
//! (this process's, at once; other processes', through the store's listener) names a scope,
//! whose INVALID entries are read again at the next request for a list; an INVALID entry is
//! cleared [`STATUS_ENTRY_GRACE`] after its token expired (the store reuses it only later). A
//! request never rescans the store, except while the listener is not connected, when changes
//! may be missed: then every request rebuilds from the store.

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
            PublishedStatusList {
                id,
                list: Arc::new(state.list.clone()),
                lst: lst.into(),
                digest: hasher.finish(),
            }
        });
        Ok(Some(published.clone()))
    }
}
