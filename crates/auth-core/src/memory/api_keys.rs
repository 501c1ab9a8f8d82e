//! [`ApiKeyStore`] for [`MemoryStore`].

use auth_domain::{ApiKey, ApiKeyId, ApiKeyStore, Conflict, NewApiKey, StoreError, User, UserId};
use chrono::{DateTime, Utc};

use super::MemoryStore;

impl ApiKeyStore for MemoryStore {
    fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey, StoreError> {
        let mut state = self.state();
        state.check_generation(new.key.user_id, new.generation)?;
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

    fn revoke_user_api_keys(&self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.state().revoke_keys(user, at).0.len() as u64)
    }

    fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        if let Some((key, _)) = self.state().api_keys.get_mut(&id) {
            key.last_used_at = Some(at);
        }
        Ok(())
    }
}
