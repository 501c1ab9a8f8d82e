//! Password hashing, token issue and verification, and the authentication service.
//!
//! - [`PasswordHasher`]: bcrypt with a configurable cost, the 72-byte rule, upgrade detection.
//! - [`TokenIssuer`] / [`TokenVerifier`]: signed access tokens (`typ: at+jwt`) with pinned
//!   algorithms and `kid`s. A service that only verifies our tokens needs [`TokenVerifier`]
//!   alone: no store, no runtime.
//! - [`AuthService`]: register, login, authenticate, profile changes, logout, over any
//!   [`auth_domain::Store`]. Its async methods run bcrypt and store calls on tokio's blocking
//!   pool.
//! - [`MemoryStore`] (feature `memory`, on by default): a store for tests.
//! - `store_contract` (feature `store-contract`): the store contract suite every store must
//!   pass, and `store_contract_tests!` to run it as tests.
//!
//! # Embedding
//! ```
//! use std::sync::Arc;
//! use auth_core::{
//!     Algorithm, AuthConfig, AuthService, JwtKey, LoginAttempt, MemoryStore, PasswordHasher,
//!     Registration, TokenIssuer, TokenVerifier,
//! };
//! use auth_domain::{ClientInfo, Password};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let key = Arc::new(JwtKey::hmac(Algorithm::HS256, &[42u8; 32])?);
//! let service = AuthService::new(
//!     Arc::new(MemoryStore::new()),
//!     PasswordHasher::new(4)?, // use 12 or more outside tests
//!     TokenIssuer::new(key.clone(), "my-issuer", "my-api"),
//!     TokenVerifier::new([key], "my-issuer", "my-api"),
//!     AuthConfig::default(),
//! );
//! service
//!     .register(Registration {
//!         username: "alice".into(),
//!         password: Password::new("correct horse battery"),
//!         email: None,
//!     })
//!     .await?;
//! let tokens = service
//!     .login(
//!         LoginAttempt {
//!             username: "alice".into(),
//!             password: Password::new("correct horse battery"),
//!             expires_in: None,
//!         },
//!         ClientInfo::default(),
//!     )
//!     .await?;
//! let caller = service.authenticate(&tokens.access_token).await?;
//! assert_eq!(caller.user.username.as_str(), "alice");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
#![forbid(unsafe_code)]

mod admin;
mod api_keys;
mod audit;
mod keygen;
mod password;
mod service;
mod strength;
mod token;

#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "store-contract")]
pub mod store_contract;

pub use admin::{Actor, MAX_PAGE};
pub use api_keys::API_KEY_PREFIX;
pub use keygen::{PemKeyPair, generate_key_pair};
#[cfg(feature = "memory")]
pub use memory::MemoryStore;
pub use password::{HashError, PasswordHasher};
pub use service::{
    AdminOutcome, AuthConfig, AuthError, AuthService, Credential, LoginAttempt, LogoutScope,
    Principal, ProfileUpdate, Registration, TokenPair,
};
pub use token::{
    Algorithm, JwtKey, KeyError, MAX_TOKEN_BYTES, RefreshToken, SUPPORTED_ALGORITHMS, TokenError,
    TokenIssuer, TokenVerifier, min_hmac_secret_len,
};
