//! [`MemoryMailer`]: keeps what is sent, for tests (feature `memory`).

use std::sync::{Mutex, MutexGuard};

use auth_domain::Email;

use super::{MailKind, Mailer, Message};

/// A [`Mailer`] that keeps every message in memory, in the order sent, for a test to read.
/// Nothing is delivered.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<Message>>,
}

impl MemoryMailer {
    /// An empty mailer.
    pub fn new() -> Self {
        Self::default()
    }

    fn sent(&self) -> MutexGuard<'_, Vec<Message>> {
        self.sent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every message sent so far, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.sent().clone()
    }

    /// Every message sent so far, oldest first, and forgets them.
    pub fn take(&self) -> Vec<Message> {
        std::mem::take(&mut *self.sent())
    }

    /// The newest message of `kind` to `to`, if any.
    pub fn last(&self, kind: MailKind, to: &Email) -> Option<Message> {
        self.sent()
            .iter()
            .rev()
            .find(|m| m.kind() == kind && m.to() == to)
            .cloned()
    }

    /// How many messages were sent so far.
    pub fn len(&self) -> usize {
        self.sent().len()
    }

    /// Whether none was sent so far.
    pub fn is_empty(&self) -> bool {
        self.sent().is_empty()
    }
}

impl Mailer for MemoryMailer {
    fn send(&self, message: Message) {
        self.sent().push(message);
    }
}
