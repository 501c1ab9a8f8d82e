//! Verified addresses and email changes: the `email_verification` link sent at registration (and
//! on request), the `email_change` link sent to a new address, and redeeming either with
//! [`AuthService::verify_email`]; the security notices, which go to verified addresses only.
//!
//! Tokens are made and stored as for a password reset ([`crate::recovery`]): 256 random bits,
//! URL-safe, the store keeps their digest, single use, a newer one of the same purpose voids
//! the older.

use std::net::IpAddr;

use auth_domain::{
    AuditAction, ClientInfo, Email, EmailConfirmed, Invalidation, Limit, NewEmailToken, Password,
    StoreError, TokenPurpose, User, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    mail::{EmailChange, EmailChangedNotice, EmailVerification, Mail, MfaChange, MfaChangedNotice},
    recovery::{MAX_TOKEN_LEN, MailSetup, digest, new_token, parse_ip, ttl},
    service::{AuthService, Inner},
    sessions::Principal,
};

impl Inner {
    /// Issues an `email_verification` token for `user`'s current address (within `limit`) and
    /// sends the message; returns whether it was sent. `false` too for a user without an
    /// address.
    pub(crate) fn send_verification(
        &self,
        setup: &MailSetup,
        user: &User,
        limit: Limit,
    ) -> Result<bool, AuthError> {
        let Some(email) = user.email.clone() else {
            return Ok(false);
        };
        let (token, hash) = new_token();
        let at = now();
        let issued = self.store.issue_email_token(
            &NewEmailToken {
                hash,
                user: user.id,
                purpose: TokenPurpose::EmailVerification,
                email: email.clone(),
                created_at: at,
                expires_at: at + ttl(setup.verify_token_ttl),
            },
            limit,
        )?;
        if issued {
            let mail = Mail::EmailVerification(EmailVerification {
                username: user.username.to_string(),
                link: verify_link(setup, &token),
                expires_in: setup.verify_token_ttl,
            });
            self.send(setup, &email, &mail);
        }
        Ok(issued)
    }

    /// Makes `new` the pending address of `user`: issues an `email_change` token for it (not
    /// counted toward the limits: the user gave their password) and sends the link there.
    /// [`AuthError::EmailTaken`] when another account holds `new`.
    pub(crate) fn request_email_change(
        &self,
        setup: &MailSetup,
        user: &User,
        new: &Email,
    ) -> Result<User, AuthError> {
        if let Some(holder) = self.store.user_by_email(new)?
            && holder.id != user.id
        {
            return Err(AuthError::EmailTaken);
        }
        let (token, hash) = new_token();
        let at = now();
        self.store.issue_email_token(
            &NewEmailToken {
                hash,
                user: user.id,
                purpose: TokenPurpose::EmailChange,
                email: new.clone(),
                created_at: at,
                expires_at: at + ttl(setup.verify_token_ttl),
            },
            Limit::Uncounted,
        )?;
        self.invalidate(Invalidation::User(user.id));
        let mail = Mail::EmailChange(EmailChange {
            username: user.username.to_string(),
            link: verify_link(setup, &token),
            new_email: new.clone(),
            expires_in: setup.verify_token_ttl,
        });
        self.send(setup, new, &mail);
        self.store.user_by_id(user.id)?.ok_or(AuthError::NotFound)
    }

    /// Sends `mail` to `user`'s address if it is verified (a notice never goes to an address
    /// nobody proved to read) and mail is on.
    pub(crate) fn notify_owner(&self, user: &User, mail: &Mail) {
        if let (Some(setup), Some(email)) = (
            self.mail_setup(),
            user.email.as_ref().filter(|_| user.email_verified),
        ) {
            self.send(&setup, email, mail);
        }
    }

    /// Tells `user` (at a verified address) that their second factor was enabled or removed.
    pub(crate) fn notify_mfa(&self, user: &User, change: MfaChange, ip: Option<&str>) {
        let notice = Mail::MfaChangedNotice(MfaChangedNotice {
            username: user.username.to_string(),
            change,
            when: now(),
            ip: parse_ip(ip),
        });
        self.notify_owner(user, &notice);
    }

    /// Tells `old` (if it was verified) that the account's address changed to `new`.
    pub(crate) fn notify_email_changed(
        &self,
        user: &User,
        old: Option<&Email>,
        old_verified: bool,
        new: Option<&Email>,
        ip: Option<IpAddr>,
    ) {
        let (Some(setup), Some(old)) = (self.mail_setup(), old.filter(|_| old_verified)) else {
            return;
        };
        if new.is_some_and(|new| new.normalized() == old.normalized()) {
            return;
        }
        let notice = Mail::EmailChangedNotice(EmailChangedNotice {
            username: user.username.to_string(),
            old_email: old.clone(),
            new_email: new.cloned(),
            when: now(),
            ip,
        });
        self.send(&setup, old, &notice);
    }
}

fn verify_link(setup: &MailSetup, token: &str) -> String {
    format!("{}/verify-email?token={token}", setup.link_base)
}

impl AuthService {
    /// `POST /email/verify/request`: sends a fresh `email_verification` link to the caller's
    /// address, within the account's limits (`mail.min_interval_secs`,
    /// `mail.max_per_account_per_hour`; beyond them nothing is sent, and this still succeeds).
    /// [`AuthError::NoEmailToVerify`] without an address, [`AuthError::EmailAlreadyVerified`]
    /// when it is verified, [`AuthError::NotFound`] with mail off.
    pub async fn request_email_verification(&self, principal: &Principal) -> Result<(), AuthError> {
        let setup = self.inner.mail_setup().ok_or(AuthError::NotFound)?;
        let id = principal.user.id;
        let ip = principal.client.ip.clone();
        self.blocking(move |inner| {
            // The stored user, not the cached one: a verification a moment ago counts.
            let user = inner.store.user_by_id(id)?.ok_or(AuthError::NotFound)?;
            if user.email.is_none() {
                return Err(AuthError::NoEmailToVerify);
            }
            if user.email_verified {
                return Err(AuthError::EmailAlreadyVerified);
            }
            let sent = inner.send_verification(&setup, &user, Limit::Within(setup.limits))?;
            tracing::info!(
                user_id = %user.id,
                ip = ip.as_deref(),
                sent,
                "verification link requested{}",
                if sent { "" } else { "; over the account's mail limits, nothing sent" }
            );
            Ok(())
        })
        .await
    }

    /// `POST /email/verify` (and the page its link opens): redeems the token of an
    /// `email_verification` or `email_change` link. A verification marks the account's address
    /// verified; a change makes the new address the account's (verified) and tells the old one,
    /// if it was verified, with an `email_changed_notice`. Returns the user as they are now.
    /// [`AuthError::InvalidVerificationToken`] for an unknown, expired, used or voided token
    /// (one for an address the account no longer has or waits for),
    /// [`AuthError::EmailTaken`] when another account took the new address meanwhile,
    /// [`AuthError::NotFound`] with mail off. Audited as `email.verified`.
    pub async fn verify_email(
        &self,
        token: &Password,
        client: ClientInfo,
    ) -> Result<User, AuthError> {
        self.inner.mail_setup().ok_or(AuthError::NotFound)?;
        let presented = token.expose();
        if presented.is_empty() || presented.len() > MAX_TOKEN_LEN {
            return Err(AuthError::InvalidVerificationToken);
        }
        let hash = digest(presented);
        self.blocking(move |inner| {
            let confirmed = inner
                .store
                .confirm_email(&hash, now())
                .map_err(|e| match e {
                    StoreError::NotFound => AuthError::InvalidVerificationToken,
                    other => other.into(),
                });
            let EmailConfirmed {
                user,
                purpose,
                previous_email,
                previous_verified,
            } = confirmed?;
            inner.invalidate(Invalidation::User(user.id));
            let change = purpose == TokenPurpose::EmailChange;
            inner.record(
                audit::event(AuditAction::EmailVerified, true)
                    .by(user.id)
                    .on(user.id)
                    .ip(client.ip.clone())
                    .detail(if change {
                        "email_change"
                    } else {
                        "verification"
                    }),
            );
            if change {
                inner.notify_email_changed(
                    &user,
                    previous_email.as_ref(),
                    previous_verified,
                    user.email.as_ref(),
                    parse_ip(client.ip.as_deref()),
                );
            }
            Ok(user)
        })
        .await
    }
}
