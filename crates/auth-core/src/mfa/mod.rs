//! A second factor: TOTP with recovery codes, challenged in the password login the way Auth0
//! does it.
//!
//! - Enrolment: [`AuthService::begin_totp_enrolment`] (needs the current password) makes a
//!   160-bit secret, sealed with the [`MfaKey`] for the store, and shows it once with its
//!   `otpauth://` URI; it is pending until [`AuthService::confirm_totp_enrolment`] gets a code
//!   from it, which turns the second factor on and shows ten single-use recovery codes once
//!   (stores keep their digests).
//! - Login: a right password for such an account opens a challenge and answers
//!   [`AuthError::MfaRequired`] with an opaque [`MfaToken`] instead of tokens;
//!   [`AuthService::login_with_second_factor`] takes it with a code or a recovery code and
//!   opens the session, whose access tokens carry `amr: ["pwd", "otp"]`.
//! - Confirming ends every other session of the user (the confirming one is marked as having
//!   passed the second factor); API keys are kept.
//! - [`AuthService::disable_totp`] (current password and a current code or a recovery code) and
//!   [`AuthService::reset_mfa`] (admins, for a lost device) turn it off.
//!
//! Every code given (to confirm, to log in, to turn it off) is a password attempt on the
//! account from that client: a wrong one counts toward the lockout.
//!
//! A code is accepted for the current 30-second step and one either side, and only for a step
//! later than the last one used (the store keeps it per user, and moves it with a
//! compare-and-set), so no code works twice.

mod challenge;
mod codes;
mod key;

use std::fmt;

use auth_domain::{AuditAction, AuditEvent, Invalidation, Password, TotpRemoval, UserId, now};
use chrono::TimeDelta;

pub(crate) use challenge::amr;
pub use challenge::{MfaToken, SecondFactor};
pub use key::{MfaKey, MfaKeyError};

use crate::{
    admin::Actor,
    audit::{self, EventBuilder},
    error::AuthError,
    mail::MfaChange,
    service::AuthService,
    sessions::Principal,
};

/// The second factor's settings.
#[derive(Clone, Debug)]
pub struct MfaConfig {
    /// The name authenticator apps show for the account (`issuer` of the `otpauth://` URI);
    /// must not contain `:`.
    pub issuer: String,
    /// How long an `mfa_token` may be answered.
    pub token_ttl: TimeDelta,
    /// Wrong codes after which an `mfa_token` dies.
    pub max_code_failures: u32,
    /// The key that seals TOTP secrets. Without one, TOTP cannot be enrolled or checked
    /// (recovery codes still work).
    pub encryption_key: Option<MfaKey>,
}

impl Default for MfaConfig {
    /// The issuer `auth-server`, `mfa_token`s that live 5 minutes and die after 5 wrong codes,
    /// and no key.
    fn default() -> Self {
        Self {
            issuer: "auth-server".to_owned(),
            token_ttl: TimeDelta::minutes(5),
            max_code_failures: 5,
            encryption_key: None,
        }
    }
}

/// A new TOTP enrolment as the user sees it, once: the secret (base32) and the URI that an
/// authenticator app reads (as a QR code or a link). Its `Debug` prints neither.
#[derive(Clone)]
pub struct TotpSetup {
    /// The shared secret, base32 without padding.
    pub secret: String,
    /// `otpauth://totp/{issuer}:{username}?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30`.
    pub otpauth_uri: String,
}

impl fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSetup([redacted])")
    }
}

/// The recovery codes shown once when a second factor is turned on. Its `Debug` prints none.
#[derive(Clone)]
pub struct RecoveryCodes(pub Vec<String>);

impl fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCodes([{} redacted])", self.0.len())
    }
}

/// An audit event about `target`, done by the principal themselves.
fn own_event(action: AuditAction, success: bool, principal: &Principal) -> AuditEvent {
    let user = principal.user.id;
    audit::event(action, success)
        .by(user)
        .on(user)
        .ip(principal.client.ip.clone())
}

impl AuthService {
    fn mfa_key(&self) -> Result<MfaKey, AuthError> {
        self.inner
            .config
            .mfa
            .encryption_key
            .clone()
            .ok_or_else(|| AuthError::internal("TOTP needs an MFA encryption key; none is set"))
    }

    /// Starts (or restarts) a TOTP enrolment for the caller, who must hold a bearer session and
    /// confirm it with their current password (checked like a login). The enrolment stays
    /// pending, and logins one step, until [`Self::confirm_totp_enrolment`].
    /// [`AuthError::MfaAlreadyEnabled`] when the second factor is on.
    pub async fn begin_totp_enrolment(
        &self,
        principal: &Principal,
        current_password: Option<Password>,
    ) -> Result<TotpSetup, AuthError> {
        principal.session()?;
        let current = current_password.ok_or(AuthError::CurrentPasswordRequired)?;
        let key = self.mfa_key()?;
        let (user, client) = (principal.user.clone(), principal.client.clone());
        let issuer = self.inner.config.mfa.issuer.clone();
        self.hashing(move |inner| {
            inner.check_current_password(&user, &current, &client, AuditAction::MfaEnrolled)?;
            let secret = codes::new_secret();
            let sealed = key.seal(user.id, &secret);
            if !inner.store.begin_totp_enrolment(user.id, &sealed, now())? {
                return Err(AuthError::MfaAlreadyEnabled);
            }
            let secret = codes::base32(&secret);
            Ok(TotpSetup {
                otpauth_uri: codes::otpauth_uri(&issuer, user.username.as_str(), &secret),
                secret,
            })
        })
        .await
    }

    /// Confirms the caller's pending enrolment with a code from it: the second factor is on
    /// from now, and the ten recovery codes returned are shown only this once. Every other
    /// session of the user ends (they were opened without the second factor, and so would be
    /// any login still in flight); the caller's is marked as having passed it. API keys stay.
    ///
    /// The code is a password attempt on the account from this client: a wrong one counts
    /// toward the lockout, and while the client is locked out no code is checked
    /// ([`AuthError::TooManyAttempts`]). A right one neither counts nor clears earlier failures.
    pub async fn confirm_totp_enrolment(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<RecoveryCodes, AuthError> {
        let session = principal.session()?.0.id;
        let key = self.mfa_key()?;
        let (user, username) = (principal.user.id, principal.user.username.clone());
        let owner = principal.user.clone();
        let client = principal.client.clone();
        let code: String = code.chars().take(16).collect();
        let (failure, success) = (
            own_event(AuditAction::MfaEnrolled, false, principal),
            own_event(AuditAction::MfaEnrolled, true, principal),
        );
        self.blocking(move |inner| {
            let enrolment = inner
                .store
                .totp_enrolment(user)?
                .ok_or(AuthError::MfaNotEnrolling)?;
            if enrolment.is_enabled() {
                return Err(AuthError::MfaAlreadyEnabled);
            }
            let attempt =
                inner.take_password_attempt(&username, &client, AuditAction::MfaEnrolled)?;
            let secret = key.open(user, &enrolment.secret).ok_or_else(unreadable)?;
            let at = now();
            let Some(step) = codes::matching_step(&secret, &code, at.timestamp(), None) else {
                attempt.failed()?;
                inner.record(failure.detail("invalid_code"));
                return Err(AuthError::InvalidEnrolmentCode);
            };
            // It proves the new secret, nothing the client did not just get: no failure, but
            // no success that would clear earlier ones either.
            attempt.withdrawn()?;
            let recovery = codes::new_recovery_codes();
            let digests: Vec<_> = recovery
                .iter()
                .filter_map(|code| codes::recovery_code_digest(code))
                .collect();
            // False when a new enrolment replaced this one meanwhile.
            if !inner
                .store
                .enable_totp(user, &enrolment.secret, step, &digests, session, at)?
            {
                return Err(AuthError::MfaNotEnrolling);
            }
            inner.invalidate(Invalidation::User(user));
            inner.record(success.detail(format!("totp; {} recovery codes", digests.len())));
            inner.notify_mfa(&owner, MfaChange::Enabled, client.ip.as_deref());
            Ok(RecoveryCodes(recovery))
        })
        .await
    }

    /// Turns the caller's second factor off (or discards a pending enrolment): logins are one
    /// step again. It needs the current password and, while the second factor is on, a current
    /// TOTP code or a recovery code (`factor`), so that neither a stolen session with the
    /// password nor one without it turns it off; both are checked as one password attempt (a
    /// wrong one counts toward the lockout). A lost device is an admin's
    /// [`Self::reset_mfa`]. [`AuthError::MfaNotEnabled`] when there is neither;
    /// [`AuthError::InvalidInput`] without `factor` while the second factor is on;
    /// [`AuthError::InvalidConfirmingCode`] for a wrong, stale or used code.
    pub async fn disable_totp(
        &self,
        principal: &Principal,
        current_password: Option<Password>,
        factor: Option<SecondFactor>,
    ) -> Result<(), AuthError> {
        principal.session()?;
        let current = current_password.ok_or(AuthError::CurrentPasswordRequired)?;
        let (user, client) = (principal.user.clone(), principal.client.clone());
        let success = own_event(AuditAction::MfaDisabled, true, principal);
        let failure = own_event(AuditAction::MfaDisabled, false, principal);
        let key = self.inner.config.mfa.encryption_key.clone();
        self.hashing(move |inner| {
            let enabled = inner
                .store
                .totp_enrolment(user.id)?
                .filter(|e| e.is_enabled());
            if enabled.is_some() && factor.is_none() {
                return Err(AuthError::InvalidInput(
                    "the second factor is on: send code or recovery_code with current_password"
                        .to_owned(),
                ));
            }
            let attempt =
                inner.take_password_attempt(&user.username, &client, AuditAction::MfaDisabled)?;
            if !inner.verify_stored(&user, &current) {
                attempt.failed()?;
                inner.record(failure.detail("wrong_current_password"));
                return Err(AuthError::InvalidCurrentPassword);
            }
            if let (Some(enrolment), Some(factor)) = (&enabled, &factor)
                && !inner.use_second_factor(key.as_ref(), enrolment, factor, now())?
            {
                attempt.failed()?;
                let how = factor.kind();
                inner.record(failure.detail(format!("{how}: wrong, stale or used")));
                return Err(AuthError::InvalidConfirmingCode);
            }
            attempt.succeeded()?;
            let removed = inner.store.remove_totp(user.id, now())?;
            inner.invalidate(Invalidation::User(user.id));
            match removed {
                TotpRemoval::Nothing => Err(AuthError::MfaNotEnabled),
                TotpRemoval::Pending => {
                    inner.record(success.detail("pending enrolment discarded"));
                    Ok(())
                }
                TotpRemoval::Enabled => {
                    inner.record(success.detail("totp"));
                    inner.notify_mfa(&user, MfaChange::Removed, client.ip.as_deref());
                    Ok(())
                }
            }
        })
        .await
    }

    /// Removes a user's second factor (and recovery codes, and open challenges) for an admin,
    /// when the user lost the device: their logins are one step again until they enrol anew.
    /// [`AuthError::NotFound`] for an unknown user, [`AuthError::MfaNotEnabled`] when there was
    /// nothing to remove.
    pub async fn reset_mfa(&self, actor: &Actor, user: UserId) -> Result<(), AuthError> {
        let actor = actor.clone();
        self.blocking(move |inner| {
            let owner = inner.store.user_by_id(user)?.ok_or(AuthError::NotFound)?;
            let removed = inner.store.remove_totp(user, now())?;
            inner.invalidate(Invalidation::User(user));
            let event = audit::event(AuditAction::MfaReset, true)
                .on(user)
                .ip(actor.ip.clone());
            let event = match actor.user {
                Some(admin) => event.by(admin),
                None => event.detail("cli"),
            };
            match removed {
                TotpRemoval::Nothing => Err(AuthError::MfaNotEnabled),
                TotpRemoval::Pending => {
                    inner.record(event.detail("pending enrolment discarded"));
                    Ok(())
                }
                TotpRemoval::Enabled => {
                    inner.record(event);
                    inner.notify_mfa(&owner, MfaChange::Removed, None);
                    Ok(())
                }
            }
        })
        .await
    }
}

/// A sealed secret that the configured key cannot open: a bug or a changed key, never the
/// client's fault.
fn unreadable() -> AuthError {
    AuthError::internal("a stored TOTP secret cannot be opened: was mfa.encryption_key changed?")
}
