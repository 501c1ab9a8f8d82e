//! Hearing the changes other processes make, for the credential caches (see
//! `auth_core::CredentialCache`): one `LISTEN` connection per process on PostgreSQL; on SQLite,
//! a poll of the `cache_invalidations` rows that every change writes (so that the CLI's changes,
//! made from another process, reach a running server too).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use auth_domain::Invalidation;
use diesel::RunQueryDsl;

#[cfg(feature = "postgres")]
use crate::connection::Backend;
use crate::{DieselStore, connection::DbPool, rows::naive};

#[cfg(feature = "postgres")]
mod postgres;

#[cfg(feature = "postgres")]
pub use postgres::LISTENER_APPLICATION_NAME;

/// What the listener reports, in order: `Connected`, then any number of `Invalidated`, then
/// `Lost` if the connection drops (and `Connected` again once it is back).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Listening: from now on no change is missed (anything cached before may be stale).
    Connected,
    /// Another instance (or this one) committed a change that makes `Invalidation` invalid.
    Invalidated(Invalidation),
    /// The connection dropped: changes may be missed until `Connected` again.
    Lost,
}

// How often a wait for reconnecting looks at `stop`, and how long it lasts.
const POLL: Duration = Duration::from_millis(10);
const RECONNECT: Duration = Duration::from_secs(1);

impl DieselStore {
    /// Starts a thread that hears the changes every process announces (in the transaction
    /// that makes them) and reports them to `on`: `LISTEN` on PostgreSQL, a poll of
    /// `cache_invalidations` every 20 ms on SQLite. On PostgreSQL the connection (named
    /// [`LISTENER_APPLICATION_NAME`], with TCP keepalives) answers a `SELECT 1` every second,
    /// or is given up as lost after 3 s: a backend that stopped without closing is noticed
    /// too. It reconnects after a loss, and ends when the store is dropped. A cache fed by it
    /// should stay suspended until the first [`Heard::Connected`], and again from each
    /// [`Heard::Lost`].
    pub fn listen(&self, on: impl Fn(Heard) + Send + 'static) {
        #[cfg(feature = "postgres")]
        let (url, postgres) = (self.url().to_owned(), self.backend() == Backend::Postgres);
        let pool = self.pool().clone();
        let stop = Arc::clone(self.stopped());
        let spawned = thread::Builder::new()
            .name("auth-listen".into())
            .spawn(move || {
                // The loss is logged once, not at every reconnection attempt while the
                // database is down; hearing it again re-arms the log line.
                let connected = std::cell::Cell::new(true);
                let on = |heard: Heard| {
                    if heard == Heard::Connected {
                        connected.set(true);
                    }
                    on(heard);
                };
                while !stop.load(Ordering::Acquire) {
                    #[cfg(feature = "postgres")]
                    let outcome = if postgres {
                        postgres::listen_once(&url, &on, &stop)
                    } else {
                        poll_sqlite(&pool, &on, &stop)
                    };
                    #[cfg(not(feature = "postgres"))]
                    let outcome = poll_sqlite(&pool, &on, &stop);
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    on(Heard::Lost);
                    if let Err(e) = outcome
                        && connected.replace(false)
                    {
                        tracing::warn!(error = %e, "invalidation listener lost its connection; cache suspended until it is back");
                    }
                    // Wait before reconnecting, but end at once when the store goes.
                    let waiting = Instant::now();
                    while waiting.elapsed() < RECONNECT && !stop.load(Ordering::Acquire) {
                        thread::sleep(POLL);
                    }
                }
            });
        match spawned {
            Ok(thread) => self.keep_listener(thread),
            // The caller keeps its cache suspended until `Connected`, which never comes.
            Err(e) => tracing::error!(error = %e, "cannot start the invalidation listener"),
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Announced {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    payload: String,
}

#[derive(diesel::QueryableByName)]
struct Newest {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

// SQLite: how often new rows are read, and how long rows are kept (every process has read
// them long before).
const SQLITE_POLL: Duration = Duration::from_millis(20);
const SQLITE_KEEP: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Polls `cache_invalidations` until a query fails (an error) or `stop` is set (`Ok`).
fn poll_sqlite(
    pool: &DbPool,
    on: &impl Fn(Heard),
    stop: &AtomicBool,
) -> Result<(), Box<dyn std::error::Error>> {
    use diesel::sql_types::{BigInt, Timestamp};
    let sqlite = |pool: &DbPool| -> Result<_, Box<dyn std::error::Error>> { Ok(pool.get()?) };
    let mut seen = {
        let mut conn = sqlite(pool)?;
        diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS id FROM cache_invalidations")
            .get_result::<Newest>(&mut *conn)?
            .id
    };
    on(Heard::Connected);
    let mut pruned = Instant::now();
    while !stop.load(Ordering::Acquire) {
        {
            let mut conn = sqlite(pool)?;
            let new = diesel::sql_query(
                "SELECT id, payload FROM cache_invalidations WHERE id > ? ORDER BY id",
            )
            .bind::<BigInt, _>(seen)
            .load::<Announced>(&mut *conn)?;
            if new.is_empty() {
                // Ids never go back (AUTOINCREMENT), unless the table was emptied and rebuilt
                // or the file replaced (a restored backup): then the rows below `seen` are
                // changes not heard. Which ones is unknown, so everything is forgotten.
                let newest =
                    diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS id FROM cache_invalidations")
                        .get_result::<Newest>(&mut *conn)?
                        .id;
                if newest < seen {
                    tracing::warn!(
                        seen,
                        newest,
                        "cache invalidation ids went back; forgetting every cached credential"
                    );
                    seen = newest;
                    on(Heard::Invalidated(Invalidation::All));
                }
            }
            for row in new {
                seen = row.id;
                let what = Invalidation::parse(&row.payload).unwrap_or(Invalidation::All);
                on(Heard::Invalidated(what));
            }
            if pruned.elapsed() >= Duration::from_secs(60) {
                diesel::sql_query("DELETE FROM cache_invalidations WHERE at < ?")
                    .bind::<Timestamp, _>(naive(auth_domain::now() - SQLITE_KEEP))
                    .execute(&mut *conn)?;
                pruned = Instant::now();
            }
        }
        thread::sleep(SQLITE_POLL);
    }
    Ok(())
}
