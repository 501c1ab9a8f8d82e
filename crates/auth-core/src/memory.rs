//! An in-memory [`Store`](auth_domain::Store) for tests and embedders' tests. It passes the same
//! contract suite as the diesel stores; it keeps nothing across restarts.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use auth_domain::{
    ApiKey, ApiKeyId, ApiKeyStore, AttemptVerdict, AuditEvent, AuditQuery, AuditStore, Conflict,
    LockoutPolicy, LoginThrottle, LoginThrottleStore, NewApiKey, NewSession, NewUser, PasswordHash,
    RefreshOutcome, RefreshRotation, RefreshTokenHash, Role, Session, SessionId, SessionRevocation,
    SessionStore, StoreError, User, UserChanges, UserId, UserQuery, UserStore, Username,
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
    api_keys: HashMap<ApiKeyId, (ApiKey, String)>,
    audit: Vec<AuditEvent>,
    throttles: HashMap<String, LoginThrottle>,
}

/// One page of `items` (already filtered and sorted) and how many there are in all.
fn page<T>(items: Vec<T>, offset: u32, limit: u32) -> (Vec<T>, u64) {
    let total = items.len() as u64;
    let page = items
        .into_iter()
        .skip(offset as usize)
        .take(limit as usize)
        .collect();
    (page, total)
}

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
        if state.is_last_admin(id) && !is_active_admin(&user) {
            return Err(StoreError::Conflict(Conflict::LastAdmin));
        }
        state.users.insert(id, user.clone());
        Ok(user)
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
        Ok(())
    }

    fn list_users(&self, query: &UserQuery) -> Result<(Vec<User>, u64), StoreError> {
        let state = self.state();
        let needle = query.q.as_deref().map(str::to_lowercase);
        let mut users: Vec<User> = state
            .users
            .values()
            .filter(|u| {
                needle.as_deref().is_none_or(|needle| {
                    u.username.normalized().contains(needle)
                        || u.email
                            .as_ref()
                            .is_some_and(|e| e.normalized().contains(needle))
                })
            })
            .cloned()
            .collect();
        users.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(page(users, query.offset, query.limit))
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

impl ApiKeyStore for MemoryStore {
    fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey, StoreError> {
        let mut state = self.state();
        if !state.users.contains_key(&new.key.user_id) {
            return Err(StoreError::NotFound);
        }
        if state
            .api_keys
            .values()
            .any(|(k, _)| k.prefix == new.key.prefix)
        {
            return Err(StoreError::Conflict(Conflict::KeyPrefix));
        }
        state
            .api_keys
            .insert(new.key.id, (new.key.clone(), new.key_hash));
        Ok(new.key)
    }

    fn user_api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
        let mut keys: Vec<ApiKey> = self
            .state()
            .api_keys
            .values()
            .filter(|(k, _)| k.user_id == user)
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(keys)
    }

    fn api_key_by_prefix(
        &self,
        prefix: &str,
    ) -> Result<Option<(ApiKey, String, User)>, StoreError> {
        let state = self.state();
        Ok(state
            .api_keys
            .values()
            .find(|(k, _)| k.prefix == prefix)
            .and_then(|(key, hash)| {
                let user = state.users.get(&key.user_id)?;
                Some((key.clone(), hash.clone(), user.clone()))
            }))
    }

    fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut guard = self.state();
        // One &mut State, so that its fields can be borrowed apart.
        let state = &mut *guard;
        match state.api_keys.get_mut(&id) {
            Some((key, _)) if key.user_id == user && key.revoked_at.is_none() => {
                key.revoked_at = Some(at);
                for session in state.sessions.values_mut() {
                    if session.api_key == Some(id) && session.revoked_at.is_none() {
                        session.revoked_at = Some(at);
                    }
                }
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some((key, _)) = self.state().api_keys.get_mut(&id) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }
}

impl AuditStore for MemoryStore {
    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.state().audit.push(event.clone());
        Ok(())
    }

    fn audit_events(&self, query: &AuditQuery) -> Result<(Vec<AuditEvent>, u64), StoreError> {
        let state = self.state();
        let mut events: Vec<AuditEvent> = state
            .audit
            .iter()
            .filter(|e| {
                query
                    .user
                    .is_none_or(|u| e.actor == Some(u) || e.target == Some(u))
                    && query.since.is_none_or(|since| e.at >= since)
                    && query.until.is_none_or(|until| e.at < until)
            })
            .cloned()
            .collect();
        events.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        Ok(page(events, query.offset, query.limit))
    }
}

impl LoginThrottleStore for MemoryStore {
    fn take_login_attempt(
        &self,
        username: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError> {
        let mut state = self.state();
        let throttle = state.throttles.entry(username.to_owned()).or_default();
        if throttle.locked_until.is_some_and(|until| at < until) {
            return Ok(AttemptVerdict::Locked(*throttle));
        }
        throttle.failures = throttle.failures.saturating_add(1);
        if let Some(delay) = policy.delay_after(throttle.failures) {
            throttle.locked_until = Some(at + delay);
        }
        Ok(AttemptVerdict::Counted(*throttle))
    }

    fn clear_login_failures(&self, username: &str) -> Result<(), StoreError> {
        self.state().throttles.remove(username);
        Ok(())
    }
}
