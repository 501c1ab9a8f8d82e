//! The second step of a login: the challenge a right password opens for an account with a
//! second factor, and its answer.
//!
//! The `mfa_token` is opaque (256 random bits, not a JWT, so never a bearer token), stored as a
//! digest, bound to the user and to the credential generation that the password was checked
//! at (a password change kills it, even while its answer is in flight), single use, and it
//! expires (`MfaConfig::token_ttl`) or dies after
//! `MfaConfig::max_code_failures` wrong codes. Each code is also a password attempt on the
//! account from that client: a wrong one counts toward the lockout, and while the client is
//! locked out no code is even checked. The right password alone does not clear the client's
//! failures on such an account; the second factor does.

use std::fmt;

use auth_domain::{AuditAction, ClientInfo, MfaChallenge, MfaTokenHash, TotpEnrolment, User, now};
use chrono::{DateTime, TimeDelta, Utc};

use super::{MfaKey, codes, unreadable};
use crate::{
    audit::{self, EventBuilder},
    error::{AuthError, changed_since_check},
    service::{AuthService, Inner},
    sessions::TokenPair,
};

/// The opaque token of a login that waits for its second factor: 256 random bits, base64url.
/// Shown to the client once (in the `mfa_required` answer); stores keep only its digest. Its
/// `Debug` prints nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct MfaToken(String);

impl fmt::Debug for MfaToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MfaToken([redacted])")
    }
}

impl MfaToken {
    /// A new random token.
    pub fn generate() -> Self {
        Self(crate::token::random_secret())
    }

    /// A token as a client presented it.
    pub fn from_client(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The token, for the response body.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest that stores keep (SHA-256: the token has 256 random bits).
    pub fn digest(&self) -> MfaTokenHash {
        MfaTokenHash::new(crate::token::secret_digest(&self.0))
    }
}

/// What answers a challenge. Its `Debug` prints nothing of the code.
#[derive(Clone)]
pub enum SecondFactor {
    /// A 6-digit TOTP code.
    Totp(String),
    /// One of the recovery codes shown at enrolment (case, spaces and dashes do not matter).
    RecoveryCode(String),
}

impl fmt::Debug for SecondFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecondFactor::Totp(_) => "Totp([redacted])",
            SecondFactor::RecoveryCode(_) => "RecoveryCode([redacted])",
        })
    }
}

impl SecondFactor {
    /// How the audit log names it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            SecondFactor::Totp(_) => "totp",
            SecondFactor::RecoveryCode(_) => "recovery_code",
        }
    }
}

/// The `amr` of a session's access tokens (RFC 8176).
pub(crate) fn amr(mfa: bool) -> Option<Vec<String>> {
    mfa.then(|| vec!["pwd".to_owned(), "otp".to_owned()])
}

impl Inner {
    /// Opens the challenge for `user`, whose password was just checked, and returns the error
    /// that hands its token to the client ([`AuthError::MfaRequired`]), or why it could not.
    pub(crate) fn mfa_challenge(
        &self,
        user: &User,
        client: &ClientInfo,
        ttl: TimeDelta,
    ) -> AuthError {
        let token = MfaToken::generate();
        let at = now();
        let challenge = MfaChallenge {
            token_hash: token.digest(),
            user_id: user.id,
            // Stored only while the password checked is still the password.
            generation: user.credential_generation,
            access_ttl_secs: ttl.num_seconds(),
            created_at: at,
            expires_at: at + self.config.mfa.token_ttl,
            failures: 0,
        };
        if let Err(e) = self.store.create_mfa_challenge(&challenge) {
            let error = AuthError::from(e);
            if matches!(error, AuthError::InvalidCredentials) {
                self.record(
                    audit::event(AuditAction::Login, false)
                        .on(user.id)
                        .ip(client.ip.clone())
                        .detail("credentials_changed"),
                );
            }
            return error;
        }
        self.record(
            audit::event(AuditAction::MfaChallenged, true)
                .on(user.id)
                .ip(client.ip.clone())
                .detail("password right; second factor asked"),
        );
        AuthError::MfaRequired(token)
    }

    /// Answers a challenge; see [`AuthService::login_with_second_factor`].
    fn answer_mfa_challenge(
        &self,
        key: Option<&MfaKey>,
        token: &MfaToken,
        factor: &SecondFactor,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        let max = self.config.mfa.max_code_failures;
        let digest = token.digest();
        let at = now();
        let challenge = self
            .store
            .mfa_challenge(&digest)?
            .filter(|c| c.is_live_at(at, max))
            .ok_or(AuthError::InvalidMfaToken)?;
        // The user as the password check saw them: the session is opened with this generation,
        // so a password change even after this read refuses it.
        let user = self
            .store
            .user_by_id(challenge.user_id)?
            .filter(|u| u.is_active && u.mfa_enabled)
            .filter(|u| u.credential_generation == challenge.generation)
            .ok_or(AuthError::InvalidMfaToken)?;
        let attempt =
            self.take_password_attempt(&user.username, &client, AuditAction::MfaChallengeFailed)?;
        let enrolment = self
            .store
            .totp_enrolment(user.id)?
            .filter(|e| e.is_enabled())
            .ok_or(AuthError::InvalidMfaToken)?;
        let how = factor.kind();
        if !self.use_second_factor(key, &enrolment, factor, at)? {
            attempt.failed()?;
            let failures = self.store.fail_mfa_challenge(&digest, max)?;
            self.record(
                audit::event(AuditAction::MfaChallengeFailed, false)
                    .on(user.id)
                    .ip(client.ip.clone())
                    .detail(format!(
                        "{how}: wrong, stale or used; {failures} of {max} wrong codes for this mfa_token"
                    )),
            );
            return Err(AuthError::InvalidCode);
        }
        // Single use: of two concurrent answers, one takes it.
        if !self.store.take_mfa_challenge(&digest, now(), max)? {
            return Err(AuthError::InvalidMfaToken);
        }
        attempt.succeeded()?;
        if matches!(factor, SecondFactor::RecoveryCode(_)) {
            let left = self.store.recovery_codes_left(user.id)?;
            self.record(
                audit::event(AuditAction::MfaRecoveryUsed, true)
                    .by(user.id)
                    .on(user.id)
                    .ip(client.ip.clone())
                    .detail(format!("{left} recovery codes left")),
            );
        }
        let ip = client.ip.clone();
        let ttl = TimeDelta::seconds(challenge.access_ttl_secs);
        let pair = self
            .open_session_as(&user, client, ttl, None, true)
            .map_err(|e| changed_since_check(e, AuthError::InvalidMfaToken))?;
        self.record(
            audit::event(AuditAction::Login, true)
                .by(user.id)
                .on(user.id)
                .ip(ip)
                .detail(format!("password+{how}")),
        );
        Ok(pair)
    }
}

impl Inner {
    /// Checks `factor` against the user's enabled `enrolment` and uses it up: a TOTP code's
    /// step (only a later step than the last one used), or a recovery code. `false` when it is
    /// wrong, stale or used.
    pub(crate) fn use_second_factor(
        &self,
        key: Option<&MfaKey>,
        enrolment: &TotpEnrolment,
        factor: &SecondFactor,
        at: DateTime<Utc>,
    ) -> Result<bool, AuthError> {
        let user = enrolment.user_id;
        Ok(match factor {
            SecondFactor::Totp(code) => {
                let key = key.ok_or_else(|| {
                    AuthError::internal("TOTP needs an MFA encryption key; none is set")
                })?;
                let secret = key.open(user, &enrolment.secret).ok_or_else(unreadable)?;
                match codes::matching_step(&secret, code, at.timestamp(), enrolment.last_step) {
                    Some(step) => self.store.use_totp_step(user, step)?,
                    None => false,
                }
            }
            SecondFactor::RecoveryCode(code) => match codes::recovery_code_digest(code) {
                Some(code) => self.store.use_recovery_code(user, &code, at)?,
                None => false,
            },
        })
    }
}

impl AuthService {
    /// The second step of a login that answered [`AuthError::MfaRequired`]: its `mfa_token`
    /// with a TOTP code or a recovery code opens the session (with a refresh token) and signs
    /// an access token with `amr: ["pwd", "otp"]`.
    ///
    /// A wrong, stale or replayed code is [`AuthError::InvalidCode`] (and counts toward the
    /// account's lockout and the token's limit); an unknown, expired, used or exhausted token
    /// is [`AuthError::InvalidMfaToken`].
    pub async fn login_with_second_factor(
        &self,
        token: MfaToken,
        factor: SecondFactor,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        // Ours are 43 characters; anything much longer is not ours and is not worth hashing.
        if token.expose().len() > 256 {
            return Err(AuthError::InvalidMfaToken);
        }
        let key = self.inner.config.mfa.encryption_key.clone();
        self.blocking(move |inner| {
            inner.answer_mfa_challenge(key.as_ref(), &token, &factor, client)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    use super::*;

    #[test]
    fn tokens_are_random_stored_as_digests_and_never_printed() {
        let (a, b) = (MfaToken::generate(), MfaToken::generate());
        assert_ne!(a, b);
        assert_eq!(URL_SAFE_NO_PAD.decode(a.expose()).unwrap().len(), 32);
        assert_eq!(a.digest(), MfaToken::from_client(a.expose()).digest());
        assert_ne!(a.digest().as_str(), a.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
        let factor = SecondFactor::Totp("123456".into());
        assert!(!format!("{factor:?}").contains("123456"));
    }
}
