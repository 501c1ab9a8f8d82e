//! Accounts as their owners see them: registration and profile changes.

use auth_domain::{
    AuditAction, AuditEvent, ClientInfo, Email, Invalidation, Limit, NewPassword, NewUser,
    Password, PasswordChange, Role, SessionRevocation, User, UserChanges, UserId, Username, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::{AuthError, changed_since_check},
    mail::{Mail, PasswordChange as MailPasswordChange, PasswordChangedNotice},
    recovery::parse_ip,
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
        if email.is_none() && self.inner.config.require_verified_email {
            return Err(AuthError::InvalidInput(
                "email: required (security.require_verified_email)".into(),
            ));
        }
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
            // The account exists: a link that cannot be sent now is asked for again later.
            if let Some(setup) = inner.mail_setup()
                && let Err(e) = inner.send_verification(&setup, &user, Limit::Uncounted)
            {
                tracing::warn!(user_id = %user.id, error = %e, "no verification link sent at registration");
            }
            Ok(user)
        })
        .await
    }

    /// Changes the caller's own username, email or password. A new password or a new address
    /// (or removing the address) needs the current password, checked like a login (a wrong one
    /// counts toward the lockout).
    ///
    /// A new password ends every other session of the user and revokes all their API keys,
    /// since changing the password is what a user does after a compromise: in one store
    /// transaction with the new hash, which also refuses whatever a check of the old password
    /// is still producing (a login, a key) and a second change checked against the same
    /// password ([`AuthError::InvalidCurrentPassword`]); a `password_changed_notice` goes to
    /// the verified address.
    ///
    /// A new address, with mail on, waits: it becomes the user's `pending_email` and an
    /// `email_change` link goes to it; [`AuthService::verify_email`] with that link's token
    /// makes the change. With mail off, or to remove the address, the change is made at once
    /// (and the old address, if verified, gets an `email_changed_notice`).
    /// [`AuthError::EmailTaken`] when another account holds the new address.
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
        // The same address, written the same way, is no change (a PUT of the whole profile).
        if changes.email.as_ref() == Some(&principal.user.email) {
            changes.email = None;
        }
        let new_address =
            changes
                .email
                .clone()
                .filter(|email| match (email, &principal.user.email) {
                    (Some(new), Some(old)) => new.normalized() != old.normalized(),
                    (None, None) => false,
                    _ => true,
                });
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
        let checks_password = new_password.is_some() || new_address.is_some();
        let current = match (checks_password, update.current_password) {
            (true, None) => return Err(AuthError::CurrentPasswordRequired),
            (true, current) => current,
            (false, _) => None,
        };
        // With mail on, a new address waits for its link; it is not written now.
        let setup = self.inner.mail_setup();
        let pending = match (&setup, &new_address) {
            (Some(_), Some(Some(new))) => {
                changes.email = None;
                Some(new.clone())
            }
            _ => None,
        };
        let applied = new_address.is_some() && pending.is_none();
        let (user, session) = (principal.user.clone(), principal.session()?.0.id);
        let client = principal.client.clone();
        let ip = client.ip.clone();
        let renames = changes.username.is_some() || changes.email.is_some();
        let work = move |inner: &Inner| {
            if let Some(current) = &current {
                let action = if new_password.is_some() {
                    AuditAction::PasswordChanged
                } else {
                    AuditAction::EmailChanged
                };
                inner.check_current_password(&user, current, &client, action)?;
            }
            // Refused before anything is written.
            if let Some(new) = &pending
                && let Some(holder) = inner.store.user_by_email(new)?
                && holder.id != user.id
            {
                return Err(AuthError::EmailTaken);
            }
            let new_hash = new_password
                .as_ref()
                .map(|new_password| inner.hasher.hash(new_password))
                .transpose()?;
            let mut updated = user.clone();
            if renames || (new_hash.is_none() && pending.is_none()) {
                updated = inner.store.update_user(user.id, &changes)?;
                inner.invalidate(Invalidation::User(user.id));
            }
            if applied {
                inner.record(email_event(&user, &ip, "applied"));
                inner.notify_email_changed(
                    &updated,
                    user.email.as_ref(),
                    user.email_verified,
                    updated.email.as_ref(),
                    parse_ip(ip.as_deref()),
                );
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
                        .ip(ip.clone())
                        .detail(format!(
                            "other_sessions_ended={}, api_keys_revoked={}",
                            changed.ended_sessions.len(),
                            changed.revoked_api_keys.len()
                        )),
                );
                updated = changed.user;
                inner.notify_owner(
                    &updated,
                    &Mail::PasswordChangedNotice(PasswordChangedNotice {
                        username: updated.username.to_string(),
                        change: MailPasswordChange::Changed,
                        when: changes.updated_at,
                        ip: parse_ip(ip.as_deref()),
                    }),
                );
            }
            if let (Some(setup), Some(new)) = (&setup, &pending) {
                updated = inner.request_email_change(setup, &updated, new)?;
                inner.record(email_event(&user, &ip, "pending"));
            }
            Ok(updated)
        };
        if checks_password {
            self.hashing(work).await
        } else {
            self.blocking(work).await
        }
    }
}

fn email_event(user: &User, ip: &Option<String>, detail: &str) -> AuditEvent {
    audit::event(AuditAction::EmailChanged, true)
        .by(user.id)
        .on(user.id)
        .ip(ip.clone())
        .detail(detail)
}
