//! Accounts as their owners see them: registration and profile changes.

use auth_domain::{
    AuditAction, ClientInfo, Email, Invalidation, NewPassword, NewUser, Password, PasswordChange,
    Role, SessionRevocation, User, UserChanges, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::{AuthError, changed_since_check},
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
    /// a user does after a compromise: in one store transaction with the new hash, which also
    /// refuses whatever a check of the old password is still producing (a login, a key) and a
    /// second change checked against the same password ([`AuthError::InvalidCurrentPassword`]).
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
        let renames = changes.username.is_some() || changes.email.is_some();
        let work = move |inner: &Inner| {
            let new_hash = match (&new_password, &current) {
                (Some(new_password), Some(current)) => {
                    inner.check_current_password(
                        &user,
                        current,
                        &client,
                        AuditAction::PasswordChanged,
                    )?;
                    Some(inner.hasher.hash(new_password)?)
                }
                _ => None,
            };
            let mut updated = user.clone();
            if renames || new_hash.is_none() {
                updated = inner.store.update_user(user.id, &changes)?;
                inner.invalidate(Invalidation::User(user.id));
            }
            if let Some(new_hash) = new_hash {
                // Checked at the generation the cached user had: refused if a change (or a
                // disabling) came in between, so the password given is not current any more.
                let changed = inner
                    .store
                    .change_password(&PasswordChange {
                        user: user.id,
                        expected: user.credential_generation,
                        new_hash,
                        sessions: SessionRevocation::AllExcept(session),
                        at: changes.updated_at,
                    })
                    .map_err(|e| changed_since_check(e.into(), AuthError::InvalidCurrentPassword));
                inner.invalidate(Invalidation::User(user.id));
                let changed = changed?;
                inner.record(
                    audit::event(AuditAction::PasswordChanged, true)
                        .by(user.id)
                        .on(user.id)
                        .ip(ip)
                        .detail(format!(
                            "other_sessions_ended={}, api_keys_revoked={}",
                            changed.ended_sessions.len(),
                            changed.revoked_api_keys.len()
                        )),
                );
                updated = changed.user;
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
