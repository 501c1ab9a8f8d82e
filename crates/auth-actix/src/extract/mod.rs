//! Extractors: bodies that fail as the contract says, the caller's identity, the client's address.
//!
//! - [`body`]: [`JsonBody`] and [`FormBody`].
//! - [`identity`]: [`CurrentUser`], [`AdminUser`] and [`AdminSession`], which read the store.
//! - [`bearer`]: [`bearer_token`] and [`VerifiedToken`], which need nothing but a verifier.
//! - here: the client's address and the state [`configure`](crate::configure) mounts.

mod bearer;
mod body;
mod identity;

use std::{future::Future, net::IpAddr, pin::Pin};

use actix_web::{
    HttpRequest,
    http::{StatusCode, header},
    web,
};
use auth_domain::ClientInfo;

use crate::{
    AuthState,
    error::{ApiError, ErrorCode},
};

pub use bearer::{VerifiedToken, bearer_token};
pub use body::{FormBody, JsonBody};
pub(crate) use identity::api_key;
pub use identity::{AdminSession, AdminUser, CurrentUser};

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The longest `User-Agent` kept on a session.
const MAX_USER_AGENT_CHARS: usize = 256;

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

/// The client's address: the socket peer, unless the peer is a trusted proxy, in which case the
/// right-most `X-Forwarded-For` entry that is not itself a trusted proxy. A client that is not a
/// trusted proxy cannot change its address by sending `X-Forwarded-For`.
pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    forwarded
        .iter()
        .rev()
        .filter_map(|entry| entry.parse::<IpAddr>().ok())
        .find(|ip| !trusted_proxies.contains(ip))
        .or(Some(peer))
}

/// What a new session records about its client.
pub(crate) fn client_info(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> ClientInfo {
    ClientInfo {
        ip: client_ip(req, trusted_proxies).map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(MAX_USER_AGENT_CHARS).collect()),
    }
}
