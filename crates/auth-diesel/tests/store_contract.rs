//! The store contract against SQLite (always) and PostgreSQL (when AUTH_TEST_DATABASE_URL is set;
//! otherwise the PostgreSQL tests are reported as ignored: `build.rs` sets `cfg(auth_pg_tests)`).

use std::ops::Deref;

use auth_diesel::{DieselStore, testing::TestDatabase};

/// A store over a throwaway database; the database goes when the fixture does.
struct Fixture {
    store: DieselStore,
    _database: TestDatabase,
}

impl Deref for Fixture {
    type Target = DieselStore;

    fn deref(&self) -> &DieselStore {
        &self.store
    }
}

fn fixture(database: TestDatabase) -> Fixture {
    Fixture {
        store: DieselStore::connect(database.url(), 4).expect("cannot open the test store"),
        _database: database,
    }
}

mod sqlite {
    use super::*;
    auth_core::store_contract_tests!(Some(fixture(TestDatabase::sqlite())));
}

mod postgres {
    use super::*;
    // With the variable set, a server that cannot be reached fails the tests.
    auth_core::store_contract_tests!(
        #[cfg_attr(
            not(auth_pg_tests),
            ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
        )]
        TestDatabase::postgres().map(fixture)
    );
}
