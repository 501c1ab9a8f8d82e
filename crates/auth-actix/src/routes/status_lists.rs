//! `GET /statuslists/{id}`: the Token Status Lists that say which access tokens are no longer
//! good, for services that verify tokens themselves (draft-ietf-oauth-status-list-20;
//! docs/revocation.md).

use std::{
    hash::{DefaultHasher, Hash, Hasher},
    time::Duration,
};

use actix_web::{
    HttpRequest, HttpResponse,
    http::header::{self, HeaderValue},
    web,
};
use auth_core::{
    StatusListWindow,
    status_list::{STATUS_LIST_JSON_MEDIA_TYPE, STATUS_LIST_JWT_MEDIA_TYPE},
};

use crate::{
    AuthState,
    error::{ApiError, ErrorBody},
};

/// `GET /statuslists/{id}`: a Status List Token, or with `Accept: application/statuslist+json`
/// the unsigned JSON form.
#[cfg_attr(feature = "openapi", utoipa::path(
    get,
    path = "/statuslists/{id}",
    tag = "oauth",
    operation_id = "status_list",
    summary = "A Token Status List (draft-ietf-oauth-status-list-20)",
    description = "The list that access tokens reference in their `status` claim (`{\"status_list\": {\"idx\", \"uri\"}}`): one bit per token, 1 when the token is no longer good (its session ended, its user was disabled or deleted, or its role or username changed). By default a Status List Token (`application/statuslist+jwt`: header `typ: statuslist+jwt` and the signing key's `kid`; claims `sub` = the list's URL, `iss`, `iat`, `exp`, `ttl`, `status_list: {bits, lst}`); with `Accept: application/statuslist+json`, the unsigned `{\"status_list\": {\"bits\", \"lst\"}}`. `Cache-Control: max-age` is the `ttl` (setting `status_list.ttl_secs`), `private` too without `server.public_url` (the URLs then depend on the request's `Host`); the `ETag` changes with the bits and the signing key (and, for the token, every half hour), and `If-None-Match` with it gets `304`.",
    params(
        ("id" = u32, Path, description = "The list id, as in the token's `status.status_list.uri`"),
        ("If-None-Match" = Option<String>, Header, description = "An `ETag` of an earlier answer: `304` while the list is the same"),
    ),
    responses(
        (status = 200, description = "The list", content(
            (String = "application/statuslist+jwt"),
            (Object = "application/statuslist+json"),
        ), headers(
            ("Cache-Control" = String, description = "`max-age=<ttl>`"),
            ("ETag" = String, description = "Changes with the bits and the signing key"),
        )),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`"),
        (status = 404, description = "`not_found`: no such list", body = ErrorBody),
    ),
))]
pub(super) async fn show(
    req: HttpRequest,
    state: web::Data<AuthState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id
        .parse::<u32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::not_found)?;
    let list = state
        .service
        .published_status_list(id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let json = wants_json(&req);
    let ttl = state.http.status_list_ttl_secs.max(1);
    let window = StatusListWindow::at(auth_domain::now(), ttl);
    // The token's epoch is in the tag, so that a verifier answered `304` for long still gets a
    // token far from its `exp` (docs/revocation.md).
    let mut hasher = DefaultHasher::new();
    (state.service.signing_kid(), list.digest).hash(&mut hasher);
    let etag = if json {
        format!("\"{:016x}-json\"", hasher.finish())
    } else {
        window.epoch.hash(&mut hasher);
        format!("\"{:016x}-jwt\"", hasher.finish())
    };
    let cache_control = if state.http.public_url.is_some() {
        format!("max-age={ttl}")
    } else {
        format!("private, max-age={ttl}")
    };
    let mut response = if matches(&req, &etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CACHE_CONTROL, cache_control))
        .insert_header((header::ETAG, etag.clone()))
        .insert_header((header::VARY, "Accept"));
    if matches(&req, &etag) {
        return Ok(response.finish());
    }
    if json {
        return Ok(response
            .insert_header((header::CONTENT_TYPE, STATUS_LIST_JSON_MEDIA_TYPE))
            .body(list.json.to_string()));
    }
    let uri = auth_core::status_list_uri(&super::public_base(&req, &state.http), id);
    let token = state
        .service
        .sign_status_list(&uri, &list, Duration::from_secs(ttl), window)?;
    Ok(response
        .insert_header((header::CONTENT_TYPE, STATUS_LIST_JWT_MEDIA_TYPE))
        .body(token.to_string()))
}

/// Whether the client asks for the unsigned JSON form (and not for the token).
fn wants_json(req: &HttpRequest) -> bool {
    let accept = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    accept.contains(STATUS_LIST_JSON_MEDIA_TYPE) && !accept.contains(STATUS_LIST_JWT_MEDIA_TYPE)
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v: &HeaderValue| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}
