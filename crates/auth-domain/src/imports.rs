//! Users imported from another application (`auth-server import-users`): the record of each
//! import, written with the user, so that a later run can tell an account it imported from one
//! someone else registered under the same name, and can bring over a hash changed in the old
//! application.

use chrono::{DateTime, Utc};

use crate::{
    CredentialGeneration, NewUser, PasswordChange, PasswordChanged, PasswordHash, StoreError, User,
    UserId,
};

/// The record of a user's import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserImport {
    /// The imported user.
    pub user: UserId,
    /// The hash the source held when the user was imported (or last updated from it).
    pub password_hash: PasswordHash,
    /// The user's credential generation as that import left it: while it is still the user's,
    /// the password was not changed here since (nor the user disabled, nor a second factor
    /// turned on). A hash upgrade at login keeps it.
    pub generation: CredentialGeneration,
    /// When.
    pub imported_at: DateTime<Utc>,
}

/// Persistence of imports. Methods block.
pub trait ImportStore: Send + Sync {
    /// Creates `user` as [`UserStore::create_user`](crate::UserStore::create_user) does (same
    /// conflicts) and records its import (its hash, its generation, `user.created_at`), in one
    /// transaction; with `email_verified` its address counts as verified (the source vouches
    /// for it).
    fn import_user(&self, user: NewUser, email_verified: bool) -> Result<User, StoreError>;
    /// The record of `user`'s import; `None` for a user that was not imported.
    fn user_import(&self, user: UserId) -> Result<Option<UserImport>, StoreError>;
    /// Brings over a hash changed in the source: exactly
    /// [`UserStore::change_password`](crate::UserStore::change_password) (the same
    /// transaction: refused with [`StoreError::CredentialsChanged`] unless the user's
    /// generation is still `change.expected`; the generation moves on, the sessions
    /// `change.sessions` selects end, every API key is revoked, the change is announced to
    /// other instances), in which the import record also takes the new hash and generation.
    /// [`StoreError::NotFound`] for a user without an import record.
    fn update_imported_password(
        &self,
        change: &PasswordChange,
    ) -> Result<PasswordChanged, StoreError>;
}
