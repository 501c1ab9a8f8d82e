//! A second factor: the caller's TOTP enrolment (start, confirm, turn off), the second step of
//! a login that answered `403 mfa_required`, and the admins' reset for a lost device.

use actix_web::{HttpRequest, HttpResponse, http::StatusCode, http::header, web};
use auth_core::{MfaToken, SecondFactor};
use auth_domain::{Password, UserId};
use uuid::Uuid;

use super::token_response;
use crate::{
    AuthState,
    dto::{
        CurrentPasswordBody, MfaLoginBody, RecoveryCodesResponse, TotpCodeBody, TotpSetupResponse,
    },
    error::{ApiError, ErrorCode},
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
pub(super) async fn confirm(
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

/// `DELETE /mfa/totp`: turns the caller's second factor off, with their `current_password`.
pub(super) async fn disable(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<CurrentPasswordBody>,
) -> Result<HttpResponse, ApiError> {
    state
        .service
        .disable_totp(&me, body.current_password.map(Password::new))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /login/mfa`: the `mfa_token` with a `code` or a `recovery_code`: a new session's
/// token pair.
pub(super) async fn login(
    _: RateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    JsonBody(body): JsonBody<MfaLoginBody>,
) -> Result<HttpResponse, ApiError> {
    let factor = match (body.code, body.recovery_code) {
        (Some(code), None) => SecondFactor::Totp(code),
        (None, Some(code)) => SecondFactor::RecoveryCode(code),
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationError,
                "body: send either code or recovery_code",
            ));
        }
    };
    let client = client_info(&req, &state.http.trusted_proxies);
    let pair = state
        .service
        .login_with_second_factor(MfaToken::from_client(body.mfa_token), factor, client)
        .await?;
    Ok(token_response(&pair))
}

/// `DELETE /admin/users/{id}/mfa`: removes a user's second factor (a lost device).
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
