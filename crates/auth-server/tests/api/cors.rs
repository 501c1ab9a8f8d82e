//! CORS: only the origins of `server.cors_allowed_origins` get `Access-Control-*` headers, on
//! preflights and on every answer; any other origin, and every origin by default, gets none.

use actix_web::test::TestRequest;
use auth_diesel::testing::TestDatabase;
use auth_server::{
    settings::{AppEnv, Settings},
    startup,
};

use crate::helpers::{Reply, TestApp, bearer};

crate::on_every_store!(
    by_default_no_origin_gets_cors_headers,
    a_listed_origin_gets_preflight_answers_and_allow_origin,
    an_unlisted_origin_gets_no_cors_headers,
);

const APP: &str = "https://app.example.com";
const DEV: &str = "http://localhost:5173";
const OTHER: &str = "https://evil.example";

fn listed(app: TestApp) -> TestApp {
    app.with_settings(&[("server.cors_allowed_origins", &format!("{APP}, {DEV}"))])
}

fn preflight(path: &str, origin: &str, method: &str, headers: &str) -> TestRequest {
    TestRequest::default()
        .method(actix_web::http::Method::OPTIONS)
        .uri(path)
        .insert_header(("Origin", origin))
        .insert_header(("Access-Control-Request-Method", method))
        .insert_header(("Access-Control-Request-Headers", headers))
}

fn cors_headers(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .keys()
        .map(|name| name.as_str().to_owned())
        .filter(|name| name.starts_with("access-control-"))
        .collect()
}

/// The comma-separated values of a header, lowercased.
fn values(reply: &Reply, name: &str) -> Vec<String> {
    reply
        .header(name)
        .unwrap_or_else(|| panic!("no {name} in {:?}", reply.headers))
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .collect()
}

async fn by_default_no_origin_gets_cors_headers(app: TestApp) {
    assert!(app.state.http.cors_allowed_origins.is_empty());
    let token = app.user("alice").await;
    for origin in [APP, OTHER] {
        let reply = app
            .send(
                TestRequest::get()
                    .uri("/users/me")
                    .insert_header(bearer(&token))
                    .insert_header(("Origin", origin)),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(cors_headers(&reply), Vec::<String>::new());
        // A preflight is an OPTIONS like any other: 405, and nothing that would let it pass.
        let reply = app
            .send(preflight("/users/me", origin, "GET", "authorization"))
            .await;
        reply.assert(405, "method_not_allowed");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        assert_eq!(cors_headers(&reply), Vec::<String>::new());
    }
}

async fn a_listed_origin_gets_preflight_answers_and_allow_origin(app: TestApp) {
    let app = listed(app);
    let token = app.user("alice").await;
    for origin in [APP, DEV] {
        let reply = app
            .send(preflight(
                "/profile",
                origin,
                "PATCH",
                "authorization, content-type",
            ))
            .await;
        assert!([200, 204].contains(&reply.status.as_u16()), "{reply:?}");
        assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
        let methods = values(&reply, "access-control-allow-methods");
        for method in ["get", "post", "put", "patch", "delete"] {
            assert!(methods.contains(&method.to_owned()), "{methods:?}");
        }
        let headers = values(&reply, "access-control-allow-headers");
        for header in ["authorization", "content-type", "x-api-key"] {
            assert!(headers.contains(&header.to_owned()), "{headers:?}");
        }
        assert!(reply.header("access-control-max-age").is_some());
        // Tokens travel in a header, never in cookies: no credentials mode, and never `*`.
        assert_eq!(reply.header("access-control-allow-credentials"), None);
        assert!(values(&reply, "vary").contains(&"origin".to_owned()));

        // The actual request, and an error answer too, carry the origin.
        let reply = app
            .send(
                TestRequest::get()
                    .uri("/users/me")
                    .insert_header(bearer(&token))
                    .insert_header(("Origin", origin)),
            )
            .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
        let exposed = values(&reply, "access-control-expose-headers");
        assert!(
            exposed.contains(&"www-authenticate".to_owned()),
            "{exposed:?}"
        );
        assert!(exposed.contains(&"retry-after".to_owned()), "{exposed:?}");
        let reply = app
            .send(
                TestRequest::get()
                    .uri("/users/me")
                    .insert_header(("Origin", origin)),
            )
            .await;
        reply.assert(401, "not_authenticated");
        assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
    }
    // The API-key header may be sent too.
    let reply = app
        .send(preflight("/users/me", APP, "GET", "x-api-key"))
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), Some(APP));
    // Without Origin, no CORS headers.
    let reply = app
        .send(
            TestRequest::get()
                .uri("/users/me")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(cors_headers(&reply), Vec::<String>::new());
}

async fn an_unlisted_origin_gets_no_cors_headers(app: TestApp) {
    let app = listed(app);
    let token = app.user("alice").await;
    // Near misses of a listed origin are other origins.
    for origin in [
        OTHER,
        "https://app.example.com.evil.example",
        "http://app.example.com",
        "https://APP.example.com",
        "null",
    ] {
        let reply = app
            .send(
                TestRequest::get()
                    .uri("/users/me")
                    .insert_header(bearer(&token))
                    .insert_header(("Origin", origin)),
            )
            .await;
        assert_eq!(reply.status, 200, "{origin}");
        assert_eq!(cors_headers(&reply), Vec::<String>::new(), "{origin}");
        let reply = app
            .send(preflight("/users/me", origin, "GET", "authorization"))
            .await;
        reply.assert(405, "method_not_allowed");
        assert_eq!(cors_headers(&reply), Vec::<String>::new(), "{origin}");
    }
}

#[test]
fn origins_that_browsers_never_send_are_refused_at_startup() {
    let database = TestDatabase::sqlite();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret_file = secret_dir.path().join("jwt-secret");
    for origin in [
        "*",
        "https://app.example.com/",
        "https://app.example.com/path",
        "HTTPS://App.example.com",
        "ftp://app.example.com",
        "https://app.example.com:443",
        "app.example.com",
    ] {
        let settings = Settings::load(
            AppEnv::Test,
            &[
                ("database.url", database.url()),
                ("jwt.secret_file", &secret_file.to_string_lossy()),
                ("server.cors_allowed_origins", origin),
            ],
        )
        .unwrap();
        let error = startup::build_state(&settings, AppEnv::Test).unwrap_err();
        assert!(
            format!("{error:#}").contains("server.cors_allowed_origins"),
            "{origin}: {error:#}"
        );
    }
}
