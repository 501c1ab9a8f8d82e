//! The caller as a user: read and change the profile, and the demo's protected route.

use actix_web::{HttpResponse, web};
use auth_core::ProfileUpdate;
use auth_domain::Password;

use crate::{
    AuthState,
    dto::{ProfileBody, ProtectedGreeting, UserResponse},
    error::{ApiError, ErrorBody},
    extract::{CurrentUser, JsonBody},
};

/// `GET /profile`: the caller.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/profile",
    tag = "profile",
    operation_id = "get_profile",
    summary = "The caller",
    responses((status = 200, description = "The caller", body = UserResponse)),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = []), ("APIKeyHeader" = [])),
))]
pub(super) async fn show(CurrentUser(me): CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(UserResponse::from(&me.user))
}

/// `GET /users/me`: the caller, as FastAPI's tutorial calls it.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/users/me",
    tag = "profile",
    operation_id = "get_users_me",
    summary = "The caller (the same as `GET /profile`)",
    responses((status = 200, description = "The caller", body = UserResponse)),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = []), ("APIKeyHeader" = [])),
))]
pub(super) async fn me(caller: CurrentUser) -> HttpResponse {
    show(caller).await
}

/// `PUT /profile`: as `PATCH` (only the fields sent change).
#[cfg_attr(feature = "openapi", utoipa::path(
    put,
    path = "/profile",
    tag = "profile",
    operation_id = "put_profile",
    summary = "Change the profile (the same as `PATCH /profile`)",
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The changed user", body = UserResponse),
        (status = 403, description = "`invalid_current_password` or `session_required`", body = ErrorBody),
        (status = 409, description = "`username_taken` or `email_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_username`, `invalid_email`, `invalid_password`, `weak_password`, `current_password_required` or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: locked out of the account after wrong current passwords", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn replace(
    state: web::Data<AuthState>,
    caller: CurrentUser,
    body: JsonBody<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    update(state, caller, body).await
}

/// `PATCH /profile`: changes the username, email or password (the latter needs the current
/// one).
#[cfg_attr(feature = "openapi", utoipa::path(
    patch,
    path = "/profile",
    tag = "profile",
    operation_id = "patch_profile",
    summary = "Change the profile",
    description = "Only the fields sent change; `\"email\": null` removes the email. A new `password` needs `current_password`, checked like a login (a wrong one counts toward the lockout), and ends every other session of the user and revokes all their API keys.",
    request_body = ProfileBody,
    responses(
        (status = 200, description = "The changed user", body = UserResponse),
        (status = 403, description = "`invalid_current_password` or `session_required`", body = ErrorBody),
        (status = 409, description = "`username_taken` or `email_taken`", body = ErrorBody),
        (status = 422, description = "`invalid_username`, `invalid_email`, `invalid_password`, `weak_password`, `current_password_required` or `validation_error`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: locked out of the account after wrong current passwords", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = [])),
))]
pub(super) async fn update(
    state: web::Data<AuthState>,
    CurrentUser(me): CurrentUser,
    JsonBody(body): JsonBody<ProfileBody>,
) -> Result<HttpResponse, ApiError> {
    let update = ProfileUpdate {
        username: body.username,
        email: body.email,
        password: body.password.map(Password::new),
        current_password: body.current_password.map(Password::new),
    };
    let user = state.service.update_profile(&me, update).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&user)))
}

/// `GET /protected`: any authenticated caller.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/protected",
    tag = "profile",
    operation_id = "protected",
    summary = "The tutorial's protected route",
    responses((status = 200, description = "A greeting", body = ProtectedGreeting)),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = []), ("APIKeyHeader" = [])),
))]
pub(super) async fn protected(CurrentUser(me): CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(ProtectedGreeting {
        message: "This is a protected route",
        username: me.user.username.as_str(),
    })
}
