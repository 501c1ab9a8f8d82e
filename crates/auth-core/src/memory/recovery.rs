//! [`RecoveryStore`] for [`MemoryStore`]: every call holds the one lock, so each is atomic.

use auth_domain::{
    Conflict, Email, EmailConfirmed, EmailToken, EmailTokenHash, Limit, NewEmailToken,
    PasswordChanged, PasswordResetChange, RecoveryStore, StoreError, TokenPurpose, User,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::MemoryStore;

impl RecoveryStore for MemoryStore {
    fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        let key = email.normalized();
        Ok(self
            .state()
            .users
            .values()
            .find(|u| u.email.as_ref().is_some_and(|e| e.normalized() == key))
            .cloned())
    }

    fn issue_email_token(&self, token: &NewEmailToken, limit: Limit) -> Result<bool, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&token.user) {
            return Err(StoreError::NotFound);
        }
        let at = token.created_at;
        if limit != Limit::Uncounted {
            let requests = state.mail_requests.entry(token.user).or_default();
            requests.retain(|requested| *requested > at - TimeDelta::hours(1));
            if let Limit::Within(limits) = limit {
                let too_soon = requests
                    .iter()
                    .any(|requested| *requested > at - limits.min_interval);
                if too_soon || requests.len() >= limits.max_per_hour as usize {
                    return Ok(false);
                }
            }
            requests.push(at);
        }
        if token.purpose == TokenPurpose::EmailChange
            && let Some(user) = state.users.get_mut(&token.user)
        {
            user.pending_email = Some(token.email.clone());
        }
        state
            .email_tokens
            .retain(|_, t| t.user != token.user || t.purpose != token.purpose);
        state.email_tokens.insert(
            token.hash.clone(),
            EmailToken {
                user: token.user,
                purpose: token.purpose,
                email: token.email.clone(),
                created_at: token.created_at,
                expires_at: token.expires_at,
            },
        );
        Ok(true)
    }

    fn email_token(&self, hash: &EmailTokenHash) -> Result<Option<EmailToken>, StoreError> {
        Ok(self.state().email_tokens.get(hash).cloned())
    }

    fn reset_password(&self, reset: &PasswordResetChange) -> Result<PasswordChanged, StoreError> {
        let mut state = self.state();
        let change = &reset.change;
        let token = match state.email_tokens.get(&reset.token) {
            Some(token)
                if token.user == change.user
                    && token.purpose == TokenPurpose::PasswordReset
                    && token.is_live(change.at) =>
            {
                token.clone()
            }
            _ => return Err(StoreError::NotFound),
        };
        // Deletes every reset token of the user, this one included.
        let mut changed = state.change_password(change)?;
        let user = state
            .users
            .get_mut(&change.user)
            .ok_or(StoreError::NotFound)?;
        if user
            .email
            .as_ref()
            .is_some_and(|email| email.normalized() == token.email.normalized())
        {
            user.email_verified = true;
            changed.user.email_verified = true;
        }
        let prefix = format!("{}|", reset.lockout_key);
        state
            .throttles
            .retain(|key, _| key != &reset.lockout_key && !key.starts_with(&prefix));
        Ok(changed)
    }

    fn confirm_email(
        &self,
        hash: &EmailTokenHash,
        at: DateTime<Utc>,
    ) -> Result<EmailConfirmed, StoreError> {
        let mut state = self.state();
        let token = state
            .email_tokens
            .get(hash)
            .filter(|t| t.is_live(at))
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let before = state
            .users
            .get(&token.user)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        let same = |email: &Option<Email>| {
            email
                .as_ref()
                .is_some_and(|e| e.normalized() == token.email.normalized())
        };
        let mut user = before.clone();
        match token.purpose {
            TokenPurpose::EmailVerification if same(&before.email) => {
                user.email_verified = true;
                state.email_tokens.retain(|_, t| {
                    t.user != token.user || t.purpose != TokenPurpose::EmailVerification
                });
            }
            TokenPurpose::EmailChange if same(&before.pending_email) => {
                user.email = Some(token.email.clone());
                user.email_verified = true;
                user.pending_email = None;
                user.updated_at = at;
                if state.conflict_with(&user) == Some(Conflict::Email) {
                    return Err(StoreError::Conflict(Conflict::Email));
                }
                state.email_tokens.retain(|_, t| t.user != token.user);
            }
            _ => return Err(StoreError::NotFound),
        }
        state.users.insert(user.id, user.clone());
        Ok(EmailConfirmed {
            user,
            purpose: token.purpose,
            previous_email: before.email,
            previous_verified: before.email_verified,
        })
    }
}
