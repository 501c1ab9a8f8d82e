//! Swagger UI at /docs/, served from the binary: its page and every file it loads come from us,
//! none from a CDN, so it works offline.

use actix_web::{
    body::MessageBody,
    http::{StatusCode, header},
    test::{self, TestRequest},
};

use serde_json::Value;

use crate::helpers::TestApp;

crate::on_every_store!(
    docs_redirects_to_docs_slash,
    swagger_ui_and_its_files_are_served_offline,
    unknown_docs_files_and_methods_are_json_errors,
    the_page_is_titled_after_the_server,
    authorization_is_never_persisted_in_the_browser,
);

/// A response whose body is not JSON: status, a header, and the body as text.
async fn fetch(app: &TestApp, request: TestRequest) -> (StatusCode, header::HeaderMap, String) {
    let service = test::init_service(auth_actix::app(app.state.clone())).await;
    let response = test::call_service(&service, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().try_into_bytes().unwrap_or_default();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn content_type(headers: &header::HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Every `src="…"` and `href="…"` of a page.
fn links(page: &str) -> Vec<String> {
    let mut links = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in page.match_indices(attribute) {
            let rest = &page[at + attribute.len()..];
            links.push(rest[..rest.find('"').unwrap()].to_owned());
        }
    }
    links
}

/// Whether `text` names a CDN URL.
fn names_a_cdn(text: &str) -> bool {
    ["unpkg", "jsdelivr", "cdnjs"].iter().any(|cdn| {
        text.match_indices(cdn).any(|(at, _)| {
            let before = &text[..at];
            let start = before.rfind(|c: char| c.is_whitespace() || "\"'(".contains(c));
            let url = &before[start.map_or(0, |s| s + 1)..];
            url.starts_with("http://") || url.starts_with("https://") || url.starts_with("//")
        })
    })
}

async fn docs_redirects_to_docs_slash(app: TestApp) {
    let (status, headers, _) = fetch(&app, TestRequest::get().uri("/docs")).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/docs/");
    let (status, headers, _) = fetch(&app, TestRequest::get().uri("/docs?x=1")).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers.get(header::LOCATION).unwrap(), "/docs/?x=1");
    let (status, _, _) = fetch(&app, TestRequest::get().uri("/docs/")).await;
    assert_eq!(status, StatusCode::OK);
}

async fn swagger_ui_and_its_files_are_served_offline(app: TestApp) {
    let (status, headers, page) = fetch(&app, TestRequest::get().uri("/docs/")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type(&headers).starts_with("text/html"),
        "{headers:?}"
    );
    assert!(page.contains("swagger-ui"), "{page}");
    assert!(!names_a_cdn(&page), "{page}");
    let links = links(&page);
    assert!(
        links.iter().any(|l| l.ends_with(".js")) && links.iter().any(|l| l.ends_with(".css")),
        "{links:?}"
    );
    for link in links {
        // Relative to /docs/, never to another host.
        assert!(!link.contains("//") && !link.starts_with('/'), "{link}");
        let uri = format!("/docs/{}", link.trim_start_matches("./"));
        let (status, headers, body) = fetch(&app, TestRequest::get().uri(&uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let expected = match link.rsplit('.').next().unwrap() {
            "js" => "javascript",
            "css" => "text/css",
            "png" => "image/png",
            other => panic!("unexpected asset {other}"),
        };
        assert!(
            content_type(&headers).contains(expected),
            "{uri}: {headers:?}"
        );
        assert!(!body.is_empty(), "{uri}");
        if !uri.ends_with(".png") {
            assert!(!names_a_cdn(&body), "{uri} names a CDN");
        }
    }
    // The initializer points at our document and turns the online validator off.
    let (_, _, initializer) =
        fetch(&app, TestRequest::get().uri("/docs/swagger-initializer.js")).await;
    assert!(
        initializer.contains("\"url\": \"/openapi.json\""),
        "{initializer}"
    );
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
}

async fn unknown_docs_files_and_methods_are_json_errors(app: TestApp) {
    app.send(TestRequest::get().uri("/docs/no-such-file.js"))
        .await
        .assert(404, "not_found");
    app.send(TestRequest::get().uri("/docs/../Cargo.toml"))
        .await
        .assert(404, "not_found");
    let reply = app.send(TestRequest::post().uri("/docs/")).await;
    reply.assert(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));
    let reply = app.send(TestRequest::post().uri("/docs")).await;
    reply.assert(405, "method_not_allowed");
}

async fn the_page_is_titled_after_the_server(app: TestApp) {
    for uri in ["/docs/", "/docs/index.html"] {
        let (status, _, page) = fetch(&app, TestRequest::get().uri(uri)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert!(
            page.contains("<title>auth-server - Swagger UI</title>"),
            "{uri}: {page}"
        );
    }
}

/// The settings Swagger UI starts with, as the served `swagger-initializer.js` passes them to
/// `SwaggerUIBundle({...})`: the JSON part of that object (before its `presets`, which are
/// code).
async fn swagger_ui_settings(app: &TestApp) -> Value {
    let (status, _, script) =
        fetch(app, TestRequest::get().uri("/docs/swagger-initializer.js")).await;
    assert_eq!(status, StatusCode::OK);
    let start = script.find("SwaggerUIBundle({").expect(&script) + "SwaggerUIBundle({".len();
    let end = start + script[start..].find("presets:").expect(&script);
    let json = script[start..end].trim().trim_end_matches(',');
    serde_json::from_str(&format!("{{{json}}}"))
        .unwrap_or_else(|e| panic!("{e}: cannot read the settings in {script}"))
}

/// Persisted, Swagger UI keeps the Authorize dialog's state (the password typed there, the
/// tokens it got) in localStorage, in plain text, until Logout.
async fn authorization_is_never_persisted_in_the_browser(app: TestApp) {
    let settings = swagger_ui_settings(&app).await;
    assert_eq!(settings["url"], "/openapi.json", "{settings}");
    assert_eq!(
        settings["persistAuthorization"],
        Value::Bool(false),
        "{settings}"
    );
}
