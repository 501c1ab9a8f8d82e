//! Wiring: the store, the keys, the service and the HTTP server. Nothing else.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use actix_web::{HttpServer, dev::Server};
use anyhow::Context;
use auth_actix::{AuthState, HttpSettings};
use auth_core::{
    AuthConfig, AuthService, CacheConfig, CredentialCache, HashPoolConfig, MfaConfig,
    PasswordHasher, PublishedStatusLists,
};
use auth_diesel::{DieselStore, Heard};
use auth_domain::LockoutPolicy;
use chrono::TimeDelta;

use crate::settings::{AppEnv, Settings};

pub use crate::keys::{
    create_private_dir, generate_secret, mfa_key, parse_algorithm, token_keys, write_key_pair,
};

/// Opens the store (applying migrations).
pub fn open_store(settings: &Settings) -> anyhow::Result<DieselStore> {
    DieselStore::connect(settings.database.url.expose(), settings.database.pool_size)
        .context("cannot open the database")
}

/// Builds the service and HTTP state from the settings. Blocking (opens the database).
pub fn build_state(settings: &Settings, env: AppEnv) -> anyhow::Result<AuthState> {
    for origin in &settings.server.cors_allowed_origins {
        auth_actix::check_cors_origin(origin)
            .map_err(|why| anyhow::anyhow!("server.cors_allowed_origins: {why}"))?;
    }
    let store = Arc::new(open_store(settings)?);
    let keys = token_keys(settings, env)?;
    let mfa_key = mfa_key(settings, env)?;
    let signing = keys.signing_key();
    tracing::info!(
        algorithm = ?signing.algorithm(),
        kid = signing.kid(),
        verify_only_keys = keys.verifier().kids().len() - 1,
        "signing key loaded"
    );
    let jwt = &settings.jwt;
    let config = AuthConfig {
        access_ttl: TimeDelta::seconds(jwt.access_ttl_secs),
        min_access_ttl: TimeDelta::seconds(jwt.min_access_ttl_secs),
        max_access_ttl: TimeDelta::seconds(jwt.max_access_ttl_secs),
        password_min_length: settings.password.min_length,
        session_idle_ttl: TimeDelta::seconds(settings.session.idle_ttl_secs),
        session_max_lifetime: TimeDelta::seconds(settings.session.max_lifetime_secs),
        refresh_reuse_grace: TimeDelta::seconds(settings.session.refresh_reuse_grace_secs),
        password_min_strength: settings.password.min_strength,
        lockout: LockoutPolicy {
            max_failures: settings.security.max_failed_logins,
            base_delay: TimeDelta::seconds(settings.security.lockout_secs),
            max_delay: TimeDelta::seconds(settings.security.max_lockout_secs),
            decay: TimeDelta::seconds(settings.security.failure_decay_secs),
        },
        user_lockout: LockoutPolicy {
            max_failures: settings.security.max_failed_logins_per_user,
            base_delay: TimeDelta::seconds(settings.security.lockout_secs),
            max_delay: TimeDelta::seconds(settings.security.max_lockout_secs),
            decay: TimeDelta::seconds(settings.security.user_failure_window_secs),
        },
        cache: CacheConfig {
            max_entries: settings.cache.max_entries,
            max_age: Duration::from_secs(settings.cache.max_age_secs),
        },
        hashing: HashPoolConfig {
            threads: settings
                .password
                .hash_threads
                .unwrap_or_else(|| HashPoolConfig::default().threads),
            max_queued: settings.password.max_queued_hashes,
        },
        max_verify_cost: settings.password.max_verify_cost,
        mfa: MfaConfig {
            issuer: settings.mfa.issuer.clone(),
            encryption_key: Some(mfa_key),
            ..MfaConfig::default()
        },
        require_verified_email: settings.security.require_verified_email,
    };
    let service = AuthService::new(
        store.clone(),
        PasswordHasher::new(settings.password.bcrypt_cost).context("password.bcrypt_cost")?,
        &keys,
        config,
    );
    listen_for_other_instances(&store, service.cache(), service.status_lists());
    let state = AuthState::new(
        service,
        HttpSettings {
            max_body_bytes: settings.server.max_body_bytes,
            body_timeout: std::time::Duration::from_secs(settings.server.body_timeout_secs),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            api_key_header: settings.security.api_key_header.clone(),
            rate_limit_per_minute: settings.security.rate_limit_per_minute,
            rate_limit_store: settings.security.rate_limit_store(store.backend()),
            public_url: settings.server.public_url.clone(),
            cors_allowed_origins: settings.server.cors_allowed_origins.clone(),
            metrics: settings.metrics.enabled,
            status_list_ttl_secs: settings.status_list.ttl_secs,
        },
    );
    if let Some(metrics) = state.metrics() {
        store_gauges(metrics, &store);
    }
    Ok(state)
}

/// The store's gauges, read at each scrape: its pool, and whether the database answers.
fn store_gauges(metrics: &auth_actix::Metrics, store: &Arc<DieselStore>) {
    let pool = |read: fn(auth_diesel::PoolState) -> u32| {
        let store = Arc::clone(store);
        move || f64::from(read(store.pool_state()))
    };
    metrics.sampled_gauge(
        "auth_store_connections_in_use",
        "Database connections callers hold now",
        pool(|state| state.in_use()),
    );
    metrics.sampled_gauge(
        "auth_store_connections_open",
        "Database connections open, idle or in use",
        pool(|state| state.connections),
    );
    metrics.sampled_gauge(
        "auth_store_connections_max",
        "The most database connections the pool opens (database.pool_size)",
        pool(|state| state.max_size),
    );
    let up = Arc::clone(store);
    metrics.sampled_gauge(
        "auth_store_up",
        "1 while the database answers, 0 during an outage",
        move || f64::from(u8::from(up.is_available())),
    );
}

/// Other processes (instances on PostgreSQL, the CLI beside the server on SQLite) may change
/// what this one caches: the cache is suspended until the listener hears the database, and
/// again whenever it loses it.
fn listen_for_other_instances(
    store: &DieselStore,
    cache: &CredentialCache,
    status_lists: &Arc<PublishedStatusLists>,
) {
    let cache = cache.clone();
    cache.suspend();
    // The published status lists likewise: rebuilt from the store at each request until the
    // listener hears the database, then updated from what it hears.
    status_lists.suspend();
    let status_lists = Arc::clone(status_lists);
    store.listen({
        let cache = cache.clone();
        move |heard| match heard {
            Heard::Connected => {
                tracing::info!("listening for other instances' changes; credential cache on");
                cache.resume();
                status_lists.resume();
            }
            Heard::Invalidated(what) => {
                cache.invalidate(what);
                status_lists.invalidate(what);
            }
            Heard::Lost => {
                cache.suspend();
                status_lists.suspend();
            }
        }
    });
}

/// Binds the HTTP server; returns it with the addresses it listens on.
pub fn bind(settings: &Settings, state: AuthState) -> anyhow::Result<(Server, Vec<SocketAddr>)> {
    let workers = settings
        .server
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let server = HttpServer::new(move || auth_actix::app(state.clone()))
        .workers(workers)
        // Per worker: beyond it, new connections wait in the kernel's backlog.
        .max_connections(settings.server.max_connections)
        .bind((settings.server.host.as_str(), settings.server.port))
        .with_context(|| {
            format!(
                "cannot listen on {}:{}",
                settings.server.host, settings.server.port
            )
        })?;
    let addrs = server.addrs();
    Ok((server.run(), addrs))
}
