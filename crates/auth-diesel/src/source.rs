//! Reading another application's users, read-only, for `auth-server import-users`: a table of
//! any name in a SQLite or PostgreSQL database, its columns named by the caller, its rows in
//! primary-key order (SQLite's `rowid`, or PostgreSQL's physical order, without one).
//!
//! Every value is read as text, whatever its column's type; a missing table or column is an
//! error that names it and lists what there is.

use diesel::{
    prelude::*,
    sql_types::{Nullable, Text},
};

use crate::connection::{ConnectError, DbConnection, open_read_only};

/// Where the users are in the source database: the table and the columns to read.
#[derive(Clone, Debug)]
pub struct SourceTable {
    /// The table (in PostgreSQL also `schema.table`).
    pub table: String,
    /// The column of usernames.
    pub username: String,
    /// The column of password hashes.
    pub password: String,
    /// The column of emails, if any.
    pub email: Option<String>,
    /// The column of roles, if any.
    pub role: Option<String>,
}

/// One row of the source table, every value as text (`None` for SQL `NULL`).
#[derive(Clone, QueryableByName)]
pub struct SourceRow {
    /// The row's primary key, to name it in reports.
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    /// The username.
    #[diesel(sql_type = Nullable<Text>)]
    pub username: Option<String>,
    /// The password hash (never printed: it may even be a plain-text password).
    #[diesel(sql_type = Nullable<Text>)]
    pub password: Option<String>,
    /// The email, when an email column was named.
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    /// The role, when a role column was named.
    #[diesel(sql_type = Nullable<Text>)]
    pub role: Option<String>,
}

impl std::fmt::Debug for SourceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceRow")
            .field("key", &self.key)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// What [`read_users`] read.
#[derive(Debug)]
pub struct SourceUsers {
    /// The source URL as it may be shown (a PostgreSQL password as `***`).
    pub shown_url: String,
    /// What orders the rows: the primary-key column(s), `rowid` or `ctid`.
    pub order: String,
    /// The rows, in that order.
    pub rows: Vec<SourceRow>,
}

/// Why the source could not be read. Messages name tables and columns, never a password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The URL is unusable or the database cannot be opened.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The table does not exist.
    #[error("the source database has no table {table:?}")]
    NoTable {
        /// The table asked for.
        table: String,
    },
    /// A column does not exist.
    #[error("table {table:?} has no column {column:?} (its columns: {columns})")]
    NoColumn {
        /// The table.
        table: String,
        /// The column asked for.
        column: String,
        /// The columns the table has, comma-separated.
        columns: String,
    },
    /// A query failed.
    #[error("cannot read the source database: {0}")]
    Query(String),
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct Relation {
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
}

/// `name` as an SQL identifier, quoted (the same in SQLite and PostgreSQL).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn query_error(e: diesel::result::Error) -> SourceError {
    SourceError::Query(e.to_string())
}

/// The table as SQL, and its columns (name, position in the primary key or 0).
fn describe(
    conn: &mut DbConnection,
    table: &str,
) -> Result<(String, Vec<(String, i32)>), SourceError> {
    let no_table = || SourceError::NoTable {
        table: table.to_owned(),
    };
    let (relation, columns) = match conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(sqlite) => {
            let found: Vec<Relation> = diesel::sql_query(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
                 AND name = ? COLLATE NOCASE",
            )
            .bind::<Text, _>(table)
            .load(sqlite)
            .map_err(query_error)?;
            let name = found
                .into_iter()
                .find_map(|r| r.name)
                .ok_or_else(no_table)?;
            let columns: Vec<Column> =
                diesel::sql_query("SELECT name, pk FROM pragma_table_info(?) ORDER BY cid")
                    .bind::<Text, _>(&name)
                    .load(sqlite)
                    .map_err(query_error)?;
            (quoted(&name), columns)
        }
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(pg) => {
            // to_regclass reads the name as SQL would (folding case, `schema.table`), and
            // its text form is the name quoted as needed. `indkey` is 0-based: `pk` counts
            // from 1, and 0 is "not in the primary key".
            let found: Vec<Relation> = diesel::sql_query("SELECT to_regclass($1)::text AS name")
                .bind::<Text, _>(table)
                .load(pg)
                .map_err(|_| no_table())?;
            let name = found
                .into_iter()
                .find_map(|r| r.name)
                .ok_or_else(no_table)?;
            let columns: Vec<Column> = diesel::sql_query(
                "SELECT a.attname::text AS name, \
                 COALESCE(array_position(i.indkey::int2[], a.attnum) + 1 \
                 - array_lower(i.indkey::int2[], 1), 0)::int4 AS pk \
                 FROM pg_attribute a \
                 LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
                 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
                 ORDER BY a.attnum",
            )
            .bind::<Text, _>(table)
            .load(pg)
            .map_err(query_error)?;
            (name, columns)
        }
    };
    Ok((
        relation,
        columns.into_iter().map(|c| (c.name, c.pk)).collect(),
    ))
}

/// Reads every row of `source.table` at `url`, read-only, in primary-key order.
pub fn read_users(url: &str, source: &SourceTable) -> Result<SourceUsers, SourceError> {
    let (mut conn, shown_url) = open_read_only(url)?;
    let (relation, columns) = describe(&mut conn, &source.table)?;
    #[cfg(feature = "sqlite")]
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    #[cfg(not(feature = "sqlite"))]
    let sqlite = false;
    // SQLite compares identifiers without regard to ASCII case; PostgreSQL as written.
    let column = |wanted: &str| -> Result<String, SourceError> {
        columns
            .iter()
            .map(|(name, _)| name)
            .find(|name| *name == wanted || (sqlite && name.eq_ignore_ascii_case(wanted)))
            .map(|name| quoted(name))
            .ok_or_else(|| SourceError::NoColumn {
                table: source.table.clone(),
                column: wanted.to_owned(),
                columns: columns
                    .iter()
                    .map(|(name, _)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    };
    let as_text = |name: &Option<String>| -> Result<String, SourceError> {
        Ok(match name {
            Some(name) => format!("CAST({} AS TEXT)", column(name)?),
            None => "CAST(NULL AS TEXT)".to_owned(),
        })
    };
    let username = as_text(&Some(source.username.clone()))?;
    let password = as_text(&Some(source.password.clone()))?;
    let email = as_text(&source.email)?;
    let role = as_text(&source.role)?;
    let mut key_columns: Vec<&(String, i32)> = columns.iter().filter(|(_, pk)| *pk > 0).collect();
    key_columns.sort_by_key(|(_, pk)| *pk);
    let order = match key_columns.as_slice() {
        [] if sqlite => "rowid".to_owned(),
        [] => "ctid".to_owned(),
        keys => keys
            .iter()
            .map(|(name, _)| quoted(name))
            .collect::<Vec<_>>()
            .join(", "),
    };
    let key = match key_columns.first() {
        Some((name, _)) => format!("CAST({} AS TEXT)", quoted(name)),
        None => format!("CAST({order} AS TEXT)"),
    };
    let query = format!(
        "SELECT {key} AS key, {username} AS username, {password} AS password, \
         {email} AS email, {role} AS role FROM {relation} ORDER BY {order}"
    );
    let rows = match &mut conn {
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(sqlite) => diesel::sql_query(query).load(sqlite),
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(pg) => diesel::sql_query(query).load(pg),
    }
    .map_err(query_error)?;
    Ok(SourceUsers {
        shown_url,
        order: order.replace('"', ""),
        rows,
    })
}
