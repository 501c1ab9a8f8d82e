//! The OAuth 2.0 routes for other services: token introspection (RFC 7662), token revocation
//! (RFC 7009) and the authorization server's metadata (RFC 8414). Their request and response
//! shapes are here too: they belong to these RFCs rather than to the rest of the contract.

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderMap},
    web,
};
use auth_core::Credential;
use serde::{Deserialize, Serialize};
use serde_json::json;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

#[cfg(feature = "openapi")]
use crate::dto::RoleName;
use crate::{
    AuthState, HttpSettings,
    error::{ApiError, ErrorBody, ErrorCode},
    extract::{AdminUser, FormBody, client_info},
    rate_limit::OAuthRateLimited,
};

/// The form of `POST /introspect` and `POST /revoke`. Their `token_type_hint` is accepted and
/// ignored, whatever its value: the token's form tells an access token (a JWT) from a refresh
/// token, which RFC 7009 §2.1 and RFC 7662 §2.1 allow.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = OAuthTokenRequest, example = json!({"token": "q2Vb0tqJ8m6rXH3sT1yN4eWcZpK7uA9dLfG5iR0oE2w"})))]
pub(super) struct TokenParams {
    /// The token asked about, or to revoke: an access token or a refresh token. A
    /// `token_type_hint` may be sent too; it is ignored.
    #[cfg_attr(feature = "openapi", schema(
        required = true,
        value_type = String,
        min_length = 1,
        example = "q2Vb0tqJ8m6rXH3sT1yN4eWcZpK7uA9dLfG5iR0oE2w"
    ))]
    token: Option<String>,
}

impl TokenParams {
    fn token(self) -> Result<String, ApiError> {
        self.token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::oauth(ErrorCode::InvalidRequest, "token is required"))
    }
}

/// RFC 7662 §2.2: what `POST /introspect` answers; every field but `active` only when it is
/// true (`amr` and `api_key_id` only when the token has them). Described only: the route
/// writes [`ActiveToken`] or `{"active": false}`.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[cfg_attr(feature = "openapi", schema(as = Introspection, example = json!({
    "active": true,
    "sub": "0b9f4a52-3c1e-4c8e-9a51-6f0d2b7c1e44",
    "username": "alice",
    "role": "user",
    "sid": "5d2c8e8a-0f57-4a43-9b8e-2f1a6c3d7b90",
    "exp": 1795860900,
    "iat": 1795860000,
    "iss": "auth-server",
    "aud": "auth-server",
    "token_type": "bearer",
    "amr": ["pwd", "otp"]
})))]
#[allow(dead_code)] // described only
struct Introspection {
    /// Whether the token is an access token valid now.
    active: bool,
    /// The user id.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    sub: Option<String>,
    /// The username now.
    username: Option<String>,
    /// The role now.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RoleName>))]
    role: Option<String>,
    /// The session id.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    sid: Option<String>,
    /// Expiry, seconds since the epoch.
    exp: Option<i64>,
    /// Issue time, seconds since the epoch.
    iat: Option<i64>,
    /// `jwt.issuer`.
    iss: Option<String>,
    /// `jwt.audience`.
    aud: Option<String>,
    /// `bearer`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^bearer$"))]
    token_type: Option<String>,
    /// How the user authenticated (RFC 8176), as in the token: `["pwd", "otp"]` after a second
    /// factor. Absent when the token has none: read that as "no second factor".
    amr: Option<Vec<String>>,
    /// Only for a token obtained by exchanging an API key (`POST /login/api-key`): that key's
    /// id. Such a token has the key's limits; absent for a token of a login.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    api_key_id: Option<String>,
}

/// RFC 8414: the authorization server's metadata. Described only: the route writes it as JSON.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[cfg_attr(feature = "openapi", schema(as = AuthorizationServerMetadata, example = json!({
    "issuer": "auth-server",
    "token_endpoint": "https://auth.example.com/token",
    "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
    "grant_types_supported": ["password", "refresh_token"],
    "response_types_supported": [],
    "token_endpoint_auth_methods_supported": ["none"],
    "introspection_endpoint": "https://auth.example.com/introspect",
    "introspection_endpoint_auth_methods_supported": ["bearer", "api_key"],
    "revocation_endpoint": "https://auth.example.com/revoke",
    "revocation_endpoint_auth_methods_supported": ["none"],
    "access_token_signing_alg_values_supported": ["ES256"]
})))]
#[allow(dead_code)] // described only
struct AuthorizationServerMetadata {
    /// `jwt.issuer`.
    issuer: String,
    token_endpoint: String,
    jwks_uri: String,
    grant_types_supported: Vec<String>,
    /// Empty: there is no authorization endpoint.
    response_types_supported: Vec<String>,
    token_endpoint_auth_methods_supported: Vec<String>,
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: Vec<String>,
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms of the keys that verify tokens.
    access_token_signing_alg_values_supported: Vec<String>,
}

/// RFC 7662 §2.2: what `POST /introspect` says about a token that is currently valid.
#[derive(Debug, Serialize)]
struct ActiveToken {
    active: bool,
    /// The user id.
    sub: String,
    /// The username now.
    username: String,
    /// The role now.
    role: &'static str,
    /// The session id.
    sid: String,
    exp: i64,
    iat: i64,
    iss: String,
    aud: String,
    /// Always `bearer`, as in token responses.
    token_type: &'static str,
    /// The token's `amr`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<Vec<String>>,
    /// The API key the token was exchanged for, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_id: Option<String>,
}

fn no_store(mut response: HttpResponse) -> HttpResponse {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    headers.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    response
}

/// `POST /introspect` (RFC 7662), for services that cannot verify tokens themselves or must
/// see a logout at once. The caller is an admin (bearer token or API key): 401 without
/// credentials, 403 for anyone else. The answer is `{"active": false}` for anything that is not
/// an access token valid now (garbage, expired, a session that ended, a disabled user, a
/// refresh token), checked exactly as every route checks its caller.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/introspect",
    tag = "oauth",
    operation_id = "introspect",
    summary = "Token introspection (RFC 7662)",
    description = "For services that cannot verify tokens themselves or must see a logout at once. `{\"active\": false}` for anything that is not an access token valid now (garbage, expired, an ended session, a disabled user, a refresh token). The caller is an admin.",
    request_body(content = TokenParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "What the token is; never cached", body = Introspection),
        (status = 400, description = "`invalid_request` (no `token`, or not a form), with `error_description`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not an admin", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.body_timeout_secs` (the connection is closed), with `error_description`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`, with `error_description`", body = ErrorBody),
    ),
    security(("OAuth2PasswordBearer" = []), ("HTTPBearer" = []), ("APIKeyHeader" = [])),
))]
pub(super) async fn introspect(
    _: AdminUser,
    req: HttpRequest,
    state: web::Data<AuthState>,
    FormBody(form): FormBody<TokenParams>,
) -> Result<HttpResponse, ApiError> {
    let token = form.token()?;
    let client = client_info(&req, &state.http);
    let answer = match state.service.authenticate(&token, client).await {
        Ok(principal) => match principal.credential {
            Credential::Session { claims, session } => json!(ActiveToken {
                active: true,
                sub: claims.sub.to_string(),
                username: principal.user.username.as_str().to_owned(),
                role: principal.user.role.as_str(),
                sid: claims.sid.to_string(),
                exp: claims.exp,
                iat: claims.iat,
                iss: claims.iss,
                aud: claims.aud,
                token_type: "bearer",
                amr: claims.amr,
                api_key_id: session.api_key.map(|key| key.to_string()),
            }),
            Credential::ApiKey(_) => json!({"active": false}),
        },
        // The store failing is not an answer about the token.
        Err(error @ (auth_core::AuthError::Unavailable(_) | auth_core::AuthError::Internal(_))) => {
            return Err(error.into());
        }
        Err(_) => json!({"active": false}),
    };
    Ok(no_store(HttpResponse::Ok().json(answer)))
}

/// `POST /revoke` (RFC 7009): the holder of an access or refresh token ends its session. 200
/// for any token, valid or not (§2.2); rate limited per client address like `/token`.
#[cfg_attr(feature = "openapi", utoipa::path(
    post,
    path = "/revoke",
    tag = "oauth",
    operation_id = "revoke",
    summary = "Token revocation (RFC 7009)",
    description = "The holder of an access or refresh token ends its session. 200 for any token, valid or not.",
    request_body(content = TokenParams, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or not a token of ours; empty body, never cached"),
        (status = 400, description = "`invalid_request` (no `token`, or not a form), with `error_description`", body = ErrorBody),
        (status = 408, description = "`request_timeout`: the body did not arrive within `server.body_timeout_secs` (the connection is closed), with `error_description`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`, with `error_description`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`, with `error_description`", body = ErrorBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
))]
pub(super) async fn revoke(
    _: OAuthRateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    FormBody(form): FormBody<TokenParams>,
) -> Result<HttpResponse, ApiError> {
    let token = form.token()?;
    let client = client_info(&req, &state.http);
    state
        .service
        .revoke_token(&token, client)
        .await
        .map_err(ApiError::for_token_endpoint)?;
    Ok(no_store(HttpResponse::Ok().finish()))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    tag = "oauth",
    operation_id = "oauth_metadata",
    summary = "The authorization server's metadata (RFC 8414)",
    description = "The URLs start with `server.public_url`; without it, with the address the request came to, and then the answer is never cached (it depends on the request's headers).",
    responses(
        (status = 200, description = "The metadata", body = AuthorizationServerMetadata,
            headers(("Cache-Control" = String, description = "`public, max-age=300` with `server.public_url` set; `no-store` without it"))),
    ),
))]
pub(super) async fn metadata(req: HttpRequest, state: web::Data<AuthState>) -> HttpResponse {
    let base = public_base(&req, &state.http);
    // An answer built from the request's `Host` or forwarded headers must never be stored by a
    // shared cache, which would serve one client's host to every other client.
    let cache_control = if state.http.public_url.is_some() {
        "public, max-age=300"
    } else {
        "no-store"
    };
    let verifier = state.service.verifier();
    let algorithms: Vec<String> = verifier
        .algorithms()
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, cache_control))
        .json(json!({
            "issuer": verifier.issuer(),
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "grant_types_supported": ["password", "refresh_token"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["none"],
            "introspection_endpoint": format!("{base}/introspect"),
            "introspection_endpoint_auth_methods_supported": ["bearer", "api_key"],
            "revocation_endpoint": format!("{base}/revoke"),
            "revocation_endpoint_auth_methods_supported": ["none"],
            "access_token_signing_alg_values_supported": algorithms,
        }))
}

/// The absolute URL the server is reached at, without a trailing slash: `server.public_url`
/// when set; otherwise from the request, believing `Forwarded` and `X-Forwarded-Host`/`-Proto`
/// only from a trusted proxy (anyone else could make us advertise their host), and falling
/// back to the listening address when the `Host` header is not a plain host name.
pub(crate) fn public_base(req: &HttpRequest, http: &HttpSettings) -> String {
    if let Some(url) = &http.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let config = req.app_config();
    let from_proxy = req.peer_addr().is_some_and(|peer| {
        let peer = peer.ip().to_canonical();
        http.trusted_proxies
            .iter()
            .any(|proxy| proxy.to_canonical() == peer)
    });
    let direct_scheme = if config.secure() { "https" } else { "http" };
    let (scheme, host) = if from_proxy {
        let info = req.connection_info();
        let scheme = match info.scheme() {
            "https" => "https",
            "http" => "http",
            _ => direct_scheme,
        };
        (scheme, info.host().to_owned())
    } else {
        (
            direct_scheme,
            host_header(req.headers()).unwrap_or_default(),
        )
    };
    let host = if is_plain_host(&host) {
        host
    } else {
        config.host().to_owned()
    };
    format!("{scheme}://{host}")
}

fn host_header(headers: &HeaderMap) -> Option<String> {
    Some(headers.get(header::HOST)?.to_str().ok()?.to_owned())
}

/// A host name or address with an optional port, and nothing else.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::is_plain_host;

    #[test]
    fn only_plain_hosts_are_advertised() {
        for host in [
            "auth.example.com",
            "127.0.0.1:8000",
            "[::1]:8000",
            "localhost",
        ] {
            assert!(is_plain_host(host), "{host}");
        }
        for host in [
            "",
            "evil.example/path",
            "a b",
            "host\r\nX: y",
            "user@host",
            "h?x",
        ] {
            assert!(!is_plain_host(host), "{host:?}");
        }
    }
}
