//! The store contract against the in-memory store.

auth_core::store_contract_tests!(Some(Box::new(auth_core::MemoryStore::new())));
