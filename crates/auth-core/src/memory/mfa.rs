//! [`MfaStore`] for [`MemoryStore`].

use std::collections::HashMap;

use auth_domain::{
    EncryptedTotpSecret, MfaChallenge, MfaStore, MfaTokenHash, RecoveryCodeHash, SessionId,
    SessionRevocation, StoreError, TotpEnrolment, TotpRemoval, UserId,
};
use chrono::{DateTime, Utc};

use super::{MemoryStore, State};

/// A user's recovery codes: digest → when it was used.
pub(super) type RecoveryCodes = HashMap<RecoveryCodeHash, Option<DateTime<Utc>>>;

impl State {
    /// Forgets everything of a user's second factor (with the user, or when it is removed).
    pub(super) fn forget_mfa(&mut self, user: UserId) -> Option<TotpEnrolment> {
        self.recovery_codes.remove(&user);
        self.mfa_challenges.retain(|_, c| c.user_id != user);
        self.totp.remove(&user)
    }

    fn set_mfa_enabled(&mut self, user: UserId, enabled: bool, at: DateTime<Utc>) {
        if let Some(user) = self.users.get_mut(&user) {
            user.mfa_enabled = enabled;
            user.updated_at = at;
        }
    }
}

impl MfaStore for MemoryStore {
    fn totp_enrolment(&self, user: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        Ok(self.state().totp.get(&user).cloned())
    }

    fn begin_totp_enrolment(
        &self,
        user: UserId,
        secret: &EncryptedTotpSecret,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&user) {
            return Err(StoreError::NotFound);
        }
        if state.totp.get(&user).is_some_and(TotpEnrolment::is_enabled) {
            return Ok(false);
        }
        state.totp.insert(
            user,
            TotpEnrolment {
                user_id: user,
                secret: secret.clone(),
                created_at: at,
                confirmed_at: None,
                last_step: None,
            },
        );
        Ok(true)
    }

    fn enable_totp(
        &self,
        user: UserId,
        secret: &EncryptedTotpSecret,
        step: i64,
        recovery_codes: &[RecoveryCodeHash],
        keep: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(enrolment) = state
            .totp
            .get_mut(&user)
            .filter(|e| !e.is_enabled() && &e.secret == secret)
        else {
            return Ok(false);
        };
        enrolment.confirmed_at = Some(at);
        enrolment.last_step = Some(step);
        let codes = recovery_codes.iter().map(|c| (c.clone(), None)).collect();
        state.recovery_codes.insert(user, codes);
        state.set_mfa_enabled(user, true, at);
        state.next_generation(user);
        state.end_sessions(user, SessionRevocation::AllExcept(keep), at);
        if let Some(kept) = state.sessions.get_mut(&keep).filter(|s| s.user_id == user) {
            kept.mfa = true;
        }
        Ok(true)
    }

    fn remove_totp(&self, user: UserId, at: DateTime<Utc>) -> Result<TotpRemoval, StoreError> {
        let mut state = self.state();
        Ok(match state.forget_mfa(user) {
            None => TotpRemoval::Nothing,
            Some(enrolment) if !enrolment.is_enabled() => TotpRemoval::Pending,
            Some(_) => {
                state.set_mfa_enabled(user, false, at);
                TotpRemoval::Enabled
            }
        })
    }

    fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.totp.get_mut(&user) {
            Some(enrolment)
                if enrolment.is_enabled() && enrolment.last_step.is_none_or(|last| step > last) =>
            {
                enrolment.last_step = Some(step);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn use_recovery_code(
        &self,
        user: UserId,
        code: &RecoveryCodeHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state
            .recovery_codes
            .get_mut(&user)
            .and_then(|codes| codes.get_mut(code))
        {
            Some(used @ None) => {
                *used = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn recovery_codes_left(&self, user: UserId) -> Result<u32, StoreError> {
        let state = self.state();
        let left = state.recovery_codes.get(&user).map_or(0, |codes| {
            codes.values().filter(|used| used.is_none()).count()
        });
        Ok(u32::try_from(left).unwrap_or(u32::MAX))
    }

    fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError> {
        let mut state = self.state();
        state.check_generation(challenge.user_id, challenge.generation)?;
        state
            .mfa_challenges
            .retain(|_, c| c.expires_at >= challenge.created_at);
        state
            .mfa_challenges
            .insert(challenge.token_hash.clone(), challenge.clone());
        Ok(())
    }

    fn mfa_challenge(&self, token: &MfaTokenHash) -> Result<Option<MfaChallenge>, StoreError> {
        Ok(self.state().mfa_challenges.get(token).cloned())
    }

    fn fail_mfa_challenge(
        &self,
        token: &MfaTokenHash,
        max_failures: u32,
    ) -> Result<u32, StoreError> {
        let mut state = self.state();
        let Some(challenge) = state.mfa_challenges.get_mut(token) else {
            return Ok(0);
        };
        challenge.failures = challenge.failures.saturating_add(1);
        let failures = challenge.failures;
        if failures >= max_failures {
            state.mfa_challenges.remove(token);
        }
        Ok(failures)
    }

    fn take_mfa_challenge(
        &self,
        token: &MfaTokenHash,
        at: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let live = state
            .mfa_challenges
            .get(token)
            .is_some_and(|c| c.is_live_at(at, max_failures));
        if live {
            state.mfa_challenges.remove(token);
        }
        Ok(live)
    }
}
