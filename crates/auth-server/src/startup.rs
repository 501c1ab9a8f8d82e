//! Wiring: the store, the keys, the service and the HTTP server. Nothing else.

use std::{fs, io::Write, net::SocketAddr, path::Path, sync::Arc};

use actix_web::{HttpServer, dev::Server};
use anyhow::{Context, bail};
use auth_actix::{AuthState, HttpSettings};
use auth_core::{
    Algorithm, AuthConfig, AuthService, JwtKey, PasswordHasher, TokenIssuer, TokenVerifier,
    min_hmac_secret_len,
};
use auth_diesel::DieselStore;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;

use crate::settings::{AppEnv, Settings};

/// A new random HMAC secret: 64 random bytes, base64url (enough for HS512).
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness");
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hmac_algorithm(name: &str) -> anyhow::Result<Algorithm> {
    match name {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        other => bail!("jwt.algorithm {other:?} is not supported; use HS256, HS384 or HS512"),
    }
}

/// The HMAC secret: `jwt.secret`, or (outside production) the one kept in `jwt.secret_file`,
/// generated there with mode 0600 on first start.
fn hmac_secret(settings: &Settings, env: AppEnv) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt.secret {
        return Ok(secret.expose().as_bytes().to_vec());
    }
    if env == AppEnv::Production {
        bail!(
            "jwt.secret is required in production: set AUTH__JWT__SECRET \
             (`auth-server gen-secret` prints a strong one)"
        );
    }
    let path = &settings.jwt.secret_file;
    if path.exists() {
        let secret = fs::read_to_string(path)
            .with_context(|| format!("cannot read the JWT secret file {}", path.display()))?;
        return Ok(secret.trim().as_bytes().to_vec());
    }
    let secret = generate_secret();
    write_private_file(path, &secret)
        .with_context(|| format!("cannot write the JWT secret file {}", path.display()))?;
    tracing::warn!(
        path = %path.display(),
        "generated a new JWT signing secret; set jwt.secret (AUTH__JWT__SECRET) in production"
    );
    Ok(secret.into_bytes())
}

/// Creates `path` (and its folder) readable by its owner only.
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

/// The signing key from the settings.
pub fn signing_key(settings: &Settings, env: AppEnv) -> anyhow::Result<JwtKey> {
    let algorithm = hmac_algorithm(&settings.jwt.algorithm)?;
    let secret = hmac_secret(settings, env)?;
    JwtKey::hmac(algorithm, &secret).with_context(|| {
        format!(
            "jwt.secret is too short for {}: use at least {} random bytes (`auth-server gen-secret`)",
            settings.jwt.algorithm,
            min_hmac_secret_len(algorithm).unwrap_or_default()
        )
    })
}

/// Opens the store (applying migrations).
pub fn open_store(settings: &Settings) -> anyhow::Result<DieselStore> {
    DieselStore::connect(settings.database.url.expose(), settings.database.pool_size)
        .context("cannot open the database")
}

/// Builds the service and HTTP state from the settings. Blocking (opens the database).
pub fn build_state(settings: &Settings, env: AppEnv) -> anyhow::Result<AuthState> {
    let store = Arc::new(open_store(settings)?);
    let key = Arc::new(signing_key(settings, env)?);
    let jwt = &settings.jwt;
    let config = AuthConfig {
        access_ttl: TimeDelta::seconds(jwt.access_ttl_secs),
        min_access_ttl: TimeDelta::seconds(jwt.min_access_ttl_secs),
        max_access_ttl: TimeDelta::seconds(jwt.max_access_ttl_secs),
        password_min_length: settings.password.min_length,
        session_idle_ttl: TimeDelta::seconds(settings.session.idle_ttl_secs),
        session_max_lifetime: TimeDelta::seconds(settings.session.max_lifetime_secs),
        refresh_reuse_grace: TimeDelta::seconds(settings.session.refresh_reuse_grace_secs),
    };
    let service = AuthService::new(
        store,
        PasswordHasher::new(settings.password.bcrypt_cost).context("password.bcrypt_cost")?,
        TokenIssuer::new(key.clone(), &jwt.issuer, &jwt.audience),
        TokenVerifier::new([key], &jwt.issuer, &jwt.audience).with_leeway(jwt.leeway_secs),
        config,
    );
    Ok(AuthState {
        service,
        http: HttpSettings {
            max_body_bytes: settings.server.max_body_bytes,
            trusted_proxies: settings.server.trusted_proxies.clone(),
        },
    })
}

/// Binds the HTTP server; returns it with the addresses it listens on.
pub fn bind(settings: &Settings, state: AuthState) -> anyhow::Result<(Server, Vec<SocketAddr>)> {
    let workers = settings
        .server
        .workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let server = HttpServer::new(move || auth_actix::app(state.clone()))
        .workers(workers)
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
