//! Diesel persistence for the `auth-domain` store traits.
//!
//! [`DieselStore::connect`] takes `sqlite://PATH` (the embedded default: WAL, busy timeout,
//! foreign keys on, `synchronous = FULL`) or `postgres://...`, applies the embedded migrations,
//! and serves the store traits over an r2d2 pool. Rows and schema stay private: only domain
//! types cross this crate's boundary. Unique-key violations become
//! [`StoreError::Conflict`](auth_domain::StoreError::Conflict); a lost connection becomes
//! [`StoreError::Unavailable`](auth_domain::StoreError::Unavailable).
//!
//! On PostgreSQL every change that makes a credential invalid is announced with `NOTIFY` in the
//! transaction that makes it, and [`DieselStore::listen`] hears them, so that several server
//! instances can cache credentials and still see each other's logouts at once.
//!
//! [`source::read_users`] reads another application's users, read-only, for an import.
#![forbid(unsafe_code)]

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!("auth-diesel needs a backend: the feature `sqlite`, `postgres`, or both");

mod connection;
mod listener;
mod outage;
mod rows;
mod schema;
pub mod source;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use connection::{Backend, ConnectError, migrate};
pub use listener::Heard;
#[cfg(feature = "postgres")]
pub use listener::LISTENER_APPLICATION_NAME;
pub use store::{DieselStore, INVALIDATION_CHANNEL, PRUNE_LOCK_KEY, PoolState};
