//! [`SessionStore`] for [`MemoryStore`], with refresh-token rotation.

use auth_domain::{
    NewSession, RefreshOutcome, RefreshRotation, Session, SessionId, SessionRevocation,
    SessionStore, StoreError, User, UserId,
};
use chrono::{DateTime, Utc};

use super::{MemoryStore, RefreshRecord};

impl SessionStore for MemoryStore {
    fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
        let mut state = self.state();
        state.check_generation(new.session.user_id, new.generation)?;
        if let Some(key) = new.session.api_key {
            let live = state
                .api_keys
                .get(&key)
                .is_some_and(|(key, _)| key.revoked_at.is_none());
            if !live {
                return Err(StoreError::CredentialsChanged);
            }
        }
        if let Some(hash) = new.refresh_token_hash {
            state.refresh_tokens.insert(
                hash,
                RefreshRecord {
                    session: new.session.id,
                    superseded_at: None,
                },
            );
        }
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
        Ok(self.state().end_sessions(user, which, at).len())
    }
}
