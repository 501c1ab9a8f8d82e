//! Where a message goes: an SMTP server through lettre, or an `.eml` file in the outbox.

use std::{
    fmt,
    io::Write as _,
    path::{Path, PathBuf},
    time::Duration,
};

use auth_core::Message;
use lettre::{
    Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    message::{
        Mailbox, MultiPart,
        header::{Header, HeaderName, HeaderValue},
    },
};

use crate::settings::SmtpUrl;

/// How long one SMTP command may take before the attempt fails (lettre's default is 60 s).
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where messages go, and their `From`. `Debug` never shows an SMTP password.
#[derive(Clone)]
pub struct Transport {
    to: Destination,
    from: Mailbox,
}

#[derive(Clone)]
enum Destination {
    File(PathBuf),
    Smtp(SmtpUrl),
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.to {
            Destination::File(dir) => write!(f, "file transport into {}", dir.display()),
            Destination::Smtp(url) => write!(f, "SMTP through {url}"),
        }
    }
}

impl Transport {
    /// Each message written as an `.eml` file into `outbox` (created mode 0700 if missing;
    /// files mode 0600).
    pub fn file(outbox: impl Into<PathBuf>, from: Mailbox) -> Self {
        Self {
            to: Destination::File(outbox.into()),
            from,
        }
    }

    /// Through the SMTP server of `url` (lettre's form; see [`SmtpUrl`]).
    pub fn smtp(url: SmtpUrl, from: Mailbox) -> Self {
        Self {
            to: Destination::Smtp(url),
            from,
        }
    }

    /// Ready to send; with SMTP, a pool of connections (opened when needed). Must run inside
    /// the tokio runtime that will send.
    pub(super) fn connect(&self) -> Result<Connected, String> {
        let to = match &self.to {
            Destination::File(dir) => Sender::File(dir.clone()),
            Destination::Smtp(url) => {
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("cannot use {url}: {}", describe(&e)))?;
                Sender::Smtp(builder.timeout(Some(SMTP_TIMEOUT)).build())
            }
        };
        Ok(Connected {
            to,
            from: self.from.clone(),
        })
    }
}

/// A [`Transport`] ready to send.
pub(super) struct Connected {
    to: Sender,
    from: Mailbox,
}

enum Sender {
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// Where a message went.
pub(super) enum Delivered {
    /// Written to this file.
    File(PathBuf),
    /// Accepted by the SMTP server.
    Smtp,
}

/// Why an attempt failed, in words that hold no address and no secret.
pub(super) struct Failure {
    /// Trying again cannot help (the server refused the message for good).
    pub permanent: bool,
    pub reason: String,
}

impl Connected {
    /// One attempt at delivering `message`.
    pub(super) async fn deliver(&self, message: &Message) -> Result<Delivered, Failure> {
        let email = self.email(message)?;
        match &self.to {
            Sender::File(dir) => {
                let dir = dir.clone();
                let kind = message.kind().as_str();
                let written =
                    tokio::task::spawn_blocking(move || write_eml(&dir, kind, &email.formatted()))
                        .await;
                match written {
                    Ok(Ok(path)) => Ok(Delivered::File(path)),
                    Ok(Err(e)) => Err(Failure {
                        permanent: false,
                        reason: format!("cannot write to the outbox: {e}"),
                    }),
                    Err(e) => Err(Failure {
                        permanent: false,
                        reason: format!("the writing task failed: {e}"),
                    }),
                }
            }
            Sender::Smtp(smtp) => match smtp.send(email).await {
                Ok(_) => Ok(Delivered::Smtp),
                Err(e) => Err(Failure {
                    permanent: e.is_permanent(),
                    reason: describe(&e),
                }),
            },
        }
    }

    /// The message in lettre's form: From, To, Subject, Date, a Message-ID at the sender's
    /// domain, `Auto-Submitted: auto-generated` (RFC 3834: no auto-replies), and a
    /// `multipart/alternative` body with the text part first and the HTML part last.
    fn email(&self, message: &Message) -> Result<lettre::Message, Failure> {
        let refused = |reason: &str| Failure {
            permanent: true,
            reason: reason.to_owned(),
        };
        let to: Address = message
            .to()
            .as_str()
            .parse()
            .map_err(|_| refused("the mail library does not accept the recipient's address"))?;
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).map_err(|_| refused("no randomness for a Message-ID"))?;
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        lettre::Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(message.subject())
            .message_id(Some(format!("<{id}@{}>", self.from.email.domain())))
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                message.text().to_owned(),
                message.html().to_owned(),
            ))
            .map_err(|_| refused("the message could not be built"))
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// Writes `bytes` as a new file in `dir` (created mode 0700 if missing), mode 0600, named so
/// that names sort by time: `20261122T100000.123Z-password_reset-1a2b3c4d.eml`.
pub(super) fn write_eml(dir: &Path, kind: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    crate::keys::create_private_dir(dir)?;
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(std::io::Error::other)?;
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let path = dir.join(format!("{stamp}-{kind}-{suffix}.eml"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    file.write_all(bytes)?;
    Ok(path)
}

/// An SMTP error in words without the server's free text, which may quote the recipient's
/// address: the kind of failure and the reply code, or the network error.
fn describe(error: &lettre::transport::smtp::Error) -> String {
    if let Some(code) = error.status() {
        let kind = if error.is_permanent() {
            "refused"
        } else {
            "temporarily refused"
        };
        return format!("the SMTP server {kind} it (reply {code})");
    }
    if error.is_timeout() {
        return "the SMTP server did not answer in time".into();
    }
    if error.is_tls() {
        return "TLS failed (the server's certificate, or its TLS support)".into();
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return format!("cannot talk to the SMTP server: {io}");
        }
        source = cause.source();
    }
    if error.is_client() {
        return "the SMTP exchange failed (e.g. the server does not offer STARTTLS, which \
                tls=required needs)"
            .into();
    }
    "the SMTP exchange failed".into()
}
