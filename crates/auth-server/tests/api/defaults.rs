//! The library defaults (`HttpSettings::default()`, `AuthConfig::default()`) are what the server
//! runs with when nothing is configured: `config/default.toml` read by the server's settings
//! loading and turned into the state by `startup::build_state`, compared field by field.

use auth_actix::HttpSettings;
use auth_core::{AuthConfig, MfaConfig, TokenKeys};
use auth_diesel::testing::TestDatabase;
use auth_server::{
    settings::{AppEnv, Settings},
    startup,
};

#[test]
fn library_defaults_are_the_servers_defaults() {
    let database = TestDatabase::sqlite();
    // Only what has no default (or must not touch the working folder) is set.
    let settings = Settings::load(
        AppEnv::Development,
        &[
            ("database.url", database.url()),
            ("jwt.secret", "test-secret-that-is-long-enough-for-hs256!"),
            (
                "mfa.encryption_key",
                "6d1f3a9c0be24e7d85a1c3f09b7e2d4a6c8e0f1a3b5d7f9e2c4a6b8d0f1e3c5a",
            ),
        ],
    )
    .unwrap();
    assert_eq!(settings.jwt.leeway_secs, TokenKeys::DEFAULT_LEEWAY_SECS);
    let state = startup::build_state(&settings, AppEnv::Development).unwrap();

    // Destructured without `..`: a new field fails to compile here until it is compared.
    let HttpSettings {
        max_body_bytes,
        body_timeout,
        trusted_proxies,
        api_key_header,
        rate_limit_per_minute,
        rate_limit_store,
        public_url,
        cors_allowed_origins,
        metrics,
        status_list_ttl_secs,
    } = HttpSettings::default();
    assert_eq!(state.http.max_body_bytes, max_body_bytes);
    assert_eq!(state.http.body_timeout, body_timeout);
    assert_eq!(state.http.trusted_proxies, trusted_proxies);
    assert_eq!(state.http.api_key_header, api_key_header);
    assert_eq!(state.http.rate_limit_per_minute, rate_limit_per_minute);
    // On SQLite (this database), as on a single instance: in the process.
    assert_eq!(state.http.rate_limit_store, rate_limit_store);
    assert_eq!(state.http.public_url, public_url);
    assert_eq!(state.http.cors_allowed_origins, cors_allowed_origins);
    assert_eq!(state.http.metrics, metrics);
    assert_eq!(state.http.status_list_ttl_secs, status_list_ttl_secs);
    assert!(state.metrics().is_none());

    let AuthConfig {
        access_ttl,
        min_access_ttl,
        max_access_ttl,
        password_min_length,
        session_idle_ttl,
        session_max_lifetime,
        refresh_reuse_grace,
        password_min_strength,
        lockout,
        user_lockout,
        cache,
        hashing,
        max_verify_cost,
        mfa,
        require_verified_email,
    } = AuthConfig::default();
    let loaded = state.service.config();
    assert_eq!(loaded.access_ttl, access_ttl);
    assert_eq!(loaded.min_access_ttl, min_access_ttl);
    assert_eq!(loaded.max_access_ttl, max_access_ttl);
    assert_eq!(loaded.password_min_length, password_min_length);
    assert_eq!(loaded.session_idle_ttl, session_idle_ttl);
    assert_eq!(loaded.session_max_lifetime, session_max_lifetime);
    assert_eq!(loaded.refresh_reuse_grace, refresh_reuse_grace);
    assert_eq!(loaded.password_min_strength, password_min_strength);
    // Whole policies: `LockoutPolicy` compares every field.
    assert_eq!(loaded.lockout, lockout);
    assert_eq!(loaded.user_lockout, user_lockout);
    assert_eq!(loaded.cache, cache);
    assert_eq!(loaded.hashing, hashing);
    assert_eq!(loaded.max_verify_cost, max_verify_cost);
    assert_eq!(loaded.require_verified_email, require_verified_email);
    let MfaConfig {
        issuer,
        token_ttl,
        max_code_failures,
        encryption_key,
    } = mfa;
    assert_eq!(loaded.mfa.issuer, issuer);
    assert_eq!(loaded.mfa.token_ttl, token_ttl);
    assert_eq!(loaded.mfa.max_code_failures, max_code_failures);
    // The one difference: the library has no key to default to; the server always has one.
    assert!(encryption_key.is_none());
    assert!(loaded.mfa.encryption_key.is_some());
}
