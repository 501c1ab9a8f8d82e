//! `auth_mail_sent_total{kind, outcome}`: what became of each message.

use std::fmt;

use auth_actix::Metrics;
use auth_core::MailKind;
use prometheus::IntCounterVec;

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailOutcome {
    /// Delivered: accepted by the SMTP server, or written to the outbox.
    Sent,
    /// Given up: refused for good by the server, or still failing after every attempt.
    Failed,
    /// Never tried to the end: the queue was full, or the server stopped before it went out.
    Dropped,
}

impl MailOutcome {
    /// Every outcome.
    pub const ALL: [MailOutcome; 3] =
        [MailOutcome::Sent, MailOutcome::Failed, MailOutcome::Dropped];

    /// The label value: `sent`, `failed` or `dropped`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MailOutcome::Sent => "sent",
            MailOutcome::Failed => "failed",
            MailOutcome::Dropped => "dropped",
        }
    }
}

impl fmt::Display for MailOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts outcomes in `auth_mail_sent_total`, or nowhere when metrics are off. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct MailCounter(Option<IntCounterVec>);

impl MailCounter {
    /// The metric's name.
    pub const NAME: &'static str = "auth_mail_sent_total";

    /// A counter that counts nothing (metrics off).
    pub fn none() -> Self {
        Self(None)
    }

    /// Registers `auth_mail_sent_total` in `metrics`, every (kind, outcome) series at 0 so
    /// that `rate()` works from the first scrape.
    pub fn register(metrics: &Metrics) -> Self {
        let counter = metrics.counter_vec(
            Self::NAME,
            "Messages by kind and what became of them: sent, failed (after retries), dropped \
             (queue full, or undelivered at shutdown)",
            &["kind", "outcome"],
        );
        for kind in MailKind::ALL {
            for outcome in MailOutcome::ALL {
                counter.with_label_values(&[kind.as_str(), outcome.as_str()]);
            }
        }
        Self(Some(counter))
    }

    /// Counts one message of `kind` with `outcome`.
    pub fn count(&self, kind: MailKind, outcome: MailOutcome) {
        if let Some(counter) = &self.0 {
            counter
                .with_label_values(&[kind.as_str(), outcome.as_str()])
                .inc();
        }
    }

    /// How many messages of `kind` had `outcome` so far (0 when metrics are off).
    pub fn get(&self, kind: MailKind, outcome: MailOutcome) -> u64 {
        self.0.as_ref().map_or(0, |counter| {
            counter
                .with_label_values(&[kind.as_str(), outcome.as_str()])
                .get()
        })
    }
}
