//! Throwaway databases for tests: a SQLite file in a temporary folder, or a fresh PostgreSQL
//! database (dropped afterwards) when `AUTH_TEST_DATABASE_URL` names a server.

use std::{io::Write, sync::Once};

#[cfg(feature = "postgres")]
use diesel::{Connection, PgConnection, RunQueryDsl};

/// The variable that names the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_VAR: &str = "AUTH_TEST_DATABASE_URL";

/// A database that exists for one test and is removed when dropped.
pub struct TestDatabase {
    url: String,
    // Without `postgres`, only kept for its `Drop` (the temporary folder).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    cleanup: Cleanup,
}

enum Cleanup {
    Folder(#[allow(dead_code)] tempfile::TempDir),
    #[cfg(feature = "postgres")]
    Postgres {
        admin_url: String,
        name: String,
    },
}

impl TestDatabase {
    /// A new SQLite database file in a fresh temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("cannot create a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("auth.db").display());
        Self {
            url,
            cleanup: Cleanup::Folder(dir),
        }
    }

    /// A new, empty PostgreSQL database on the server `AUTH_TEST_DATABASE_URL` names, or `None`
    /// when the variable is unset (the first such call says so on standard error, which tests
    /// do not capture). With the variable set, a server that cannot be reached fails the test.
    /// Always `None` in a build without the `postgres` feature.
    pub fn postgres() -> Option<Self> {
        let admin_url = std::env::var(POSTGRES_URL_VAR)
            .ok()
            .filter(|_| cfg!(feature = "postgres"));
        let Some(admin_url) = admin_url else {
            static NOTICE: Once = Once::new();
            NOTICE.call_once(|| {
                // Written to the real stderr on purpose: `eprintln!` would be captured.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTE: PostgreSQL tests SKIPPED: set {POSTGRES_URL_VAR} \
                     (e.g. postgres://postgres@127.0.0.1:5432/postgres) and build with the \
                     feature `postgres` to run them.\n"
                );
            });
            return None;
        };
        Self::create_postgres(admin_url)
    }

    #[cfg(not(feature = "postgres"))]
    fn create_postgres(_: String) -> Option<Self> {
        None
    }

    #[cfg(feature = "postgres")]
    fn create_postgres(admin_url: String) -> Option<Self> {
        let name = format!("auth_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
            panic!("{POSTGRES_URL_VAR} is set but PostgreSQL cannot be reached: {e}")
        });
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("cannot create a test database");
        Some(Self {
            url: with_database(&admin_url, &name),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// Simulates a PostgreSQL outage (`false`: new connections refused, open ones killed) and
    /// its end (`true`). Panics for SQLite.
    pub fn set_reachable(&self, reachable: bool) {
        #[cfg(feature = "postgres")]
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let mut admin = PgConnection::establish(admin_url).expect("PostgreSQL is unreachable");
            diesel::sql_query(format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS {reachable}"
            ))
            .execute(&mut admin)
            .expect("cannot change ALLOW_CONNECTIONS");
            if !reachable {
                diesel::sql_query(format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ))
                .execute(&mut admin)
                .expect("cannot terminate connections");
            }
            return;
        }
        let _ = reachable;
        panic!("set_reachable needs a PostgreSQL test database");
    }

    /// The URL to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        #[cfg(feature = "postgres")]
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

/// `admin_url` with its database name replaced by `name` (query parameters kept).
#[cfg(feature = "postgres")]
fn with_database(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{host_part}/{name}?{query}"),
        None => format!("{host_part}/{name}"),
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "t1"),
            "postgres://u@h:5432/t1"
        );
        assert_eq!(with_database("postgres://u@h", "t1"), "postgres://u@h/t1");
        assert_eq!(
            with_database("postgresql://u:p@h/db?sslmode=disable", "t1"),
            "postgresql://u:p@h/t1?sslmode=disable"
        );
    }
}
