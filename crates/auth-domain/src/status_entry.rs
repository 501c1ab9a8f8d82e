//! Entries of the Token Status Lists that publish whether an access token is still good, for
//! services that verify tokens themselves (draft-ietf-oauth-status-list; docs/revocation.md).

use chrono::{DateTime, TimeDelta, Utc};

use crate::{ApiKeyId, Role, SessionId, StoreError, UserId};

/// How long after its token's expiry an INVALID entry is still published (verifiers accept a
/// token a little past `exp`, by their leeway). An entry is reused only twice as long after
/// its expiry, so every process has cleared the bit by then.
pub const STATUS_ENTRY_GRACE: TimeDelta = TimeDelta::minutes(5);

/// A random index in `0..list_size` (from the operating system's generator, through a v4
/// UUID), for a new entry.
pub fn random_status_index(list_size: u64) -> u64 {
    // 122 random bits; the bias of the remainder is below 2^-58 for any u64 size.
    let bits = uuid::Uuid::new_v4().as_u128() & ((1u128 << 122) - 1);
    (bits % u128::from(list_size.max(1))) as u64
}

/// An entry to allocate for an access token about to be signed: random within a list, tied to
/// the session and to the claims the token states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewStatusEntry {
    /// The session the token belongs to (it must be live).
    pub session: SessionId,
    /// The token's user.
    pub user: UserId,
    /// The `role` the token states (it must still be the user's).
    pub role: Role,
    /// The `username` the token states (it must still be the user's).
    pub username: String,
    /// The token's `exp`: the entry is retired after it.
    pub expires_at: DateTime<Utc>,
    /// Now.
    pub at: DateTime<Utc>,
    /// Entries per list: indexes are drawn from `0..list_size`.
    pub list_size: u64,
}

/// Where an allocated entry lives: the list's id and the index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusEntry {
    /// The list (a positive number, part of the list's URL).
    pub list: u32,
    /// The index in the list.
    pub idx: u64,
}

/// An INVALID entry, with the expiry of the token it refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RevokedStatusEntry {
    /// The entry.
    pub entry: StatusEntry,
    /// When its token expires.
    pub expires_at: DateTime<Utc>,
}

/// Which INVALID entries to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusScope {
    /// Every list.
    All,
    /// One list.
    List(u32),
    /// A session's entries.
    Session(SessionId),
    /// A user's entries.
    User(UserId),
    /// The entries of the sessions opened with an API key.
    ApiKey(ApiKeyId),
}

/// Persistence of status list entries. Methods block.
///
/// An entry becomes INVALID (irreversibly) in the transaction of any change after which its
/// token's claims no longer hold: its session ended or is gone, its user is gone or disabled,
/// or the user's role or username is no longer the one the entry recorded. The stores do it
/// where they announce an invalidation, so no path that ends a session can forget it.
pub trait StatusListStore: Send + Sync {
    /// Allocates a free entry at a random index: in list 1, or the next list when a few random
    /// draws find only taken indexes. An index is free when no entry holds it, or its entry's
    /// token expired more than twice [`STATUS_ENTRY_GRACE`] ago (it is then reused).
    /// [`StoreError::CredentialsChanged`] when the session is not live, or the user is not
    /// active with the entry's role and username (checked while holding both rows).
    fn allocate_status_entry(&self, entry: &NewStatusEntry) -> Result<StatusEntry, StoreError>;
    /// The INVALID entries in `scope` whose token expired after `since`.
    fn revoked_status_entries(
        &self,
        scope: StatusScope,
        since: DateTime<Utc>,
    ) -> Result<Vec<RevokedStatusEntry>, StoreError>;
    /// The ids of the lists that hold entries, in order.
    fn status_lists(&self) -> Result<Vec<u32>, StoreError>;
}
