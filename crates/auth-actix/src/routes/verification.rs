//! Verified addresses: `POST /email/verify/request` (a fresh link to the caller's address) and
//! `POST /email/verify` (redeeming a verification or email-change link). With mail off they
//! answer 404 as unknown routes do, and the OpenAPI document leaves them out.

use actix_web::{HttpRequest, HttpResponse, web};
use auth_domain::Password;

use super::recovery::MailOn;
use crate::{
    AuthState,
    dto::{AcceptedResponse, UserResponse, VerifyEmailBody},
    error::{ApiError, ErrorBody},
    extract::{CurrentUser, JsonBody, client_info},
    rate_limit::RateLimited,
};

/// `POST /email/verify/request`: a fresh verification link to the caller's address.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/email/verify/request",
    tag = "profile",
    operation_id = "request_email_verification",
    summary = "Send a fresh verification link to the caller's address",
    description = "An `email_verification` message goes to the caller's address with a link (`{mail.link_base}/verify-email?token=…`) that works once, for `mail.verify_token_ttl_secs`; it voids earlier verification links. Within the account's limits (`mail.min_interval_secs`, `mail.max_per_account_per_hour`); beyond them the answer is the same and nothing is sent.",
    responses(
        (status = 202, description = "A message is on its way (unless over the limits)", body = AcceptedResponse),
        (status = 403, description = "`session_required`: an API key (or a token exchanged for one)", body = ErrorBody),
        (status = 409, description = "`email_already_verified`", body = ErrorBody),
        (status = 422, description = "`no_email`: the account has no address", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn request(
    _: MailOn,
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
) -> Result<HttpResponse, ApiError> {
    me.session()?;
    state.service.request_email_verification(&me).await?;
    Ok(HttpResponse::Accepted().json(AcceptedResponse {
        detail: "A verification message is on its way",
    }))
}

/// `POST /email/verify`: redeems the token of a verification or email-change link.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/email/verify",
    tag = "profile",
    operation_id = "verify_email",
    summary = "Verify an address with a link's token",
    description = "The token of an `email_verification` link marks the account's address verified; the token of an `email_change` link (sent to a new address) makes that address the account's, verified, and sends an `email_changed_notice` to the old one if it was verified. Each token works once. Audited as `email.verified`. Needs no login: the token is the proof.",
    request_body = VerifyEmailBody,
    responses(
        (status = 200, description = "The user, with `email_verified: true`", body = UserResponse),
        (status = 400, description = "`invalid_verification_token`: unknown, expired, already used, or voided (a newer link, or the address changed since)", body = ErrorBody),
        (status = 409, description = "`email_taken`: another account took the new address meanwhile", body = ErrorBody),
        (status = 422, description = "`validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`: this address is over `security.rate_limit_per_minute`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn verify(
    _: MailOn,
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<VerifyEmailBody>,
) -> Result<HttpResponse, ApiError> {
    let client = client_info(&req, &state.http);
    let user = state
        .service
        .verify_email(&Password::new(body.token), client)
        .await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}
