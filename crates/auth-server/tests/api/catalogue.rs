//! Every route × a catalogue of malformed input: never a 5xx, a panic or a hang, and every
//! error is the contract's JSON body.

use actix_web::{http::Method, test::TestRequest};
use serde_json::json;

use crate::helpers::{Reply, TestApp, bearer};

/// Every route of the contract, `{id}` standing for a path parameter.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/register"),
    ("POST", "/login"),
    ("POST", "/token"),
    ("POST", "/refresh"),
    ("GET", "/profile"),
    ("PUT", "/profile"),
    ("PATCH", "/profile"),
    ("GET", "/users/me"),
    ("GET", "/token_expiry"),
    ("GET", "/protected"),
    ("GET", "/admin"),
    ("GET", "/sessions"),
    ("DELETE", "/sessions/{id}"),
    ("POST", "/api-keys"),
    ("GET", "/api-keys"),
    ("DELETE", "/api-keys/{id}"),
    ("POST", "/login/api-key"),
    ("GET", "/admin/users"),
    ("GET", "/admin/users/{id}"),
    ("PATCH", "/admin/users/{id}"),
    ("DELETE", "/admin/users/{id}"),
    ("DELETE", "/admin/users/{id}/sessions"),
    ("GET", "/admin/audit"),
    ("GET", "/health"),
    ("GET", "/health/live"),
    ("GET", "/health/ready"),
    ("GET", "/metrics"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/statuslists/{id}"),
    ("GET", "/openapi.json"),
    ("POST", "/mfa/totp"),
    ("POST", "/mfa/totp/confirm"),
    ("DELETE", "/mfa/totp"),
    ("POST", "/login/mfa"),
    ("DELETE", "/admin/users/{id}/mfa"),
    ("POST", "/password/forgot"),
    ("POST", "/password/reset"),
    ("POST", "/admin/users/{id}/password-reset"),
    ("POST", "/email/verify/request"),
    ("POST", "/email/verify"),
    // Last: it ends the admin's session, and every route after it would see only a dead token.
    ("POST", "/logout"),
];

fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    vec![
        ("application/json", b"".to_vec()),
        ("application/json", b"{".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"[]".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        // serde would read a struct from an array, field by field.
        (
            "application/json",
            b"[\"mallory\", \"correct horse battery\", null, null]".to_vec(),
        ),
        (
            "application/json",
            b"{\"username\": null, \"password\": 1}".to_vec(),
        ),
        (
            "application/json",
            b"{\"username\": \"a\\u0000b\", \"password\": \"\\u0000\"}".to_vec(),
        ),
        (
            "application/json",
            b"{\"name\": {\"nested\": [1, 2, {}]}, \"role\": \"root\"}".to_vec(),
        ),
        ("application/json", deep.into_bytes()),
        ("application/json", vec![0xff, 0xfe, 0x00, 0x7b]),
        (
            "application/json",
            format!("{{\"username\": \"{}\"}}", "x".repeat(80_000)).into_bytes(),
        ),
        ("text/plain", b"username=alice".to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"grant_type=%FF%FE&username=%00".to_vec(),
        ),
        ("application/x-www-form-urlencoded", b"a=1&a=2&&&=".to_vec()),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\n\r\n--x--".to_vec(),
        ),
    ]
}

const PATH_VALUES: &[&str] = &[
    "not-a-uuid",
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "00000000-0000-0000-0000-000000000000",
    "%ZZ",
];

fn check(reply: &Reply, what: &str) {
    let status = reply.status.as_u16();
    assert!(status < 500, "{what}: {status} {}", reply.text);
    if status >= 400 {
        assert!(reply.body["error"].is_string(), "{what}: {}", reply.text);
        assert!(reply.body["detail"].is_string(), "{what}: {}", reply.text);
    }
}

fn request(method: &str, path: &str) -> TestRequest {
    TestRequest::default()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
}

crate::on_every_store!(every_route_answers_malformed_input_with_a_4xx_json_error);

async fn every_route_answers_malformed_input_with_a_4xx_json_error(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "0")]);
    let admin = app.admin("root").await;
    let long_path = "x".repeat(5000);
    let credentials: Vec<(&str, Option<(&str, String)>)> = vec![
        ("no credentials", None),
        ("admin bearer", Some(bearer(&admin))),
        ("empty bearer", Some(("Authorization", "Bearer ".into()))),
        (
            "huge bearer",
            Some(("Authorization", format!("Bearer {}", "a".repeat(10_000)))),
        ),
        (
            "junk bearer",
            Some(("Authorization", "Bearer a.b.c".into())),
        ),
        (
            "basic",
            Some(("Authorization", "Basic Zm9vOmJhcg==".into())),
        ),
        ("junk api key", Some(("X-API-Key", "ak_zz_".into()))),
    ];
    let mut checked = 0;
    for (method, route) in ROUTES {
        let mut paths: Vec<String> =
            vec![route.replace("{id}", "00000000-0000-0000-0000-000000000000")];
        if route.contains("{id}") {
            paths.extend(PATH_VALUES.iter().map(|v| route.replace("{id}", v)));
            paths.push(route.replace("{id}", &long_path));
        }
        paths.push(format!(
            "{}?limit=-1&offset=x&scope=%FF&since=never&user=1&q=%00",
            paths[0]
        ));
        // Times that parse but that no store can hold.
        paths.push(format!(
            "{}?since=-262143-01-01T00:00:00Z&until=9999-12-31T23:00:00-05:00",
            paths[0]
        ));
        for path in &paths {
            for (who, credential) in &credentials {
                let with_credential = |r: TestRequest| match credential {
                    Some(header) => r.insert_header(header.clone()),
                    None => r,
                };
                let reply = app.send(with_credential(request(method, path))).await;
                check(&reply, &format!("{method} {path} ({who})"));
                checked += 1;
                if matches!(*method, "POST" | "PUT" | "PATCH") && path == &paths[0] {
                    for (content_type, body) in bodies() {
                        let what = format!(
                            "{method} {path} ({who}, {content_type}, {} bytes)",
                            body.len()
                        );
                        let request = with_credential(request(method, path))
                            .insert_header(("content-type", content_type))
                            .set_payload(body);
                        check(&app.send(request).await, &what);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert!(checked > 1000, "only {checked} requests");
    // After all that the server still works (the catalogue's POST /logout ended that session).
    let admin = app.token("root").await;
    assert_eq!(
        app.get("/admin", &admin).await.body,
        json!({"msg": "welcome admin"})
    );
}
