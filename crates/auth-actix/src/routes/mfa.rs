//! A second factor: the caller's TOTP enrolment (start, confirm, turn off), the second step of
//! a login that answered `403 mfa_required`, and the admins' reset for a lost device.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use auth_core::{MfaToken, SecondFactor};
use auth_domain::{Password, UserId};
use uuid::Uuid;

use super::token_response;
#[cfg(feature = "openapi")]
use crate::dto::MfaLoginRequest;
use crate::{
    AuthState,
    dto::{
        CurrentPasswordBody, DisableTotpBody, MfaLoginBody, RecoveryCodesResponse, TokenResponse,
        TotpCodeBody, TotpSetupResponse,
    },
    error::{ApiError, ErrorBody, ErrorCode},
    extract::{AdminSession, CurrentUser, JsonBody, client_info},
    rate_limit::RateLimited,
};

/// Secrets shown once are never cached.
fn shown_once(mut response: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    response
}

/// `POST /mfa/totp`: 201 with a new secret and its `otpauth://` URI, shown once; the
/// enrolment is pending until confirmed. The body must carry the caller's `current_password`.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/mfa/totp",
    tag = "mfa",
    operation_id = "enrol_totp",
    summary = "Start enrolling a TOTP app",
    description = "A new secret and its `otpauth://` URI, shown only here. The enrolment is pending until `POST /mfa/totp/confirm`; a new `POST` replaces a pending one.",
    request_body = CurrentPasswordBody,
    responses(
        (status = 201, description = "The new secret; never cached", body = TotpSetupResponse),
        (status = 403, description = "`session_required` (an API key) or `invalid_current_password`", body = ErrorBody),
        (status = 409, description = "`mfa_already_enabled`", body = ErrorBody),
        (status = 422, description = "`current_password_required` or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: this client is locked out of the account", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn enrol(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<CurrentPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    let setup = state
        .service
        .begin_totp_enrolment(&me, body.current_password.map(Password::new))
        .await?;
    Ok(shown_once(HttpResponse::Created()).json(TotpSetupResponse {
        secret: &setup.secret,
        otpauth_uri: &setup.otpauth_uri,
    }))
}

/// `POST /mfa/totp/confirm`: a code from the new secret turns the second factor on; 200 with
/// the recovery codes, shown once.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/mfa/totp/confirm",
    tag = "mfa",
    operation_id = "confirm_totp",
    summary = "Turn the second factor on",
    description = "A code from the new secret ends the enrolment: from now on logins need a second factor. Every other session of the user ends; this one stays, and its refreshed access tokens carry `amr` `[\"pwd\", \"otp\"]`. API keys stay. The answer has the recovery codes, shown only here.",
    request_body = TotpCodeBody,
    responses(
        (status = 200, description = "The recovery codes; never cached", body = RecoveryCodesResponse),
        (status = 403, description = "`session_required`: an API key", body = ErrorBody),
        (status = 409, description = "`mfa_enrolment_not_started` or `mfa_already_enabled`", body = ErrorBody),
        (status = 422, description = "`invalid_code` (counts toward the lockout) or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts` (this client is locked out of the account) or `too_many_requests` (this address)", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn confirm(
    _: RateLimited,
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<TotpCodeBody>,
) -> Result<HttpResponse, ApiError> {
    let codes = state
        .service
        .confirm_totp_enrolment(&me, &body.code)
        .await?;
    Ok(shown_once(HttpResponse::Ok()).json(RecoveryCodesResponse {
        recovery_codes: &codes.0,
    }))
}

/// `DELETE /mfa/totp`: turns the caller's second factor off, with their `current_password`
/// and a current `code` or a `recovery_code`.
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/mfa/totp",
    tag = "mfa",
    operation_id = "disable_totp",
    summary = "Turn the second factor off",
    description = "Logins are one step again. Needs the current password and, while the second factor is on, a current `code` or a `recovery_code` (one of the two); a lost device is for an admin (`DELETE /admin/users/{id}/mfa`). A pending enrolment is discarded with the password alone.",
    request_body = DisableTotpBody,
    responses(
        (status = 204, description = "Turned off"),
        (status = 403, description = "`session_required` (an API key), `invalid_current_password`, or `invalid_code` (wrong, stale or used; counts toward the lockout)", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`", body = ErrorBody),
        (status = 422, description = "`current_password_required`, or `validation_error` (no `code` nor `recovery_code` while the second factor is on, or both)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: this client is locked out of the account", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn disable(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<DisableTotpBody>,
) -> Result<HttpResponse, ApiError> {
    let factor = match (body.code, body.recovery_code) {
        (None, None) => None,
        (Some(code), None) => Some(SecondFactor::Totp(code)),
        (None, Some(code)) => Some(SecondFactor::RecoveryCode(code)),
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationError,
                "body: send either code or recovery_code, not both",
            ));
        }
    };
    state
        .service
        .disable_totp(&me, body.current_password.map(Password::new), factor)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /login/mfa`: the `mfa_token` with a `code` or a `recovery_code`: a new session's
/// token pair.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/login/mfa",
    tag = "credentials",
    operation_id = "login_mfa",
    summary = "Finish a login with the second factor",
    description = "The `mfa_token` of a `403 mfa_required` answer (from `POST /login` or `POST /token`) with either a TOTP `code` or a `recovery_code`. Opens the session: its access tokens carry `amr` `[\"pwd\", \"otp\"]`.",
    request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "A new session's tokens; never cached", body = TokenResponse),
        (status = 401, description = "`invalid_code` (wrong, stale or used code or recovery code; counts toward the lockout) or `invalid_mfa_token` (unknown, expired, used, or after 5 wrong codes: log in again)", body = ErrorBody),
        (status = 422, description = "`validation_error`: not one of the body's shapes (a missing field, neither or both of `code` and `recovery_code`, a wrong type)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts` or `too_many_requests`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn login(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<MfaLoginBody>,
) -> Result<HttpResponse, ApiError> {
    let (mfa_token, factor) = body.into_parts()?;
    let client = client_info(&req, &state.http);
    let pair = state
        .service
        .login_with_second_factor(MfaToken::from_client(mfa_token), factor, client)
        .await?;
    Ok(token_response(&pair))
}

/// `DELETE /admin/users/{id}/mfa`: removes a user's second factor (a lost device).
#[cfg_attr(feature = "openapi", utoipa::path(
    delete,
    path = "/admin/users/{id}/mfa",
    tag = "admin",
    operation_id = "reset_user_mfa",
    summary = "Remove a user's second factor",
    description = "For a lost device: the user's second factor, recovery codes and waiting logins go; their logins are one step again.",
    params(("id" = Uuid, Path, description = "The user id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "`forbidden` (not an admin) or `session_required` (an API key)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn reset(
    state: web::Data<AuthState>,
    AdminSession(actor): AdminSession,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .reset_mfa(&actor, UserId(id.into_inner()))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
