//! The embedded migrations, with SQLite's own SQL where the two backends need different
//! statements: a migration folder holds `up.sql`/`down.sql` for PostgreSQL (and for SQLite
//! when nothing else is given) and may hold `up.sqlite.sql`/`down.sqlite.sql`, which SQLite runs
//! instead. Each variant keeps its migration's version, so both backends record the same list.

use super::MIGRATIONS;
use diesel::{
    SqliteConnection,
    connection::BoxableConnection,
    migration::{Migration, MigrationMetadata, MigrationName, MigrationSource, Result},
    sqlite::Sqlite,
};

/// The migrations whose SQLite SQL differs: (version, up, down).
const SQLITE_VARIANTS: &[(&str, &str, &str)] = &[
    (
        "20261201000030",
        include_str!("../../../../migrations/2026-12-01-000030_invalidation_ids/up.sqlite.sql"),
        include_str!("../../../../migrations/2026-12-01-000030_invalidation_ids/down.sqlite.sql"),
    ),
    (
        "20261202000300",
        include_str!("../../../../migrations/2026-12-02-000300_rate_limits/up.sqlite.sql"),
        include_str!("../../../../migrations/2026-12-02-000300_rate_limits/down.sqlite.sql"),
    ),
];

/// [`MIGRATIONS`] with SQLite's variants in place of their folders' `up.sql`/`down.sql`.
pub(super) struct ForSqlite;

impl MigrationSource<Sqlite> for ForSqlite {
    fn migrations(&self) -> Result<Vec<Box<dyn Migration<Sqlite>>>> {
        let embedded = MigrationSource::<Sqlite>::migrations(&MIGRATIONS)?;
        Ok(embedded
            .into_iter()
            .map(|migration| {
                let version = migration.name().version().to_string();
                match SQLITE_VARIANTS.iter().find(|(v, _, _)| *v == version) {
                    Some(&(_, up, down)) => Box::new(Variant {
                        embedded: migration,
                        up,
                        down,
                    }) as Box<dyn Migration<Sqlite>>,
                    None => migration,
                }
            })
            .collect())
    }
}

/// An embedded migration (its name and metadata) run with other SQL.
struct Variant {
    embedded: Box<dyn Migration<Sqlite>>,
    up: &'static str,
    down: &'static str,
}

impl Migration<Sqlite> for Variant {
    fn run(&self, conn: &mut dyn BoxableConnection<Sqlite>) -> Result<()> {
        Ok(conn.batch_execute(self.up)?)
    }

    fn revert(&self, conn: &mut dyn BoxableConnection<Sqlite>) -> Result<()> {
        Ok(conn.batch_execute(self.down)?)
    }

    fn metadata(&self) -> &dyn MigrationMetadata {
        self.embedded.metadata()
    }

    fn name(&self) -> &dyn MigrationName {
        self.embedded.name()
    }
}

/// Applies SQLite's migrations; returns the versions applied.
pub(super) fn run_sqlite(
    conn: &mut SqliteConnection,
) -> std::result::Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    use diesel_migrations::MigrationHarness;
    let applied = conn.run_pending_migrations(ForSqlite)?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sqlite_variant_replaces_an_embedded_migration() {
        let versions: Vec<String> = MigrationSource::<Sqlite>::migrations(&MIGRATIONS)
            .unwrap()
            .iter()
            .map(|m| m.name().version().to_string())
            .collect();
        for (version, _, _) in SQLITE_VARIANTS {
            assert!(versions.iter().any(|v| v == version), "{version}");
        }
    }
}
