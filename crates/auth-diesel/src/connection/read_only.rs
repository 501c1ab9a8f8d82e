//! One read-only connection to another application's database (the source of an import).

use diesel::{connection::SimpleConnection, prelude::*};

use super::{ConnectError, DatabaseUrl, DbConnection, Target};

/// A read-only connection to `url` (`sqlite://PATH`, `postgres://...` or `postgresql://...`),
/// and the URL as it may be shown (a PostgreSQL password as `***`). A SQLite file must exist:
/// it is opened with `mode=ro`, never created. A PostgreSQL session is made read-only
/// (`default_transaction_read_only`). Errors never contain the password.
pub(crate) fn open_read_only(url: &str) -> Result<(DbConnection, String), ConnectError> {
    let url = DatabaseUrl::parse(url)?;
    let shown = format!("{url:?}");
    let failed = |message: String| ConnectError::Connect {
        backend: url.backend,
        message,
    };
    let conn = match &url.target {
        #[cfg(feature = "sqlite")]
        Target::Sqlite(path) => {
            if path != ":memory:" && !path.starts_with("file:") {
                let metadata = std::fs::metadata(path)
                    .map_err(|e| failed(format!("cannot open {path}: {e}")))?;
                if !metadata.is_file() {
                    return Err(failed(format!("{path} is not a file")));
                }
            }
            let uri = sqlite_read_only_uri(path);
            let mut conn = SqliteConnection::establish(&uri)
                .map_err(|e| failed(format!("cannot open {path}: {e}")))?;
            conn.batch_execute("PRAGMA query_only = ON; PRAGMA busy_timeout = 5000;")
                .map_err(|e| failed(format!("cannot open {path}: {e}")))?;
            DbConnection::Sqlite(conn)
        }
        #[cfg(feature = "postgres")]
        Target::Postgres(pg) => {
            let mut conn = PgConnection::establish(pg.expose())
                .map_err(|e| failed(format!("{}: {}", pg.redacted(), pg.scrub(&e.to_string()))))?;
            conn.batch_execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                .map_err(|e| failed(pg.scrub(&e.to_string())))?;
            DbConnection::Postgres(conn)
        }
    };
    Ok((conn, shown))
}

/// An SQLite URI that opens `path` read-only (and never creates it); a path that is already a
/// `file:` URI gets `mode=ro` added.
#[cfg(feature = "sqlite")]
fn sqlite_read_only_uri(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("file:") {
        let separator = if rest.contains('?') { '&' } else { '?' };
        return format!("file:{rest}{separator}mode=ro");
    }
    let mut escaped = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            c => escaped.push(c),
        }
    }
    format!("file:{escaped}?mode=ro")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_become_read_only_uris() {
        assert_eq!(
            sqlite_read_only_uri("data/old.db"),
            "file:data/old.db?mode=ro"
        );
        assert_eq!(
            sqlite_read_only_uri("/tmp/a?b#c%d.db"),
            "file:/tmp/a%3Fb%23c%25d.db?mode=ro"
        );
        assert_eq!(
            sqlite_read_only_uri("file:old.db?cache=shared"),
            "file:old.db?cache=shared&mode=ro"
        );
    }

    #[test]
    fn a_missing_sqlite_file_is_not_created() {
        let dir = tempfile_dir();
        let path = dir.join("missing.db");
        let err = open_read_only(&format!("sqlite://{}", path.display()))
            .err()
            .expect("opened a missing file");
        assert!(err.to_string().contains("missing.db"), "{err}");
        assert!(!path.exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("auth-diesel-ro-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
