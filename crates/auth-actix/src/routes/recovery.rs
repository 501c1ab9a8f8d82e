//! A way back in by email: `POST /password/forgot`, `POST /password/reset` and
//! `POST /admin/users/{id}/password-reset`. With mail off (`mail.transport = "none"`) they
//! answer 404 as unknown routes do, and the OpenAPI document leaves them out.

use std::{future::Future, pin::Pin};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::StatusCode, web};
use auth_core::ForgottenAccount;
use auth_domain::{Password, UserId};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use crate::dto::ForgotPasswordRequest;

use crate::{
    AuthState,
    dto::{AcceptedResponse, ForgotPasswordBody, ResetPasswordBody},
    error::{ApiError, ErrorBody, ErrorCode},
    extract::{AdminSession, JsonBody, client_info, state},
    rate_limit::RateLimited,
};

/// The paths of the routes that need mail: left out of the OpenAPI document when it is off.
#[cfg(feature = "openapi")]
pub(crate) const MAIL_ROUTES: &[&str] = &[
    "/password/forgot",
    "/password/reset",
    "/admin/users/{id}/password-reset",
    "/email/verify/request",
    "/email/verify",
];

/// What `POST /password/forgot` answers, whatever became of the request.
const FORGOT_ANSWER: &str = "If an account matches, a message is on its way";

/// Mail is on; otherwise 404 `not_found`, before anything else is read or counted. First among
/// a handler's arguments.
pub(crate) struct MailOn;

impl FromRequest for MailOn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let result = state(req).and_then(|state| {
            if state.service.mail_enabled() {
                Ok(MailOn)
            } else {
                Err(ApiError::not_found())
            }
        });
        Box::pin(async move { result })
    }
}

/// `POST /password/forgot`: a reset link to the account's address, if there is one to send.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/password/forgot",
    tag = "credentials",
    operation_id = "forgot_password",
    summary = "Ask for a password-reset link",
    description = "Send `email` or `username`, exactly one. The answer is the same whether or not an account matches, has an address, is disabled, or is over its limits (`mail.min_interval_secs`, `mail.max_per_account_per_hour`): only an active account with an address gets a `password_reset` message, whose link (`{mail.link_base}/reset-password?token=…`) works once, for `mail.reset_token_ttl_secs`.",
    request_body = ForgotPasswordRequest,
    responses(
        (status = 202, description = "Always the same answer", body = AcceptedResponse),
        (status = 422, description = "`validation_error` (neither or both of `email` and `username`), `invalid_email` or `invalid_username`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: this address is over `security.rate_limit_per_minute`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn forgot(
    _: MailOn,
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<ForgotPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let account = match (body.email, body.username) {
        (Some(email), None) => ForgottenAccount::Email(email),
        (None, Some(username)) => ForgottenAccount::Username(username),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationError,
                "body: send exactly one of email, username",
            ));
        }
    };
    let client = client_info(&req, &state.http);
    state.service.forgot_password(account, client).await?;
    Ok(HttpResponse::Accepted().json(AcceptedResponse {
        detail: FORGOT_ANSWER,
    }))
}

/// `POST /password/reset`: a new password, with the token from a reset link.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/password/reset",
    tag = "credentials",
    operation_id = "reset_password",
    summary = "Set a new password with a reset link's token",
    description = "The new password meets the rules of registration; a refused password leaves the token working. On success, at once and on every instance: every session of the user ends, every API key is revoked (their access tokens are refused from the next request), other reset links stop working, the account's lockout is lifted and its address counts as verified; a `password_changed_notice` goes to the address. The reset does not sign in, and a second factor stays.",
    request_body = ResetPasswordBody,
    responses(
        (status = 204, description = "The password is reset; log in with it"),
        (status = 400, description = "`invalid_reset_token`: unknown, expired, already used, or voided by a newer link or a password change", body = ErrorBody),
        (status = 422, description = "`invalid_password`, `weak_password` (zxcvbn; `detail` says why) or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: this address is over `security.rate_limit_per_minute`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn reset(
    _: MailOn,
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<ResetPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state.http);
    state
        .service
        .reset_password(
            &Password::new(body.token),
            Password::new(body.new_password),
            client,
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /admin/users/{id}/password-reset`: a reset link to that user (a support desk).
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/admin/users/{id}/password-reset",
    tag = "admin",
    operation_id = "request_user_password_reset",
    summary = "Send a user a password-reset link",
    description = "For a support desk: the user gets a `password_reset` message, as if they had asked. It counts toward the account's limits (`mail.min_interval_secs`, `mail.max_per_account_per_hour`) but is never refused by them. Audited as `password.reset_requested`.",
    params(("id" = Uuid, Path, description = "The user id")),
    responses(
        (status = 202, description = "The message is on its way", body = AcceptedResponse),
        (status = 403, description = "`forbidden` (not an admin), `session_required` (an API key), or `account_disabled` (the user is disabled: a reset would be refused)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`no_email`: the account has no address", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn admin_reset(
    _: MailOn,
    state: web::Data<AuthState>,
    AdminSession(actor): AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .request_password_reset(&actor, UserId(id.into_inner()))
        .await?;
    Ok(HttpResponse::Accepted().json(AcceptedResponse {
        detail: "A password-reset message is on its way to the user",
    }))
}
