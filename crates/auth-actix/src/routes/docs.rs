//! The API describes itself: `GET /openapi.json` (the OpenAPI 3.1 document of [`crate::openapi`])
//! and Swagger UI at `GET /docs/`, whose files are compiled into the binary (no CDN, works
//! offline). `GET /docs` redirects to `/docs/`, where the page's relative links resolve.

use std::sync::Arc;

use actix_web::{
    Error, HttpResponse,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{Method, header},
    middleware::Next,
    web,
};
use utoipa_swagger_ui::Config;

use crate::{AuthState, error::ApiError};

/// The routes served but not described: Swagger UI's page and files (as FastAPI leaves its own
/// `/docs` out of its document), and the HTML pages that links in messages open with their
/// stylesheet (for people, not part of the JSON API).
pub const UNDESCRIBED: &[&str] = &[
    "/docs",
    "/docs/{file:.*}",
    "/reset-password",
    "/verify-email",
    "/assets/pages.css",
];

/// Where Swagger UI finds the document.
const OPENAPI_URL: &str = "/openapi.json";

/// The serialized document.
pub(crate) struct OpenApiJson(web::Bytes);

/// Swagger UI's settings, shared by the requests for its files, and its page (`index.html`
/// with the server's name in its title).
pub(crate) struct SwaggerConfig {
    config: Arc<Config<'static>>,
    index: web::Bytes,
}

/// What the docs routes need in `app_data`: the document of a state, and Swagger UI's settings.
/// Made once per [`AuthState`] (it keeps them), not each time an app is configured: actix
/// configures one app per worker, and the tests one per request.
#[derive(Clone)]
pub(crate) struct Docs {
    pub(crate) document: web::Data<OpenApiJson>,
    pub(crate) swagger_ui: web::Data<SwaggerConfig>,
}

impl std::fmt::Debug for Docs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Docs")
            .field("document_bytes", &self.document.0.len())
            .finish_non_exhaustive()
    }
}

impl Docs {
    /// Generates and serializes the document of `state`.
    pub(crate) fn of(state: &AuthState) -> Self {
        let openapi = crate::openapi(state);
        let document = serde_json::to_vec(&openapi).expect("an OpenAPI document always serializes");
        let config = Config::new([OPENAPI_URL])
            // Swagger UI would send the document to validator.swagger.io: nothing leaves the page.
            .validator_url("none")
            // Off, and said so: persisted, the Authorize dialog's state (the password typed in
            // it, the tokens it got) would stay in the browser's localStorage in plain text.
            .persist_authorization(false)
            .display_operation_id(true)
            .try_it_out_enabled(true);
        let index = index_page(&openapi.info.title);
        Self {
            document: web::Data::new(OpenApiJson(web::Bytes::from(document))),
            swagger_ui: web::Data::new(SwaggerConfig {
                config: Arc::new(config),
                index,
            }),
        }
    }
}

/// `GET /openapi.json`: the OpenAPI 3.1 document of this server.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    operation_id = "openapi",
    summary = "This document",
    description = "The OpenAPI 3.1 document of this server, generated from its code. Swagger UI shows it at `/docs/`.",
    responses((status = 200, description = "The document", content_type = "application/json", body = Object)),
)]
pub(super) async fn openapi_json(document: web::Data<OpenApiJson>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(header::ContentType::json())
        .body(document.0.clone())
}

/// `GET /docs/` (trailing slashes are trimmed before routing, so this is also `/docs//`; the
/// bare `/docs` was redirected by [`redirect_bare_docs`]): Swagger UI's page.
pub(super) async fn swagger_ui_index(config: web::Data<SwaggerConfig>) -> HttpResponse {
    swagger_ui("index.html", &config)
}

/// Swagger UI's `index.html` titled "`{title} - Swagger UI`", as FastAPI titles its page
/// (a test checks the title, so a Swagger UI release that changes its page is noticed); empty,
/// and the page is served as shipped, if it cannot be read as text.
fn index_page(title: &str) -> web::Bytes {
    let config = Arc::new(Config::new([OPENAPI_URL]));
    let page = match utoipa_swagger_ui::serve("index.html", config) {
        Ok(Some(file)) if !file.gzpipped => file.bytes.into_owned(),
        _ => return web::Bytes::new(),
    };
    let page = String::from_utf8_lossy(&page).into_owned();
    let escaped = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    web::Bytes::from(page.replacen(
        "<title>Swagger UI</title>",
        &format!("<title>{escaped} - Swagger UI</title>"),
        1,
    ))
}

/// `GET /docs/{file}`: one of Swagger UI's files; 404 `not_found` for any other name.
pub(super) async fn swagger_ui_file(
    file: web::Path<String>,
    config: web::Data<SwaggerConfig>,
) -> HttpResponse {
    swagger_ui(&file, &config)
}

fn swagger_ui(file: &str, config: &SwaggerConfig) -> HttpResponse {
    if matches!(file, "" | "index.html") && !config.index.is_empty() {
        return HttpResponse::Ok()
            .content_type("text/html")
            .body(config.index.clone());
    }
    match utoipa_swagger_ui::serve(file, config.config.clone()) {
        Ok(Some(file)) => {
            let mut response = HttpResponse::Ok();
            if file.gzpipped {
                response.insert_header(header::ContentEncoding::Gzip);
            }
            response
                .content_type(file.content_type)
                .body(file.bytes.into_owned())
        }
        Ok(None) => actix_web::ResponseError::error_response(&ApiError::not_found()),
        Err(error) => {
            tracing::error!(%error, file, "cannot serve a Swagger UI file");
            actix_web::ResponseError::error_response(&ApiError::not_found())
        }
    }
}

/// Put outside path normalization, which trims the slash that tells `/docs` from `/docs/`: a
/// `GET` (or `HEAD`) of `/docs` is redirected to `/docs/` (308, query kept), where Swagger UI's
/// relative links resolve.
pub(crate) async fn redirect_bare_docs(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.path() == "/docs" && matches!(*req.method(), Method::GET | Method::HEAD) {
        let location = match req.query_string() {
            "" => "/docs/".to_owned(),
            query => format!("/docs/?{query}"),
        };
        let response = HttpResponse::PermanentRedirect()
            .insert_header((header::LOCATION, location))
            .finish();
        return Ok(req.into_response(response).map_into_right_body());
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
