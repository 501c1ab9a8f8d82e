//! Diesel persistence for the `auth-domain` store traits.
//!
//! [`DieselStore::connect`] takes `sqlite://PATH` (the embedded default: WAL, busy timeout,
//! foreign keys on, `synchronous = FULL`) or `postgres://...`, applies the embedded migrations,
//! and serves the store traits over an r2d2 pool. Rows and schema stay private: only domain
//! types cross this crate's boundary. Unique-key violations become
//! [`StoreError::Conflict`](auth_domain::StoreError::Conflict); a lost connection becomes
//! [`StoreError::Unavailable`](auth_domain::StoreError::Unavailable).
#![forbid(unsafe_code)]

mod connection;
mod rows;
mod schema;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use connection::{Backend, ConnectError, migrate};
pub use store::DieselStore;
