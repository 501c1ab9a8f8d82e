use chrono::{DateTime, Utc};

use crate::{CredentialGeneration, Email, PasswordHash, Role, UserId, Username};

/// A user as stored. Carries the password hash, so it is never serialized: HTTP adapters map it
/// to their own response type, which has no field for the hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Stable id; tokens carry it in `sub`.
    pub id: UserId,
    /// Unique without regard to case.
    pub username: Username,
    /// Optional; unique without regard to case when present.
    pub email: Option<Email>,
    /// Whether the user has shown they read `email` (by redeeming a link sent to it, such as a
    /// password reset's). False for a new address: a change of address clears it.
    pub email_verified: bool,
    /// The address an email change waits to move to: set when a confirmation link is sent to
    /// it (an [`TokenPurpose::EmailChange`](crate::TokenPurpose::EmailChange) token), cleared
    /// when the change is confirmed or the address is changed otherwise.
    pub pending_email: Option<Email>,
    /// The bcrypt hash of the password.
    pub password_hash: PasswordHash,
    /// What the user may do.
    pub role: Role,
    /// A disabled user cannot log in, and their sessions end.
    pub is_active: bool,
    /// Whether logins need a second factor (an enabled TOTP enrolment). Only the
    /// [`MfaStore`](crate::MfaStore) changes it.
    pub mfa_enabled: bool,
    /// Moves on when everything earlier credential checks produced must end (a password
    /// change, disabling, a second factor turned on); see [`CredentialGeneration`].
    pub credential_generation: CredentialGeneration,
    /// When the user registered.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

/// A user about to be created.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The new user's id.
    pub id: UserId,
    /// The requested username.
    pub username: Username,
    /// The requested email, if any.
    pub email: Option<Email>,
    /// The hash of the chosen password.
    pub password_hash: PasswordHash,
    /// The initial role.
    pub role: Role,
    /// Creation time (also the first `updated_at`).
    pub created_at: DateTime<Utc>,
}

impl NewUser {
    /// The user as it will be stored: active, and unchanged since creation.
    pub fn into_user(self) -> User {
        User {
            id: self.id,
            username: self.username,
            email: self.email,
            email_verified: false,
            pending_email: None,
            password_hash: self.password_hash,
            role: self.role,
            is_active: true,
            mfa_enabled: false,
            credential_generation: CredentialGeneration::default(),
            created_at: self.created_at,
            updated_at: self.created_at,
        }
    }
}

/// Changes to a user; `None` leaves a field as it is. The password is changed only with
/// [`UserStore::change_password`](crate::UserStore::change_password), which ends what the old
/// one gave.
#[derive(Clone, Debug)]
pub struct UserChanges {
    /// A new username.
    pub username: Option<Username>,
    /// `Some(None)` removes the email; `Some(Some(e))` sets it.
    pub email: Option<Option<Email>>,
    /// A new role.
    pub role: Option<Role>,
    /// Enable or disable the user.
    pub is_active: Option<bool>,
    /// The time of the change.
    pub updated_at: DateTime<Utc>,
}

impl UserChanges {
    /// No changes, stamped with `updated_at`.
    pub fn at(updated_at: DateTime<Utc>) -> Self {
        Self {
            username: None,
            email: None,
            role: None,
            is_active: None,
            updated_at,
        }
    }

    /// Applies the changes to `user` (what every store does). A new address (other than the
    /// current one without regard to case), or none, is not verified; any change of the address
    /// drops a pending one.
    pub fn apply_to(&self, user: &mut User) {
        if let Some(username) = &self.username {
            user.username = username.clone();
        }
        if let Some(email) = &self.email {
            let same = match (email, &user.email) {
                (Some(new), Some(old)) => new.normalized() == old.normalized(),
                _ => false,
            };
            if !same {
                user.email_verified = false;
            }
            user.pending_email = None;
            user.email = email.clone();
        }
        if let Some(role) = self.role {
            user.role = role;
        }
        if let Some(active) = self.is_active {
            user.is_active = active;
        }
        user.updated_at = self.updated_at;
    }
}
