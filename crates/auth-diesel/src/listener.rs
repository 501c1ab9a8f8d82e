//! Hearing the changes other instances make: one `LISTEN` connection per process on
//! PostgreSQL, for the credential caches (see `auth_core::CredentialCache`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use auth_domain::Invalidation;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::{DieselStore, connection::Backend, store::INVALIDATION_CHANNEL};

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
const CHECK: Duration = Duration::from_secs(1);
const RECONNECT: Duration = Duration::from_secs(1);

impl DieselStore {
    /// On PostgreSQL, starts a thread that listens for the changes every instance announces
    /// (in the transaction that makes them) and reports them to `on`; it reconnects after a
    /// drop, and ends when the store is dropped. A cache fed by it should stay suspended until
    /// the first [`Heard::Connected`]. Returns `false` on SQLite, which serves one process:
    /// there is nothing to hear.
    pub fn listen(&self, on: impl Fn(Heard) + Send + 'static) -> bool {
        if self.backend() != Backend::Postgres {
            return false;
        }
        let url = self.url().to_owned();
        let stop = Arc::clone(self.stopped());
        let spawned = thread::Builder::new()
            .name("auth-listen".into())
            .spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let outcome = listen_once(&url, &on, &stop);
                    if stop.load(Ordering::Acquire) {
                        return;
                    }
                    on(Heard::Lost);
                    if let Err(e) = outcome {
                        tracing::warn!(error = %e, "invalidation listener lost its connection; cache suspended");
                    }
                    thread::sleep(RECONNECT);
                }
            });
        if let Err(e) = spawned {
            // The caller keeps its cache suspended until `Connected`, which never comes.
            tracing::error!(error = %e, "cannot start the invalidation listener");
        }
        true
    }
}

/// Listens until the connection fails (an error) or `stop` is set (`Ok`).
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
