//! The machine-readable codes of the error bodies: one enum instead of string literals.

use std::fmt;

use serde::{Serialize, Serializer};
#[cfg(feature = "openapi")]
use utoipa::{
    PartialSchema, ToSchema,
    openapi::{ObjectBuilder, RefOr, Schema, schema::Type},
};

/// Declares [`ErrorCode`] from one list: each variant beside its wire name, so that
/// [`ErrorCode::as_str`] and [`ErrorCode::ALL`] cannot drift from the enum (no dependency for it).
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $wire:literal,)*) => {
        /// The `error` field of every error body. Clients match on these strings, so each one is fixed:
        /// [`ErrorCode::as_str`] is what the wire carries. New codes may be added; existing ones never
        /// change. The status each is usually sent with is noted in brackets.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as the `error` field carries it, e.g. `"invalid_token"`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $wire,)*
                }
            }
        }
    };
}

error_codes! {
/// `validation_error` (422): a field or query parameter is missing, mistyped or out of range.
ValidationError = "validation_error",
/// `not_found` (404): no such route or resource, or a malformed id in the path.
NotFound = "not_found",
/// `method_not_allowed` (405): the route exists, the method does not.
MethodNotAllowed = "method_not_allowed",
/// `internal_error` (500): a bug or a misconfiguration; details only in the log.
InternalError = "internal_error",
/// `service_unavailable` (503): the store cannot be reached.
ServiceUnavailable = "service_unavailable",
/// `payload_too_large` (413): the body is over `max_body_bytes`.
PayloadTooLarge = "payload_too_large",
/// `request_timeout` (408): the body did not arrive within `server.body_timeout_secs`; the
/// connection is closed.
RequestTimeout = "request_timeout",
/// `invalid_body` (400): the body could not be read.
InvalidBody = "invalid_body",
/// `invalid_content_type` (400): a JSON route got another content type.
InvalidContentType = "invalid_content_type",
/// `malformed_json` (400): the body is not JSON.
MalformedJson = "malformed_json",
/// `not_authenticated` (401): no credentials were sent.
NotAuthenticated = "not_authenticated",
/// `invalid_token` (401): the bearer token is malformed, forged, expired or its session has
/// ended.
InvalidToken = "invalid_token",
/// `invalid_credentials` (401): wrong username or password.
InvalidCredentials = "invalid_credentials",
/// `invalid_api_key` (401): an unknown, revoked or expired API key.
InvalidApiKey = "invalid_api_key",
/// `invalid_grant` (401, or 400 at `/token`): an unusable refresh token or credentials at
/// the OAuth2 token endpoint.
InvalidGrant = "invalid_grant",
/// `invalid_request` (400): an OAuth2 token request that is malformed or misses a field.
InvalidRequest = "invalid_request",
/// `unsupported_grant_type` (400): a `grant_type` other than `password` and
/// `refresh_token`.
UnsupportedGrantType = "unsupported_grant_type",
/// `forbidden` (403): authenticated, but not allowed (e.g. not an admin).
Forbidden = "forbidden",
/// `session_required` (403): an API key (or a token exchanged for one) where only a login
/// session will do.
SessionRequired = "session_required",
/// `account_disabled` (403): the user may not log in.
AccountDisabled = "account_disabled",
/// `invalid_current_password` (403): the current password given to change it is wrong.
InvalidCurrentPassword = "invalid_current_password",
/// `current_password_required` (422): changing the password needs the current one.
CurrentPasswordRequired = "current_password_required",
/// `invalid_username` (422): the username breaks the rules.
InvalidUsername = "invalid_username",
/// `invalid_email` (422): the email is malformed.
InvalidEmail = "invalid_email",
/// `invalid_password` (422): the new password breaks the length rules.
InvalidPassword = "invalid_password",
/// `weak_password` (422): the new password is too easy to guess.
WeakPassword = "weak_password",
/// `username_taken` (409).
UsernameTaken = "username_taken",
/// `email_taken` (409).
EmailTaken = "email_taken",
/// `last_admin` (409): the change would leave no active admin.
LastAdmin = "last_admin",
/// `too_many_attempts` (429): the username is locked after failed logins.
TooManyAttempts = "too_many_attempts",
/// `too_many_requests` (429): the client IP is over its rate limit.
TooManyRequests = "too_many_requests",
/// `mfa_required` (403): the password was right, and the account has a second factor; the
/// body's `mfa_token` goes to `POST /login/mfa` with a code.
MfaRequired = "mfa_required",
/// `invalid_code` (401 at `POST /login/mfa`, 422 confirming an enrolment, 403 turning the
/// second factor off): the TOTP code or recovery code is wrong, stale or already used.
InvalidCode = "invalid_code",
/// `invalid_mfa_token` (401): the `mfa_token` is unknown, expired, used, or had too many
/// wrong codes.
InvalidMfaToken = "invalid_mfa_token",
/// `mfa_already_enabled` (409): the second factor is already on.
MfaAlreadyEnabled = "mfa_already_enabled",
/// `mfa_not_enabled` (409): there is no second factor (nor a pending enrolment) to remove.
MfaNotEnabled = "mfa_not_enabled",
/// `mfa_enrolment_not_started` (409): there is no pending TOTP enrolment to confirm.
MfaEnrolmentNotStarted = "mfa_enrolment_not_started",
/// `invalid_reset_token` (400): the password-reset token is unknown, expired, used or
/// voided.
InvalidResetToken = "invalid_reset_token",
/// `no_email` (409): the account has no email address to send to.
NoEmail = "no_email",
/// `email_already_verified` (409): the address is verified already.
EmailAlreadyVerified = "email_already_verified",
/// `invalid_verification_token` (400): the verification or email-change token is unknown,
/// expired, used or voided.
InvalidVerificationToken = "invalid_verification_token",
/// `email_not_verified` (403): the password was right, but the account's address must be
/// verified first (`security.require_verified_email`).
EmailNotVerified = "email_not_verified",}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Described as a string that is one of [`ErrorCode::ALL`].
#[cfg(feature = "openapi")]
impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "The machine-readable code; new codes may be added, existing ones never change.",
            ))
            .enum_values(Some(ErrorCode::ALL.iter().map(|code| code.as_str())))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl ToSchema for ErrorCode {}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    /// The wire strings, written out: a renamed variant must not change what clients see.
    const WIRE: [(ErrorCode, &str); 42] = [
        (ErrorCode::ValidationError, "validation_error"),
        (ErrorCode::NotFound, "not_found"),
        (ErrorCode::MethodNotAllowed, "method_not_allowed"),
        (ErrorCode::InternalError, "internal_error"),
        (ErrorCode::ServiceUnavailable, "service_unavailable"),
        (ErrorCode::PayloadTooLarge, "payload_too_large"),
        (ErrorCode::RequestTimeout, "request_timeout"),
        (ErrorCode::InvalidBody, "invalid_body"),
        (ErrorCode::InvalidContentType, "invalid_content_type"),
        (ErrorCode::MalformedJson, "malformed_json"),
        (ErrorCode::NotAuthenticated, "not_authenticated"),
        (ErrorCode::InvalidToken, "invalid_token"),
        (ErrorCode::InvalidCredentials, "invalid_credentials"),
        (ErrorCode::InvalidApiKey, "invalid_api_key"),
        (ErrorCode::InvalidGrant, "invalid_grant"),
        (ErrorCode::InvalidRequest, "invalid_request"),
        (ErrorCode::UnsupportedGrantType, "unsupported_grant_type"),
        (ErrorCode::Forbidden, "forbidden"),
        (ErrorCode::SessionRequired, "session_required"),
        (ErrorCode::AccountDisabled, "account_disabled"),
        (
            ErrorCode::InvalidCurrentPassword,
            "invalid_current_password",
        ),
        (
            ErrorCode::CurrentPasswordRequired,
            "current_password_required",
        ),
        (ErrorCode::InvalidUsername, "invalid_username"),
        (ErrorCode::InvalidEmail, "invalid_email"),
        (ErrorCode::InvalidPassword, "invalid_password"),
        (ErrorCode::WeakPassword, "weak_password"),
        (ErrorCode::UsernameTaken, "username_taken"),
        (ErrorCode::EmailTaken, "email_taken"),
        (ErrorCode::LastAdmin, "last_admin"),
        (ErrorCode::TooManyAttempts, "too_many_attempts"),
        (ErrorCode::TooManyRequests, "too_many_requests"),
        (ErrorCode::MfaRequired, "mfa_required"),
        (ErrorCode::InvalidCode, "invalid_code"),
        (ErrorCode::InvalidMfaToken, "invalid_mfa_token"),
        (ErrorCode::MfaAlreadyEnabled, "mfa_already_enabled"),
        (ErrorCode::MfaNotEnabled, "mfa_not_enabled"),
        (
            ErrorCode::MfaEnrolmentNotStarted,
            "mfa_enrolment_not_started",
        ),
        (ErrorCode::InvalidResetToken, "invalid_reset_token"),
        (ErrorCode::NoEmail, "no_email"),
        (ErrorCode::EmailAlreadyVerified, "email_already_verified"),
        (
            ErrorCode::InvalidVerificationToken,
            "invalid_verification_token",
        ),
        (ErrorCode::EmailNotVerified, "email_not_verified"),
    ];

    #[test]
    fn every_code_reads_as_on_the_wire() {
        assert_eq!(
            ErrorCode::ALL.to_vec(),
            WIRE.iter().map(|(code, _)| *code).collect::<Vec<_>>()
        );
        for (code, wire) in WIRE {
            assert_eq!(code.as_str(), wire);
            assert_eq!(code.to_string(), wire);
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::json!(wire));
        }
    }
}
