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

use crate::{
    AuthState, HttpSettings,
    error::{ApiError, ErrorCode},
    extract::{AdminUser, FormBody, client_info},
    rate_limit::OAuthRateLimited,
};

/// The form of `POST /introspect` and `POST /revoke`. Their `token_type_hint` is accepted and
/// ignored, whatever its value: the token's form tells an access token (a JWT) from a refresh
/// token, which RFC 7009 §2.1 and RFC 7662 §2.1 allow.
#[derive(Debug, Deserialize)]
pub(super) struct TokenParams {
    /// The token asked about, or to revoke.
    token: Option<String>,
}

impl TokenParams {
    fn token(self) -> Result<String, ApiError> {
        self.token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::oauth(ErrorCode::InvalidRequest, "token is required"))
    }
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
pub(super) async fn introspect(
    _: AdminUser,
    req: HttpRequest,
    state: web::Data<AuthState>,
    FormBody(form): FormBody<TokenParams>,
) -> Result<HttpResponse, ApiError> {
    let token = form.token()?;
    let client = client_info(&req, &state.http.trusted_proxies);
    let answer = match state.service.authenticate(&token, client).await {
        Ok(principal) => match principal.credential {
            Credential::Session { claims, .. } => json!(ActiveToken {
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
pub(super) async fn revoke(
    _: OAuthRateLimited,
    req: HttpRequest,
    state: web::Data<AuthState>,
    FormBody(form): FormBody<TokenParams>,
) -> Result<HttpResponse, ApiError> {
    let token = form.token()?;
    let client = client_info(&req, &state.http.trusted_proxies);
    state
        .service
        .revoke_token(&token, client)
        .await
        .map_err(ApiError::for_token_endpoint)?;
    Ok(no_store(HttpResponse::Ok().finish()))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
pub(super) async fn metadata(req: HttpRequest, state: web::Data<AuthState>) -> HttpResponse {
    let base = public_base(&req, &state.http);
    let verifier = state.service.verifier();
    let algorithms: Vec<String> = verifier
        .algorithms()
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
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
fn public_base(req: &HttpRequest, http: &HttpSettings) -> String {
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
