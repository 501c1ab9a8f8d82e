//! Accounts as their owners see them: registration and profile changes.

use auth_domain::{
    AuditAction, ClientInfo, Email, Invalidation, NewPassword, NewUser, Password, Role,
    SessionRevocation, User, UserChanges, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    service::{AuthService, Inner},
    sessions::Principal,
};

/// `POST /register`'s input, before parsing.
#[derive(Clone)]
pub struct Registration {
    /// Requested username.
    pub username: String,
    /// Chosen password.
    pub password: Password,
    /// Optional email.
    pub email: Option<String>,
}

/// Changes a user asks for on their own profile; `None` leaves a field alone.
#[derive(Clone, Default)]
pub struct ProfileUpdate {
    /// A new username.
    pub username: Option<String>,
    /// `Some(None)` removes the email; `Some(Some(e))` sets it.
    pub email: Option<Option<String>>,
    /// A new password; needs `current_password`.
    pub password: Option<Password>,
    /// The current password, required with a new password.
    pub current_password: Option<Password>,
}

impl AuthService {
    /// Creates a user with the `user` role; the audit event records `client`'s address, as a
    /// login's does.
    pub async fn register(
        &self,
        registration: Registration,
        client: ClientInfo,
    ) -> Result<User, AuthError> {
        let username = Username::parse(&registration.username)?;
        let email = registration
            .email
            .as_deref()
            .map(Email::parse)
            .transpose()?;
        let password = NewPassword::parse(
            registration.password.expose(),
            self.inner.config.password_min_length,
        )?;
        let context: Vec<&str> = [Some(username.as_str()), email.as_ref().map(Email::as_str)]
            .into_iter()
            .flatten()
            .collect();
        self.inner.check_strength(&password, &context)?;
        self.hashing(move |inner| {
            let password_hash = inner.hasher.hash(&password)?;
            let user = inner.store.create_user(NewUser {
                id: UserId::new(),
                username,
                email,
                password_hash,
                role: Role::User,
                created_at: now(),
            })?;
            inner.record(
                audit::event(AuditAction::Register, true)
                    .by(user.id)
                    .on(user.id)
                    .ip(client.ip),
            );
            Ok(user)
        })
        .await
    }

    /// Changes the caller's own username, email or password. A new password needs the current
    /// one (checked like a login: a wrong one counts toward the lockout), ends every other
    /// session of the user and revokes all their API keys, since changing the password is what
    /// a user does after a compromise.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        update: ProfileUpdate,
    ) -> Result<User, AuthError> {
        let mut changes = UserChanges::at(now());
        changes.username = update
            .username
            .as_deref()
            .map(Username::parse)
            .transpose()?;
        changes.email = update
            .email
            .map(|email| email.as_deref().map(Email::parse).transpose())
            .transpose()?;
        let new_password = update
            .password
            .map(|p| NewPassword::parse(p.expose(), self.inner.config.password_min_length))
            .transpose()?;
        if let Some(new_password) = &new_password {
            let user = &principal.user;
            let username = changes.username.as_ref().unwrap_or(&user.username);
            let email = match &changes.email {
                Some(email) => email.as_ref(),
                None => user.email.as_ref(),
            };
            let context: Vec<&str> = [Some(username.as_str()), email.map(Email::as_str)]
                .into_iter()
                .flatten()
                .collect();
            self.inner.check_strength(new_password, &context)?;
        }
        let current = match (&new_password, update.current_password) {
            (Some(_), None) => return Err(AuthError::CurrentPasswordRequired),
            (_, current) => current,
        };
        let (user, session) = (principal.user.clone(), principal.session()?.0.id);
        let client = principal.client.clone();
        let ip = client.ip.clone();
        let hashes = new_password.is_some();
        let work = move |inner: &Inner| {
            if let (Some(new_password), Some(current)) = (&new_password, &current) {
                inner.check_current_password(
                    &user,
                    current,
                    &client,
                    AuditAction::PasswordChanged,
                )?;
                changes.password_hash = Some(inner.hasher.hash(new_password)?);
            }
            let updated = inner.store.update_user(user.id, &changes)?;
            inner.invalidate(Invalidation::User(user.id));
            if changes.password_hash.is_some() {
                let ended = inner.store.revoke_user_sessions(
                    user.id,
                    SessionRevocation::AllExcept(session),
                    changes.updated_at,
                )?;
                let keys_revoked = inner
                    .store
                    .revoke_user_api_keys(user.id, changes.updated_at)?;
                inner.record(
                    audit::event(AuditAction::PasswordChanged, true)
                        .by(user.id)
                        .on(user.id)
                        .ip(ip)
                        .detail(format!(
                            "other_sessions_ended={ended}, api_keys_revoked={keys_revoked}"
                        )),
                );
            }
            Ok(updated)
        };
        if hashes {
            self.hashing(work).await
        } else {
            self.blocking(work).await
        }
    }
}
