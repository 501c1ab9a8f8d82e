//! [`ImportStore`] for [`MemoryStore`].

use auth_domain::{
    ImportStore, NewUser, PasswordChange, PasswordChanged, StoreError, User, UserId, UserImport,
};

use super::MemoryStore;

impl ImportStore for MemoryStore {
    fn import_user(&self, new: NewUser, email_verified: bool) -> Result<User, StoreError> {
        // One lock for both writes: no one sees the user without its record.
        let mut state = self.state();
        let mut user = new.into_user();
        user.email_verified = email_verified && user.email.is_some();
        if let Some(conflict) = state.conflict_with(&user) {
            return Err(StoreError::Conflict(conflict));
        }
        state.users.insert(user.id, user.clone());
        state.imports.insert(
            user.id,
            UserImport {
                user: user.id,
                password_hash: user.password_hash.clone(),
                generation: user.credential_generation,
                imported_at: user.created_at,
            },
        );
        Ok(user)
    }

    fn user_import(&self, user: UserId) -> Result<Option<UserImport>, StoreError> {
        Ok(self.state().imports.get(&user).cloned())
    }

    fn update_imported_password(
        &self,
        change: &PasswordChange,
    ) -> Result<PasswordChanged, StoreError> {
        let mut state = self.state();
        if !state.imports.contains_key(&change.user) {
            return Err(StoreError::NotFound);
        }
        let changed = state.change_password(change)?;
        state.imports.insert(
            change.user,
            UserImport {
                user: change.user,
                password_hash: change.new_hash.clone(),
                generation: changed.user.credential_generation,
                imported_at: change.at,
            },
        );
        Ok(changed)
    }
}
