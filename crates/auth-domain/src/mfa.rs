//! A second factor: TOTP enrolments (RFC 6238), single-use recovery codes, and the challenge
//! that a password login opens for an account that has them; and [`MfaStore`], the port that
//! keeps them.
//!
//! Nothing here holds a secret in the clear: a TOTP secret is stored encrypted
//! ([`EncryptedTotpSecret`]), recovery codes and `mfa_token`s only as digests. The `Debug` of
//! each of these types prints nothing of them.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::{CredentialGeneration, SessionId, StoreError, UserId};

/// A TOTP secret as stores keep it: sealed by the service with a key the store never sees, so
/// the database alone does not reveal it. Its `Debug` prints nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedTotpSecret(String);

impl EncryptedTotpSecret {
    /// Wraps a sealed secret made by the service or read from a store.
    pub fn new(sealed: impl Into<String>) -> Self {
        Self(sealed.into())
    }

    /// The sealed form, for storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EncryptedTotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptedTotpSecret([redacted])")
    }
}

/// The digest of a recovery code: what stores keep. Its `Debug` prints nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RecoveryCodeHash(String);

impl RecoveryCodeHash {
    /// Wraps a digest computed by the service or read from a store.
    pub fn new(digest: impl Into<String>) -> Self {
        Self(digest.into())
    }

    /// The digest, for storing and looking up.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for RecoveryCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCodeHash([redacted])")
    }
}

/// The digest of an `mfa_token`: what stores keep. Its `Debug` prints nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MfaTokenHash(String);

impl MfaTokenHash {
    /// Wraps a digest computed by the service or read from a store.
    pub fn new(digest: impl Into<String>) -> Self {
        Self(digest.into())
    }

    /// The digest, for storing and looking up.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MfaTokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaTokenHash([redacted])")
    }
}

/// A user's TOTP enrolment: pending until a code confirms it, then enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// Whose it is (a user has at most one).
    pub user_id: UserId,
    /// The shared secret, sealed.
    pub secret: EncryptedTotpSecret,
    /// When the enrolment was started (or last restarted).
    pub created_at: DateTime<Utc>,
    /// When a code confirmed it; `None` while it is pending.
    pub confirmed_at: Option<DateTime<Utc>>,
    /// The last time step (Unix time / 30 s) whose code was accepted: a code is accepted only
    /// for a later step, so none is accepted twice.
    pub last_step: Option<i64>,
}

impl TotpEnrolment {
    /// Whether a code has confirmed it: logins then need a second factor.
    pub fn is_enabled(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// The challenge a right password opens for an account with a second factor: the
/// `mfa_token`'s record. It is single use, expires, and dies after too many wrong codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MfaChallenge {
    /// The digest of the `mfa_token` handed to the client.
    pub token_hash: MfaTokenHash,
    /// The user whose password was checked.
    pub user_id: UserId,
    /// The user's credential generation that the password was checked at: the challenge is
    /// stored, and answered, only while it is still the user's (a password change kills it).
    pub generation: CredentialGeneration,
    /// The access-token lifetime the login asked for, in seconds, for the session it opens.
    pub access_ttl_secs: i64,
    /// When the password was checked.
    pub created_at: DateTime<Utc>,
    /// When the `mfa_token` stops working.
    pub expires_at: DateTime<Utc>,
    /// Wrong codes given so far.
    pub failures: u32,
}

impl MfaChallenge {
    /// Whether it can still be answered at `at`, with at most `max_failures` wrong codes.
    pub fn is_live_at(&self, at: DateTime<Utc>, max_failures: u32) -> bool {
        at < self.expires_at && self.failures < max_failures
    }
}

/// What [`MfaStore::remove_totp`] removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotpRemoval {
    /// The user had no enrolment.
    Nothing,
    /// A pending enrolment (the second factor was not on).
    Pending,
    /// An enabled second factor: logins are one step again.
    Enabled,
}

/// Persistence of second factors. Methods block.
///
/// Every change that turns a user's second factor on or off also sets the user's
/// `mfa_enabled` and, on stores that serve several processes, announces
/// [`Invalidation::User`](crate::Invalidation::User) in the same transaction, since cached
/// users carry that flag.
pub trait MfaStore: Send + Sync {
    /// The user's enrolment, pending or enabled.
    fn totp_enrolment(&self, user: UserId) -> Result<Option<TotpEnrolment>, StoreError>;

    /// Starts an enrolment with `secret`, replacing a pending one; `false` (and nothing
    /// changes) when the user's second factor is already enabled. [`StoreError::NotFound`] for
    /// an unknown user.
    fn begin_totp_enrolment(
        &self,
        user: UserId,
        secret: &EncryptedTotpSecret,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Enables the pending enrolment whose secret is still `secret` (so a confirmation never
    /// enables a secret that a new enrolment replaced meanwhile), with `step` as its last used
    /// step, replaces the user's recovery codes with `recovery_codes`, sets the user's
    /// `mfa_enabled` (and `updated_at`), moves the user's credential generation on, ends every
    /// session of the user but `keep` (the one that confirmed), and marks `keep` as having
    /// passed the second factor (its refreshed access tokens say so), atomically. API keys
    /// are kept. `false`, and nothing changes, when there is no such pending enrolment.
    fn enable_totp(
        &self,
        user: UserId,
        secret: &EncryptedTotpSecret,
        step: i64,
        recovery_codes: &[RecoveryCodeHash],
        keep: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Removes the user's enrolment (pending or enabled), recovery codes and open challenges,
    /// and clears `mfa_enabled` (setting `updated_at` when it was on), atomically.
    fn remove_totp(&self, user: UserId, at: DateTime<Utc>) -> Result<TotpRemoval, StoreError>;

    /// Records `step` as the user's last used step if it is later than the last one (a
    /// compare-and-set: of two concurrent uses of one code, one wins); `false` when it is not,
    /// or the second factor is not enabled.
    fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, StoreError>;

    /// Marks one of the user's unused recovery codes used, atomically; `false` when the user
    /// has no such unused code.
    fn use_recovery_code(
        &self,
        user: UserId,
        code: &RecoveryCodeHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// How many unused recovery codes the user has.
    fn recovery_codes_left(&self, user: UserId) -> Result<u32, StoreError>;

    /// Stores a challenge, and forgets every challenge that expired before `challenge.created_at`.
    /// [`StoreError::CredentialsChanged`] (and nothing is stored) unless `challenge.generation`
    /// is still the user's; [`StoreError::NotFound`] for an unknown user.
    fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError>;

    /// The challenge with this digest, expired or not.
    fn mfa_challenge(&self, token: &MfaTokenHash) -> Result<Option<MfaChallenge>, StoreError>;

    /// Counts a wrong code against the challenge, atomically; when the count reaches
    /// `max_failures` the challenge is deleted. Returns the new count (0 when there was no
    /// such challenge).
    fn fail_mfa_challenge(
        &self,
        token: &MfaTokenHash,
        max_failures: u32,
    ) -> Result<u32, StoreError>;

    /// Consumes the challenge: deletes it if it is live at `at` with fewer than
    /// `max_failures` wrong codes, atomically (of two concurrent calls, one wins). Returns
    /// whether it did.
    fn take_mfa_challenge(
        &self,
        token: &MfaTokenHash,
        at: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secrets() {
        let shown = format!(
            "{:?} {:?} {:?}",
            EncryptedTotpSecret::new("sealedsealed"),
            RecoveryCodeHash::new("digestdigest"),
            MfaTokenHash::new("tokentoken"),
        );
        for secret in ["sealed", "digest", "tokentoken"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn a_challenge_lives_until_it_expires_or_has_too_many_failures() {
        let at = crate::now();
        let challenge = MfaChallenge {
            token_hash: MfaTokenHash::new("t"),
            user_id: UserId::new(),
            generation: CredentialGeneration::default(),
            access_ttl_secs: 900,
            created_at: at,
            expires_at: at + chrono::TimeDelta::minutes(5),
            failures: 4,
        };
        assert!(challenge.is_live_at(at, 5));
        assert!(!challenge.is_live_at(challenge.expires_at, 5));
        assert!(!challenge.is_live_at(at, 4));
    }
}
