//! A way back in: a forgotten password reset through a link sent to the account's address.
//!
//! The service decides whether to send, makes the token (256 random bits, URL-safe; the store
//! keeps its SHA-256 digest only) and renders the message; the [`Mailer`] only delivers. The
//! per-account limits are counted in the store, so every instance shares them.

use std::{net::IpAddr, sync::Arc, time::Duration};

use auth_domain::{
    AuditAction, ClientInfo, Email, EmailTokenHash, Limit, MailLimits, NewEmailToken, NewPassword,
    Password, PasswordChange as StoredPasswordChange, PasswordResetChange, SessionRevocation,
    StoreError, TokenPurpose, User, UserId, Username, now,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use sha2::{Digest as _, Sha256};
use tracing::Instrument as _;

use crate::{
    admin::Actor,
    audit::{self, EventBuilder},
    error::{AuthError, cause_chain},
    mail::{Mail, MailTemplates, Mailer, PasswordChange, PasswordChangedNotice, PasswordReset},
    service::{AuthService, Inner},
};

/// The longest token accepted: ours are 43 characters; anything much longer is not one of ours
/// and is not hashed.
const MAX_TOKEN_LEN: usize = 128;

/// How the service sends mail: the mailer, the templates, the base of the links, and the
/// lifetimes and limits of what it sends. Given to [`AuthService::send_mail_with`].
#[derive(Clone)]
pub struct MailSetup {
    /// Where rendered messages go.
    pub mailer: Arc<dyn Mailer>,
    /// What renders them.
    pub templates: Arc<MailTemplates>,
    /// The base of every link, without a trailing slash (`mail.link_base`), e.g.
    /// `https://auth.example.com`: a reset link is `{link_base}/reset-password?token=…`.
    pub link_base: String,
    /// How long a reset link works (`mail.reset_token_ttl_secs`).
    pub reset_token_ttl: Duration,
    /// The per-account limits on the messages requests ask for.
    pub limits: MailLimits,
}

impl MailSetup {
    /// `mailer` with the default templates, links to `link_base`, a 30-minute reset link and
    /// the default limits (one a minute, five an hour).
    pub fn new(mailer: Arc<dyn Mailer>, link_base: impl Into<String>) -> Self {
        Self {
            mailer,
            templates: Arc::new(MailTemplates::new()),
            link_base: link_base.into().trim_end_matches('/').to_owned(),
            reset_token_ttl: Duration::from_secs(1800),
            limits: MailLimits::default(),
        }
    }
}

impl std::fmt::Debug for MailSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailSetup")
            .field("enabled", &self.mailer.enabled())
            .field("link_base", &self.link_base)
            .field("reset_token_ttl", &self.reset_token_ttl)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// Whose password was forgotten: `POST /password/forgot`'s `email` or `username`.
#[derive(Clone, Debug)]
pub enum ForgottenAccount {
    /// The account with this address.
    Email(String),
    /// The account with this username.
    Username(String),
}

/// A new token: what the link carries, and its digest for the store.
fn new_token() -> (String, EmailTokenHash) {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let digest = digest(&token);
    (token, digest)
}

fn digest(token: &str) -> EmailTokenHash {
    let hash = Sha256::digest(token.as_bytes());
    EmailTokenHash::new(hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

fn ttl(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

impl Inner {
    /// Renders `mail` for `to` and hands it to the mailer; a template that fails is logged
    /// (kind only), never the caller's failure.
    fn send(&self, setup: &MailSetup, to: &Email, mail: &Mail) {
        match setup.templates.render(to, mail) {
            Ok(message) => setup.mailer.send(message),
            Err(e) => tracing::error!(error = %e, "a message could not be rendered; not sent"),
        }
    }

    /// Issues a reset token for `user` (within `limit`) and sends the message; returns whether
    /// it was sent.
    fn send_reset(
        &self,
        setup: &MailSetup,
        user: &User,
        email: &Email,
        limit: Limit,
    ) -> Result<bool, AuthError> {
        let (token, hash) = new_token();
        let at = now();
        let issued = self.store.issue_email_token(
            &NewEmailToken {
                hash,
                user: user.id,
                purpose: TokenPurpose::PasswordReset,
                email: email.clone(),
                created_at: at,
                expires_at: at + ttl(setup.reset_token_ttl),
            },
            limit,
        )?;
        if issued {
            let mail = Mail::PasswordReset(PasswordReset {
                username: user.username.to_string(),
                link: format!("{}/reset-password?token={token}", setup.link_base),
                expires_in: setup.reset_token_ttl,
            });
            self.send(setup, email, &mail);
        }
        Ok(issued)
    }
}

impl AuthService {
    /// Sends mail through `setup` from now on, on every clone of this service (in place of any
    /// earlier setup). Until it is called, and while `setup.mailer` is not
    /// [enabled](Mailer::enabled), the email features are off.
    pub fn send_mail_with(&self, setup: MailSetup) {
        *self.inner.mail.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(setup));
    }

    /// Whether the email features are on: a mail setup whose mailer is enabled.
    pub fn mail_enabled(&self) -> bool {
        self.inner.mail_setup().is_some()
    }

    /// `POST /password/forgot`: sends a `password_reset` message if `account` names an active
    /// account with an address and the account is within the limits. Succeeds the same way,
    /// and in the same time, whether or not anything is sent (nor whether the account exists):
    /// only a malformed name (422) is an error, and [`AuthError::NotFound`] when mail is off.
    /// The lookup and the message happen after it returns (issuing a token is a store write,
    /// which would tell by its time that the account exists); a failure then is logged.
    /// [`AuthService::idle`] waits for them. When 256 requests' work is already running behind
    /// their answers, the work is done before returning instead.
    pub async fn forgot_password(
        &self,
        account: ForgottenAccount,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let setup = self.inner.mail_setup().ok_or(AuthError::NotFound)?;
        enum Name {
            Email(Email),
            Username(Username),
        }
        let name = match account {
            ForgottenAccount::Email(raw) => Name::Email(Email::parse(raw.trim())?),
            ForgottenAccount::Username(raw) => Name::Username(Username::parse(&raw)?),
        };
        let service = self.clone();
        let work = async move {
            let outcome = service
                .blocking(move |inner| {
                    let user = match &name {
                        Name::Email(email) => inner.store.user_by_email(email)?,
                        Name::Username(username) => inner.store.user_by_username(username)?,
                    };
                    let Some(user) = user.filter(|u| u.is_active) else {
                        return Ok(());
                    };
                    let Some(email) = user.email.clone() else {
                        return Ok(());
                    };
                    let sent =
                        inner.send_reset(&setup, &user, &email, Limit::Within(setup.limits))?;
                    tracing::info!(
                        user_id = %user.id,
                        ip = client.ip.as_deref(),
                        sent,
                        "password reset requested{}",
                        if sent { "" } else { "; over the account's mail limits, nothing sent" }
                    );
                    Ok(())
                })
                .await;
            match outcome {
                Ok(()) => {}
                // The store logs an outage itself, once.
                Err(AuthError::Unavailable(e)) if e.is_outage() => {}
                Err(e) => {
                    tracing::warn!(error = %cause_chain(&e), "password reset request failed")
                }
            }
        }
        .instrument(tracing::Span::current());
        match Arc::clone(&self.inner.behind_answers).try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(async move {
                    work.await;
                    drop(permit);
                });
            }
            Err(_) => work.await,
        }
        Ok(())
    }

    /// `POST /password/reset`: sets a new password with a token from a `password_reset`
    /// message. The password must meet the registration rules (checked before the token is
    /// used, so a refused password leaves the token working). Then, in one store transaction,
    /// the token is used up, the password changes, every session ends and every API key is
    /// revoked, every other reset token is voided, the account's lockout counts are cleared and
    /// the address counts as verified; a `password_changed_notice` goes to it. The reset does
    /// not sign in; a second factor stays. [`AuthError::InvalidResetToken`] for an unknown,
    /// expired, used or voided token (or a disabled account).
    pub async fn reset_password(
        &self,
        token: &Password,
        new_password: Password,
        client: ClientInfo,
    ) -> Result<(), AuthError> {
        let setup = self.inner.mail_setup().ok_or(AuthError::NotFound)?;
        let presented = token.expose();
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidResetToken);
        }
        let hash = digest(presented);
        let new_password =
            NewPassword::parse(new_password.expose(), self.inner.config.password_min_length)?;
        let (user, hash) = self
            .blocking(move |inner| {
                let token = inner
                    .store
                    .email_token(&hash)?
                    .filter(|t| t.purpose == TokenPurpose::PasswordReset && t.is_live(now()))
                    .ok_or(AuthError::InvalidResetToken)?;
                let user = inner
                    .store
                    .user_by_id(token.user)?
                    .filter(|u| u.is_active)
                    .ok_or(AuthError::InvalidResetToken)?;
                Ok((user, hash))
            })
            .await?;
        let context: Vec<&str> = [
            Some(user.username.as_str()),
            user.email.as_ref().map(Email::as_str),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.inner.check_strength(&new_password, &context)?;
        self.hashing(move |inner| {
            let new_hash = inner.hasher.hash(&new_password)?;
            let at = now();
            let reset = PasswordResetChange {
                change: StoredPasswordChange {
                    user: user.id,
                    expected: user.credential_generation,
                    new_hash,
                    sessions: SessionRevocation::All,
                    at,
                },
                token: hash,
                lockout_key: user.username.normalized(),
            };
            let result = inner.store.reset_password(&reset);
            inner.invalidate(auth_domain::Invalidation::User(user.id));
            let changed = result.map_err(|e| match e {
                // Used meanwhile, voided by a change, or the account changed since.
                StoreError::NotFound | StoreError::CredentialsChanged => {
                    AuthError::InvalidResetToken
                }
                other => other.into(),
            })?;
            inner.record(
                audit::event(AuditAction::PasswordReset, true)
                    .by(user.id)
                    .on(user.id)
                    .ip(client.ip.clone())
                    .detail(format!(
                        "sessions_ended={}, api_keys_revoked={}",
                        changed.ended_sessions.len(),
                        changed.revoked_api_keys.len()
                    )),
            );
            let user = changed.user;
            if let Some(email) = user.email.as_ref().filter(|_| user.email_verified) {
                let notice = Mail::PasswordChangedNotice(PasswordChangedNotice {
                    username: user.username.to_string(),
                    change: PasswordChange::Reset,
                    when: at,
                    ip: parse_ip(client.ip.as_deref()),
                });
                inner.send(&setup, email, &notice);
            }
            Ok(())
        })
        .await
    }

    /// `POST /admin/users/{id}/password-reset`: sends the user a `password_reset` message (a
    /// support desk's request). Counted toward the account's limits, never refused by them:
    /// the admin is authenticated and audited. [`AuthError::NotFound`] for an unknown user (or
    /// mail off), [`AuthError::NoEmail`] for an account without an address,
    /// [`AuthError::AccountDisabled`] for a disabled one (its reset would be refused).
    pub async fn request_password_reset(&self, actor: &Actor, id: UserId) -> Result<(), AuthError> {
        let setup = self.inner.mail_setup().ok_or(AuthError::NotFound)?;
        let actor = actor.clone();
        self.blocking(move |inner| {
            let user = inner.store.user_by_id(id)?.ok_or(AuthError::NotFound)?;
            let email = user.email.clone().ok_or(AuthError::NoEmail)?;
            if !user.is_active {
                return Err(AuthError::AccountDisabled);
            }
            inner.send_reset(&setup, &user, &email, Limit::CountOnly)?;
            let event = audit::event(AuditAction::PasswordResetRequested, true)
                .on(user.id)
                .ip(actor.ip.clone());
            inner.record(match actor.user {
                Some(admin) => event.by(admin),
                None => event.detail("cli"),
            });
            Ok(())
        })
        .await
    }
}

fn parse_ip(ip: Option<&str>) -> Option<IpAddr> {
    ip.and_then(|ip| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_256_random_bits_url_safe_and_are_stored_as_digests() {
        let (token, hash) = new_token();
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
        assert_ne!(hash.expose(), token);
        assert_eq!(hash.expose().len(), 64);
        assert_eq!(digest(&token), hash);
        assert_ne!(new_token().0, token);
        assert!(!format!("{hash:?}").contains(hash.expose()));
    }
}
