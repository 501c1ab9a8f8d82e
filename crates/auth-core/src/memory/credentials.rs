//! The credential generation in [`MemoryStore`]: the guard on what a credential check produces,
//! and ending what a user's credentials gave. Every call holds the one lock, so each is atomic.

use auth_domain::{
    ApiKeyId, CredentialGeneration, SessionId, SessionRevocation, StoreError, UserId,
};
use chrono::{DateTime, Utc};

use super::State;

impl State {
    /// `Ok` if `generation` is still the user's: [`StoreError::CredentialsChanged`] if it
    /// moved on, [`StoreError::NotFound`] for an unknown user.
    pub(super) fn check_generation(
        &self,
        user: UserId,
        generation: CredentialGeneration,
    ) -> Result<(), StoreError> {
        match self.users.get(&user) {
            None => Err(StoreError::NotFound),
            Some(user) if user.credential_generation != generation => {
                Err(StoreError::CredentialsChanged)
            }
            Some(_) => Ok(()),
        }
    }

    /// Moves the user's credential generation on.
    pub(super) fn next_generation(&mut self, user: UserId) {
        if let Some(user) = self.users.get_mut(&user) {
            user.credential_generation = user.credential_generation.next();
        }
    }

    /// Ends the user's live sessions that `which` selects; returns their ids.
    pub(super) fn end_sessions(
        &mut self,
        user: UserId,
        which: SessionRevocation,
        at: DateTime<Utc>,
    ) -> Vec<SessionId> {
        let mut ended = Vec::new();
        for session in self.sessions.values_mut() {
            let spared = matches!(which, SessionRevocation::AllExcept(keep) if keep == session.id);
            if session.user_id == user && session.revoked_at.is_none() && !spared {
                session.revoked_at = Some(at);
                ended.push(session.id);
            }
        }
        ended
    }

    /// Revokes every live key of the user and ends the sessions opened with them; returns the
    /// keys and the sessions.
    pub(super) fn revoke_keys(
        &mut self,
        user: UserId,
        at: DateTime<Utc>,
    ) -> (Vec<ApiKeyId>, Vec<SessionId>) {
        let mut revoked = Vec::new();
        for (key, _) in self.api_keys.values_mut() {
            if key.user_id == user && key.revoked_at.is_none() {
                key.revoked_at = Some(at);
                revoked.push(key.id);
            }
        }
        let mut ended = Vec::new();
        for session in self.sessions.values_mut() {
            if session.revoked_at.is_none() && session.api_key.is_some_and(|k| revoked.contains(&k))
            {
                session.revoked_at = Some(at);
                ended.push(session.id);
            }
        }
        (revoked, ended)
    }

    /// Ends everything the user's credentials gave: the generation moves on, the sessions that
    /// `which` selects end, every API key is revoked (and its sessions end), and the
    /// `mfa_token`s waiting for their second step are forgotten. Returns the ended sessions and
    /// the revoked keys.
    pub(super) fn end_credentials(
        &mut self,
        user: UserId,
        which: SessionRevocation,
        at: DateTime<Utc>,
    ) -> (Vec<SessionId>, Vec<ApiKeyId>) {
        self.next_generation(user);
        let (keys, mut ended) = self.revoke_keys(user, at);
        ended.extend(self.end_sessions(user, which, at));
        self.mfa_challenges.retain(|_, c| c.user_id != user);
        (ended, keys)
    }
}
