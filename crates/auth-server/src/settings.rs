//! Settings: `config/default.toml` (compiled in), then `config/{AUTH_ENV}.toml`, then
//! `AUTH__SECTION__KEY` environment variables.

use std::{fmt, net::IpAddr, path::PathBuf, str::FromStr};

use anyhow::{Context, bail};
use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Settings that are lists: comma-separated in environment variables and overrides.
const LIST_KEYS: [&str; 2] = ["server.trusted_proxies", "server.cors_allowed_origins"];

/// The environment a process runs in; picks the overlay file and the production checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// The default: generated secret, lenient checks.
    Development,
    /// Refuses weak or missing secrets and low bcrypt costs.
    Production,
    /// Fast hashing for tests.
    Test,
}

impl AppEnv {
    /// Reads `AUTH_ENV` (default `development`).
    pub fn from_env() -> anyhow::Result<Self> {
        std::env::var("AUTH_ENV")
            .unwrap_or_else(|_| "development".into())
            .parse()
    }

    /// The overlay file's stem.
    pub fn as_str(self) -> &'static str {
        match self {
            AppEnv::Development => "development",
            AppEnv::Production => "production",
            AppEnv::Test => "test",
        }
    }
}

impl FromStr for AppEnv {
    type Err = anyhow::Error;

    fn from_str(raw: &str) -> anyhow::Result<Self> {
        match raw {
            "development" => Ok(AppEnv::Development),
            "production" => Ok(AppEnv::Production),
            "test" => Ok(AppEnv::Test),
            other => bail!("AUTH_ENV must be development, production or test, not {other:?}"),
        }
    }
}

/// A secret setting: its `Debug` prints nothing of it.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// All settings. Names are fixed: see docs/operations.md.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[server]`
    pub server: ServerSettings,
    /// `[database]`
    pub database: DatabaseSettings,
    /// `[jwt]`
    pub jwt: JwtSettings,
    /// `[password]`
    pub password: PasswordSettings,
    /// `[session]`
    pub session: SessionSettings,
    /// `[security]`
    pub security: SecuritySettings,
    /// `[cache]`
    pub cache: CacheSettings,
}

/// `[server]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    pub host: String,
    /// Listen port; 0 picks a free one.
    pub port: u16,
    /// actix workers; default: the number of cores.
    pub workers: Option<usize>,
    /// Larger bodies get 413.
    pub max_body_bytes: usize,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Origins whose browser apps may call the API (CORS); empty: no CORS headers.
    pub cors_allowed_origins: Vec<String>,
}

/// `[database]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`. Treated as a secret: it may hold a password.
    pub url: Secret,
    /// r2d2 pool size.
    pub pool_size: u32,
}

/// `[jwt]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// Algorithm of the signing key: HS256/384/512, RS256/384/512, PS256/384/512, ES256,
    /// ES384 or EdDSA.
    pub algorithm: String,
    /// The HMAC secret (HS*); required in production.
    pub secret: Option<Secret>,
    /// Where a development HMAC secret is generated and kept.
    pub secret_file: PathBuf,
    /// PEM private key of the signing key (asymmetric algorithms).
    pub private_key_file: Option<PathBuf>,
    /// PEM public key of the signing key (optional: derived from the private key).
    pub public_key_file: Option<PathBuf>,
    /// Extra keys that only verify (key rotation).
    pub keys: Vec<ExtraKey>,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// Default access-token lifetime.
    pub access_ttl_secs: i64,
    /// Shortest lifetime a client may ask for.
    pub min_access_ttl_secs: i64,
    /// Longest lifetime a client may ask for.
    pub max_access_ttl_secs: i64,
    /// Clock leeway for `exp`/`nbf`.
    pub leeway_secs: u64,
}

/// An entry of `jwt.keys`: a key that verifies tokens but never signs them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraKey {
    /// Its key id; default: derived from the key (as the server names it when signing).
    pub kid: Option<String>,
    /// Its algorithm.
    pub algorithm: String,
    /// The HMAC secret (HS*).
    pub secret: Option<Secret>,
    /// PEM private key (asymmetric; only the public half is used).
    pub private_key_file: Option<PathBuf>,
    /// PEM public key (asymmetric).
    pub public_key_file: Option<PathBuf>,
    /// Must be true (the default): only the key of `jwt.algorithm` signs.
    pub verify_only: Option<bool>,
}

/// `[password]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    /// bcrypt cost; at least 10 in production.
    pub bcrypt_cost: u32,
    /// Fewest characters of a new password.
    pub min_length: usize,
    /// Least zxcvbn score (0–4) of a new password; 0 disables the check.
    pub min_strength: u8,
    /// Threads of the hashing pool; default: the number of cores.
    pub hash_threads: Option<usize>,
    /// Password operations that may wait for a hashing thread; beyond them, 503.
    pub max_queued_hashes: usize,
}

/// `[cache]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// The most sessions (and API keys) the in-process credential cache holds; 0 turns it off.
    pub max_entries: u64,
    /// No cached credential is trusted longer than this; 0 turns the cache off.
    pub max_age_secs: u64,
}

/// `[session]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// A session ends after this long without a refresh.
    pub idle_ttl_secs: i64,
    /// A session ends this long after login.
    pub max_lifetime_secs: i64,
    /// Window in which a rotated refresh token may be presented again.
    pub refresh_reuse_grace_secs: i64,
}

/// `[security]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Failures before an account is throttled.
    pub max_failed_logins: u32,
    /// First lock after `max_failed_logins` failures; doubles with each further failure.
    pub lockout_secs: i64,
    /// The longest lock.
    pub max_lockout_secs: i64,
    /// A client's failure count on a username is forgotten after this long without failures.
    pub failure_decay_secs: i64,
    /// Failures on one username from all clients before it is locked for everyone.
    pub max_failed_logins_per_user: u32,
    /// The all-clients failure count is forgotten after this long without failures.
    pub user_failure_window_secs: i64,
    /// Per-client-IP limit on login, token, register and refresh.
    pub rate_limit_per_minute: u32,
    /// Header that carries an API key.
    pub api_key_header: String,
}

impl Settings {
    /// Loads the settings for `env`, reading the overlay from `config_dir` (default `config`,
    /// or `AUTH_CONFIG_DIR`), then `AUTH__...` variables, then `overrides` (for tests).
    pub fn load(env: AppEnv, overrides: &[(&str, &str)]) -> anyhow::Result<Self> {
        let config_dir = std::env::var("AUTH_CONFIG_DIR").unwrap_or_else(|_| "config".into());
        let overlay = PathBuf::from(config_dir).join(env.as_str());
        let mut builder = Config::builder()
            .add_source(File::from_str(DEFAULTS, FileFormat::Toml))
            .add_source(
                File::with_name(&overlay.to_string_lossy())
                    .format(FileFormat::Toml)
                    .required(false),
            )
            .add_source(
                Environment::with_prefix("AUTH")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key(LIST_KEYS[0])
                    .with_list_parse_key(LIST_KEYS[1])
                    .try_parsing(true),
            );
        for (key, value) in overrides {
            // List settings are comma-separated, as in their environment variables.
            builder = if LIST_KEYS.contains(key) {
                let items: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(ToOwned::to_owned)
                    .collect();
                builder.set_override(*key, items)?
            } else {
                builder.set_override(*key, *value)?
            };
        }
        let settings: Settings = builder
            .build()
            .context("cannot read the settings")?
            .try_deserialize()
            .context("invalid settings")?;
        settings.check(env)?;
        Ok(settings)
    }

    fn check(&self, env: AppEnv) -> anyhow::Result<()> {
        let jwt = &self.jwt;
        if !(1..=jwt.max_access_ttl_secs).contains(&jwt.min_access_ttl_secs)
            || !(jwt.min_access_ttl_secs..=jwt.max_access_ttl_secs).contains(&jwt.access_ttl_secs)
        {
            bail!("jwt: need 1 <= min_access_ttl_secs <= access_ttl_secs <= max_access_ttl_secs");
        }
        if self.session.idle_ttl_secs <= 0 || self.session.max_lifetime_secs <= 0 {
            bail!("session: idle_ttl_secs and max_lifetime_secs must be positive");
        }
        if self.password.min_strength > 4 {
            bail!("password.min_strength is zxcvbn's score: 0 (off) to 4");
        }
        if self.security.max_failed_logins == 0
            || self.security.lockout_secs <= 0
            || self.security.max_lockout_secs < self.security.lockout_secs
        {
            bail!("security: need max_failed_logins >= 1 and 0 < lockout_secs <= max_lockout_secs");
        }
        if self.password.min_length == 0 {
            bail!("password.min_length must be at least 1");
        }
        if self.password.bcrypt_cost < 10 {
            if env == AppEnv::Production {
                bail!(
                    "password.bcrypt_cost is {}; production needs at least 10 (12 recommended)",
                    self.password.bcrypt_cost
                );
            }
            tracing::warn!(
                cost = self.password.bcrypt_cost,
                "password.bcrypt_cost is below 10: acceptable for tests only"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_match_the_documented_values() {
        let settings = Settings::load(AppEnv::Development, &[]).unwrap();
        assert_eq!(settings.server.port, 8000);
        assert_eq!(settings.server.host, "127.0.0.1");
        assert_eq!(settings.server.max_body_bytes, 65536);
        assert_eq!(settings.jwt.algorithm, "HS256");
        assert_eq!(settings.jwt.access_ttl_secs, 900);
        assert_eq!(settings.jwt.leeway_secs, 5);
        assert_eq!(settings.password.bcrypt_cost, 12);
        assert_eq!(settings.session.idle_ttl_secs, 1_209_600);
        assert_eq!(settings.security.api_key_header, "X-API-Key");
        assert!(settings.jwt.secret.is_none());
    }

    #[test]
    fn overrides_take_precedence_and_secrets_do_not_print() {
        let settings = Settings::load(
            AppEnv::Development,
            &[
                ("jwt.secret", "super-secret-value"),
                ("server.port", "9001"),
            ],
        )
        .unwrap();
        assert_eq!(settings.server.port, 9001);
        assert!(!format!("{settings:?}").contains("super-secret-value"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = Settings::load(AppEnv::Development, &[("jwt.secrett", "x")]).unwrap_err();
        assert!(format!("{err:#}").contains("secrett"), "{err:#}");
    }

    #[test]
    fn production_refuses_a_low_bcrypt_cost() {
        let err = Settings::load(AppEnv::Production, &[("password.bcrypt_cost", "4")]).unwrap_err();
        assert!(err.to_string().contains("bcrypt_cost"), "{err}");
    }

    #[test]
    fn inconsistent_token_lifetimes_are_refused() {
        assert!(Settings::load(AppEnv::Development, &[("jwt.access_ttl_secs", "99999")]).is_err());
    }
}
