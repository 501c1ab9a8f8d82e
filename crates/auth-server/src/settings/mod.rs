//! Settings: `config/default.toml` (compiled in), then `config/{AUTH_ENV}.toml`, then
//! `AUTH__SECTION__KEY` environment variables.
//!
//! Environment variables are strings, used verbatim: never parsed into numbers or booleans on
//! the way in. Each number or boolean setting is read strictly (module `strict`) and checked
//! against its range, so a mistyped value stops the server instead of meaning something else.

mod errors;
mod mail;
mod mfa;
mod operations;
mod public_url;
mod secret;
mod smtp_url;
mod strict;

use std::{net::IpAddr, path::PathBuf, str::FromStr};

use anyhow::{Context, bail};
use config::{Config, Environment, File, FileFormat};
use serde::Deserialize;

pub use mail::{DEFAULT_FROM, MailSettings, MailTransport, SmtpTls};
pub use mfa::MfaSettings;
pub use operations::{
    AuditSettings, LogFormat, LogSettings, MaintenanceSettings, MetricsSettings, StatusListSettings,
};
pub use secret::{MIN_HMAC_SECRET_BITS, Secret, estimated_bits, hmac_secret_weakness};
pub use smtp_url::SmtpUrl;

const DEFAULTS: &str = include_str!("../../../../config/default.toml");

/// Ten years, in seconds: the longest duration any setting accepts (longer ones would overflow
/// date arithmetic, and mean nothing for an auth server).
const MAX_SECS: i128 = 315_360_000;
const U32_MAX: i128 = u32::MAX as i128;

/// The sections of the settings; each must be a table.
const SECTIONS: [&str; 13] = [
    "server",
    "database",
    "jwt",
    "password",
    "session",
    "security",
    "cache",
    "log",
    "metrics",
    "maintenance",
    "audit",
    "mfa",
    "mail",
];

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
    /// `[log]`
    pub log: LogSettings,
    /// `[metrics]`
    pub metrics: MetricsSettings,
    /// `[maintenance]`
    pub maintenance: MaintenanceSettings,
    /// `[audit]`
    pub audit: AuditSettings,
    /// The overlay file that was read (`config/{AUTH_ENV}.toml`), if there was one.
    #[serde(skip)]
    pub overlay: Option<PathBuf>,
    /// `[mfa]`
    pub mfa: MfaSettings,
    /// `[mail]`
    pub mail: MailSettings,
    /// `[status_list]`
    pub status_list: StatusListSettings,
}

/// `[server]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address.
    #[serde(deserialize_with = "strict::text")]
    pub host: String,
    /// Listen port (0 to 65535); 0 picks a free one.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 65535>")]
    pub port: u16,
    /// actix workers, 1 to 1024; default: the number of cores.
    #[serde(default, deserialize_with = "strict::option_int::<_, _, 1, 1024>")]
    pub workers: Option<usize>,
    /// Larger bodies get 413; 1 byte to 1 GiB.
    #[serde(deserialize_with = "strict::int::<_, _, 1, 1_073_741_824>")]
    pub max_body_bytes: usize,
    /// A request body not all there this long after its route starts reading it gets 408 and
    /// its connection is closed; 1 s to 1 hour.
    #[serde(deserialize_with = "strict::int::<_, _, 1, 3600>")]
    pub body_timeout_secs: u64,
    /// Open connections each worker serves at once (actix's `max_connections`); beyond it new
    /// ones wait to be accepted. 1 to 1,000,000.
    #[serde(deserialize_with = "strict::int::<_, _, 1, 1_000_000>")]
    pub max_connections: usize,
    /// Peers whose `X-Forwarded-For` is believed (comma-separated in the environment).
    #[serde(deserialize_with = "strict::list")]
    pub trusted_proxies: Vec<IpAddr>,
    /// The absolute `http(s)://` URL clients reach the server at, for the URLs of the RFC 8414
    /// metadata; default: from each request's `Host`.
    #[serde(default, deserialize_with = "strict::option_text")]
    pub public_url: Option<String>,
    /// Origins whose browser apps may call the API (CORS; comma-separated in the environment);
    /// empty: no CORS headers.
    #[serde(deserialize_with = "strict::list")]
    pub cors_allowed_origins: Vec<String>,
}

/// `[database]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://...`. Treated as a secret: it may hold a password.
    pub url: Secret,
    /// r2d2 pool size, 1 to 1024.
    #[serde(deserialize_with = "strict::int::<_, _, 1, 1024>")]
    pub pool_size: u32,
}

/// `[jwt]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtSettings {
    /// Algorithm of the signing key: HS256/384/512, RS256/384/512, PS256/384/512, ES256,
    /// ES384 or EdDSA.
    #[serde(deserialize_with = "strict::text")]
    pub algorithm: String,
    /// The HMAC secret (HS*); required in production.
    pub secret: Option<Secret>,
    /// Where a development HMAC secret is generated and kept.
    #[serde(deserialize_with = "strict::text")]
    pub secret_file: PathBuf,
    /// PEM private key of the signing key (asymmetric algorithms).
    #[serde(default, deserialize_with = "strict::option_text")]
    pub private_key_file: Option<PathBuf>,
    /// PEM public key of the signing key (optional: derived from the private key).
    #[serde(default, deserialize_with = "strict::option_text")]
    pub public_key_file: Option<PathBuf>,
    /// Extra keys that only verify (key rotation).
    #[serde(deserialize_with = "strict::not_from_text")]
    pub keys: Vec<ExtraKey>,
    /// `iss`.
    #[serde(deserialize_with = "strict::text")]
    pub issuer: String,
    /// `aud`.
    #[serde(deserialize_with = "strict::text")]
    pub audience: String,
    /// Default access-token lifetime. Every duration is 1 s to 10 years unless said otherwise.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub access_ttl_secs: i64,
    /// Shortest lifetime a client may ask for.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub min_access_ttl_secs: i64,
    /// Longest lifetime a client may ask for.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub max_access_ttl_secs: i64,
    /// Clock leeway for `exp`/`nbf`, 0 to 3600 s.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 3600>")]
    pub leeway_secs: u64,
}

/// An entry of `jwt.keys`: a key that verifies tokens but never signs them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraKey {
    /// Its key id; default: derived from the key (as the server names it when signing).
    #[serde(default, deserialize_with = "strict::option_text")]
    pub kid: Option<String>,
    /// Its algorithm.
    #[serde(deserialize_with = "strict::text")]
    pub algorithm: String,
    /// The HMAC secret (HS*).
    pub secret: Option<Secret>,
    /// PEM private key (asymmetric; only the public half is used).
    #[serde(default, deserialize_with = "strict::option_text")]
    pub private_key_file: Option<PathBuf>,
    /// PEM public key (asymmetric).
    #[serde(default, deserialize_with = "strict::option_text")]
    pub public_key_file: Option<PathBuf>,
    /// Must be true (the default): only the key of `jwt.algorithm` signs.
    #[serde(default, deserialize_with = "strict::option_bool")]
    pub verify_only: Option<bool>,
}

/// `[password]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordSettings {
    /// bcrypt cost, 4 to 31; at least 10 in production.
    #[serde(deserialize_with = "strict::int::<_, _, 4, 31>")]
    pub bcrypt_cost: u32,
    /// The highest cost of a stored hash that is verified, 4 to 16 (and at least
    /// `bcrypt_cost`): a login against a costlier one fails as a wrong password does, without
    /// running bcrypt, and `import-users` refuses such a hash.
    #[serde(deserialize_with = "strict::int::<_, _, 4, 16>")]
    pub max_verify_cost: u32,
    /// Fewest characters of a new password, 1 to 72 (bcrypt uses at most 72 bytes).
    #[serde(deserialize_with = "strict::int::<_, _, 1, 72>")]
    pub min_length: usize,
    /// Least zxcvbn score (0–4) of a new password; 0 disables the check.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 4>")]
    pub min_strength: u8,
    /// Threads of the hashing pool, 1 to 1024; default: the number of cores.
    #[serde(default, deserialize_with = "strict::option_int::<_, _, 1, 1024>")]
    pub hash_threads: Option<usize>,
    /// Password operations that may wait for a hashing thread (0 to 1,000,000); beyond them,
    /// 503 at once.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 1_000_000>")]
    pub max_queued_hashes: usize,
}

/// `[cache]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// The most sessions (and API keys) the in-process credential cache holds; 0 turns it off.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 100_000_000>")]
    pub max_entries: u64,
    /// No cached credential is trusted longer than this (0 to 3600 s); 0 turns the cache off.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 3600>")]
    pub max_age_secs: u64,
}

/// `[session]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSettings {
    /// A session ends after this long without a refresh.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub idle_ttl_secs: i64,
    /// A session ends this long after login.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub max_lifetime_secs: i64,
    /// Window in which a rotated refresh token may be presented again, 0 to 3600 s.
    #[serde(deserialize_with = "strict::int::<_, _, 0, 3600>")]
    pub refresh_reuse_grace_secs: i64,
}

/// `[security]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Failures before an account is throttled.
    #[serde(deserialize_with = "strict::int::<_, _, 1, U32_MAX>")]
    pub max_failed_logins: u32,
    /// First lock after `max_failed_logins` failures; doubles with each further failure.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub lockout_secs: i64,
    /// The longest lock.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub max_lockout_secs: i64,
    /// A client's failure count on a username is forgotten after this long without failures.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub failure_decay_secs: i64,
    /// Failures on one username from all clients before it is locked for everyone.
    #[serde(deserialize_with = "strict::int::<_, _, 1, U32_MAX>")]
    pub max_failed_logins_per_user: u32,
    /// The all-clients failure count is forgotten after this long without failures.
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_SECS>")]
    pub user_failure_window_secs: i64,
    /// Per-client-IP limit on the routes that take credentials (logins, the second step, the
    /// API-key exchange, the confirmation of a second factor, token, register, refresh,
    /// revoke); 0 disables it.
    #[serde(deserialize_with = "strict::int::<_, _, 0, U32_MAX>")]
    pub rate_limit_per_minute: u32,
    /// Where those limits are kept: `memory` (each instance by itself) or `database` (one
    /// budget across the instances on the database); unset: see [`Self::rate_limit_store`].
    #[serde(
        default,
        rename = "rate_limit_store",
        deserialize_with = "operations::option_rate_limit_store"
    )]
    pub configured_rate_limit_store: Option<auth_actix::RateLimitStorage>,
    /// Header that carries an API key; must be a valid header name.
    #[serde(deserialize_with = "strict::text")]
    pub api_key_header: String,
    /// Whether accounts need a verified address: registration then needs an email, and a login
    /// to an unverified account answers 403 `email_not_verified` (after the right password).
    #[serde(deserialize_with = "strict::boolean")]
    pub require_verified_email: bool,
}

impl SecuritySettings {
    /// `security.rate_limit_store`, or its default on `backend`: `database` on PostgreSQL
    /// (whose deployments may run several instances), `memory` on SQLite.
    pub fn rate_limit_store(&self, backend: auth_diesel::Backend) -> auth_actix::RateLimitStorage {
        self.configured_rate_limit_store.unwrap_or(match backend {
            auth_diesel::Backend::Postgres => auth_actix::RateLimitStorage::Database,
            auth_diesel::Backend::Sqlite => auth_actix::RateLimitStorage::Memory,
        })
    }
}

impl Settings {
    /// Loads the settings for `env`, reading the overlay `{env}.toml` from `config` (or the
    /// folder `AUTH_CONFIG_DIR` names, which must exist), then `AUTH__...` variables, then
    /// `overrides` (for tests; values are strings, as in environment variables).
    pub fn load(env: AppEnv, overrides: &[(&str, &str)]) -> anyhow::Result<Self> {
        errors::refuse_non_unicode_variables()?;
        let overlay = operations::overlay_file(env)?;
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        if let Some(overlay) = &overlay {
            builder = builder.add_source(File::from(overlay.as_path()).format(FileFormat::Toml));
        }
        builder = builder.add_source(
            // No `try_parsing`: it turned an all-digit secret into a float and "007" into
            // 7. Values stay strings; `strict` reads numbers, booleans and lists from them.
            Environment::with_prefix("AUTH")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(false),
        );
        for (key, value) in overrides {
            builder = builder.set_override(*key, *value)?;
        }
        let config = builder.build().context("cannot read the settings")?;
        errors::refuse_non_table_sections(&config, &SECTIONS)?;
        let mut settings: Settings = config.try_deserialize().map_err(errors::explain)?;
        settings.check(env)?;
        settings.overlay = overlay;
        Ok(settings)
    }

    /// What is allowed but unwise, for the log (which is set up from these settings, so they
    /// cannot log it themselves).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.password.bcrypt_cost < 10 {
            warnings.push(format!(
                "password.bcrypt_cost is {}, below 10: acceptable for tests only",
                self.password.bcrypt_cost
            ));
        }
        warnings
    }

    fn check(&self, env: AppEnv) -> anyhow::Result<()> {
        let jwt = &self.jwt;
        if !(jwt.min_access_ttl_secs..=jwt.max_access_ttl_secs).contains(&jwt.access_ttl_secs) {
            bail!("jwt: need min_access_ttl_secs <= access_ttl_secs <= max_access_ttl_secs");
        }
        if self.security.max_lockout_secs < self.security.lockout_secs {
            bail!("security: need lockout_secs <= max_lockout_secs");
        }
        actix_web::http::header::HeaderName::from_str(&self.security.api_key_header).map_err(
            |_| {
                anyhow::anyhow!(
                    "invalid setting security.api_key_header (AUTH__SECURITY__API_KEY_HEADER): \
                     {:?} is not an HTTP header name",
                    self.security.api_key_header
                )
            },
        )?;
        if let Some(url) = &self.server.public_url {
            public_url::check(url)?;
        }
        self.mfa.check()?;
        self.mail.check(env)?;
        if self.password.bcrypt_cost < 10 && env == AppEnv::Production {
            bail!(
                "password.bcrypt_cost is {}; production needs at least 10 (12 recommended)",
                self.password.bcrypt_cost
            );
        }
        if self.password.bcrypt_cost > self.password.max_verify_cost {
            bail!(
                "password.bcrypt_cost ({}) is above password.max_verify_cost ({}): new hashes \
                 could never be verified; raise password.max_verify_cost (AUTH__PASSWORD__MAX_VERIFY_COST)",
                self.password.bcrypt_cost,
                self.password.max_verify_cost
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
