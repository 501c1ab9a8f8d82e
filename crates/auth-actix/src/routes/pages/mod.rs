//! The pages that links in messages open, for people rather than programs: `GET /reset-password?
//! token=…` shows a form that posts (form-encoded) to `POST /reset-password`, which shows the
//! outcome as a page; `GET /verify-email?token=…` shows one button that posts the token to
//! `POST /verify-email`, which verifies the address and shows the outcome. A `GET` never uses a token up (mail scanners fetch links); only the form
//! post does. With mail off they answer 404 like the JSON routes; they are not part of the JSON
//! API, so the OpenAPI document leaves them out (`docs::UNDESCRIBED` lists them).
//!
//! Every page is plain HTML from compiled-in minijinja templates (`view`), readable without
//! JavaScript, with `Cache-Control: no-store`, `Referrer-Policy: no-referrer`, a strict
//! `Content-Security-Policy` and `X-Frame-Options: DENY`. A form post from another site's page
//! is refused ([`view::same_origin`]).

mod view;

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse, ResponseError,
    http::{StatusCode, header},
    web,
};
use auth_domain::Password;
use minijinja::{Value, context};
use serde::Deserialize;

use super::recovery::MailOn;
use crate::{
    AuthState,
    error::{ApiError, ErrorCode},
    extract::{client_info, declared_length, read_body},
    rate_limit::RateLimited,
};

pub(crate) use view::STYLESHEET_PATH;

/// The longest token a link can carry (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 128;

/// What a page's templates all need.
fn base(state: &AuthState) -> (String, usize) {
    let config = state.service.config();
    (config.mfa.issuer.clone(), config.password_min_length)
}

/// A token as a link carries it: 1 to 128 URL-safe characters. Anything else is a damaged link
/// (a truncated copy, a mangled query), answered as such before anything is looked up.
fn token_shape(token: &str) -> bool {
    !token.is_empty()
        && token.len() <= MAX_TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A page with a heading and one message, no form.
fn message(state: &AuthState, status: StatusCode, heading: &str, text: &str) -> HttpResponse {
    let (server_name, _) = base(state);
    view::page(
        status,
        "message.html",
        context! { server_name, heading, text },
    )
}

fn broken_link(state: &AuthState) -> HttpResponse {
    message(
        state,
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
        "The address has no usable token. Copy the whole link from the message, or ask for a \
         new one.",
    )
}

/// The reset form for `token`, with `error` above it when the last try was refused.
fn reset_form(
    state: &AuthState,
    status: StatusCode,
    token: &str,
    error: Option<&str>,
) -> HttpResponse {
    let (server_name, min_length) = base(state);
    view::page(
        status,
        "reset_password.html",
        context! { server_name, min_length, token, error => Value::from(error) },
    )
}

/// `GET /reset-password?token=…`: the form. Reads nothing from the store and uses nothing up.
pub(super) async fn reset_password_page(
    _: MailOn,
    req: HttpRequest,
    state: web::Data<AuthState>,
) -> HttpResponse {
    match query_token(&req) {
        Some(token) if token_shape(&token) => reset_form(&state, StatusCode::OK, &token, None),
        _ => broken_link(&state),
    }
}

/// The reset form as posted.
#[derive(Deserialize)]
struct ResetForm {
    token: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /reset-password` (form-encoded `token`, `new_password`, `confirm_password`): sets the
/// password as `POST /password/reset` does and shows the outcome.
pub(super) async fn reset_password_submit(
    _: MailOn,
    limited: Result<RateLimited, ApiError>,
    req: HttpRequest,
    state: web::Data<AuthState>,
    payload: web::Payload,
) -> HttpResponse {
    let form = match read_form::<ResetForm>(limited, &req, &state, payload).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    if !token_shape(&form.token) {
        return broken_link(&state);
    }
    if form.new_password != form.confirm_password {
        return reset_form(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form.token,
            Some("The two passwords differ. Type the same new password twice."),
        );
    }
    let client = client_info(&req, &state.http);
    let result = state
        .service
        .reset_password(
            &Password::new(form.token.clone()),
            Password::new(form.new_password),
            client,
        )
        .await;
    match result {
        Ok(()) => {
            let (server_name, _) = base(&state);
            view::page(StatusCode::OK, "reset_done.html", context! { server_name })
        }
        Err(e) => {
            let e = ApiError::from(e);
            match e.code() {
                ErrorCode::WeakPassword => reset_form(
                    &state,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form.token,
                    Some(&format!(
                        "This password is too easy to guess. {}",
                        e.detail()
                    )),
                ),
                ErrorCode::InvalidPassword => reset_form(
                    &state,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form.token,
                    Some(e.detail()),
                ),
                _ => refused(&state, &e),
            }
        }
    }
}

/// A form post, checked as every page's form is: from this server's own pages
/// ([`view::same_origin`]), within the rate limit, form-encoded, within the body limits, and
/// complete. `Err` is the page that says why not.
async fn read_form<T: serde::de::DeserializeOwned>(
    limited: Result<RateLimited, ApiError>,
    req: &HttpRequest,
    state: &AuthState,
    payload: web::Payload,
) -> Result<T, HttpResponse> {
    if !view::same_origin(req, &state.http) {
        return Err(message(
            state,
            StatusCode::FORBIDDEN,
            "Form refused",
            "This form was sent from another site. Open the link from the message again.",
        ));
    }
    if let Err(e) = limited {
        return Err(refused(state, &e));
    }
    if !req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return Err(message(
            state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Form refused",
            "The form must be sent form-encoded, as a browser sends it.",
        ));
    }
    let bytes = read_body(&state.http, payload.into_inner(), declared_length(req))
        .await
        .map_err(|e| refused(state, &e))?;
    serde_urlencoded::from_bytes::<T>(&bytes).map_err(|_| {
        message(
            state,
            StatusCode::BAD_REQUEST,
            "Form refused",
            "The form was incomplete. Open the link from the message again.",
        )
    })
}

/// The `token` of a link's query string, if it has one.
fn query_token(req: &HttpRequest) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(name, _)| name == "token"))
        .map(|(_, token)| token)
}

/// `GET /verify-email?token=…`: a page with one button that posts the token to
/// `POST /verify-email`. Reads nothing from the store and uses nothing up.
pub(super) async fn verify_email_page(
    _: MailOn,
    req: HttpRequest,
    state: web::Data<AuthState>,
) -> HttpResponse {
    match query_token(&req) {
        Some(token) if token_shape(&token) => {
            let (server_name, _) = base(&state);
            view::page(
                StatusCode::OK,
                "verify_email.html",
                context! { server_name, token },
            )
        }
        _ => broken_link(&state),
    }
}

/// The verify form as posted.
#[derive(Deserialize)]
struct VerifyForm {
    token: String,
}

/// `POST /verify-email` (form-encoded `token`): verifies the address as `POST /email/verify`
/// does (a verification link, or an email-change link making the new address the account's)
/// and shows the outcome.
pub(super) async fn verify_email_submit(
    _: MailOn,
    limited: Result<RateLimited, ApiError>,
    req: HttpRequest,
    state: web::Data<AuthState>,
    payload: web::Payload,
) -> HttpResponse {
    let form = match read_form::<VerifyForm>(limited, &req, &state, payload).await {
        Ok(form) => form,
        Err(page) => return page,
    };
    if !token_shape(&form.token) {
        return broken_link(&state);
    }
    let client = client_info(&req, &state.http);
    match state
        .service
        .verify_email(&Password::new(form.token), client)
        .await
    {
        Ok(user) => {
            let (server_name, _) = base(&state);
            let email = user.email.as_ref().map(ToString::to_string);
            view::page(
                StatusCode::OK,
                "verify_done.html",
                context! { server_name, email => Value::from(email) },
            )
        }
        Err(e) => refused(&state, &ApiError::from(e)),
    }
}

/// Any other refusal, in words: an unusable link, too many tries, a body too large or too slow,
/// or the service unavailable.
fn refused(state: &AuthState, e: &ApiError) -> HttpResponse {
    let (heading, text) = match e.code() {
        ErrorCode::InvalidResetToken => (
            "This link does not work any more",
            "It has expired, was already used, or a newer link was sent since. Ask for a new \
             one where you sign in."
                .to_owned(),
        ),
        ErrorCode::InvalidVerificationToken => (
            "This link does not work any more",
            "It has expired, was already used, or a newer link was sent since (or the \
             account's address changed). Ask for a new one from your profile."
                .to_owned(),
        ),
        ErrorCode::EmailTaken => (
            "This address is taken",
            "Another account took this address since the link was sent, so it cannot become \
             yours. Change your address to another one."
                .to_owned(),
        ),
        ErrorCode::TooManyRequests => (
            "Too many tries",
            format!(
                "Too many requests came from your address. Wait {} seconds, then open the link \
                 again.",
                e.retry_after().unwrap_or(60)
            ),
        ),
        ErrorCode::ServiceUnavailable | ErrorCode::InternalError => (
            "Something went wrong",
            "The service cannot do this right now. Open the link again in a few minutes."
                .to_owned(),
        ),
        _ => ("Form refused", e.detail().to_owned()),
    };
    let mut response = message(state, e.status_code(), heading, &text);
    if let Some(seconds) = e.retry_after()
        && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// `GET /assets/pages.css`: the pages' stylesheet.
pub(super) async fn stylesheet(_: MailOn) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(view::STYLESHEET)
}
