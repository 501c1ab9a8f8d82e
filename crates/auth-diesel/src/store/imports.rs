//! [`ImportStore`] for [`DieselStore`]: the `user_imports` table, written in the transactions
//! that create an imported user and that bring over a hash changed in the source.

use auth_domain::{
    CredentialGeneration, ImportStore, NewUser, PasswordChange, PasswordChanged, PasswordHash,
    StoreError, User, UserId, UserImport,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{DieselStore, store_error, transaction, users::change_password_in};
use crate::{
    rows::{UserRow, naive, utc},
    schema::{user_imports, users},
};

impl ImportStore for DieselStore {
    fn import_user(&self, new: NewUser, email_verified: bool) -> Result<User, StoreError> {
        let mut user = new.into_user();
        user.email_verified = email_verified && user.email.is_some();
        transaction(&mut *self.conn()?, |conn| {
            diesel::insert_into(users::table)
                .values(UserRow::from(&user))
                .execute(conn)
                .map_err(store_error)?;
            diesel::insert_into(user_imports::table)
                .values((
                    user_imports::user_id.eq(user.id.to_string()),
                    user_imports::password_hash.eq(user.password_hash.expose()),
                    user_imports::credential_generation.eq(user.credential_generation.0),
                    user_imports::imported_at.eq(naive(user.created_at)),
                ))
                .execute(conn)
                .map_err(store_error)?;
            Ok(user)
        })
    }

    fn user_import(&self, user: UserId) -> Result<Option<UserImport>, StoreError> {
        let row: Option<(String, i64, NaiveDateTime)> = user_imports::table
            .find(user.to_string())
            .select((
                user_imports::password_hash,
                user_imports::credential_generation,
                user_imports::imported_at,
            ))
            .first(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?;
        Ok(row.map(|(hash, generation, at)| UserImport {
            user,
            password_hash: PasswordHash::new(hash),
            generation: CredentialGeneration(generation),
            imported_at: utc(at),
        }))
    }

    fn update_imported_password(
        &self,
        change: &PasswordChange,
    ) -> Result<PasswordChanged, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            let changed = change_password_in(conn, change)?;
            let updated = diesel::update(user_imports::table.find(change.user.to_string()))
                .set((
                    user_imports::password_hash.eq(change.new_hash.expose()),
                    user_imports::credential_generation.eq(changed.user.credential_generation.0),
                    user_imports::imported_at.eq(naive(change.at)),
                ))
                .execute(conn)
                .map_err(store_error)?;
            // No record: not an imported user; the transaction (and the change) is undone.
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(changed)
        })
    }
}
