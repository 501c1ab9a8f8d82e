//! Extractors: bodies that fail as the contract says, the caller's identity, the client's address.
//!
//! - [`body`]: [`JsonBody`] and [`FormBody`].
//! - [`identity`]: [`CurrentUser`], [`AdminUser`] and [`AdminSession`], which read the store.
//! - [`bearer`]: [`bearer_token`] and [`VerifiedToken`], which need nothing but a verifier.
//! - [`client`]: [`client_ip`], the client's address behind trusted proxies.
//! - here: the state [`configure`](crate::configure) mounts.

mod bearer;
mod body;
mod client;
mod identity;

use std::{future::Future, pin::Pin};

use actix_web::{HttpRequest, http::StatusCode, web};

use crate::{
    AuthState,
    error::{ApiError, ErrorCode},
};

pub use bearer::{VerifiedToken, bearer_token};
pub use body::{FormBody, JsonBody};
pub(crate) use client::client_info;
pub use client::client_ip;
pub(crate) use identity::api_key;
pub use identity::{AdminSession, AdminUser, CurrentUser};

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// 500 `internal_error` for an app that is wired wrongly; the log says what is missing.
fn misconfigured(what: &str) -> ApiError {
    tracing::error!("{what}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalError,
        "Internal server error",
    )
}

pub(crate) fn state(req: &HttpRequest) -> Result<web::Data<AuthState>, ApiError> {
    req.app_data::<web::Data<AuthState>>()
        .cloned()
        .ok_or_else(|| misconfigured("auth_actix::configure was not applied to this app"))
}
