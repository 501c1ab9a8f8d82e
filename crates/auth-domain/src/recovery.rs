//! Account recovery by email: the single-use tokens that messages carry, the per-account limits
//! on the messages that requests ask for, and the store port that keeps both.

use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{Email, PasswordChange, PasswordChanged, StoreError, User, UserId};

/// The SHA-256 digest (hex) of a token sent by email: the store keeps only this, so a copy of
/// the database opens no account. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailTokenHash(String);

impl EmailTokenHash {
    /// Wraps a digest made by the service.
    pub fn new(digest: impl Into<String>) -> Self {
        Self(digest.into())
    }

    /// The digest, for the store.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailTokenHash(…)")
    }
}

/// What a token sent by email is for. Stored as [`TokenPurpose::as_str`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenPurpose {
    /// A `password_reset` message's link: redeemed by a password reset.
    PasswordReset,
    /// An `email_verification` message's link: proves the user reads the account's address.
    EmailVerification,
    /// An `email_change` message's link, sent to the new address: confirms the change.
    EmailChange,
}

impl TokenPurpose {
    /// The stored name, e.g. `password_reset`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::PasswordReset => "password_reset",
            TokenPurpose::EmailVerification => "email_verification",
            TokenPurpose::EmailChange => "email_change",
        }
    }

    /// The purpose stored as `raw`, if this version knows it.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "password_reset" => Some(TokenPurpose::PasswordReset),
            "email_verification" => Some(TokenPurpose::EmailVerification),
            "email_change" => Some(TokenPurpose::EmailChange),
            _ => None,
        }
    }
}

/// A token about to be issued ([`RecoveryStore::issue_email_token`]).
#[derive(Clone, Debug)]
pub struct NewEmailToken {
    /// The digest of the token.
    pub hash: EmailTokenHash,
    /// Whose account it opens.
    pub user: UserId,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// The address the message goes to: redeeming the token proves the user reads it.
    pub email: Email,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A stored token, as [`RecoveryStore::email_token`] finds it. Tokens are deleted when they are
/// used or voided, so one that is found was neither; it may have expired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailToken {
    /// Whose account it opens.
    pub user: UserId,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// The address it was sent to.
    pub email: Email,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl EmailToken {
    /// Whether it still works at `at`.
    pub fn is_live(&self, at: DateTime<Utc>) -> bool {
        at < self.expires_at
    }
}

/// The per-account limits on the messages that requests ask for (a forgotten password, an
/// admin's reset): shared by every instance because the store keeps the requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailLimits {
    /// At most one requested message per account in this time (`mail.min_interval_secs`).
    pub min_interval: TimeDelta,
    /// At most this many requested messages per account in any hour
    /// (`mail.max_per_account_per_hour`).
    pub max_per_hour: u32,
}

impl Default for MailLimits {
    /// One a minute, five an hour.
    fn default() -> Self {
        Self {
            min_interval: TimeDelta::seconds(60),
            max_per_hour: 5,
        }
    }
}

/// How a token is issued: counted against [`MailLimits`] and refused beyond them, or counted
/// without being refused (an admin's request, which the admin sees the answer of).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Refused (nothing stored) when the account is over these limits; counted otherwise.
    Within(MailLimits),
    /// Counted, never refused.
    CountOnly,
    /// Neither counted nor refused: a message the server sends on its own (the verification
    /// link at registration, an email change's confirmation link).
    Uncounted,
}

/// What [`RecoveryStore::confirm_email`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailConfirmed {
    /// The user as they are now: `email` is the confirmed address, `email_verified` is true.
    pub user: User,
    /// What the token was for: [`TokenPurpose::EmailVerification`] (the address stayed) or
    /// [`TokenPurpose::EmailChange`] (the address changed to the token's).
    pub purpose: TokenPurpose,
    /// The address before, and whether it was verified (for the notice to the old address).
    pub previous_email: Option<Email>,
    /// Whether `previous_email` was verified.
    pub previous_verified: bool,
}

/// A password reset as the store makes it ([`RecoveryStore::reset_password`]): the password
/// change, made only if the token is still stored for this user and purpose and live at
/// `change.at`.
#[derive(Clone, Debug)]
pub struct PasswordResetChange {
    /// The change itself; its `sessions` should be [`SessionRevocation::All`](
    /// crate::SessionRevocation::All).
    pub change: PasswordChange,
    /// The digest of the token that authorises it.
    pub token: EmailTokenHash,
    /// The key of the account's login-throttle rows: the row with exactly this key and those
    /// whose key starts with it followed by `|` (the per-client counts) are deleted.
    pub lockout_key: String,
}

/// Persistence of account recovery: tokens sent by email and the messages requests asked for.
/// Methods block.
pub trait RecoveryStore: Send + Sync {
    /// The user with this address, compared without regard to case (addresses are unique so).
    fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Issues `token`, in one transaction holding the user's row (so that instances sharing
    /// the store count one after the other): unless `limit` refuses it (the account's last
    /// requested message is younger than `min_interval`, or it has `max_per_hour` in the hour
    /// before `token.created_at`), the request is counted, the user's earlier tokens of the
    /// same purpose are deleted (a newer token voids older ones), and the token is stored; an
    /// [`TokenPurpose::EmailChange`] token also makes its address the user's `pending_email`.
    /// Returns whether it was issued. [`StoreError::NotFound`] for an unknown user.
    fn issue_email_token(&self, token: &NewEmailToken, limit: Limit) -> Result<bool, StoreError>;
    /// The stored token with this digest, if any (expired ones included; callers check).
    fn email_token(&self, hash: &EmailTokenHash) -> Result<Option<EmailToken>, StoreError>;
    /// Resets a password, in one transaction: the token must still be stored, be a
    /// [`TokenPurpose::PasswordReset`] token of `reset.change.user`, and be live at
    /// `reset.change.at` (else [`StoreError::NotFound`] and nothing changes); then the change
    /// is made exactly as [`UserStore::change_password`](crate::UserStore::change_password)
    /// makes it (refused with [`StoreError::CredentialsChanged`] if the generation moved on),
    /// every reset token of the user is deleted (that one included), the account's
    /// login-throttle rows are deleted, and the email counts as verified if it is still the
    /// address the token was sent to.
    fn reset_password(&self, reset: &PasswordResetChange) -> Result<PasswordChanged, StoreError>;
    /// Redeems an [`TokenPurpose::EmailVerification`] or [`TokenPurpose::EmailChange`] token,
    /// in one transaction holding the user's row. The token must still be stored and live at
    /// `at`, and still match the account: a verification token the address it was sent to
    /// (without regard to case), a change token the user's `pending_email`; otherwise
    /// [`StoreError::NotFound`] and nothing changes. A verification marks the address
    /// verified and deletes the user's verification tokens. A change makes the token's address
    /// the user's (verified, no longer pending; [`Conflict::Email`](crate::Conflict::Email) if
    /// another account holds it now, and nothing changes) and deletes every email token of the
    /// user; it is announced as a change of the user (`Invalidation::User`).
    fn confirm_email(
        &self,
        hash: &EmailTokenHash,
        at: DateTime<Utc>,
    ) -> Result<EmailConfirmed, StoreError>;
}
