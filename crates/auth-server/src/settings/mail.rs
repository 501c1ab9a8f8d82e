//! `[mail]`: how messages go out, where their links point, and the limits of the flows that
//! send them.

use std::{fmt, path::PathBuf, str::FromStr};

use anyhow::bail;
use lettre::message::Mailbox;
use serde::{Deserialize, Deserializer, de};

use super::{AppEnv, Secret, smtp_url::SmtpUrl, strict};

pub use super::smtp_url::SmtpTls;

/// How messages are delivered (`mail.transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailTransport {
    /// Each message is written as an `.eml` file into `mail.outbox_dir` (the default outside
    /// production, refused in production).
    File,
    /// Through the SMTP server of `mail.smtp_url`.
    Smtp,
    /// Mail off: the email features are off (the default in production).
    None,
}

impl MailTransport {
    /// The setting's word: `file`, `smtp` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            MailTransport::File => "file",
            MailTransport::Smtp => "smtp",
            MailTransport::None => "none",
        }
    }
}

impl fmt::Display for MailTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MailTransport {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        match raw {
            "file" => Ok(MailTransport::File),
            "smtp" => Ok(MailTransport::Smtp),
            "none" => Ok(MailTransport::None),
            _ => Err("expected \"file\", \"smtp\" or \"none\"".into()),
        }
    }
}

/// `[mail]`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `file`, `smtp` or `none`; unset: `file` outside production, `none` in production (see
    /// [`MailSettings::transport`]).
    #[serde(default, rename = "transport", deserialize_with = "option_transport")]
    pub configured_transport: Option<MailTransport>,
    /// Where the `file` transport writes (created mode 0700; files mode 0600).
    #[serde(deserialize_with = "strict::text")]
    pub outbox_dir: PathBuf,
    /// `smtp://[user[:password]@]host[:port][?tls=required|opportunistic]` or `smtps://…`.
    /// Treated as a secret: it may hold a password.
    pub smtp_url: Option<Secret>,
    /// The `From` of every message, e.g. `Example <no-reply@example.com>`; required with `smtp`.
    #[serde(default, deserialize_with = "strict::option_text")]
    pub from: Option<String>,
    /// The base URL of the links in messages; default: `server.public_url`, else the server's
    /// own address.
    #[serde(default, deserialize_with = "strict::option_text")]
    pub link_base: Option<String>,
    /// A folder of templates that replace the defaults (`{kind}.subject`, `{kind}.txt`,
    /// `{kind}.html`, `layout.html`); a file that is not there keeps its default.
    #[serde(default, deserialize_with = "strict::option_text")]
    pub templates_dir: Option<PathBuf>,
    /// At most one message a request asks for per account this often (0 to 86400 s).
    #[serde(deserialize_with = "strict::int::<_, _, 0, 86_400>")]
    pub min_interval_secs: u64,
    /// At most this many messages requests ask for per account and hour (1 to 1000).
    #[serde(deserialize_with = "strict::int::<_, _, 1, 1000>")]
    pub max_per_account_per_hour: u32,
    /// How long a password-reset link works (60 s to 7 days).
    #[serde(deserialize_with = "strict::int::<_, _, 60, 604_800>")]
    pub reset_token_ttl_secs: u64,
    /// How long an address-verification link works (60 s to 30 days).
    #[serde(deserialize_with = "strict::int::<_, _, 60, 2_592_000>")]
    pub verify_token_ttl_secs: u64,
}

/// `deserialize_with` for `mail.transport`: unset, or one of its words.
fn option_transport<'de, D: Deserializer<'de>>(d: D) -> Result<Option<MailTransport>, D::Error> {
    match Option::<strict::Raw>::deserialize(d)? {
        None | Some(strict::Raw::Nothing) => Ok(None),
        Some(strict::Raw::Str(word)) => word
            .parse()
            .map(Some)
            .map_err(|expected| de::Error::custom(format!("{expected}, got {word:?}"))),
        Some(other) => Err(de::Error::custom(format!(
            "expected \"file\", \"smtp\" or \"none\", got {other}"
        ))),
    }
}

/// The `From` of messages when `mail.from` is unset (allowed with the `file` transport only).
pub const DEFAULT_FROM: &str = "auth-server <auth-server@localhost>";

impl MailSettings {
    /// The transport in `env`: `mail.transport`, or its default there.
    pub fn transport(&self, env: AppEnv) -> MailTransport {
        self.configured_transport.unwrap_or(match env {
            AppEnv::Production => MailTransport::None,
            AppEnv::Development | AppEnv::Test => MailTransport::File,
        })
    }

    /// Whether the email features are on in `env` (a transport other than `none`).
    pub fn enabled(&self, env: AppEnv) -> bool {
        self.transport(env) != MailTransport::None
    }

    /// `mail.smtp_url`, checked (it was, when the settings were loaded).
    pub fn smtp_url(&self) -> Option<SmtpUrl> {
        self.smtp_url
            .as_ref()
            .and_then(|url| SmtpUrl::parse(url.expose()).ok())
    }

    /// `mail.from`, or [`DEFAULT_FROM`].
    pub fn from_mailbox(&self) -> Mailbox {
        let from = self.from.as_deref().unwrap_or(DEFAULT_FROM);
        from.parse().expect("mail.from was checked when loaded")
    }

    /// Refuses what cannot work or is unsafe in `env`, naming the setting and never showing
    /// the SMTP password.
    pub(super) fn check(&self, env: AppEnv) -> anyhow::Result<()> {
        let transport = self.transport(env);
        if env == AppEnv::Production && transport == MailTransport::File {
            bail!(
                "invalid setting mail.transport (AUTH__MAIL__TRANSPORT): \"file\" is refused in \
                 production (messages and their links would pile up on the server's disk); use \
                 \"smtp\" or \"none\""
            );
        }
        let url = match &self.smtp_url {
            Some(url) => Some(SmtpUrl::parse(url.expose()).map_err(|why| {
                anyhow::anyhow!("invalid setting mail.smtp_url (AUTH__MAIL__SMTP_URL): {why}")
            })?),
            None => None,
        };
        if let Some(from) = &self.from
            && from.parse::<Mailbox>().is_err()
        {
            bail!(
                "invalid setting mail.from (AUTH__MAIL__FROM): expected a mailbox such as \
                 \"Example <no-reply@example.com>\" or \"no-reply@example.com\", got {from:?}"
            );
        }
        if let Some(base) = &self.link_base {
            check_link_base(base)?;
        }
        if transport == MailTransport::Smtp {
            let Some(url) = url else {
                bail!(
                    "mail.smtp_url (AUTH__MAIL__SMTP_URL) is required with mail.transport = \
                     \"smtp\", e.g. smtp://user:password@mail.example.com:587?tls=required"
                );
            };
            if self.from.is_none() {
                bail!(
                    "mail.from (AUTH__MAIL__FROM) is required with mail.transport = \"smtp\", \
                     e.g. \"Example <no-reply@example.com>\""
                );
            }
            if env == AppEnv::Production && !url.tls().always() && !url.is_loopback() {
                bail!(
                    "invalid setting mail.smtp_url (AUTH__MAIL__SMTP_URL): production sends mail \
                     to another host over TLS only: add ?tls=required (STARTTLS) or use \
                     smtps://, unless the relay is on this host (127.0.0.1, ::1, localhost); \
                     got {url}"
                );
            }
        }
        Ok(())
    }
}

/// `mail.link_base` must be an absolute `http` or `https` URL: a host, perhaps a port and a
/// path, no query, fragment, user name or white space.
fn check_link_base(url: &str) -> anyhow::Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|rest| rest.split('/').next().unwrap_or_default());
    let valid = host.is_some_and(|host| !host.is_empty())
        && !url.contains(['?', '#', '@'])
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        bail!(
            "invalid setting mail.link_base (AUTH__MAIL__LINK_BASE): {url:?} is not an absolute \
             http(s) URL such as \"https://auth.example.com\""
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{AppEnv, Settings};
    use super::MailTransport;

    const URL: &str = "smtp://mailer:Pa55word@mail.example.com:587";

    #[test]
    fn defaults_are_the_documented_ones() {
        let test = Settings::load(AppEnv::Test, &[]).unwrap();
        let dev = Settings::load(AppEnv::Development, &[]).unwrap();
        assert_eq!(dev.mail.transport(AppEnv::Development), MailTransport::File);
        assert_eq!(test.mail.transport(AppEnv::Test), MailTransport::File);
        assert!(dev.mail.enabled(AppEnv::Development));
        // The production default (no config/production.toml entry is needed for it).
        assert_eq!(dev.mail.transport(AppEnv::Production), MailTransport::None);
        assert!(!dev.mail.enabled(AppEnv::Production));
        let mail = &dev.mail;
        assert_eq!(mail.outbox_dir.to_str(), Some("data/outbox"));
        assert!(mail.smtp_url.is_none() && mail.from.is_none() && mail.link_base.is_none());
        assert!(mail.templates_dir.is_none());
        assert_eq!(mail.min_interval_secs, 60);
        assert_eq!(mail.max_per_account_per_hour, 5);
        assert_eq!(mail.reset_token_ttl_secs, 1800);
        assert_eq!(mail.verify_token_ttl_secs, 86_400);
        assert_eq!(
            mail.from_mailbox().to_string(),
            "auth-server <auth-server@localhost>"
        );
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        for (key, value, expected) in [
            (
                "mail.transport",
                "smtps",
                "expected \"file\", \"smtp\" or \"none\", got \"smtps\"",
            ),
            (
                "mail.transport",
                "",
                "expected \"file\", \"smtp\" or \"none\"",
            ),
            ("mail.min_interval_secs", "-1", "an integer from 0 to 86400"),
            (
                "mail.max_per_account_per_hour",
                "0",
                "an integer from 1 to 1000",
            ),
            (
                "mail.reset_token_ttl_secs",
                "59",
                "an integer from 60 to 604800",
            ),
            (
                "mail.verify_token_ttl_secs",
                "1.5",
                "an integer from 60 to 2592000",
            ),
            ("mail.from", "not a mailbox", "expected a mailbox"),
            ("mail.link_base", "auth.example.com", "absolute http(s) URL"),
            ("mail.link_base", "https://a/?q=1", "absolute http(s) URL"),
            (
                "mail.smtp_url",
                "smtp://u:Pa55word@h?tls=maybe",
                "tls must be given once",
            ),
        ] {
            let err = format!(
                "{:#}",
                Settings::load(AppEnv::Test, &[(key, value)]).unwrap_err()
            );
            let variable = format!("AUTH__{}", key.replace('.', "__").to_ascii_uppercase());
            assert!(
                err.contains(key) && err.contains(&variable) && err.contains(expected),
                "{key}={value}: {err}"
            );
            assert!(!err.contains("Pa55word"), "{err}");
        }
    }

    #[test]
    fn smtp_needs_a_url_and_a_sender() {
        let smtp = ("mail.transport", "smtp");
        let err = Settings::load(AppEnv::Test, &[smtp]).unwrap_err();
        assert!(
            err.to_string()
                .contains("mail.smtp_url (AUTH__MAIL__SMTP_URL) is required")
        );
        let err = Settings::load(AppEnv::Test, &[smtp, ("mail.smtp_url", URL)]).unwrap_err();
        assert!(
            err.to_string()
                .contains("mail.from (AUTH__MAIL__FROM) is required")
        );
        let settings = Settings::load(
            AppEnv::Test,
            &[
                smtp,
                ("mail.smtp_url", URL),
                ("mail.from", "Example <no-reply@example.com>"),
            ],
        )
        .unwrap();
        assert_eq!(settings.mail.transport(AppEnv::Test), MailTransport::Smtp);
        assert!(!format!("{settings:?}").contains("Pa55word"));
    }

    #[test]
    fn production_refuses_the_file_transport_and_clear_smtp_to_another_host() {
        let production = |vars: &[(&str, &str)]| {
            Settings::load(AppEnv::Production, vars).map_err(|e| format!("{e:#}"))
        };
        let settings = production(&[]).unwrap();
        assert_eq!(
            settings.mail.transport(AppEnv::Production),
            MailTransport::None
        );
        let err = production(&[("mail.transport", "file")]).unwrap_err();
        assert!(
            err.contains(
                "mail.transport (AUTH__MAIL__TRANSPORT): \"file\" is refused in production"
            ),
            "{err}"
        );
        let smtp = ("mail.transport", "smtp");
        let from = ("mail.from", "no-reply@example.com");
        for url in [
            "smtp://mailer:Pa55word@mail.example.com:587",
            "smtp://mailer:Pa55word@mail.example.com:587?tls=opportunistic",
            "smtp://mailer:Pa55word@192.0.2.1",
        ] {
            let err = production(&[smtp, from, ("mail.smtp_url", url)]).unwrap_err();
            assert!(
                err.contains("mail.smtp_url (AUTH__MAIL__SMTP_URL)")
                    && err.contains("tls=required")
                    && err.contains("mailer:***@"),
                "{url}: {err}"
            );
            assert!(!err.contains("Pa55word"), "{err}");
        }
        for url in [
            "smtp://mailer:Pa55word@mail.example.com:587?tls=required",
            "smtps://mailer:Pa55word@mail.example.com",
            "smtp://127.0.0.1:25",
            "smtp://[::1]:25",
            "smtp://localhost:25",
        ] {
            production(&[smtp, from, ("mail.smtp_url", url)]).unwrap();
        }
    }
}
