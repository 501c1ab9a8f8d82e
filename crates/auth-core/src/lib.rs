//! Password hashing, token issue and verification, and the authentication service.
//!
//! - [`TokenKeys`]: the signing key, verify-only keys, `iss`, `aud` and leeway, built once; it
//!   makes the [`TokenIssuer`] and the [`TokenVerifier`], so the two cannot disagree.
//! - [`TokenVerifier`]: checks signed access tokens (`typ: at+jwt`) with pinned algorithms and
//!   `kid`s, and returns typed [`Claims`](auth_domain::Claims). A service that only verifies
//!   our tokens needs it alone: no store, no runtime, and with `default-features = false` no
//!   bcrypt, zxcvbn or tokio either (see below).
//! - [`status_list`]: Token Status Lists (draft-ietf-oauth-status-list-20): the list encoding,
//!   and Status List Tokens signed by the [`TokenIssuer`] and checked by the [`TokenVerifier`].
//!   With the feature `status-list` (off by default), `StatusChecker` makes a verifier refuse
//!   tokens whose entry is not VALID, fetching and refreshing the lists in the background
//!   (ureq over rustls; no async runtime).
//! - [`AuthService`] (feature `service`, on by default): register, login, authenticate,
//!   profile changes, logout, API keys and admin operations over any [`auth_domain::Store`].
//!   Its async methods run bcrypt and store calls on tokio's blocking pool.
//! - Second factors (feature `service`): TOTP enrolment with recovery codes, and the
//!   `mfa_required` step of the password login ([`MfaConfig`], [`MfaKey`], [`MfaToken`]).
//! - [`PasswordHasher`] (feature `service`): bcrypt with a configurable cost, the 72-byte rule,
//!   upgrade detection.
//! - Outbound mail (feature `service`): the [`Mailer`] port the service hands [`Message`]s to
//!   (an embedder plugs its delivery there; [`NoMailer`] turns mail off), and the
//!   [`MailTemplates`] that render each [`MailKind`] from typed values ([`Mail`]); the
//!   service sends through them once given a [`MailSetup`] (password reset by email).
//! - `MemoryStore` (feature `memory`, for tests and embedders' tests; in no default and not in
//!   the server's build): a store for tests; with `service`, also `MemoryMailer`, which keeps
//!   the messages sent for a test to read.
//! - `store_contract` (feature `store-contract`): the store contract suite every store must
//!   pass, and `store_contract_tests!` to run it as tests.
//!
//! # Verifying only
//! ```toml
//! auth-core = { version = "0.1", default-features = false }
//! ```
//! ```
//! use auth_core::{Algorithm, JwtKey, TokenKeys, TokenVerifier};
//!
//! // In a real service: TokenVerifier::from_jwks(&jwks_json, "auth-server", "auth-server").
//! let keys = TokenKeys::new(JwtKey::hmac(Algorithm::HS256, &[42u8; 32])?, "iss", "aud")?;
//! let verifier: TokenVerifier = keys.verifier();
//! assert!(verifier.verify("not a token").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Embedding the service
//! ```
//! # #[cfg(all(feature = "service", feature = "memory"))] {
//! use std::sync::Arc;
//! use auth_core::{
//!     Algorithm, AuthConfig, AuthService, JwtKey, LoginAttempt, MemoryStore, PasswordHasher,
//!     Registration, TokenKeys,
//! };
//! use auth_domain::{ClientInfo, Password};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let keys = TokenKeys::new(JwtKey::hmac(Algorithm::HS256, &[42u8; 32])?, "my-issuer", "my-api")?;
//! let service = AuthService::new(
//!     Arc::new(MemoryStore::new()),
//!     PasswordHasher::new(4)?, // use 12 or more outside tests
//!     &keys,
//!     AuthConfig::default(),
//! );
//! service
//!     .register(
//!         Registration {
//!             username: "alice".into(),
//!             password: Password::new("correct horse battery"),
//!             email: None,
//!         },
//!         ClientInfo::default(),
//!     )
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
//! let caller = service
//!     .authenticate(&tokens.access_token, ClientInfo::default())
//!     .await?;
//! assert_eq!(caller.user.username.as_str(), "alice");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! # }
//! ```
#![forbid(unsafe_code)]

mod keygen;
pub mod status_list;
mod token;

#[cfg(feature = "service")]
mod access_token;
#[cfg(feature = "service")]
mod admin;
#[cfg(feature = "service")]
mod api_keys;
#[cfg(feature = "service")]
mod audit;
#[cfg(feature = "service")]
mod cache;
#[cfg(feature = "service")]
mod config;
#[cfg(feature = "service")]
mod error;
#[cfg(feature = "service")]
mod hashing;
#[cfg(feature = "service")]
mod import;
#[cfg(feature = "service")]
mod lockout;
#[cfg(feature = "service")]
mod login;
#[cfg(feature = "service")]
mod mail;
#[cfg(feature = "service")]
mod maintenance;
#[cfg(feature = "service")]
mod mfa;
#[cfg(feature = "service")]
mod observer;
#[cfg(feature = "service")]
mod password;
#[cfg(feature = "service")]
mod profile;
#[cfg(feature = "service")]
mod published;
#[cfg(feature = "service")]
mod recovery;
#[cfg(feature = "service")]
mod revocation;
#[cfg(feature = "service")]
mod service;
#[cfg(feature = "service")]
mod sessions;
#[cfg(feature = "service")]
mod strength;
#[cfg(feature = "service")]
mod verification;

#[cfg(feature = "memory")]
mod memory;
#[cfg(feature = "store-contract")]
pub mod store_contract;

pub use keygen::{PemKeyPair, generate_key_pair};
#[cfg(feature = "status-list")]
pub use status_list::{StatusChecker, UreqFetcher};
pub use status_list::{StatusList, StatusListClaims};
pub use token::{
    Algorithm, JwtKey, KeyError, MAX_TOKEN_BYTES, RefreshToken, SUPPORTED_ALGORITHMS, TokenError,
    TokenIssuer, TokenKeys, TokenVerifier, min_hmac_secret_len,
};

#[cfg(feature = "memory")]
pub use memory::MemoryStore;

#[cfg(all(feature = "service", feature = "memory"))]
pub use mail::MemoryMailer;

#[cfg(feature = "service")]
pub use {
    access_token::status_list_uri,
    admin::{Actor, AdminOutcome, MAX_PAGE, Page},
    api_keys::API_KEY_PREFIX,
    cache::{CacheConfig, CredentialCache},
    config::AuthConfig,
    error::{AuthError, cause_chain},
    hashing::HashPoolConfig,
    import::{ImportOutcome, ImportedUser, is_importable_bcrypt},
    login::LoginAttempt,
    mail::{
        EmailChange, EmailChangedNotice, EmailVerification, Mail, MailKind, MailTemplates, Mailer,
        Message, MfaChange, MfaChangedNotice, NoMailer, PasswordChange, PasswordChangedNotice,
        PasswordReset, TemplateError, TemplatePart,
    },
    maintenance::Retention,
    mfa::{MfaConfig, MfaKey, MfaKeyError, MfaToken, RecoveryCodes, SecondFactor, TotpSetup},
    observer::{Observer, Outcome},
    password::{HashError, PasswordHasher, bcrypt_cost},
    profile::{ProfileUpdate, Registration},
    published::{PublishedStatusList, PublishedStatusLists, STATUS_LIST_SIZE, StatusListWindow},
    recovery::{ForgottenAccount, MailSetup},
    service::AuthService,
    sessions::{Credential, LogoutScope, Principal, TokenPair},
};
