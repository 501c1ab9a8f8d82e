//! The store traits implemented once over [`DbConnection`], for both backends: this module
//! holds the store, its connections, error mapping and transactions; each trait's
//! implementation has its own file.

use std::{
    fmt,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use auth_domain::{Conflict, Invalidation, StoreError};
use diesel::{
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};

use crate::{
    connection::{Backend, ConnectError, DbConnection, DbPool, PooledDb, open_pool},
    outage::OutageWatch,
};

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

pub use prune::PRUNE_LOCK_KEY;

/// The connection pool's state, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolState {
    /// Open connections, idle or in use.
    pub connections: u32,
    /// Open connections that no caller holds.
    pub idle: u32,
    /// The most connections the pool opens (`pool_size`).
    pub max_size: u32,
}

impl PoolState {
    /// Connections callers hold now.
    pub fn in_use(&self) -> u32 {
        self.connections.saturating_sub(self.idle)
    }
}

/// A [`Store`](auth_domain::Store) over SQLite or PostgreSQL. Methods block; call them from a
/// blocking pool (as `auth_core::AuthService` does).
pub struct DieselStore {
    pool: DbPool,
    backend: Backend,
    // For the listener's own connection; may hold a password, so never printed.
    #[cfg(feature = "postgres")]
    url: String,
    // Set when the store is dropped, so that its listener thread ends.
    stopped: Arc<AtomicBool>,
    // The listener thread, joined when the store is dropped: a process must not exit while it
    // is inside libpq (a CLI command that ran with a listener could then end with a crash).
    listener: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
    outages: Arc<OutageWatch>,
}

impl Drop for DieselStore {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::Release);
        let listener = self
            .listener
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(listener) = listener {
            let _ = listener.join();
        }
    }
}

impl fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DieselStore")
            .field("backend", &self.backend)
            .field("pool_size", &self.pool.max_size())
            .finish()
    }
}

impl DieselStore {
    /// Opens `sqlite://PATH` (creating the file and its folder) or `postgres://...`, applies
    /// pending migrations, and opens a pool of at most `pool_size` connections.
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, ConnectError> {
        let outages = Arc::new(OutageWatch::default());
        let (pool, backend) = open_pool(url, pool_size, Arc::clone(&outages))?;
        Ok(Self {
            pool,
            backend,
            #[cfg(feature = "postgres")]
            url: url.to_owned(),
            stopped: Arc::new(AtomicBool::new(false)),
            listener: std::sync::Mutex::new(None),
            outages,
        })
    }

    pub(crate) fn pool(&self) -> &DbPool {
        &self.pool
    }

    #[cfg(feature = "postgres")]
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    pub(crate) fn stopped(&self) -> &Arc<AtomicBool> {
        &self.stopped
    }

    /// Keeps the listener thread, to be joined when the store is dropped.
    pub(crate) fn keep_listener(&self, thread: std::thread::JoinHandle<()>) {
        let mut listener = self
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // A second listener replaces the first, which ends with the store all the same.
        *listener = Some(thread);
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool's connections now: open, idle, and the most it opens.
    pub fn pool_state(&self) -> PoolState {
        let state = self.pool.state();
        PoolState {
            connections: state.connections,
            idle: state.idle_connections,
            max_size: self.pool.max_size(),
        }
    }

    /// Whether the last attempt to get a database connection succeeded: false from the first
    /// failure of an outage until a connection is had again.
    pub fn is_available(&self) -> bool {
        self.outages.is_up()
    }

    /// A pooled connection. A failure starts an outage, logged once (here or by the pool's
    /// error handler) and again when a connection is had; the error says it was logged.
    fn conn(&self) -> Result<PooledDb, StoreError> {
        match self.pool.get() {
            Ok(conn) => {
                self.outages.succeeded();
                Ok(conn)
            }
            Err(e) => {
                self.outages.failed(&e);
                Err(StoreError::outage(e))
            }
        }
    }
}

/// Maps a driver error to what the domain may know: unique keys become conflicts, a missing
/// parent row becomes not-found, everything else is "unavailable" (HTTP 503).
fn store_error(e: DieselError) -> StoreError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            // PostgreSQL names the index; SQLite names the column in the message.
            let culprit = info.constraint_name().unwrap_or(info.message());
            StoreError::Conflict(if culprit.contains("email") {
                Conflict::Email
            } else if culprit.contains("prefix") {
                Conflict::KeyPrefix
            } else {
                Conflict::Username
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
        | DieselError::NotFound => StoreError::NotFound,
        other => StoreError::unavailable(other),
    }
}

/// The PostgreSQL channel on which every change that makes a credential invalid is announced,
/// in the transaction that makes it; see [`DieselStore::listen`].
pub const INVALIDATION_CHANNEL: &str = "auth_invalidate";

/// Announces `what` to every process's listener when the current transaction commits: with
/// `NOTIFY` on PostgreSQL, and as a row of `cache_invalidations` on SQLite, which the
/// listeners poll.
fn notify(conn: &mut DbConnection, what: Invalidation) -> Result<(), StoreError> {
    use diesel::sql_types::Text;
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(pg) => diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(INVALIDATION_CHANNEL)
            .bind::<Text, _>(what.to_string())
            .execute(pg),
        // The id is AUTOINCREMENT's: above every id ever given, even once a prune has removed
        // them all (MAX(id) + 1 went back to 1 then, below what the listeners had read).
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(sqlite) => {
            diesel::sql_query("INSERT INTO cache_invalidations (payload, at) VALUES (?, ?)")
                .bind::<Text, _>(what.to_string())
                .bind::<diesel::sql_types::Timestamp, _>(crate::rows::naive(auth_domain::now()))
                .execute(sqlite)
        }
    }
    .map_err(store_error)?;
    // The status list entries that the change made false become INVALID in its transaction.
    status::settle(conn, what)
}

/// Runs `work` in a transaction, keeping the domain error it returns.
fn transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    enum TxError {
        Store(StoreError),
        Db(DieselError),
    }
    impl From<DieselError> for TxError {
        fn from(e: DieselError) -> Self {
            TxError::Db(e)
        }
    }
    conn.transaction(|conn| work(conn).map_err(TxError::Store))
        .map_err(|e| match e {
            TxError::Store(e) => e,
            TxError::Db(e) => store_error(e),
        })
}
