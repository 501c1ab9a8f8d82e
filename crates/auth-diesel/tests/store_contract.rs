//! The store contract against SQLite (always) and PostgreSQL (when AUTH_TEST_DATABASE_URL is set).

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
    auth_core::store_contract_tests!(TestDatabase::postgres().map(fixture));
}
