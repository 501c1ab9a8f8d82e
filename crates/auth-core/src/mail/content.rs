//! What each kind of message says: its typed values, and the context its templates see.
//!
//! Every template also sees `email`, the recipient's address. A token never appears on its own:
//! only inside the `link` of the kinds that carry one.

use std::{net::IpAddr, time::Duration};

use auth_domain::Email;
use chrono::{DateTime, Utc};
use minijinja::{Value, context};
use serde::Serialize;

use super::MailKind;

/// A message to render: its kind, with the values its templates see.
#[derive(Clone, Debug)]
pub enum Mail {
    /// `password_reset`.
    PasswordReset(PasswordReset),
    /// `email_verification`.
    EmailVerification(EmailVerification),
    /// `email_change`, to the new address.
    EmailChange(EmailChange),
    /// `email_changed_notice`, to the old address.
    EmailChangedNotice(EmailChangedNotice),
    /// `password_changed_notice`.
    PasswordChangedNotice(PasswordChangedNotice),
    /// `mfa_changed_notice`.
    MfaChangedNotice(MfaChangedNotice),
}

/// `password_reset`: templates see `username`, `link`, `expires_in` (words, e.g. `30 minutes`)
/// and `expires_in_minutes`.
#[derive(Clone)]
pub struct PasswordReset {
    /// The account's username.
    pub username: String,
    /// The link that opens the reset page, with the token.
    pub link: String,
    /// How long the link works.
    pub expires_in: Duration,
}

/// `email_verification`: templates see `username`, `link`, `expires_in` and
/// `expires_in_minutes`.
#[derive(Clone)]
pub struct EmailVerification {
    /// The account's username.
    pub username: String,
    /// The link that confirms the address, with the token.
    pub link: String,
    /// How long the link works.
    pub expires_in: Duration,
}

/// `email_change`, to the new address: templates see `username`, `link`, `new_email`,
/// `expires_in` and `expires_in_minutes`.
#[derive(Clone)]
pub struct EmailChange {
    /// The account's username.
    pub username: String,
    /// The link that confirms the change, with the token.
    pub link: String,
    /// The address the account changes to (the recipient).
    pub new_email: Email,
    /// How long the link works.
    pub expires_in: Duration,
}

/// `email_changed_notice`, to the old address: templates see `username`, `old_email`,
/// `new_email` (none when the address was removed), `when` (e.g. `2026-11-22 10:00 UTC`) and
/// `ip` (none when unknown).
#[derive(Clone, Debug)]
pub struct EmailChangedNotice {
    /// The account's username.
    pub username: String,
    /// The address before the change (the recipient).
    pub old_email: Email,
    /// The address after it; `None` when the address was removed.
    pub new_email: Option<Email>,
    /// When the change took effect.
    pub when: DateTime<Utc>,
    /// The client address the change came from, if known.
    pub ip: Option<IpAddr>,
}

/// How a password changed, for `password_changed_notice` (`change` in templates:
/// `changed` or `reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PasswordChange {
    /// The user changed it, giving the old one.
    Changed,
    /// It was reset through a link sent to the account's address.
    Reset,
}

/// `password_changed_notice`: templates see `username`, `change` (`changed` or `reset`),
/// `when` and `ip`.
#[derive(Clone, Debug)]
pub struct PasswordChangedNotice {
    /// The account's username.
    pub username: String,
    /// How it changed.
    pub change: PasswordChange,
    /// When.
    pub when: DateTime<Utc>,
    /// The client address it came from, if known.
    pub ip: Option<IpAddr>,
}

/// What happened to a second factor, for `mfa_changed_notice` (`change` in templates:
/// `enabled` or `removed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MfaChange {
    /// A second factor was enabled.
    Enabled,
    /// The second factor was removed.
    Removed,
}

/// `mfa_changed_notice`: templates see `username`, `change` (`enabled` or `removed`), `when`
/// and `ip`.
#[derive(Clone, Debug)]
pub struct MfaChangedNotice {
    /// The account's username.
    pub username: String,
    /// What happened.
    pub change: MfaChange,
    /// When.
    pub when: DateTime<Utc>,
    /// The client address it came from, if known.
    pub ip: Option<IpAddr>,
}

/// The link kinds' `Debug` leaves the link out: it holds the token.
macro_rules! debug_without_link {
    ($($name:ident),*) => {$(
        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("username", &self.username)
                    .field("link", &"[redacted]")
                    .field("expires_in", &self.expires_in)
                    .finish_non_exhaustive()
            }
        }
    )*};
}
debug_without_link!(PasswordReset, EmailVerification, EmailChange);

impl Mail {
    /// Its kind.
    pub fn kind(&self) -> MailKind {
        match self {
            Mail::PasswordReset(_) => MailKind::PasswordReset,
            Mail::EmailVerification(_) => MailKind::EmailVerification,
            Mail::EmailChange(_) => MailKind::EmailChange,
            Mail::EmailChangedNotice(_) => MailKind::EmailChangedNotice,
            Mail::PasswordChangedNotice(_) => MailKind::PasswordChangedNotice,
            Mail::MfaChangedNotice(_) => MailKind::MfaChangedNotice,
        }
    }

    /// The values its templates see, `email` (the recipient) included.
    pub(super) fn context(&self, to: &Email) -> Value {
        let email = to.as_str();
        let expiry = |ttl: &Duration| (minutes(ttl), in_words(ttl));
        match self {
            Mail::PasswordReset(PasswordReset {
                username,
                link,
                expires_in,
            })
            | Mail::EmailVerification(EmailVerification {
                username,
                link,
                expires_in,
            }) => {
                let (expires_in_minutes, expires_in) = expiry(expires_in);
                context! { email, username, link, expires_in, expires_in_minutes }
            }
            Mail::EmailChange(change) => {
                let (expires_in_minutes, expires_in) = expiry(&change.expires_in);
                context! {
                    email,
                    username => change.username,
                    link => change.link,
                    new_email => change.new_email.as_str(),
                    expires_in,
                    expires_in_minutes,
                }
            }
            Mail::EmailChangedNotice(notice) => context! {
                email,
                username => notice.username,
                old_email => notice.old_email.as_str(),
                new_email => notice.new_email.as_ref().map(Email::as_str),
                when => when(&notice.when),
                ip => notice.ip.map(|ip| ip.to_string()),
            },
            Mail::PasswordChangedNotice(notice) => context! {
                email,
                username => notice.username,
                change => notice.change,
                when => when(&notice.when),
                ip => notice.ip.map(|ip| ip.to_string()),
            },
            Mail::MfaChangedNotice(notice) => context! {
                email,
                username => notice.username,
                change => notice.change,
                when => when(&notice.when),
                ip => notice.ip.map(|ip| ip.to_string()),
            },
        }
    }

    /// A message of `kind` with made-up values, to try templates with at start-up. Every
    /// optional value is present, so that a template that uses one is tried with it.
    pub(super) fn sample(kind: MailKind) -> Mail {
        let username = "sample-user".to_owned();
        let link = "https://auth.example.com/sample?token=sample".to_owned();
        let expires_in = Duration::from_secs(1800);
        let when = DateTime::<Utc>::UNIX_EPOCH;
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        let address = |raw| Email::parse(raw).expect("a valid sample address");
        match kind {
            MailKind::PasswordReset => Mail::PasswordReset(PasswordReset {
                username,
                link,
                expires_in,
            }),
            MailKind::EmailVerification => Mail::EmailVerification(EmailVerification {
                username,
                link,
                expires_in,
            }),
            MailKind::EmailChange => Mail::EmailChange(EmailChange {
                username,
                link,
                new_email: address("new@example.com"),
                expires_in,
            }),
            MailKind::EmailChangedNotice => Mail::EmailChangedNotice(EmailChangedNotice {
                username,
                old_email: address("old@example.com"),
                new_email: Some(address("new@example.com")),
                when,
                ip,
            }),
            MailKind::PasswordChangedNotice => Mail::PasswordChangedNotice(PasswordChangedNotice {
                username,
                change: PasswordChange::Changed,
                when,
                ip,
            }),
            MailKind::MfaChangedNotice => Mail::MfaChangedNotice(MfaChangedNotice {
                username,
                change: MfaChange::Enabled,
                when,
                ip,
            }),
        }
    }
}

/// Whole minutes, rounded up (a link that works 90 s works "2 minutes").
fn minutes(ttl: &Duration) -> u64 {
    ttl.as_secs().div_ceil(60)
}

/// A lifetime in words: `30 minutes`, `1 hour`, `24 hours`, `7 days`.
fn in_words(ttl: &Duration) -> String {
    let minutes = minutes(ttl);
    let (count, unit) = if minutes >= 2 * 24 * 60 && minutes.is_multiple_of(24 * 60) {
        (minutes / (24 * 60), "day")
    } else if minutes >= 60 && minutes.is_multiple_of(60) {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

/// A time as people read it in a message: `2026-11-22 10:00 UTC`.
fn when(time: &DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_as_words() {
        for (secs, words) in [
            (60, "1 minute"),
            (90, "2 minutes"),
            (1800, "30 minutes"),
            (3600, "1 hour"),
            (5400, "90 minutes"),
            (86_400, "24 hours"),
            (172_800, "2 days"),
            (604_800, "7 days"),
        ] {
            assert_eq!(in_words(&Duration::from_secs(secs)), words, "{secs}");
        }
    }

    #[test]
    fn link_kinds_keep_their_link_out_of_debug() {
        let mail = Mail::sample(MailKind::PasswordReset);
        assert!(!format!("{mail:?}").contains("token=sample"));
        let mail = Mail::sample(MailKind::EmailChange);
        assert!(!format!("{mail:?}").contains("token=sample"));
    }
}
