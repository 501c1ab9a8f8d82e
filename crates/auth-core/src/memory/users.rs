//! [`UserStore`] for [`MemoryStore`], with the guard that keeps the last active admin.

use auth_domain::{
    Conflict, NewUser, PasswordChange, PasswordChanged, PasswordHash, Role, SessionId,
    SessionRevocation, StoreError, TokenPurpose, User, UserChanges, UserId, UserQuery, UserStore,
    Username,
};
use chrono::{DateTime, Utc};

use super::{MemoryStore, State, page};

fn is_active_admin(user: &User) -> bool {
    user.role == Role::Admin && user.is_active
}

impl State {
    /// Whether `id` is the only active admin.
    fn is_last_admin(&self, id: UserId) -> bool {
        self.users.get(&id).is_some_and(is_active_admin)
            && !self
                .users
                .values()
                .any(|u| u.id != id && is_active_admin(u))
    }

    pub(super) fn conflict_with(&self, candidate: &User) -> Option<Conflict> {
        self.users
            .values()
            .filter(|u| u.id != candidate.id)
            .find_map(|u| {
                if u.username.normalized() == candidate.username.normalized() {
                    Some(Conflict::Username)
                } else if u.email.is_some()
                    && u.email.as_ref().map(|e| e.normalized())
                        == candidate.email.as_ref().map(|e| e.normalized())
                {
                    Some(Conflict::Email)
                } else {
                    None
                }
            })
    }
}

impl State {
    /// [`UserStore::change_password`], under the caller's lock.
    pub(super) fn change_password(
        &mut self,
        change: &PasswordChange,
    ) -> Result<PasswordChanged, StoreError> {
        self.check_generation(change.user, change.expected)?;
        let user = self
            .users
            .get_mut(&change.user)
            .ok_or(StoreError::NotFound)?;
        user.password_hash = change.new_hash.clone();
        user.updated_at = change.at;
        let (ended_sessions, revoked_api_keys) =
            self.end_credentials(change.user, change.sessions, change.at);
        self.email_tokens.retain(|_, token| {
            token.user != change.user || token.purpose != TokenPurpose::PasswordReset
        });
        Ok(PasswordChanged {
            user: self.users[&change.user].clone(),
            ended_sessions,
            revoked_api_keys,
        })
    }
}

impl UserStore for MemoryStore {
    fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let mut state = self.state();
        let user = new.into_user();
        if let Some(conflict) = state.conflict_with(&user) {
            return Err(StoreError::Conflict(conflict));
        }
        state.users.insert(user.id, user.clone());
        Ok(user)
    }

    fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state().users.get(&id).cloned())
    }

    fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let key = username.normalized();
        Ok(self
            .state()
            .users
            .values()
            .find(|u| u.username.normalized() == key)
            .cloned())
    }

    fn update_user(&self, id: UserId, changes: &UserChanges) -> Result<User, StoreError> {
        let mut state = self.state();
        let mut user = state.users.get(&id).cloned().ok_or(StoreError::NotFound)?;
        changes.apply_to(&mut user);
        if let Some(conflict) = state.conflict_with(&user) {
            return Err(StoreError::Conflict(conflict));
        }
        if state.is_last_admin(id) && !is_active_admin(&user) {
            return Err(StoreError::Conflict(Conflict::LastAdmin));
        }
        state.users.insert(id, user);
        if changes.is_active == Some(false) {
            state.end_credentials(id, SessionRevocation::All, changes.updated_at);
        }
        Ok(state.users[&id].clone())
    }

    fn change_password(&self, change: &PasswordChange) -> Result<PasswordChanged, StoreError> {
        self.state().change_password(change)
    }

    fn replace_password_hash(
        &self,
        id: UserId,
        expected: &PasswordHash,
        new: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        match state.users.get_mut(&id) {
            Some(user) if &user.password_hash == expected => {
                user.password_hash = new.clone();
                user.updated_at = at;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&id) {
            return Err(StoreError::NotFound);
        }
        if state.is_last_admin(id) {
            return Err(StoreError::Conflict(Conflict::LastAdmin));
        }
        state.users.remove(&id);
        state.imports.remove(&id);
        let sessions: Vec<SessionId> = state
            .sessions
            .values()
            .filter(|s| s.user_id == id)
            .map(|s| s.id)
            .collect();
        for session in &sessions {
            state.sessions.remove(session);
        }
        state
            .refresh_tokens
            .retain(|_, r| !sessions.contains(&r.session));
        state.api_keys.retain(|_, (key, _)| key.user_id != id);
        state.forget_mfa(id);
        state.email_tokens.retain(|_, token| token.user != id);
        state.mail_requests.remove(&id);
        Ok(())
    }

    fn list_users(&self, query: &UserQuery) -> Result<(Vec<User>, Option<u64>), StoreError> {
        let state = self.state();
        let prefix = query.q.as_deref().map(str::to_ascii_lowercase);
        let mut users: Vec<User> = state
            .users
            .values()
            .filter(|u| {
                prefix.as_deref().is_none_or(|prefix| {
                    u.username.normalized().starts_with(prefix)
                        || u.email
                            .as_ref()
                            .is_some_and(|e| e.normalized().starts_with(prefix))
                })
            })
            .cloned()
            .collect();
        let total = users.len() as u64;
        users.sort_by_key(|u| (u.created_at, u.id));
        if let Some(after) = query.after {
            users.retain(|u| (u.created_at, u.id.0) > (after.at, after.id));
        }
        let (users, _) = page(users, query.offset, query.limit);
        Ok((users, query.count.total(total)))
    }

    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
