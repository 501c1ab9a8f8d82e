//! The caller as a user: read and change the profile, and the demo's protected route.

use actix_web::{HttpResponse, web};
use auth_core::ProfileUpdate;
use auth_domain::Password;

use crate::{
    AuthState,
    dto::{ProfileBody, UserResponse},
    error::ApiError,
    extract::{CurrentUser, JsonBody},
};

/// `GET /profile` and `GET /users/me`: the caller.
pub(super) async fn show(CurrentUser(me): CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(UserResponse::from(&me.user))
}

/// `PUT`/`PATCH /profile`: changes the username, email or password (the latter needs the
/// current one).
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
pub(super) async fn protected(CurrentUser(me): CurrentUser) -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({
        "message": "This is a protected route",
        "username": me.user.username.as_str(),
    }))
}
