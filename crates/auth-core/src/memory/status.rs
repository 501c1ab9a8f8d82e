//! [`StatusListStore`] for [`MemoryStore`]. Every change to the state is followed, under the
//! same lock, by [`State::settle_status`]: an entry whose token's claims no longer hold
//! becomes INVALID before anyone can see the change, whatever method made it.

use std::collections::HashMap;

use auth_domain::{
    NewStatusEntry, RevokedStatusEntry, Role, STATUS_ENTRY_GRACE, SessionId, StatusEntry,
    StatusListStore, StatusScope, StoreError, UserId, random_status_index,
};
use chrono::{DateTime, Utc};

use super::{MemoryStore, State};

/// How many random indexes are tried in a list before the next list is tried.
const DRAWS_PER_LIST: usize = 8;

/// An entry and what its token states.
pub(super) struct EntryRecord {
    session: SessionId,
    user: UserId,
    role: Role,
    username: String,
    expires_at: DateTime<Utc>,
    invalid: bool,
}

/// The entries, by list and index.
pub(super) type Entries = HashMap<StatusEntry, EntryRecord>;

impl State {
    /// Whether the claims of the token behind `entry` still hold.
    fn entry_holds(&self, entry: &EntryRecord) -> bool {
        let session_live = self
            .sessions
            .get(&entry.session)
            .is_some_and(|s| s.revoked_at.is_none());
        let user_same = self.users.get(&entry.user).is_some_and(|u| {
            u.is_active && u.role == entry.role && u.username.as_str() == entry.username
        });
        session_live && user_same
    }

    /// Makes INVALID every entry whose token's claims no longer hold.
    pub(super) fn settle_status(&mut self) {
        let stale: Vec<StatusEntry> = self
            .status_entries
            .iter()
            .filter(|(_, e)| !e.invalid && !self.entry_holds(e))
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            if let Some(entry) = self.status_entries.get_mut(&key) {
                entry.invalid = true;
            }
        }
    }
}

impl StatusListStore for MemoryStore {
    fn allocate_status_entry(&self, new: &NewStatusEntry) -> Result<StatusEntry, StoreError> {
        let mut state = self.state();
        let record = EntryRecord {
            session: new.session,
            user: new.user,
            role: new.role,
            username: new.username.clone(),
            expires_at: new.expires_at,
            invalid: false,
        };
        if !state.entry_holds(&record) {
            return Err(StoreError::CredentialsChanged);
        }
        let reusable_before = new.at - STATUS_ENTRY_GRACE * 2;
        for list in 1..=u32::MAX {
            for _ in 0..DRAWS_PER_LIST {
                let key = StatusEntry {
                    list,
                    idx: random_status_index(new.list_size),
                };
                let free = state
                    .status_entries
                    .get(&key)
                    .is_none_or(|e| e.expires_at < reusable_before);
                if free {
                    state.status_entries.insert(key, record);
                    return Ok(key);
                }
            }
        }
        Err(StoreError::unavailable("no free status list entry"))
    }

    fn revoked_status_entries(
        &self,
        scope: StatusScope,
        since: DateTime<Utc>,
    ) -> Result<Vec<RevokedStatusEntry>, StoreError> {
        let state = self.state();
        let in_scope = |key: &StatusEntry, e: &EntryRecord| match scope {
            StatusScope::All => true,
            StatusScope::List(list) => key.list == list,
            StatusScope::Session(id) => e.session == id,
            StatusScope::User(id) => e.user == id,
            StatusScope::ApiKey(key) => state
                .sessions
                .get(&e.session)
                .is_some_and(|s| s.api_key == Some(key)),
        };
        Ok(state
            .status_entries
            .iter()
            .filter(|(k, e)| e.invalid && e.expires_at > since && in_scope(k, e))
            .map(|(k, e)| RevokedStatusEntry {
                entry: *k,
                expires_at: e.expires_at,
            })
            .collect())
    }

    fn status_lists(&self) -> Result<Vec<u32>, StoreError> {
        let mut lists: Vec<u32> = self.state().status_entries.keys().map(|k| k.list).collect();
        lists.sort_unstable();
        lists.dedup();
        Ok(lists)
    }
}
