//! The settings of running the server rather than of authentication: logging, metrics,
//! maintenance and the audit log's retention, where the rate limits are kept; and where the
//! overlay file is found.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
};

use anyhow::bail;
use auth_actix::RateLimitStorage;
use serde::{Deserialize, Deserializer, de};

use super::{AppEnv, MAX_SECS, strict};

/// `deserialize_with` for `security.rate_limit_store`: unset (the database's default), or
/// `"memory"` or `"database"`.
pub(super) fn option_rate_limit_store<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<RateLimitStorage>, D::Error> {
    const EXPECTED: &str = "expected \"memory\" or \"database\"";
    match Option::<strict::Raw>::deserialize(d)? {
        None | Some(strict::Raw::Nothing) => Ok(None),
        Some(strict::Raw::Str(word)) => match word.as_str() {
            "memory" => Ok(Some(RateLimitStorage::Memory)),
            "database" => Ok(Some(RateLimitStorage::Database)),
            _ => Err(de::Error::custom(format!("{EXPECTED}, got {word:?}"))),
        },
        Some(other) => Err(de::Error::custom(format!("{EXPECTED}, got {other}"))),
    }
}

/// The longest retention, in days (100 years).
const MAX_DAYS: i128 = 36_500;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One line of text per event, for people (the default).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err("expected \"text\" or \"json\"".into()),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// `[log]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// `text` (default) or `json`: one JSON object per line, start-up and shutdown included.
    #[serde(deserialize_with = "strict::parsed")]
    pub format: LogFormat,
}

/// `[metrics]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Record metrics and serve them at `GET /metrics` (Prometheus text format); default off.
    #[serde(deserialize_with = "strict::boolean")]
    pub enabled: bool,
}

/// `[status_list]`: the Token Status Lists published at `GET /statuslists/{id}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusListSettings {
    /// The lists' `ttl` and `Cache-Control: max-age`, in seconds (1 to 1 hour): how long a
    /// verifier may use a list before fetching it again, so the longest a revocation takes to
    /// reach it; default 2.
    #[serde(deserialize_with = "strict::int::<_, _, 1, 3600>")]
    pub ttl_secs: u64,
}

/// `[maintenance]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceSettings {
    /// Seconds between two prunes by the server (0 to 10 years); 0 disables them
    /// (`auth-server prune` still works).
    #[serde(deserialize_with = "strict::int::<_, _, 0, MAX_SECS>")]
    pub prune_interval_secs: u64,
    /// Days an ended session is kept before a prune removes it with its refresh tokens
    /// (1 to 36500).
    #[serde(deserialize_with = "strict::int::<_, _, 1, MAX_DAYS>")]
    pub session_retention_days: i64,
}

/// `[audit]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettings {
    /// Days an audit event is kept before a prune removes it (0 to 36500); 0 keeps them all.
    #[serde(deserialize_with = "strict::int::<_, _, 0, MAX_DAYS>")]
    pub retention_days: i64,
}

/// The overlay file for `env`: `{AUTH_CONFIG_DIR or config}/{env}.toml`, if it exists. A folder
/// named by `AUTH_CONFIG_DIR` must exist (a mistyped one would silently mean "defaults only");
/// the default `config` folder may be missing.
pub(super) fn overlay_file(env: AppEnv) -> anyhow::Result<Option<PathBuf>> {
    let named = std::env::var_os("AUTH_CONFIG_DIR");
    let dir = named.as_ref().map_or(Path::new("config"), Path::new);
    if named.is_some() && !dir.is_dir() {
        bail!(
            "AUTH_CONFIG_DIR is {}, which is not a folder: point it at the folder that holds \
             {}.toml (or unset it to use ./config)",
            dir.display(),
            env.as_str()
        );
    }
    let file = dir.join(format!("{}.toml", env.as_str()));
    Ok(file.is_file().then_some(file))
}

#[cfg(test)]
mod tests {
    use super::super::{AppEnv, Settings};
    use super::LogFormat;

    #[test]
    fn operations_settings_have_their_documented_defaults_and_ranges() {
        let settings = Settings::load(AppEnv::Test, &[]).unwrap();
        assert_eq!(settings.log.format, LogFormat::Text);
        assert!(!settings.metrics.enabled);
        assert_eq!(settings.maintenance.prune_interval_secs, 3600);
        assert_eq!(settings.maintenance.session_retention_days, 30);
        assert_eq!(settings.audit.retention_days, 365);
        for (key, value, expected) in [
            ("log.format", "JSON", "\"text\" or \"json\""),
            ("metrics.enabled", "yes", "true or false"),
            ("maintenance.prune_interval_secs", "-1", "an integer from 0"),
            (
                "maintenance.session_retention_days",
                "0",
                "an integer from 1",
            ),
            (
                "audit.retention_days",
                "36501",
                "an integer from 0 to 36500",
            ),
        ] {
            let err = format!(
                "{:#}",
                Settings::load(AppEnv::Test, &[(key, value)]).unwrap_err()
            );
            assert!(err.contains(key) && err.contains(expected), "{err}");
        }
        let settings = Settings::load(
            AppEnv::Test,
            &[("log.format", "json"), ("metrics.enabled", "true")],
        )
        .unwrap();
        assert_eq!(settings.log.format, LogFormat::Json);
        assert!(settings.metrics.enabled);
    }
}
