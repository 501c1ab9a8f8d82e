//! Mail delivery: the `[mail]` settings made real. auth-core decides what to send and renders
//! it; this module delivers it, through SMTP (lettre, rustls) or as `.eml` files, from a
//! bounded queue with retries ([`Outbox`]), and counts what became of each message
//! (`auth_mail_sent_total`).

mod counter;
mod queue;
mod transport;

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use auth_actix::Metrics;
use auth_core::{MailSetup, MailTemplates, Mailer, NoMailer, TemplatePart};
use auth_domain::MailLimits;
use chrono::TimeDelta;

pub use counter::{MailCounter, MailOutcome};
pub use queue::{DeliveryConfig, Outbox};
pub use transport::Transport;

use crate::settings::{AppEnv, MailTransport, Settings};

/// Mail as the server runs it: the templates, the mailer the service sends through, and
/// whether the email features are on.
pub struct MailDelivery {
    templates: Arc<MailTemplates>,
    outbox: Option<Arc<Outbox>>,
    transport: MailTransport,
}

impl std::fmt::Debug for MailDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailDelivery")
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl MailDelivery {
    /// Reads the templates (`mail.templates_dir`) and starts delivery for `env`'s transport,
    /// counting in `metrics` when they are on. Logs one line saying where mail goes, or one
    /// warning that the email features are off.
    ///
    /// # Errors
    /// A template that cannot be used (the error names its file), an outbox folder that
    /// cannot be created, or a delivery thread that cannot start.
    pub fn start(
        settings: &Settings,
        env: AppEnv,
        metrics: Option<&Metrics>,
    ) -> anyhow::Result<Self> {
        let mail = &settings.mail;
        let templates = Arc::new(load_templates(mail.templates_dir.as_deref())?);
        let transport = mail.transport(env);
        let counter = metrics.map_or_else(MailCounter::none, MailCounter::register);
        let destination = match transport {
            MailTransport::None => {
                tracing::warn!(
                    transport = "none",
                    "mail.transport is \"none\": the email features (password reset, address \
                     verification, notices) are off"
                );
                return Ok(Self {
                    templates,
                    outbox: None,
                    transport,
                });
            }
            MailTransport::File => {
                crate::keys::create_private_dir(&mail.outbox_dir).with_context(|| {
                    format!(
                        "mail.outbox_dir: cannot create {}",
                        mail.outbox_dir.display()
                    )
                })?;
                warn_if_others_can_read(&mail.outbox_dir);
                tracing::info!(
                    transport = "file",
                    outbox = %mail.outbox_dir.display(),
                    "mail is written to {} (mail.transport = \"file\")",
                    mail.outbox_dir.display()
                );
                Transport::file(mail.outbox_dir.clone(), mail.from_mailbox())
            }
            MailTransport::Smtp => {
                let url = mail
                    .smtp_url()
                    .context("mail.smtp_url is required with mail.transport = \"smtp\"")?;
                tracing::info!(
                    transport = "smtp",
                    server = %url,
                    "mail is sent through {url}"
                );
                Transport::smtp(url, mail.from_mailbox())
            }
        };
        let outbox = Outbox::start(destination, DeliveryConfig::default(), counter)
            .context("cannot start mail delivery")?;
        Ok(Self {
            templates,
            outbox: Some(Arc::new(outbox)),
            transport,
        })
    }

    /// Whether the email features are on (`mail.transport` is not `none`); the routes that
    /// need mail answer 404 when they are off.
    pub fn enabled(&self) -> bool {
        self.outbox.is_some()
    }

    /// The transport in use.
    pub fn transport(&self) -> MailTransport {
        self.transport
    }

    /// What the service sends through: the outbox, or [`NoMailer`] when mail is off.
    pub fn mailer(&self) -> Arc<dyn Mailer> {
        match &self.outbox {
            Some(outbox) => outbox.clone(),
            None => Arc::new(NoMailer),
        }
    }

    /// The templates, defaults and overrides.
    pub fn templates(&self) -> &Arc<MailTemplates> {
        &self.templates
    }

    /// What the service sends through ([`auth_core::AuthService::send_mail_with`]): this
    /// delivery's mailer and templates, links to `link_base`, and the `[mail]` lifetimes and
    /// limits.
    pub fn setup(&self, settings: &Settings, link_base: String) -> MailSetup {
        mail_setup(settings, self.mailer(), self.templates.clone(), link_base)
    }

    /// Stops delivery, draining the queue for a bounded time ([`Outbox::shutdown`]). Blocking.
    pub fn shutdown(&self) {
        if let Some(outbox) = &self.outbox {
            outbox.shutdown();
        }
    }
}

/// The service's mail setup for `mailer` and `templates`, links to `link_base`, with the
/// `[mail]` lifetimes and limits of `settings`.
pub fn mail_setup(
    settings: &Settings,
    mailer: Arc<dyn Mailer>,
    templates: Arc<MailTemplates>,
    link_base: String,
) -> MailSetup {
    let mail = &settings.mail;
    MailSetup {
        mailer,
        templates,
        link_base,
        reset_token_ttl: Duration::from_secs(mail.reset_token_ttl_secs),
        verify_token_ttl: Duration::from_secs(mail.verify_token_ttl_secs),
        limits: MailLimits {
            min_interval: TimeDelta::seconds(
                i64::try_from(mail.min_interval_secs).unwrap_or(i64::MAX),
            ),
            max_per_hour: mail.max_per_account_per_hour,
        },
    }
}

/// The base of the links in messages: `mail.link_base`, else `server.public_url`, else the
/// address the server listens on (`local`; an unspecified address such as 0.0.0.0 becomes
/// `localhost`). Without a trailing slash.
pub fn link_base(settings: &Settings, local: SocketAddr) -> String {
    let configured = settings
        .mail
        .link_base
        .as_deref()
        .or(settings.server.public_url.as_deref());
    let base = match configured {
        Some(base) => base.to_owned(),
        None if local.ip().is_unspecified() => format!("http://localhost:{}", local.port()),
        None => format!("http://{local}"),
    };
    base.trim_end_matches('/').to_owned()
}

/// Logs where the links in messages point; in production, a warning when that is the server's
/// own address (neither `mail.link_base` nor `server.public_url` is set), which users can
/// rarely reach.
pub fn log_link_base(settings: &Settings, env: AppEnv, local: SocketAddr) {
    let base = link_base(settings, local);
    let configured = settings.mail.link_base.is_some() || settings.server.public_url.is_some();
    if env == AppEnv::Production && !configured {
        tracing::warn!(
            link_base = base,
            "links in messages point at {base}, the address the server listens on: set \
             mail.link_base (or server.public_url) to the address users reach"
        );
    } else {
        tracing::info!(link_base = base, "links in messages point at {base}");
    }
}

/// The templates: the defaults, with those `dir` has a file for replaced by it. A file there
/// that is no template's is named in a warning; a folder that does not exist, a file that
/// cannot be read, and a template that cannot be used are errors that name the file.
pub fn load_templates(dir: Option<&Path>) -> anyhow::Result<MailTemplates> {
    let Some(dir) = dir else {
        return Ok(MailTemplates::new());
    };
    if !dir.is_dir() {
        bail!(
            "invalid setting mail.templates_dir (AUTH__MAIL__TEMPLATES_DIR): {} is not a folder",
            dir.display()
        );
    }
    let mut overrides = Vec::new();
    for name in MailTemplates::names() {
        let path = dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(source) => overrides.push((name, source)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("mail.templates_dir: cannot read {}: {e}", path.display()),
        }
    }
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("mail.templates_dir: cannot read {}", dir.display()))?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let looks_like_one = TemplatePart::ALL
            .iter()
            .any(|part| name.ends_with(&format!(".{}", part.extension())));
        if looks_like_one && !MailTemplates::names().any(|known| known == name) {
            tracing::warn!(
                file = %entry.path().display(),
                "mail.templates_dir: {} is not a template's name; it is not used",
                entry.path().display()
            );
        }
    }
    let named: Vec<String> = overrides.iter().map(|(name, _)| name.to_string()).collect();
    let templates = MailTemplates::with_overrides(overrides).map_err(|e| {
        anyhow::anyhow!(
            "mail.templates_dir: {}: {}",
            dir.join(&e.name).display(),
            e.detail
        )
    })?;
    if !named.is_empty() {
        tracing::info!(
            overridden = named.join(","),
            "mail templates from {}: {}",
            dir.display(),
            named.join(", ")
        );
    }
    Ok(templates)
}

/// A warning when the outbox folder (which holds messages with live links) is open to others.
fn warn_if_others_can_read(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                "mail.outbox_dir {} may be read by other users (mode {:o}): the messages hold \
                 live links; chmod 700 it",
                dir.display(),
                meta.permissions().mode() & 0o777
            );
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}
