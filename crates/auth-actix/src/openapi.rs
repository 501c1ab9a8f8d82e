//! The OpenAPI 3.1 document of the contract, generated from the code: the `#[utoipa::path]`
//! annotation of each handler (listed in `routes::Operations`) and the `ToSchema` derives of
//! [`crate::dto`] give the operations and schemas; this module adds what the whole API shares:
//!
//! - the security schemes: `OAuth2PasswordBearer` (the password flow, `tokenUrl` `/token`, so
//!   Swagger UI's Authorize button logs in as FastAPI's `OAuth2PasswordBearer(tokenUrl="token")`
//!   did), `HTTPBearer` (a JWT) and `APIKeyHeader` (the header `security.api_key_header`
//!   names);
//! - the errors every route of a kind can give, with the `Error` body: 401 on authenticated
//!   routes (with `WWW-Authenticate`), 400/408/413/422 on JSON bodies, 422 on query strings, 404 on
//!   path ids, 503 wherever the store is read;
//! - with mail off, nothing of the routes that need it (they answer 404);
//! - the settings a client can see: the header name, the shortest password, the bounds a
//!   requested access-token lifetime is clamped to.

use utoipa::{
    OpenApi as _,
    openapi::{
        Components, Content, Header, Info, OpenApi, Ref, RefOr, ResponseBuilder, Schema,
        path::{Operation, ParameterIn},
        request_body::RequestBody,
        schema::{Object, Type},
        security::{
            ApiKey, ApiKeyValue, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes,
            SecurityScheme,
        },
        tag::Tag,
    },
};

use crate::{AuthState, error::ErrorBody, routes::Operations};

/// The security scheme of an access token obtained at `POST /token` (Swagger UI's Authorize).
pub const OAUTH2_PASSWORD: &str = "OAuth2PasswordBearer";
/// The security scheme of an access token sent as `Authorization: Bearer`.
pub const HTTP_BEARER: &str = "HTTPBearer";
/// The security scheme of an API key, in the header `security.api_key_header` names.
pub const API_KEY_HEADER: &str = "APIKeyHeader";

/// The OpenAPI 3.1 document of the routes [`configure`](crate::configure) mounts, for the server
/// `state` describes (its API-key header and shortest password). `GET /openapi.json` serves it;
/// an embedder may merge its own operations into it.
pub fn openapi(state: &AuthState) -> OpenApi {
    let mut doc = Operations::openapi();
    if !state.service.mail_enabled() {
        // Mail off: those routes answer 404, as routes that do not exist.
        for path in crate::routes::recovery::MAIL_ROUTES {
            doc.paths.paths.shift_remove(*path);
        }
    }
    doc.info = info();
    doc.tags = Some(tags());
    let components = doc.components.get_or_insert_with(Components::new);
    components.add_security_scheme(OAUTH2_PASSWORD, oauth2_password());
    components.add_security_scheme(
        HTTP_BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token (a JWT) from `POST /login`, `POST /token`, `POST /refresh` \
                     or `POST /login/api-key`.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        API_KEY_HEADER,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            state.http.api_key_header.as_str(),
            "An API key from `POST /api-keys`; acts as its owner on the routes that list this \
             scheme. When a request also has a bearer token, the token is used.",
        ))),
    );
    // The shared errors below refer to `Error`, which every route's own errors bring along.
    components
        .schemas
        .entry("Error".to_owned())
        .or_insert_with(<ErrorBody as utoipa::PartialSchema>::schema);
    let config = state.service.config();
    for (schema, field) in [
        ("RegisterRequest", "password"),
        ("ProfileUpdate", "password"),
        ("ResetPasswordRequest", "new_password"),
    ] {
        if let Some(password) = property(components, schema, field) {
            password.min_length = Some(config.password_min_length);
        }
    }
    // The server clamps a requested lifetime rather than refusing it: no minimum or maximum
    // (a generated client would refuse what the server takes), the bounds in words.
    if let Some(expires_in) = property(components, "LoginRequest", "expires_in") {
        let (min, max) = (
            config.min_access_ttl.num_seconds(),
            config.max_access_ttl.num_seconds(),
        );
        expires_in.description = Some(format!(
            "The access token's lifetime, in seconds. Any 64-bit integer is accepted and clamped \
             to {min}..{max} (`jwt.min_access_ttl_secs`..`jwt.max_access_ttl_secs`); the \
             response's `expires_in` is the lifetime granted."
        ));
    }
    for item in doc.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            add_shared_errors(operation);
        }
    }
    doc
}

fn info() -> Info {
    let mut info = Info::new("auth-server", env!("CARGO_PKG_VERSION"));
    info.description = Some(
        "Registration, login (JSON, or the OAuth2 password form at `/token`), refresh-token \
         rotation, sessions, API keys and an admin API. Every error is JSON: \
         `{\"error\": \"<code>\", \"detail\": \"<text>\"}`, plus `error_description` at \
         `/token`. Authorize with the OAuth2 password flow (username and password), or paste \
         an access token or an API key."
            .to_owned(),
    );
    info
}

fn tags() -> Vec<Tag> {
    [
        ("credentials", "Getting credentials and giving them up"),
        ("tokens", "Access and refresh tokens"),
        ("profile", "The caller"),
        ("sessions", "The caller's sessions"),
        ("api-keys", "The caller's API keys"),
        ("mfa", "The caller's second factor (TOTP)"),
        (
            "admin",
            "Administration (admins only; an API key cannot administer)",
        ),
        (
            "oauth",
            "OAuth 2.0 for other services: introspection, revocation, metadata",
        ),
        ("meta", "The service itself"),
    ]
    .into_iter()
    .map(|(name, description)| {
        let mut tag = Tag::new(name);
        tag.description = Some(description.to_owned());
        tag
    })
    .collect()
}

fn oauth2_password() -> SecurityScheme {
    SecurityScheme::OAuth2(OAuth2::with_description(
        [Flow::Password(Password::new("/token", Scopes::new()))],
        "Username and password, form-encoded to `POST /token` (RFC 6749 §4.3); the access \
         token is then sent as `Authorization: Bearer`.",
    ))
}

/// The `property` of the object schema `schema` in `components`, if both are there.
fn property<'a>(
    components: &'a mut Components,
    schema: &str,
    name: &str,
) -> Option<&'a mut Object> {
    let RefOr::T(Schema::Object(object)) = components.schemas.get_mut(schema)? else {
        return None;
    };
    match object.properties.get_mut(name)? {
        RefOr::T(Schema::Object(property)) => Some(property),
        _ => None,
    }
}

/// A response with the `Error` body.
fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(RefOr::Ref(Ref::from_schema_name("Error")))),
    )
}

/// Adds the errors `operation` shares with every route of its kind, unless it describes them
/// itself.
fn add_shared_errors(operation: &mut Operation) {
    let authenticated = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let json_body = match &operation.request_body {
        Some(RefOr::T(RequestBody { content, .. })) => content.contains_key("application/json"),
        _ => false,
    };
    let parameters = operation.parameters.iter().flatten();
    let (mut query, mut path) = (false, false);
    for parameter in parameters {
        if let RefOr::T(parameter) = parameter {
            query |= parameter.parameter_in == ParameterIn::Query;
            path |= parameter.parameter_in == ParameterIn::Path;
        }
    }
    let meta = operation
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|tag| tag == "meta"));
    let responses = &mut operation.responses.responses;
    let mut add = |status: &str, response: ResponseBuilder| {
        responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(response.build()));
    };
    if authenticated {
        let mut header = Header::new(RefOr::T(Schema::Object(Object::with_type(Type::String))));
        header.description = Some(
            "`Bearer`, or `Bearer error=\"invalid_token\", error_description=\"…\"` (RFC 6750)"
                .to_owned(),
        );
        add(
            "401",
            error_response(
                "`not_authenticated` (no credentials), `invalid_token` (bad, expired or revoked \
                 token; ended session; disabled or deleted user) or `invalid_api_key`",
            )
            .header("WWW-Authenticate", header),
        );
    }
    if json_body {
        add(
            "400",
            error_response("`invalid_content_type` (not JSON), `malformed_json` or `invalid_body`"),
        );
        add(
            "408",
            error_response(
                "`request_timeout`: the body did not arrive within `server.body_timeout_secs`; \
                 the connection is closed",
            ),
        );
        add(
            "413",
            error_response("`payload_too_large`: over `server.max_body_bytes`"),
        );
    }
    if json_body || query {
        add(
            "422",
            error_response(
                "`validation_error`: a missing field, or a field or query parameter of the wrong \
                 type or out of range; `detail` names it",
            ),
        );
    }
    if path {
        add(
            "404",
            error_response("`not_found`: no such resource, or an id that is not a UUID"),
        );
    }
    if !meta {
        add(
            "503",
            error_response(
                "`service_unavailable`: the database cannot be reached, or the server is too \
                 busy hashing passwords (with `Retry-After`)",
            ),
        );
    }
}
