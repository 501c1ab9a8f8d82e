//! [`StatusListStore`] for [`DieselStore`], and the settling of entries that every
//! announced invalidation does in its own transaction.

use auth_domain::{
    Invalidation, NewStatusEntry, RevokedStatusEntry, STATUS_ENTRY_GRACE, StatusEntry,
    StatusListStore, StatusScope, StoreError, random_status_index,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{DieselStore, store_error, transaction};
use crate::{
    connection::DbConnection,
    rows::{naive, utc},
    schema::{sessions, status_list_entries as entries, users},
};

/// How many random indexes are tried in a list before the next list is tried.
const DRAWS_PER_LIST: usize = 8;

/// The lists tried before giving up (each holds `list_size` entries).
const MAX_LISTS: i32 = 10_000;

/// Makes INVALID the VALID entries in the scope of `what` whose token's claims no longer hold
/// (session ended or gone, user gone, disabled, or with another role or username). Called by
/// `notify`, in the transaction of the change it announces.
pub(super) fn settle(conn: &mut DbConnection, what: Invalidation) -> Result<(), StoreError> {
    use diesel::sql_types::Text;
    let (scope, id) = match what {
        Invalidation::Session(id) => ("session_id = {}", Some(id.to_string())),
        Invalidation::User(id) => ("user_id = {}", Some(id.to_string())),
        Invalidation::ApiKey(id) => (
            "session_id IN (SELECT id FROM sessions WHERE api_key_id = {})",
            Some(id.to_string()),
        ),
        Invalidation::All => ("1 = 1", None),
    };
    let statement = |placeholder: &str| {
        format!(
            "UPDATE status_list_entries SET status = 1 WHERE status = 0 AND {} AND NOT EXISTS (\
             SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id = status_list_entries.session_id AND s.revoked_at IS NULL \
             AND u.is_active = TRUE AND u.role = status_list_entries.role \
             AND u.username = status_list_entries.username)",
            scope.replace("{}", placeholder)
        )
    };
    match (conn, id) {
        #[cfg(feature = "postgres")]
        (DbConnection::Postgres(pg), Some(id)) => diesel::sql_query(statement("$1"))
            .bind::<Text, _>(id)
            .execute(pg),
        #[cfg(feature = "postgres")]
        (DbConnection::Postgres(pg), None) => diesel::sql_query(statement("")).execute(pg),
        #[cfg(feature = "sqlite")]
        (DbConnection::Sqlite(lite), Some(id)) => diesel::sql_query(statement("?"))
            .bind::<Text, _>(id)
            .execute(lite),
        #[cfg(feature = "sqlite")]
        (DbConnection::Sqlite(lite), None) => diesel::sql_query(statement("")).execute(lite),
    }
    .map_err(store_error)?;
    Ok(())
}

/// Inserts a VALID entry at (`list`, `idx`) unless one is there; returns how many rows it
/// inserted. (`ON CONFLICT DO NOTHING`, which both backends have and diesel's multi-backend
/// connection does not offer: a unique violation would abort a PostgreSQL transaction.)
fn insert_entry(
    conn: &mut DbConnection,
    list: i32,
    idx: i64,
    new: &NewStatusEntry,
) -> Result<usize, StoreError> {
    use diesel::sql_types::{BigInt, Integer, Text, Timestamp};
    const COLUMNS: &str = "INSERT INTO status_list_entries \
        (list_id, idx, session_id, user_id, role, username, expires_at, status) VALUES";
    macro_rules! run {
        ($conn:expr, $values:expr) => {
            diesel::sql_query(format!("{COLUMNS} {} ON CONFLICT DO NOTHING", $values))
                .bind::<Integer, _>(list)
                .bind::<BigInt, _>(idx)
                .bind::<Text, _>(new.session.to_string())
                .bind::<Text, _>(new.user.to_string())
                .bind::<Text, _>(new.role.as_str())
                .bind::<Text, _>(&new.username)
                .bind::<Timestamp, _>(naive(new.expires_at))
                .execute($conn)
        };
    }
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(pg) => run!(pg, "($1, $2, $3, $4, $5, $6, $7, 0)"),
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(lite) => run!(lite, "(?, ?, ?, ?, ?, ?, ?, 0)"),
    }
    .map_err(store_error)
}

impl StatusListStore for DieselStore {
    fn allocate_status_entry(&self, new: &NewStatusEntry) -> Result<StatusEntry, StoreError> {
        let reusable_before = naive(new.at - STATUS_ENTRY_GRACE * 2);
        let list_size = new.list_size.clamp(1, i64::MAX as u64);
        transaction(&mut *self.conn()?, |conn| {
            // Hold the user's row at the claims the token states, then the live session's row
            // (the order every change takes them in): a change that would make the token's
            // claims false waits for this entry, and then settles it.
            let held = diesel::update(
                users::table
                    .find(new.user.to_string())
                    .filter(users::is_active.eq(true))
                    .filter(users::role.eq(new.role.as_str()))
                    .filter(users::username.eq(&new.username)),
            )
            .set(users::role.eq(users::role))
            .execute(conn)
            .map_err(store_error)?;
            let live = diesel::update(
                sessions::table
                    .find(new.session.to_string())
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::last_used_at.eq(sessions::last_used_at))
            .execute(conn)
            .map_err(store_error)?;
            if held == 0 || live == 0 {
                return Err(StoreError::CredentialsChanged);
            }
            for list in 1..=MAX_LISTS {
                for _ in 0..DRAWS_PER_LIST {
                    let idx = random_status_index(list_size) as i64;
                    let at = entries::table
                        .filter(entries::list_id.eq(list))
                        .filter(entries::idx.eq(idx));
                    diesel::delete(at.filter(entries::expires_at.lt(reusable_before)))
                        .execute(conn)
                        .map_err(store_error)?;
                    let inserted = insert_entry(conn, list, idx, new)?;
                    if inserted == 1 {
                        return Ok(StatusEntry {
                            list: list as u32,
                            idx: idx as u64,
                        });
                    }
                }
            }
            Err(StoreError::unavailable("no free status list entry"))
        })
    }

    fn revoked_status_entries(
        &self,
        scope: StatusScope,
        since: DateTime<Utc>,
    ) -> Result<Vec<RevokedStatusEntry>, StoreError> {
        let mut query = entries::table
            .filter(entries::status.eq(1i16))
            .filter(entries::expires_at.gt(naive(since)))
            .select((entries::list_id, entries::idx, entries::expires_at))
            .into_boxed();
        query = match scope {
            StatusScope::All => query,
            StatusScope::List(list) => query.filter(entries::list_id.eq(list as i32)),
            StatusScope::Session(id) => query.filter(entries::session_id.eq(id.to_string())),
            StatusScope::User(id) => query.filter(entries::user_id.eq(id.to_string())),
            StatusScope::ApiKey(key) => query.filter(
                entries::session_id.eq_any(
                    sessions::table
                        .filter(sessions::api_key_id.eq(key.to_string()))
                        .select(sessions::id),
                ),
            ),
        };
        let rows: Vec<(i32, i64, chrono::NaiveDateTime)> =
            query.load(&mut *self.conn()?).map_err(store_error)?;
        Ok(rows
            .into_iter()
            .map(|(list, idx, expires_at)| RevokedStatusEntry {
                entry: StatusEntry {
                    list: list as u32,
                    idx: idx as u64,
                },
                expires_at: utc(expires_at),
            })
            .collect())
    }

    fn status_lists(&self) -> Result<Vec<u32>, StoreError> {
        let lists: Vec<i32> = entries::table
            .select(entries::list_id)
            .distinct()
            .order(entries::list_id)
            .load(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(lists.into_iter().map(|l| l as u32).collect())
    }
}
