//! Database URLs, the connection type over both backends, the r2d2 pool and migrations.

#[cfg(feature = "sqlite")]
mod migrations;
#[cfg(feature = "postgres")]
mod pg_url;
mod read_only;

#[cfg(feature = "sqlite")]
use std::path::Path;
use std::{fmt, path::PathBuf, time::Duration};

use diesel::{
    connection::SimpleConnection,
    prelude::*,
    r2d2::{self, ManageConnection, Pool, PooledConnection},
};
#[cfg(feature = "postgres")]
use diesel_migrations::MigrationHarness;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};

/// Every migration, as `embed_migrations!` reads `migrations/` (`up.sql` and `down.sql`; SQLite
/// runs a folder's `up.sqlite.sql` instead where there is one: `migrations.rs`).
const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");
#[cfg(feature = "postgres")]
use pg_url::PgUrl;
pub(crate) use read_only::open_read_only;

/// How long a caller waits for a pooled connection before the store reports itself unavailable.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long SQLite waits on a lock held by another connection before failing.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// One connection to either backend; queries are written once against it. Each variant is
/// there with its feature (`postgres`, `sqlite`).
#[derive(diesel::MultiConnection)]
pub(crate) enum DbConnection {
    #[cfg(feature = "postgres")]
    Postgres(PgConnection),
    #[cfg(feature = "sqlite")]
    Sqlite(SqliteConnection),
}

/// Why the store could not be opened. Messages never contain the database password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The URL is neither `sqlite://PATH` nor `postgres://...`.
    #[error(
        "unsupported database URL (scheme {0:?}): use sqlite://PATH or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    /// A PostgreSQL URL libpq might split differently than meant (an unescaped `@` or `/` in
    /// the password, a bad `%` escape). The message shows the URL with its password as `***`.
    #[error("{0}")]
    MalformedUrl(String),
    /// The SQLite file's folder could not be created.
    #[error("cannot create the folder for the SQLite database {path}: {source}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The SQLite database file could not be created (mode 0600).
    #[error("cannot create the SQLite database {path}: {source}")]
    CreateFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The first connection failed (wrong URL, server down, bad credentials, unreadable file).
    #[error("cannot connect to the {backend} database: {message}")]
    Connect {
        /// Which backend.
        backend: Backend,
        /// The driver's message; for PostgreSQL after the URL with its password as `***`, and
        /// withheld if it quoted the password.
        message: String,
    },
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The pool could not be built.
    #[error("cannot open the connection pool: {0}")]
    Pool(String),
    /// The URL names a backend this build leaves out (the cargo feature `sqlite` or
    /// `postgres` of auth-diesel and auth-server).
    #[error("this build has no {0} support: build it with the cargo feature `{feature}`", feature = .0.feature())]
    NotBuilt(Backend),
}

/// The backend a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, the embedded default.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// The cargo feature that builds this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// A parsed database URL. Its `Debug` shows a PostgreSQL URL with its password as `***`.
#[derive(Clone)]
pub(crate) struct DatabaseUrl {
    pub(crate) backend: Backend,
    target: Target,
}

#[derive(Clone)]
enum Target {
    /// The file path (or an SQLite `file:` URI, or `:memory:`).
    #[cfg(feature = "sqlite")]
    Sqlite(String),
    #[cfg(feature = "postgres")]
    Postgres(PgUrl),
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            #[cfg(feature = "sqlite")]
            Target::Sqlite(path) => write!(f, "sqlite://{path}"),
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => f.write_str(url.redacted()),
        }
    }
}

impl DatabaseUrl {
    pub(crate) fn parse(url: &str) -> Result<Self, ConnectError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(ConnectError::UnsupportedUrl("sqlite (no path)".into()));
            }
            #[cfg(not(feature = "sqlite"))]
            return Err(ConnectError::NotBuilt(Backend::Sqlite));
            #[cfg(feature = "sqlite")]
            Ok(Self {
                backend: Backend::Sqlite,
                target: Target::Sqlite(path.to_owned()),
            })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(not(feature = "postgres"))]
            return Err(ConnectError::NotBuilt(Backend::Postgres));
            #[cfg(feature = "postgres")]
            Ok(Self {
                backend: Backend::Postgres,
                target: Target::Postgres(PgUrl::parse(url).map_err(ConnectError::MalformedUrl)?),
            })
        } else {
            let scheme = url.split_once("://").map_or("none", |(scheme, _)| scheme);
            Err(ConnectError::UnsupportedUrl(
                scheme.chars().take(20).collect(),
            ))
        }
    }

    /// One connection. A PostgreSQL error never holds the password (see [`PgUrl::scrub`]).
    fn establish(&self) -> Result<DbConnection, ConnectionError> {
        match &self.target {
            #[cfg(feature = "postgres")]
            Target::Postgres(url) => PgConnection::establish(url.expose())
                .map(DbConnection::Postgres)
                .map_err(|e| ConnectionError::BadConnection(url.scrub(&e.to_string()))),
            #[cfg(feature = "sqlite")]
            Target::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(path)?;
                // Per connection: WAL is set once per file (see `open_first`). FULL keeps every
                // acknowledged write across a crash, which an auth store must not lose.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;"
                ))
                .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    /// The first connection: creates the SQLite folder and file for the owner only, switches
    /// the file to WAL on this single connection (doing it in every pooled connection races
    /// while the pool opens them), and surfaces the real connection error instead of a pool
    /// timeout.
    #[allow(irrefutable_let_patterns)] // in a build with one backend
    fn open_first(&self) -> Result<DbConnection, ConnectError> {
        #[cfg(feature = "sqlite")]
        if let Target::Sqlite(path) = &self.target
            && path != ":memory:"
            && !path.starts_with("file:")
        {
            create_private_sqlite_file(Path::new(path))?;
        }
        #[cfg_attr(not(feature = "sqlite"), allow(unused_mut))]
        let mut conn = self.establish().map_err(|e| ConnectError::Connect {
            backend: self.backend,
            message: match &self.target {
                #[cfg(feature = "postgres")]
                Target::Postgres(url) => format!("{}: {e}", url.redacted()),
                #[cfg(feature = "sqlite")]
                Target::Sqlite(_) => e.to_string(),
            },
        })?;
        #[cfg(feature = "sqlite")]
        if let DbConnection::Sqlite(sqlite) = &mut conn {
            sqlite
                .batch_execute("PRAGMA journal_mode = WAL;")
                .map_err(|e| ConnectError::Connect {
                    backend: Backend::Sqlite,
                    message: e.to_string(),
                })?;
        }
        Ok(conn)
    }
}

/// Creates the SQLite file's missing folders (mode 0700) and the file itself (mode 0600) before
/// SQLite opens it: the file holds password hashes, emails and the audit log, and SQLite gives
/// its `-wal` and `-shm` files the database file's mode. An existing file keeps its mode, with
/// a warning if others may read it.
#[cfg(feature = "sqlite")]
fn create_private_sqlite_file(path: &Path) -> Result<(), ConnectError> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(parent)
            .map_err(|source| ConnectError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            if let Ok(metadata) = std::fs::metadata(path) {
                use std::os::unix::fs::PermissionsExt;
                let mode = metadata.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        mode = format!("{mode:o}"),
                        "the SQLite database is readable by other users; chmod 600 it"
                    );
                }
            }
            Ok(())
        }
        Err(source) => Err(ConnectError::CreateFile {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Runs pending migrations on one connection; returns the versions applied.
fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, ConnectError> {
    match conn {
        #[cfg(feature = "postgres")]
        DbConnection::Postgres(pg) => pg
            .run_pending_migrations(MIGRATIONS)
            .map(|applied| applied.iter().map(ToString::to_string).collect()),
        // SQLite runs its own SQL where a migration has it (`up.sqlite.sql`).
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(sqlite) => migrations::run_sqlite(sqlite),
    }
    .map_err(|e| ConnectError::Migration(e.to_string()))
}

/// Opens `url` once and applies pending migrations; returns the versions applied.
pub fn migrate(url: &str) -> Result<Vec<String>, ConnectError> {
    let url = DatabaseUrl::parse(url)?;
    run_migrations(&mut url.open_first()?)
}

/// Opens each pooled connection with the concrete type the URL names, so that a PostgreSQL URL
/// is never tried as a SQLite path (as `MultiConnection::establish` would).
pub(crate) struct Manager(DatabaseUrl);

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        self.0.establish().map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

pub(crate) type DbPool = Pool<Manager>;
pub(crate) type PooledDb = PooledConnection<Manager>;

/// Opens the pool after migrating with a first, concrete connection. Failed connection
/// attempts go to `outages` (which logs an outage once), not to r2d2's log line per attempt.
pub(crate) fn open_pool(
    url: &str,
    pool_size: u32,
    outages: std::sync::Arc<crate::outage::OutageWatch>,
) -> Result<(DbPool, Backend), ConnectError> {
    let url = DatabaseUrl::parse(url)?;
    let mut first = url.open_first()?;
    let applied = run_migrations(&mut first)?;
    if !applied.is_empty() {
        tracing::info!(backend = %url.backend, ?applied, "database migrations applied");
    }
    drop(first);
    let backend = url.backend;
    let pool = Pool::builder()
        .max_size(pool_size.max(1))
        // No idle minimum: r2d2 refills one in a background thread after each checkout, and a
        // command that exits while such a PostgreSQL connection is being opened (its TLS
        // handshake racing the process's exit handlers) died with SIGSEGV. Connections are
        // opened when needed and kept while idle.
        .min_idle(Some(0))
        .connection_timeout(CHECKOUT_TIMEOUT)
        .error_handler(Box::new(crate::outage::ReportOutages(outages)))
        .build(Manager(url))
        .map_err(|e| ConnectError::Pool(e.to_string()))?;
    Ok((pool, backend))
}
