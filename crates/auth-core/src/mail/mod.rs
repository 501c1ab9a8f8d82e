//! Outbound mail: the port the service sends through, and the templates that write the messages.
//!
//! The service decides *whether* to send and holds the tokens; it renders a [`Mail`] (the kind
//! and its typed values) into a [`Message`] with [`MailTemplates`], and hands the message to a
//! [`Mailer`]. An embedder plugs only the delivery: a [`Mailer`] that queues the message and
//! returns at once. auth-server's delivers through SMTP (or writes `.eml` files); [`NoMailer`]
//! turns mail off; [`MemoryMailer`] (feature `memory`) keeps the messages for tests to read.
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use std::time::Duration;
//! use auth_core::{Mail, MailKind, MailTemplates, Mailer, MemoryMailer, PasswordReset};
//! use auth_domain::Email;
//!
//! let templates = MailTemplates::new();
//! let mailer = MemoryMailer::new();
//! let message = templates.render(
//!     &Email::parse("alice@example.com")?,
//!     &Mail::PasswordReset(PasswordReset {
//!         username: "alice".into(),
//!         link: "https://auth.example.com/reset-password?token=abc".into(),
//!         expires_in: Duration::from_secs(1800),
//!     }),
//! )?;
//! mailer.send(message);
//! let sent = mailer.messages();
//! assert_eq!(sent[0].kind(), MailKind::PasswordReset);
//! assert!(sent[0].text().contains("30 minutes"));
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{fmt, sync::Arc};

use auth_domain::Email;
use serde::{Deserialize, Serialize};

mod content;
#[cfg(feature = "memory")]
mod memory;
mod templates;

pub use content::{
    EmailChange, EmailChangedNotice, EmailVerification, Mail, MfaChange, MfaChangedNotice,
    PasswordChange, PasswordChangedNotice, PasswordReset,
};
#[cfg(feature = "memory")]
pub use memory::MemoryMailer;
pub use templates::{MailTemplates, TemplateError, TemplatePart};

/// What a message is for. Serialized (and shown, and used as a metric label) in snake_case:
/// `password_reset`, `email_verification`, `email_change`, `email_changed_notice`,
/// `password_changed_notice`, `mfa_changed_notice`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// A link to choose a new password.
    PasswordReset,
    /// A link that proves the account's address is the user's.
    EmailVerification,
    /// To a new address: a link that confirms an email change.
    EmailChange,
    /// To the old address: the account's email was changed.
    EmailChangedNotice,
    /// The account's password was changed or reset.
    PasswordChangedNotice,
    /// A second factor was enabled or removed.
    MfaChangedNotice,
}

impl MailKind {
    /// Every kind.
    pub const ALL: [MailKind; 6] = [
        MailKind::PasswordReset,
        MailKind::EmailVerification,
        MailKind::EmailChange,
        MailKind::EmailChangedNotice,
        MailKind::PasswordChangedNotice,
        MailKind::MfaChangedNotice,
    ];

    /// The snake_case name, e.g. `password_reset`: also the stem of its template files.
    pub const fn as_str(self) -> &'static str {
        match self {
            MailKind::PasswordReset => "password_reset",
            MailKind::EmailVerification => "email_verification",
            MailKind::EmailChange => "email_change",
            MailKind::EmailChangedNotice => "email_changed_notice",
            MailKind::PasswordChangedNotice => "password_changed_notice",
            MailKind::MfaChangedNotice => "mfa_changed_notice",
        }
    }
}

impl fmt::Display for MailKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rendered message: its kind, its recipient, a one-line subject, a plain-text body and an
/// HTML body.
///
/// The bodies may hold a link with a token, so `Debug` shows their lengths only, and the
/// recipient's domain only.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    kind: MailKind,
    to: Email,
    subject: String,
    text: String,
    html: String,
}

impl Message {
    /// A message as given (usually made by [`MailTemplates::render`]). Line breaks in `subject`
    /// become spaces: a subject is one header line.
    pub fn new(
        kind: MailKind,
        to: Email,
        subject: impl Into<String>,
        text: impl Into<String>,
        html: impl Into<String>,
    ) -> Self {
        Self {
            kind,
            to,
            subject: one_line(&subject.into()),
            text: text.into(),
            html: html.into(),
        }
    }

    /// What it is for.
    pub fn kind(&self) -> MailKind {
        self.kind
    }

    /// The recipient.
    pub fn to(&self) -> &Email {
        &self.to
    }

    /// The recipient's domain (after the `@`): what logs may show of the address.
    pub fn recipient_domain(&self) -> &str {
        let address = self.to.as_str();
        address.rsplit_once('@').map_or("", |(_, domain)| domain)
    }

    /// The subject, one line.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The plain-text body.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The HTML body.
    pub fn html(&self) -> &str {
        &self.html
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("kind", &self.kind)
            .field("to", &format_args!("…@{}", self.recipient_domain()))
            .field("subject", &self.subject)
            .field("text", &format_args!("[{} bytes]", self.text.len()))
            .field("html", &format_args!("[{} bytes]", self.html.len()))
            .finish()
    }
}

/// The subject's white space (line breaks included) collapsed to single spaces.
fn one_line(subject: &str) -> String {
    subject.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Where the service hands rendered messages for delivery: the outbound port.
///
/// `send` must not block and must not fail the caller: it queues the message (or hands it to
/// another system) and returns at once. Delivery, retries, and what happens to a message that
/// cannot be delivered are the implementation's business (auth-server's retries with backoff,
/// then logs and counts the failure). The service never waits for a message to go out, so a
/// slow or broken mail server never slows a request.
pub trait Mailer: Send + Sync {
    /// Hands `message` over for delivery; returns at once.
    fn send(&self, message: Message);

    /// Whether messages go anywhere. `false` ([`NoMailer`]) turns the email features off: the
    /// service then never asks for a message (and the routes that need mail are not served).
    fn enabled(&self) -> bool {
        true
    }
}

impl<T: Mailer + ?Sized> Mailer for Arc<T> {
    fn send(&self, message: Message) {
        (**self).send(message);
    }

    fn enabled(&self) -> bool {
        (**self).enabled()
    }
}

impl<T: Mailer + ?Sized> Mailer for Box<T> {
    fn send(&self, message: Message) {
        (**self).send(message);
    }

    fn enabled(&self) -> bool {
        (**self).enabled()
    }
}

/// Mail off: every message is discarded, and [`Mailer::enabled`] is `false`.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoMailer;

impl Mailer for NoMailer {
    fn send(&self, message: Message) {
        tracing::debug!(kind = %message.kind(), "mail is off; message discarded");
    }

    fn enabled(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> Message {
        Message::new(
            MailKind::PasswordReset,
            Email::parse("alice.smith@example.com").unwrap(),
            "Reset\r\nBcc: evil@example.com",
            "https://x/reset-password?token=SECRET-TOKEN",
            "<a href=\"https://x/reset-password?token=SECRET-TOKEN\">reset</a>",
        )
    }

    #[test]
    fn kinds_are_snake_case_everywhere() {
        for kind in MailKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<MailKind>(&json).unwrap(), kind);
            assert_eq!(kind.to_string(), kind.as_str());
        }
        assert_eq!(
            MailKind::ALL.map(MailKind::as_str),
            [
                "password_reset",
                "email_verification",
                "email_change",
                "email_changed_notice",
                "password_changed_notice",
                "mfa_changed_notice",
            ]
        );
    }

    #[test]
    fn debug_shows_neither_the_bodies_nor_the_local_part() {
        let shown = format!("{:?}", message());
        assert!(!shown.contains("SECRET-TOKEN"), "{shown}");
        assert!(!shown.contains("alice.smith"), "{shown}");
        assert!(shown.contains("example.com"), "{shown}");
        assert_eq!(message().recipient_domain(), "example.com");
    }

    #[test]
    fn a_subject_is_one_line() {
        assert_eq!(message().subject(), "Reset Bcc: evil@example.com");
    }

    #[test]
    fn no_mailer_is_off() {
        let mailer: Arc<dyn Mailer> = Arc::new(NoMailer);
        assert!(!mailer.enabled());
        mailer.send(message());
    }
}
