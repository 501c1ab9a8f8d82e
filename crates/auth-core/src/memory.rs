//! An in-memory [`Store`](auth_domain::Store) for tests and embedders' tests. It passes the same
//! contract suite as the diesel stores; it keeps nothing across restarts.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use auth_domain::{
    Conflict, NewSession, NewUser, RefreshOutcome, RefreshRotation, RefreshTokenHash, Session,
    SessionId, SessionRevocation, SessionStore, StoreError, User, UserChanges, UserId, UserStore,
    Username,
};
use chrono::{DateTime, Utc};

struct RefreshRecord {
    session: SessionId,
    superseded_at: Option<DateTime<Utc>>,
}

#[derive(Default)]
struct State {
    users: HashMap<UserId, User>,
    sessions: HashMap<SessionId, Session>,
    refresh_tokens: HashMap<RefreshTokenHash, RefreshRecord>,
}

impl State {
    fn conflict_with(&self, candidate: &User) -> Option<Conflict> {
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

/// A thread-safe store that lives in memory.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (every write is one insert), so
        // a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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
        state.users.insert(id, user.clone());
        Ok(user)
    }

    fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

impl SessionStore for MemoryStore {
    fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&new.session.user_id) {
            return Err(StoreError::NotFound);
        }
        state.refresh_tokens.insert(
            new.refresh_token_hash,
            RefreshRecord {
                session: new.session.id,
                superseded_at: None,
            },
        );
        state.sessions.insert(new.session.id, new.session.clone());
        Ok(new.session)
    }

    fn session_with_user(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        let state = self.state();
        Ok(state.sessions.get(&id).and_then(|session| {
            let user = state.users.get(&session.user_id)?;
            Some((session.clone(), user.clone()))
        }))
    }

    fn user_sessions(&self, user: UserId) -> Result<Vec<Session>, StoreError> {
        let mut sessions: Vec<Session> = self
            .state()
            .sessions
            .values()
            .filter(|s| s.user_id == user)
            .cloned()
            .collect();
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(sessions)
    }

    fn rotate_refresh_token(
        &self,
        rotation: &RefreshRotation,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut state = self.state();
        let Some(record) = state.refresh_tokens.get(&rotation.presented) else {
            return Ok(RefreshOutcome::Invalid);
        };
        let (session_id, superseded_at) = (record.session, record.superseded_at);
        let Some(session) = state.sessions.get(&session_id) else {
            return Ok(RefreshOutcome::Invalid);
        };
        if !session.is_live_at(rotation.at) {
            return Ok(RefreshOutcome::Invalid);
        }
        match superseded_at {
            None => {
                for record in state.refresh_tokens.values_mut() {
                    if record.session == session_id && record.superseded_at.is_none() {
                        record.superseded_at = Some(rotation.at);
                    }
                }
            }
            Some(when) if rotation.at - when <= rotation.reuse_grace => {}
            Some(_) => {
                let session = state.sessions.get_mut(&session_id).expect("checked above");
                session.revoked_at = Some(rotation.at);
                return Ok(RefreshOutcome::ReuseDetected {
                    session: session_id,
                    user: session.user_id,
                });
            }
        }
        state.refresh_tokens.insert(
            rotation.replacement.clone(),
            RefreshRecord {
                session: session_id,
                superseded_at: None,
            },
        );
        let session = state.sessions.get_mut(&session_id).expect("checked above");
        session.last_used_at = rotation.at;
        session.idle_expires_at = rotation.at + rotation.idle_ttl;
        let session = session.clone();
        let user = state
            .users
            .get(&session.user_id)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        Ok(RefreshOutcome::Rotated { session, user })
    }

    fn revoke_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut state = self.state();
        let session = state.sessions.get_mut(&id).ok_or(StoreError::NotFound)?;
        session.revoked_at.get_or_insert(at);
        Ok(())
    }

    fn revoke_user_sessions(
        &self,
        user: UserId,
        which: SessionRevocation,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let mut state = self.state();
        let mut ended = 0;
        for session in state.sessions.values_mut() {
            let spared = matches!(which, SessionRevocation::AllExcept(keep) if keep == session.id);
            if session.user_id == user && session.revoked_at.is_none() && !spared {
                session.revoked_at = Some(at);
                ended += 1;
            }
        }
        Ok(ended)
    }
}
