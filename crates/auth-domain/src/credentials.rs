//! The credential generation, which keeps what a credential check produced from outliving a
//! change of the credentials, and the password change that moves it.

use chrono::{DateTime, Utc};

use crate::{ApiKeyId, PasswordHash, SessionId, SessionRevocation, User, UserId};

/// A user's credential generation: a counter that moves on whenever everything that earlier
/// checks of the user's credentials produced must end at once: a password change (or reset),
/// disabling the user, turning a second factor on. Replacing the password hash by one of
/// another bcrypt cost (the upgrade after a login) keeps it, so that an upgrade never voids
/// the logins in flight beside it.
///
/// What a credential check produces (a session, an API key, an `mfa_token`'s challenge) is
/// given to the store with the generation the check saw ([`NewSession::generation`](
/// crate::NewSession::generation), [`NewApiKey::generation`](crate::NewApiKey::generation),
/// [`MfaChallenge::generation`](crate::MfaChallenge::generation)), and the store refuses it
/// with [`StoreError::CredentialsChanged`](crate::StoreError::CredentialsChanged) unless that
/// is still the user's generation, checked in the transaction that stores it while holding the
/// user's row. The change that moves the generation ends what exists in its own transaction,
/// holding the same row: whichever of the two commits first, the other sees it, so nothing
/// checked against the old credentials survives the change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CredentialGeneration(pub i64);

impl CredentialGeneration {
    /// The generation after this one.
    pub fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

/// A password change as the store makes it ([`UserStore::change_password`](
/// crate::UserStore::change_password)): in one transaction, the new hash, the next credential
/// generation, the end of the sessions that `sessions` selects, the revocation of every API key
/// (and of the sessions opened with them), and the end of every `mfa_token` waiting for its
/// second step, announced to every process's credential cache.
#[derive(Clone, Debug)]
pub struct PasswordChange {
    /// Whose password changes.
    pub user: UserId,
    /// The generation that the current password (or whatever authorised the change, such as a
    /// reset token) was checked at: the change is refused with
    /// [`StoreError::CredentialsChanged`](crate::StoreError::CredentialsChanged) if the user's
    /// generation has moved on since, so that of two concurrent changes checked against the
    /// same password only one is made.
    pub expected: CredentialGeneration,
    /// The hash of the new password.
    pub new_hash: PasswordHash,
    /// Which of the user's sessions end: [`SessionRevocation::AllExcept`] the one that made the
    /// change, or [`SessionRevocation::All`] (a reset).
    pub sessions: SessionRevocation,
    /// The time of the change.
    pub at: DateTime<Utc>,
}

/// What a [`PasswordChange`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordChanged {
    /// The user as stored now, with the new hash and generation.
    pub user: User,
    /// The sessions that ended, those opened with the revoked keys included.
    pub ended_sessions: Vec<SessionId>,
    /// The API keys that were revoked.
    pub revoked_api_keys: Vec<ApiKeyId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_only_move_forward() {
        let first = CredentialGeneration::default();
        assert!(first.next() > first);
        assert_eq!(
            CredentialGeneration(i64::MAX).next(),
            CredentialGeneration(i64::MAX)
        );
    }
}
