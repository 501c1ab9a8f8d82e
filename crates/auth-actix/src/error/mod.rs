//! One error type for every route: the contract's status codes, JSON bodies and headers.

mod code;

use std::fmt;

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use auth_core::TokenError;
#[cfg(feature = "service")]
use auth_core::{AuthError, MfaToken};
use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

pub use code::ErrorCode;

/// An error response: `{"error": code, "detail": text}` (plus `error_description` on the OAuth2
/// token endpoint, and `mfa_token` with `mfa_required`), with `WWW-Authenticate` where RFC 6750
/// asks for it. Its `Debug` never shows an `mfa_token`.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    www_authenticate: Option<String>,
    retry_after: Option<u64>,
    oauth: bool,
    #[cfg(feature = "service")]
    mfa_token: Option<MfaToken>,
}

/// The body of every error.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Error, example = json!({"error": "not_authenticated", "detail": "Not authenticated"})))]
pub(crate) struct ErrorBody<'a> {
    error: ErrorCode,
    /// The message for people.
    detail: &'a str,
    /// Only at `POST /token`: the same text as `detail` (RFC 6749 §5.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    error_description: Option<&'a str>,
    /// Only with `mfa_required`: the token to send to `POST /login/mfa` with the second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    mfa_token: Option<&'a str>,
}

/// The body of an error at `POST /token` (RFC 6749 §5.2): the error body with
/// `error_description` always present. Described only; [`ErrorBody`] writes it.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[cfg_attr(feature = "openapi", schema(as = OAuthError, example = json!({
    "error": "invalid_grant",
    "detail": "Incorrect username or password",
    "error_description": "Incorrect username or password"
})))]
#[allow(dead_code)] // described only
pub(crate) struct OAuthErrorBody {
    error: ErrorCode,
    /// The message for people.
    detail: String,
    /// The same text as `detail`.
    error_description: String,
    /// Only with `mfa_required`: the token to send to `POST /login/mfa` with the second factor.
    mfa_token: Option<String>,
}

impl ApiError {
    /// An error with a status, a machine-readable code and a message for people.
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            www_authenticate: None,
            retry_after: None,
            oauth: false,
            #[cfg(feature = "service")]
            mfa_token: None,
        }
    }

    /// 429 with `Retry-After`.
    pub fn too_many(code: ErrorCode, detail: impl Into<String>, retry_after: u64) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail);
        error.retry_after = Some(retry_after);
        error
    }

    /// 401 `not_authenticated`: no credentials were sent.
    pub fn not_authenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::NotAuthenticated,
            "Not authenticated",
        )
        .with_www_authenticate("Bearer")
    }

    /// 401 `invalid_token` with RFC 6750's `WWW-Authenticate` parameters.
    pub fn invalid_token(reason: impl fmt::Display) -> Self {
        let reason = reason.to_string();
        // The description is ours (never client input), but keep it a safe quoted-string.
        let quoted: String = reason.chars().filter(|c| *c != '"' && *c != '\\').collect();
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::InvalidToken, reason).with_www_authenticate(
            format!("Bearer error=\"invalid_token\", error_description=\"{quoted}\""),
        )
    }

    /// 403 `forbidden`.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "Forbidden")
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not Found")
    }

    /// 400 `invalid_request` in the OAuth2 token endpoint's format (RFC 6749 §5.2).
    pub fn oauth(code: ErrorCode, detail: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::BAD_REQUEST, code, detail);
        error.oauth = true;
        error
    }

    /// The same error in the OAuth2 token endpoint's format, status kept: `error_description`
    /// beside `detail`, and never cached (RFC 6749 §5.2).
    #[cfg(feature = "service")]
    pub(crate) fn in_oauth_format(mut self) -> Self {
        self.oauth = true;
        self
    }

    fn with_www_authenticate(mut self, value: impl Into<String>) -> Self {
        self.www_authenticate = Some(value.into());
        self
    }

    /// The machine-readable code; [`ErrorCode::as_str`] is what the body carries.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message for people.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The seconds of a 429's `Retry-After`, for answers that are not JSON (the pages).
    #[cfg(feature = "server")]
    pub(crate) fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The same error in the OAuth2 token endpoint's terms: failed credentials are
    /// `invalid_grant`, bad input `invalid_request`, both 400 (RFC 6749 §5.2). Others keep
    /// their status and code in that format: `mfa_required` stays 403 with its `mfa_token`.
    #[cfg(feature = "service")]
    pub fn for_token_endpoint(error: AuthError) -> Self {
        match error {
            AuthError::InvalidCredentials
            | AuthError::AccountDisabled
            | AuthError::InvalidGrant => Self::oauth(ErrorCode::InvalidGrant, error.to_string()),
            AuthError::InvalidPassword(_) | AuthError::InvalidUsername(_) => {
                Self::oauth(ErrorCode::InvalidRequest, error.to_string())
            }
            other => Self::from(other).in_oauth_format(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(value) = &self.www_authenticate {
            response.insert_header((header::WWW_AUTHENTICATE, value.as_str()));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        // A 408 gives up on a body still owed: the connection cannot carry another request.
        if self.status == StatusCode::REQUEST_TIMEOUT {
            response.force_close();
        }
        #[cfg(feature = "service")]
        let mfa_token = self.mfa_token.as_ref().map(MfaToken::expose);
        #[cfg(not(feature = "service"))]
        let mfa_token = None;
        // An `mfa_token` is half a login: never cached either.
        if self.oauth || mfa_token.is_some() {
            response.insert_header((header::CACHE_CONTROL, "no-store"));
            response.insert_header((header::PRAGMA, "no-cache"));
        }
        response.json(ErrorBody {
            error: self.code,
            detail: &self.detail,
            error_description: self.oauth.then_some(self.detail.as_str()),
            mfa_token,
        })
    }
}

#[cfg(feature = "service")]
impl From<AuthError> for ApiError {
    fn from(error: AuthError) -> Self {
        let detail = error.to_string();
        let (status, code) = match &error {
            AuthError::InvalidUsername(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidUsername)
            }
            AuthError::InvalidEmail(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidEmail)
            }
            AuthError::InvalidPassword(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidPassword)
            }
            AuthError::WeakPassword(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::WeakPassword)
            }
            AuthError::TooManyAttempts { retry_after } => {
                return Self::too_many(ErrorCode::TooManyAttempts, detail, *retry_after);
            }
            AuthError::Overloaded { retry_after } => {
                // Load shedding: nothing was done; the client may retry shortly.
                let mut error = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ServiceUnavailable,
                    detail,
                );
                error.retry_after = Some(*retry_after);
                return error;
            }
            AuthError::CurrentPasswordRequired => (
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::CurrentPasswordRequired,
            ),
            AuthError::UsernameTaken => (StatusCode::CONFLICT, ErrorCode::UsernameTaken),
            AuthError::EmailTaken => (StatusCode::CONFLICT, ErrorCode::EmailTaken),
            AuthError::InvalidCredentials => {
                return Self::new(
                    StatusCode::UNAUTHORIZED,
                    ErrorCode::InvalidCredentials,
                    detail,
                )
                .with_www_authenticate("Bearer");
            }
            AuthError::InvalidToken(reason) => return Self::invalid_token(reason),
            AuthError::SessionEnded | AuthError::UserInactive => {
                return Self::invalid_token(&error);
            }
            AuthError::AccountDisabled => (StatusCode::FORBIDDEN, ErrorCode::AccountDisabled),
            AuthError::MfaRequired(token) => {
                let mut error = Self::new(StatusCode::FORBIDDEN, ErrorCode::MfaRequired, detail);
                error.mfa_token = Some(token.clone());
                return error;
            }
            AuthError::InvalidCode => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidCode),
            AuthError::InvalidEnrolmentCode => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::InvalidCode)
            }
            AuthError::InvalidConfirmingCode => (StatusCode::FORBIDDEN, ErrorCode::InvalidCode),
            AuthError::InvalidMfaToken => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidMfaToken),
            AuthError::MfaAlreadyEnabled => (StatusCode::CONFLICT, ErrorCode::MfaAlreadyEnabled),
            AuthError::MfaNotEnabled => (StatusCode::CONFLICT, ErrorCode::MfaNotEnabled),
            AuthError::MfaNotEnrolling => (StatusCode::CONFLICT, ErrorCode::MfaEnrolmentNotStarted),
            AuthError::InvalidGrant => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidGrant),
            AuthError::InvalidResetToken => (StatusCode::BAD_REQUEST, ErrorCode::InvalidResetToken),
            AuthError::NoEmail => (StatusCode::CONFLICT, ErrorCode::NoEmail),
            AuthError::NoEmailToVerify => (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::NoEmail),
            AuthError::EmailAlreadyVerified => {
                (StatusCode::CONFLICT, ErrorCode::EmailAlreadyVerified)
            }
            AuthError::InvalidVerificationToken => {
                (StatusCode::BAD_REQUEST, ErrorCode::InvalidVerificationToken)
            }
            AuthError::EmailNotVerified => (StatusCode::FORBIDDEN, ErrorCode::EmailNotVerified),
            AuthError::InvalidCurrentPassword => {
                (StatusCode::FORBIDDEN, ErrorCode::InvalidCurrentPassword)
            }
            AuthError::Forbidden => return Self::forbidden(),
            AuthError::SessionRequired => (StatusCode::FORBIDDEN, ErrorCode::SessionRequired),
            AuthError::InvalidApiKey => (StatusCode::UNAUTHORIZED, ErrorCode::InvalidApiKey),
            AuthError::LastAdmin => (StatusCode::CONFLICT, ErrorCode::LastAdmin),
            AuthError::InvalidInput(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::ValidationError)
            }
            AuthError::NotFound => return Self::not_found(),
            // An outage is logged by the store when it starts and ends, not per request.
            AuthError::Unavailable(cause) if cause.is_outage() => (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceUnavailable,
            ),
            AuthError::Unavailable(_) => {
                tracing::error!(error = %auth_core::cause_chain(&error), "store unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ServiceUnavailable,
                )
            }
            _ => {
                tracing::error!(error = %auth_core::cause_chain(&error), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, ErrorCode::InternalError)
            }
        };
        Self::new(status, code, detail)
    }
}

impl From<TokenError> for ApiError {
    /// 401 `invalid_token` with the reason (a revoked token: "The token has been revoked"),
    /// except a token whose status list is stale beyond the verifier's bound (fail-closed): 503
    /// `service_unavailable` with `Retry-After`, as the token may well be good.
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::StatusUnavailable { retry_after } => {
                let mut unavailable = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::ServiceUnavailable,
                    error.to_string(),
                );
                unavailable.retry_after = Some(retry_after.max(1));
                unavailable
            }
            other => Self::invalid_token(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;

    use super::*;

    #[test]
    fn revoked_tokens_are_401_and_unknown_status_503_with_retry_after() {
        let revoked = ApiError::from(TokenError::Revoked);
        assert_eq!(revoked.status_code(), StatusCode::UNAUTHORIZED);
        assert_eq!(revoked.code(), ErrorCode::InvalidToken);
        assert_eq!(revoked.detail(), "The token has been revoked");
        let stale =
            ApiError::from(TokenError::StatusUnavailable { retry_after: 7 }).error_response();
        assert_eq!(stale.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(stale.headers().get(header::RETRY_AFTER).unwrap(), "7");
    }

    #[test]
    fn mfa_required_shows_its_token_only_in_the_body_and_never_caches() {
        let token = MfaToken::generate();
        let secret = token.expose().to_owned();
        for error in [
            ApiError::from(AuthError::MfaRequired(token.clone())),
            ApiError::for_token_endpoint(AuthError::MfaRequired(token)),
        ] {
            assert!(!format!("{error:?} {error}").contains(&secret));
            let response = error.error_response();
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
            assert_eq!(
                response.headers().get(header::CACHE_CONTROL).unwrap(),
                "no-store"
            );
            let body = response.into_body().try_into_bytes().unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"], "mfa_required");
            assert_eq!(body["mfa_token"], secret.as_str());
        }
    }
}
