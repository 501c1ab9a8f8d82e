//! [`PruneStore`] for [`DieselStore`]: deletes in bounded batches, one statement each, so that a
//! large backlog never holds locks for long; on PostgreSQL one process at a time prunes (a
//! session-level advisory lock).

use auth_domain::{PruneOutcome, PrunePolicy, PruneReport, PruneStore, StoreError};
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Timestamp},
};

use super::{DieselStore, store_error};
use crate::{connection::DbConnection, rows::naive};

/// The PostgreSQL advisory lock (`pg_try_advisory_lock`) a prune holds while it runs: another
/// instance that finds it taken skips its turn. ("authprun" in ASCII.)
pub const PRUNE_LOCK_KEY: i64 = 0x6175_7468_7072_756e;

#[cfg(feature = "postgres")]
#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

impl PruneStore for DieselStore {
    fn prune(&self, policy: &PrunePolicy) -> Result<PruneOutcome, StoreError> {
        let mut conn = self.conn()?;
        let conn = &mut *conn;
        #[cfg(feature = "postgres")]
        if matches!(conn, DbConnection::Postgres(_)) {
            return prune_locked(conn, policy);
        }
        // SQLite has one writer at a time: two prunes interleave their batches harmlessly.
        prune_all(conn, policy).map(PruneOutcome::Pruned)
    }
}

/// A prune on PostgreSQL, under the advisory lock [`PRUNE_LOCK_KEY`]: `Busy` when another
/// instance holds it.
#[cfg(feature = "postgres")]
#[allow(irrefutable_let_patterns)] // in a PostgreSQL-only build
fn prune_locked(conn: &mut DbConnection, policy: &PrunePolicy) -> Result<PruneOutcome, StoreError> {
    let DbConnection::Postgres(pg) = conn else {
        unreachable!("a PostgreSQL connection")
    };
    let lock = |sql: &str, pg: &mut PgConnection| {
        diesel::sql_query(sql)
            .bind::<BigInt, _>(PRUNE_LOCK_KEY)
            .get_result::<Locked>(pg)
            .map(|row| row.locked)
            .map_err(store_error)
    };
    if !lock("SELECT pg_try_advisory_lock($1) AS locked", pg)? {
        return Ok(PruneOutcome::Busy);
    }
    let result = prune_all(conn, policy);
    let DbConnection::Postgres(pg) = conn else {
        unreachable!("the connection is still PostgreSQL")
    };
    // Released even after a failure; if releasing fails the connection is gone, and the
    // lock with it.
    let released = lock("SELECT pg_advisory_unlock($1) AS locked", pg);
    let report = result?;
    released?;
    Ok(PruneOutcome::Pruned(report))
}

/// Runs `statement` (a `DELETE … IN (SELECT … LIMIT $2)` whose `$1` is `at`) until it deletes
/// fewer than `size` rows; returns how many it deleted in all. `$n` is written as PostgreSQL
/// has it; SQLite reads it as `?n`.
fn in_batches(
    conn: &mut DbConnection,
    statement: &str,
    at: DateTime<Utc>,
    size: u32,
) -> Result<u64, StoreError> {
    let size = i64::from(size.max(1));
    #[cfg(feature = "sqlite")]
    let sqlite = statement.replace('$', "?");
    let mut total = 0u64;
    loop {
        let deleted = match conn {
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(pg) => diesel::sql_query(statement)
                .bind::<Timestamp, _>(naive(at))
                .bind::<BigInt, _>(size)
                .execute(pg),
            #[cfg(feature = "sqlite")]
            DbConnection::Sqlite(lite) => diesel::sql_query(&sqlite)
                .bind::<Timestamp, _>(naive(at))
                .bind::<BigInt, _>(size)
                .execute(lite),
        }
        .map_err(store_error)?;
        total += deleted as u64;
        if (deleted as i64) < size {
            return Ok(total);
        }
    }
}

/// Sessions that ended before `$1`: revoked, past their absolute deadline, or idle past theirs.
const ENDED: &str = "s.revoked_at < $1 OR s.expires_at < $1 OR s.idle_expires_at < $1";

fn prune_all(conn: &mut DbConnection, policy: &PrunePolicy) -> Result<PruneReport, StoreError> {
    let size = policy.batch_size;
    let ended = policy.sessions_ended_before;
    // The tokens first, counted, then their sessions (an ended session gets no new token).
    let refresh_tokens = in_batches(
        conn,
        &format!(
            "DELETE FROM refresh_tokens WHERE token_hash IN (SELECT t.token_hash \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE {ENDED} LIMIT $2)"
        ),
        ended,
        size,
    )?;
    let sessions = in_batches(
        conn,
        &format!(
            "DELETE FROM sessions WHERE id IN (SELECT s.id FROM sessions s WHERE {ENDED} LIMIT $2)"
        ),
        ended,
        size,
    )?;
    // A row whose last failure and lock both ended before `$1` counts nothing any more.
    let login_throttles = in_batches(
        conn,
        "DELETE FROM login_throttles WHERE username_normalized IN (SELECT username_normalized \
         FROM login_throttles WHERE updated_at < $1 AND (locked_until IS NULL OR locked_until < $1) \
         LIMIT $2)",
        policy.throttles_quiet_since,
        size,
    )?;
    let audit_events = match policy.audit_before {
        None => 0,
        Some(before) => in_batches(
            conn,
            "DELETE FROM audit_events WHERE id IN \
             (SELECT id FROM audit_events WHERE at < $1 LIMIT $2)",
            before,
            size,
        )?,
    };
    let cache_invalidations = in_batches(
        conn,
        "DELETE FROM cache_invalidations WHERE id IN \
         (SELECT id FROM cache_invalidations WHERE at < $1 LIMIT $2)",
        policy.invalidations_before,
        size,
    )?;
    // Expired links are refused whatever their rows say; used ones are deleted when used.
    let email_tokens = in_batches(
        conn,
        "DELETE FROM email_tokens WHERE token_hash IN \
         (SELECT token_hash FROM email_tokens WHERE expires_at < $1 LIMIT $2)",
        policy.expired_before,
        size,
    )?;
    let mail_requests = in_batches(
        conn,
        "DELETE FROM mail_requests WHERE id IN \
         (SELECT id FROM mail_requests WHERE requested_at < $1 LIMIT $2)",
        policy.mail_requests_before,
        size,
    )?;
    Ok(PruneReport {
        sessions,
        refresh_tokens,
        login_throttles,
        audit_events,
        cache_invalidations,
        email_tokens,
        mail_requests,
    })
}
