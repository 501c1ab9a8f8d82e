//! [`AuthError`]: why a service operation failed.

use std::error::Error;

use auth_domain::{EmailError, PasswordError, StoreError, UsernameError};

use crate::{mfa::MfaToken, password::HashError, token::TokenError};

/// Why an operation failed. Only the HTTP adapter knows status codes; the texts are safe to show.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The username breaks the rules.
    #[error("{0}")]
    InvalidUsername(#[from] UsernameError),
    /// The email is malformed.
    #[error("{0}")]
    InvalidEmail(#[from] EmailError),
    /// The new password breaks the rules.
    #[error("{0}")]
    InvalidPassword(#[from] PasswordError),
    /// The new password is too easy to guess; the text says why and what would do.
    #[error("{0}")]
    WeakPassword(String),
    /// Too many failed logins for this username: try again after `retry_after` seconds.
    #[error("Too many failed login attempts; try again in {retry_after} seconds")]
    TooManyAttempts {
        /// Seconds until the lock ends.
        retry_after: u64,
    },
    /// Too many password operations are waiting for the hashing pool: try again after
    /// `retry_after` seconds (load shedding; nothing was done).
    #[error("The server is busy; try again in {retry_after} seconds")]
    Overloaded {
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// The username is taken (without regard to case).
    #[error("Username already registered")]
    UsernameTaken,
    /// The email is taken (without regard to case).
    #[error("Email already registered")]
    EmailTaken,
    /// Unknown user or wrong password: deliberately indistinguishable.
    #[error("Incorrect username or password")]
    InvalidCredentials,
    /// The password was right but the account is disabled.
    #[error("Account is disabled")]
    AccountDisabled,
    /// The password was right and the account has a second factor: no tokens yet. Send the
    /// token (shown to the client once) with a code to the second step
    /// ([`AuthService::login_with_second_factor`](crate::AuthService::login_with_second_factor)).
    #[error("A second factor is required: send the mfa_token with a code to POST /login/mfa")]
    MfaRequired(MfaToken),
    /// The code given for an `mfa_token` is wrong, stale or was already used.
    #[error("The code is wrong, expired or was already used")]
    InvalidCode,
    /// The `mfa_token` is unknown, expired, used, or had too many wrong codes.
    #[error("The mfa_token is invalid, expired or used up; log in again")]
    InvalidMfaToken,
    /// The code or recovery code given with the current password to turn the second factor off
    /// is wrong, stale or was already used.
    #[error("The code is wrong, expired or was already used")]
    InvalidConfirmingCode,
    /// The code that should confirm a TOTP enrolment does not match its secret.
    #[error("The code does not match the new secret; check the device's clock and try again")]
    InvalidEnrolmentCode,
    /// The user's second factor is already on.
    #[error("Two-factor authentication is already enabled")]
    MfaAlreadyEnabled,
    /// The user has no second factor (nor a pending enrolment) to remove.
    #[error("Two-factor authentication is not enabled")]
    MfaNotEnabled,
    /// There is no pending TOTP enrolment to confirm.
    #[error("No TOTP enrolment is pending: start one with POST /mfa/totp")]
    MfaNotEnrolling,
    /// The password-reset token is unknown, expired, used or voided (or its account is
    /// disabled).
    #[error("The reset link is invalid, expired or was already used; ask for a new one")]
    InvalidResetToken,
    /// The account has no email address to send to.
    #[error("The account has no email address")]
    NoEmail,
    /// The caller has no email address to verify.
    #[error("The account has no email address to verify")]
    NoEmailToVerify,
    /// The caller's address is verified already.
    #[error("The email address is already verified")]
    EmailAlreadyVerified,
    /// The verification (or email-change) token is unknown, expired, used or voided.
    #[error("The verification link is invalid, expired or was already used; ask for a new one")]
    InvalidVerificationToken,
    /// The password was right, but `security.require_verified_email` is on and the account's
    /// address is not verified.
    #[error("The email address is not verified; follow the link sent to it, or ask for a new one")]
    EmailNotVerified,
    /// The refresh token is unknown, rotated, or its session has ended.
    #[error("The refresh token is invalid or expired")]
    InvalidGrant,
    /// The access token was refused.
    #[error("{0}")]
    InvalidToken(#[from] TokenError),
    /// A change that needs the current password (a new password, a new API key) came without it.
    #[error("current_password is required for this change")]
    CurrentPasswordRequired,
    /// The current password given with a change is wrong.
    #[error("Current password is incorrect")]
    InvalidCurrentPassword,
    /// Authenticated, but not allowed.
    #[error("Forbidden")]
    Forbidden,
    /// The route needs a bearer session; an API key cannot manage keys, sessions or passwords.
    #[error("This needs a bearer token from a login; API keys cannot be used here")]
    SessionRequired,
    /// The API key is unknown, revoked or expired, or its user is disabled.
    #[error("Invalid, revoked or expired API key")]
    InvalidApiKey,
    /// The change would leave no active admin.
    #[error("The last active admin cannot be demoted, disabled or deleted")]
    LastAdmin,
    /// An input outside the rules, with the reason.
    #[error("{0}")]
    InvalidInput(String),
    /// The addressed record does not exist (or is not the caller's).
    #[error("Not found")]
    NotFound,
    /// The session the access token belongs to has ended (logout, revocation, expiry).
    #[error("The session has ended")]
    SessionEnded,
    /// The user the access token belongs to is disabled.
    #[error("The user is disabled")]
    UserInactive,
    /// The store cannot be reached; the source says why, for logs only.
    #[error("The service is temporarily unavailable")]
    Unavailable(#[source] StoreError),
    /// A bug or an environment failure; the source says what, for logs only.
    #[error("Internal server error")]
    Internal(#[source] Box<dyn Error + Send + Sync>),
}

impl AuthError {
    /// An [`AuthError::Internal`] caused by `cause`.
    pub fn internal(cause: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        AuthError::Internal(cause.into())
    }

    /// Signing an access token failed (a key that cannot sign: a bug in the set-up).
    pub(crate) fn signing(cause: jsonwebtoken::errors::Error) -> Self {
        AuthError::internal(SigningFailed(cause))
    }
}

/// `error`, unless it is the store's refusal of what a credential check produced because the
/// credentials changed since (which maps to [`AuthError::InvalidCredentials`]): then `refusal`,
/// the answer that fits the check (a current password, an `mfa_token`, an API key). For the
/// calls that store such a product, which cannot fail with `InvalidCredentials` otherwise.
pub(crate) fn changed_since_check(error: AuthError, refusal: AuthError) -> AuthError {
    match error {
        AuthError::InvalidCredentials => refusal,
        other => other,
    }
}

#[derive(Debug, thiserror::Error)]
#[error("signing the access token failed")]
struct SigningFailed(#[source] jsonwebtoken::errors::Error);

/// `error` and its sources, joined with `: `, for a log line. Responses never show it.
pub fn cause_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<StoreError> for AuthError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(auth_domain::Conflict::Username) => AuthError::UsernameTaken,
            StoreError::Conflict(auth_domain::Conflict::Email) => AuthError::EmailTaken,
            StoreError::Conflict(auth_domain::Conflict::LastAdmin) => AuthError::LastAdmin,
            StoreError::NotFound => AuthError::NotFound,
            // What a password check produced is refused because the password changed since:
            // the password given is not the password (any more).
            StoreError::CredentialsChanged => AuthError::InvalidCredentials,
            other => AuthError::Unavailable(other),
        }
    }
}

impl From<HashError> for AuthError {
    fn from(e: HashError) -> Self {
        AuthError::internal(e)
    }
}
