//! How settings errors are worded: the setting (and its variable) first, and never a value
//! that may be a secret.

use anyhow::bail;
use config::{Config, ConfigError, Value, ValueKind};

/// A section given a value (`AUTH__JWT=...`): deserializing would print the value, which may
/// be a misplaced secret.
pub(super) fn refuse_non_table_sections(config: &Config, sections: &[&str]) -> anyhow::Result<()> {
    for section in sections {
        if let Ok(value) = config.get::<Value>(section)
            && !matches!(value.kind, ValueKind::Table(_))
        {
            bail!(
                "invalid setting {section}: it is a section, not a value; set its keys \
                 (e.g. AUTH__{}__KEY), the value given is not shown",
                section.to_ascii_uppercase()
            );
        }
    }
    Ok(())
}

/// Refuses a non-UTF-8 `AUTH__` variable: `config` would print its value, which may be a secret.
pub(super) fn refuse_non_unicode_variables() -> anyhow::Result<()> {
    for (key, value) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.to_ascii_uppercase().starts_with("AUTH__") && value.to_str().is_none() {
            bail!("the environment variable {key} is not UTF-8 (its value is not shown)");
        }
    }
    Ok(())
}

/// The environment variable of `key`, e.g. `AUTH__JWT__SECRET` for `jwt.secret`.
pub(super) fn variable_of(key: &str) -> Option<String> {
    let (section, name) = key.split_once('.')?;
    let simple = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    (simple(section) && simple(name))
        .then(|| format!("AUTH__{}__{}", section, name).to_ascii_uppercase())
}

/// Names the setting (and its variable) first: "invalid setting server.workers
/// (AUTH__SERVER__WORKERS): expected an integer from 1 to 1024, got "0"".
pub(super) fn explain(err: ConfigError) -> anyhow::Error {
    let (key, message) = match &err {
        ConfigError::At {
            error,
            key: Some(key),
            ..
        } => (key.clone(), error.to_string()),
        ConfigError::Type {
            unexpected,
            expected,
            key: Some(key),
            ..
        } => (
            key.clone(),
            format!("expected {expected}, got {unexpected}"),
        ),
        _ => return anyhow::Error::new(err).context("invalid settings"),
    };
    // `config` writes `jwt.keys[0]verify_only`; put the dot back.
    let mut dotted = String::with_capacity(key.len() + 2);
    let mut after_bracket = false;
    for c in key.chars() {
        if after_bracket && (c.is_ascii_alphanumeric() || c == '_') {
            dotted.push('.');
        }
        after_bracket = c == ']';
        dotted.push(c);
    }
    let key = dotted;
    let variable = variable_of(&key)
        .map(|v| format!(" ({v})"))
        .unwrap_or_default();
    anyhow::anyhow!("invalid setting {key}{variable}: {message}")
}
