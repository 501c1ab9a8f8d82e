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
use diesel::{Connection, PgConnection};

use crate::{DieselStore, connection::DbPool, rows::naive};
#[cfg(feature = "postgres")]
use crate::{connection::Backend, store::INVALIDATION_CHANNEL};

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

// How often pending notifications are read, and how often an idle connection is checked.
const POLL: Duration = Duration::from_millis(10);
#[cfg(feature = "postgres")]
const CHECK: Duration = Duration::from_secs(1);
const RECONNECT: Duration = Duration::from_secs(1);

impl DieselStore {
    /// Starts a thread that hears the changes every process announces (in the transaction
    /// that makes them) and reports them to `on`: `LISTEN` on PostgreSQL, a poll of
    /// `cache_invalidations` every 20 ms on SQLite. It reconnects after a drop, and ends when the
    /// store is dropped. A cache fed by it should stay suspended until the first
    /// [`Heard::Connected`].
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
                        listen_once(&url, &on, &stop)
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

/// Listens until the connection fails (an error) or `stop` is set (`Ok`).
#[cfg(feature = "postgres")]
fn listen_once(
    url: &str,
    on: &impl Fn(Heard),
    stop: &AtomicBool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = PgConnection::establish(url).map_err(|e| format!("cannot connect: {e}"))?;
    diesel::sql_query(format!("LISTEN {INVALIDATION_CHANNEL}")).execute(&mut conn)?;
    on(Heard::Connected);
    let mut checked = Instant::now();
    while !stop.load(Ordering::Acquire) {
        for notification in conn.notifications_iter() {
            // A payload we cannot read may name anything: forget everything.
            let what = Invalidation::parse(&notification?.payload).unwrap_or(Invalidation::All);
            on(Heard::Invalidated(what));
        }
        if checked.elapsed() >= CHECK {
            // A dead peer is noticed only when something is sent.
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            checked = Instant::now();
        }
        thread::sleep(POLL);
    }
    Ok(())
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
