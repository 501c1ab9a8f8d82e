//! Extractors: bodies that fail as the contract says, the caller's identity, the client's address.
//!
//! - `body` (feature `server`): `JsonBody` and `FormBody`.
//! - `identity` (feature `service`): `CurrentUser`, `AdminUser` and `AdminSession`, which read
//!   the store.
//! - [`bearer`]: [`bearer_token`] and [`VerifiedToken`], which need nothing but a verifier.
//! - [`client`]: [`client_ip`], the client's address behind trusted proxies.
//! - here (feature `service`): the state `configure` mounts.

mod bearer;
#[cfg(feature = "server")]
mod body;
mod client;
#[cfg(feature = "service")]
mod identity;

use std::{future::Future, pin::Pin};

use actix_web::http::StatusCode;
#[cfg(feature = "service")]
use actix_web::{HttpRequest, web};

#[cfg(feature = "service")]
use crate::AuthState;
use crate::error::{ApiError, ErrorCode};

pub use bearer::{VerifiedToken, bearer_token};
#[cfg(feature = "server")]
pub use body::{FormBody, JsonBody};
#[cfg(feature = "server")]
pub(crate) use body::{declared_length, read_body};
#[cfg(feature = "service")]
pub(crate) use client::client_info;
pub use client::client_ip;
#[cfg(feature = "server")]
pub(crate) use identity::api_key;
#[cfg(feature = "service")]
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

#[cfg(feature = "service")]
pub(crate) fn state(req: &HttpRequest) -> Result<web::Data<AuthState>, ApiError> {
    req.app_data::<web::Data<AuthState>>()
        .cloned()
        .ok_or_else(|| misconfigured("auth_actix::configure was not applied to this app"))
}
