//! Extractors: bodies that fail as the contract says, the caller's identity, the client's address.

use std::{future::Future, net::IpAddr, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    body::{BodyStream, to_bytes_limited},
    dev::Payload,
    http::{StatusCode, header},
    web,
};
use auth_core::{MAX_TOKEN_BYTES, Principal};
use auth_domain::{ClientInfo, Role};
use serde::de::DeserializeOwned;

use crate::{AuthState, error::ApiError};

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

/// The longest `User-Agent` kept on a session.
const MAX_USER_AGENT_CHARS: usize = 256;

pub(crate) fn state(req: &HttpRequest) -> Result<web::Data<AuthState>, ApiError> {
    req.app_data::<web::Data<AuthState>>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("auth_actix::configure was not applied to this app");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Internal server error",
            )
        })
}

/// Reads the whole body, refusing more than the configured limit with 413.
async fn read_body(
    max_bytes: usize,
    payload: Payload,
    declared: Option<usize>,
) -> Result<web::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("Request body must be at most {max_bytes} bytes"),
        )
    };
    if declared.is_some_and(|len| len > max_bytes) {
        return Err(too_large());
    }
    match to_bytes_limited(BodyStream::new(payload), max_bytes).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "The request body could not be read",
        )),
        Err(_) => Err(too_large()),
    }
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// A JSON body. Unlike `web::Json`, every failure is the contract's JSON error: 400 for a wrong
/// content type or malformed JSON, 422 naming the field for a missing or mistyped field, 413
/// beyond `server.max_body_bytes`. Unknown fields are ignored.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req.content_type().to_ascii_lowercase();
        let is_json = content_type == "application/json"
            || (content_type.starts_with("application/") && content_type.ends_with("+json"));
        let state = state(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            let state = state?;
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_content_type",
                    "Content-Type must be application/json",
                ));
            }
            let bytes = read_body(state.http.max_body_bytes, payload, declared).await?;
            // Syntax first (400), then shape (422, naming the field), so that each failure is
            // reported as what it is.
            let document: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("The body is not valid JSON: {e}"),
                )
            })?;
            let value = serde_path_to_error::deserialize(document).map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_error",
                    format!("{field}: {}", e.into_inner()),
                )
            })?;
            Ok(JsonBody(value))
        })
    }
}

/// An `application/x-www-form-urlencoded` body, for the OAuth2 token endpoint. Failures are
/// RFC 6749 `invalid_request` errors.
#[derive(Debug)]
pub struct FormBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for FormBody<T> {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_form = req
            .content_type()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded");
        let state = state(req);
        let declared = declared_length(req);
        let payload = payload.take();
        Box::pin(async move {
            let state = state?;
            if !is_form {
                return Err(ApiError::oauth(
                    "invalid_request",
                    "Content-Type must be application/x-www-form-urlencoded",
                ));
            }
            let bytes = read_body(state.http.max_body_bytes, payload, declared)
                .await
                .map_err(|e| match e.code() {
                    "payload_too_large" => e,
                    _ => ApiError::oauth("invalid_request", e.detail().to_owned()),
                })?;
            serde_urlencoded::from_bytes(&bytes)
                .map(FormBody)
                .map_err(|e| {
                    ApiError::oauth("invalid_request", format!("Malformed form body: {e}"))
                })
        })
    }
}

/// The bearer token of a request: `Ok(None)` when no `Authorization: Bearer` header was sent.
fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    if value.len() > MAX_TOKEN_BYTES + 16 {
        return Err(ApiError::invalid_token(
            "The Authorization header is too long",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_token("The Authorization header is malformed"))?;
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = token.trim();
            if token.is_empty() {
                Err(ApiError::invalid_token("The token is malformed"))
            } else {
                Ok(Some(token.to_owned()))
            }
        }
        // Another scheme (e.g. Basic), or a bare "Bearer": as if no bearer token was sent.
        _ => Ok(None),
    }
}

/// The API key of a request: `Ok(None)` when the configured header is absent.
pub(crate) fn api_key(req: &HttpRequest, header_name: &str) -> Result<Option<String>, ApiError> {
    let invalid = || ApiError::from(auth_core::AuthError::InvalidApiKey);
    match req.headers().get(header_name) {
        None => Ok(None),
        Some(value) if value.len() > 256 => Err(invalid()),
        Some(value) => value
            .to_str()
            .map(|key| Some(key.trim().to_owned()))
            .map_err(|_| invalid()),
    }
}

/// The authenticated caller of a route: a verified bearer token whose session is live, or (when
/// no bearer token is sent) a live API key; either way the user exists and is active, with the
/// current role. The `Depends(get_current_user)` of the FastAPI apps; usable on an embedder's
/// own routes. Use [`Principal::session`] where only a bearer session will do.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Principal);

impl FromRequest for CurrentUser {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let token = bearer_token(req);
        let key = state
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|state| api_key(req, &state.http.api_key_header));
        let client = state
            .as_ref()
            .map(|state| client_info(req, &state.http.trusted_proxies))
            .unwrap_or_default();
        Box::pin(async move {
            let state = state?;
            if let Some(token) = token? {
                return Ok(CurrentUser(
                    state.service.authenticate(&token, client).await?,
                ));
            }
            match key? {
                Some(key) => Ok(CurrentUser(
                    state.service.authenticate_api_key(&key, client).await?,
                )),
                None => Err(ApiError::not_authenticated()),
            }
        })
    }
}

/// A [`CurrentUser`] whose current role (read from the store) is admin; 403 otherwise.
#[derive(Debug, Clone)]
pub struct AdminUser(pub Principal);

impl FromRequest for AdminUser {
    type Error = ApiError;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let current = CurrentUser::from_request(req, payload);
        Box::pin(async move {
            let CurrentUser(principal) = current.await?;
            if principal.user.role == Role::Admin {
                Ok(AdminUser(principal))
            } else {
                Err(ApiError::forbidden())
            }
        })
    }
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
