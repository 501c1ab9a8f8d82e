//! [`ApiKeyStore`] for [`DieselStore`].

use auth_domain::{
    ApiKey, ApiKeyId, ApiKeyStore, Invalidation, NewApiKey, StoreError, User, UserId,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{DieselStore, credentials, notify, store_error, transaction};
use crate::{
    rows::{ApiKeyRow, UserRow, naive},
    schema::{api_keys, sessions, users},
};

impl ApiKeyStore for DieselStore {
    fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            credentials::hold_generation(conn, new.key.user_id, new.generation)?;
            diesel::insert_into(api_keys::table)
                .values(ApiKeyRow::new(&new.key, new.key_hash))
                .execute(conn)
                .map_err(store_error)?;
            Ok(())
        })?;
        Ok(new.key)
    }

    fn user_api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::user_id.eq(user.to_string()))
            .order((api_keys::created_at.desc(), api_keys::id.desc()))
            .select(ApiKeyRow::as_select())
            .load(&mut *self.conn()?)
            .map_err(store_error)?
            .iter()
            .map(ApiKey::try_from)
            .collect()
    }

    fn api_key_by_prefix(
        &self,
        prefix: &str,
    ) -> Result<Option<(ApiKey, String, User)>, StoreError> {
        let found = api_keys::table
            .inner_join(users::table)
            .filter(api_keys::prefix.eq(prefix))
            .select((ApiKeyRow::as_select(), UserRow::as_select()))
            .first::<(ApiKeyRow, UserRow)>(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?;
        found
            .map(|(key, user)| Ok((ApiKey::try_from(&key)?, key.key_hash, User::try_from(user)?)))
            .transpose()
    }

    fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            let revoked = diesel::update(
                api_keys::table
                    .find(id.to_string())
                    .filter(api_keys::user_id.eq(user.to_string()))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(naive(at)))
            .execute(conn)
            .map_err(store_error)?;
            if revoked == 0 {
                return Err(StoreError::NotFound);
            }
            diesel::update(
                sessions::table
                    .filter(sessions::api_key_id.eq(id.to_string()))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(naive(at)))
            .execute(conn)
            .map_err(store_error)?;
            notify(conn, Invalidation::ApiKey(id))
        })
    }

    fn revoke_user_api_keys(&self, user: UserId, at: DateTime<Utc>) -> Result<u64, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            let live = || {
                api_keys::table
                    .filter(api_keys::user_id.eq(user.to_string()))
                    .filter(api_keys::revoked_at.is_null())
            };
            // Sessions first, while the keys can still be told live from revoked.
            diesel::update(
                sessions::table
                    .filter(sessions::api_key_id.eq_any(live().select(api_keys::id.nullable())))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(naive(at)))
            .execute(conn)
            .map_err(store_error)?;
            let revoked = diesel::update(live())
                .set(api_keys::revoked_at.eq(naive(at)))
                .execute(conn)
                .map_err(store_error)?;
            notify(conn, Invalidation::User(user))?;
            Ok(revoked as u64)
        })
    }

    fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        diesel::update(api_keys::table.find(id.to_string()))
            .set(api_keys::last_used_at.eq(naive(at)))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(())
    }
}
