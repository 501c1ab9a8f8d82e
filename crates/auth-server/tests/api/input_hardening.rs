//! Client input that once steered or broke the server: forwarded addresses, IPv4-mapped peers,
//! times the stores cannot hold, JSON that is not an object, and the token endpoint's and new
//! keys' answers.

use actix_web::{http::Method, test::TestRequest};
use serde_json::{Value, json};

use crate::{
    catalogue::ROUTES,
    helpers::{PASSWORD, Reply, TestApp, bearer},
};

crate::on_every_store!(
    forwarded_entries_that_are_not_addresses_cannot_steer_the_client_address,
    ipv4_mapped_addresses_are_their_ipv4_address,
    client_times_outside_the_storable_years_are_422,
    json_bodies_that_are_not_objects_are_422_on_every_json_route,
    token_endpoint_errors_carry_error_description,
    a_new_api_key_is_never_cached,
);

/// `request` as sent by the socket peer `peer` (`192.0.2.1` or `[::1]`).
fn from(peer: &str, request: TestRequest) -> TestRequest {
    request.peer_addr(format!("{peer}:50000").parse().unwrap())
}

/// A failed login through the trusted proxy at `peer` that forwards `xff`.
fn guess(peer: &str, xff: &str) -> TestRequest {
    from(peer, TestRequest::post().uri("/login"))
        .insert_header(("X-Forwarded-For", xff.to_owned()))
        .set_json(json!({"username": "nobody", "password": "whatever it is"}))
}

/// Logs alice in through `peer` forwarding `xff`; the address her new session records.
async fn recorded_ip(app: &TestApp, peer: &str, xff: &str) -> Value {
    let login = app
        .send(
            from(peer, TestRequest::post().uri("/login"))
                .insert_header(("X-Forwarded-For", xff.to_owned()))
                .set_json(json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.body["access_token"].as_str().unwrap();
    let sessions = app.get("/sessions", token).await;
    let current = sessions
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true);
    current.unwrap()["ip"].clone()
}

async fn forwarded_entries_that_are_not_addresses_cannot_steer_the_client_address(app: TestApp) {
    let app = app.with_settings(&[
        ("security.rate_limit_per_minute", "2"),
        ("server.trusted_proxies", "127.0.0.1"),
    ]);
    // Each guess names another address left of a garbled entry: all are the proxy's, so the
    // third is over the limit.
    for (i, garbled) in ["unknown", "[2001:db8::1", "unknown"].iter().enumerate() {
        let reply = app
            .send(guess("127.0.0.1", &format!("203.0.113.{i}, {garbled}")))
            .await;
        if i < 2 {
            reply.assert(401, "invalid_credentials");
        } else {
            reply.assert(429, "too_many_requests");
        }
    }
    // The proxy's own bucket is spent; an entry with a port is its address, with its own.
    app.send(guess("127.0.0.1", "203.0.113.7, 198.51.100.1:5555"))
        .await
        .assert(401, "invalid_credentials");

    let app = app.with_settings(&[
        ("security.rate_limit_per_minute", "0"),
        ("server.trusted_proxies", "127.0.0.1"),
    ]);
    app.register("alice").await;
    for (xff, recorded) in [
        ("203.0.113.7, unknown", "127.0.0.1"),
        ("203.0.113.7, [2001:db8::1", "127.0.0.1"),
        ("203.0.113.7, ", "127.0.0.1"),
        ("203.0.113.7, 198.51.100.1:5555", "198.51.100.1"),
        ("203.0.113.7, [2001:db8::1]:5555", "2001:db8::1"),
        ("203.0.113.7, [2001:db8::2]", "2001:db8::2"),
        ("203.0.113.7, 2001:db8::3", "2001:db8::3"),
    ] {
        assert_eq!(recorded_ip(&app, "127.0.0.1", xff).await, recorded, "{xff}");
    }
}

async fn ipv4_mapped_addresses_are_their_ipv4_address(app: TestApp) {
    let app = app.with_settings(&[
        ("security.rate_limit_per_minute", "2"),
        ("server.trusted_proxies", "127.0.0.1"),
    ]);
    // A dual-stack socket reports the IPv4 proxy as ::ffff:127.0.0.1: still the trusted proxy,
    // and a client's address forwarded in mapped form shares its IPv4 bucket.
    let mapped_proxy = "[::ffff:127.0.0.1]";
    app.send(guess(mapped_proxy, "198.51.100.8"))
        .await
        .assert(401, "invalid_credentials");
    app.send(guess(mapped_proxy, "::ffff:198.51.100.8"))
        .await
        .assert(401, "invalid_credentials");
    app.send(guess("127.0.0.1", "[::ffff:198.51.100.8]:4444"))
        .await
        .assert(429, "too_many_requests");
    // Other clients behind the same proxy are not in that bucket.
    app.send(guess(mapped_proxy, "198.51.100.9"))
        .await
        .assert(401, "invalid_credentials");

    let app = app.with_settings(&[
        ("security.rate_limit_per_minute", "0"),
        ("server.trusted_proxies", "127.0.0.1, 10.0.0.2"),
    ]);
    app.register("alice").await;
    for (peer, xff, recorded) in [
        (mapped_proxy, "198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "::ffff:198.51.100.7", "198.51.100.7"),
        ("127.0.0.1", "198.51.100.6, ::ffff:10.0.0.2", "198.51.100.6"),
        ("[::ffff:192.0.2.5]", "203.0.113.7", "192.0.2.5"),
    ] {
        assert_eq!(recorded_ip(&app, peer, xff).await, recorded, "{peer} {xff}");
    }
}

async fn client_times_outside_the_storable_years_are_422(app: TestApp) {
    let admin = app.admin("root").await;
    for time in [
        "-262143-01-01T00:00:00Z",
        "0000-12-31T23:59:59Z",
        "0001-01-01T00:59:59%2B01:00",
        "9999-12-31T23:00:00-05:00",
        "%2B10000-01-01T00:00:00Z",
        "%2B262142-12-31T23:59:59Z",
    ] {
        for field in ["since", "until"] {
            let reply = app
                .get(&format!("/admin/audit?{field}={time}"), &admin)
                .await;
            reply.assert(422, "validation_error");
        }
    }
    // The bounds themselves are fine.
    let bounds = "/admin/audit?since=0001-01-01T00:00:00Z&until=9999-12-31T23:59:59.999999Z";
    let reply = app.get(bounds, &admin).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body["total"].as_u64().unwrap() > 0, "{}", reply.text);

    // The other times a client chooses are durations, bounded before they reach a store.
    app.register("alice").await;
    for expires_in in [i64::MAX, i64::MIN, 0] {
        let login = json!({"username": "alice", "password": PASSWORD, "expires_in": expires_in});
        let reply = app.post_json("/login", login).await;
        assert_eq!(reply.status, 200, "{expires_in}: {}", reply.text);
    }
    for days in [i64::MAX, i64::MIN, 0, 3_000_000] {
        let reply = app
            .send(
                TestRequest::post()
                    .uri("/api-keys")
                    .insert_header(bearer(&admin))
                    .set_json(json!({"name": "k", "expires_in_days": days})),
            )
            .await;
        reply.assert(422, "validation_error");
    }
}

/// The JSON routes of the catalogue are its POST, PUT and PATCH routes but these.
const NOT_JSON: &[(&str, &str)] = &[
    ("POST", "/token"),
    ("POST", "/logout"),
    ("POST", "/login/api-key"),
    ("POST", "/introspect"),
    ("POST", "/revoke"),
    // No body: an admin's request for a user's reset link.
    ("POST", "/admin/users/{id}/password-reset"),
    // No body: a fresh verification link for the caller.
    ("POST", "/email/verify/request"),
];

async fn json_bodies_that_are_not_objects_are_422_on_every_json_route(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "0")]);
    let admin = app.admin("root").await;
    let alice = app.register("alice").await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let routes: Vec<_> = ROUTES
        .iter()
        .filter(|(method, _)| matches!(*method, "POST" | "PUT" | "PATCH"))
        .filter(|route| !NOT_JSON.contains(route))
        .collect();
    assert_eq!(routes.len(), 13, "{routes:?}");
    let send = |method: &str, path: &str, body: &[u8]| {
        app.send(
            TestRequest::default()
                .method(Method::from_bytes(method.as_bytes()).unwrap())
                .uri(&path.replace("{id}", &alice))
                .insert_header(bearer(&admin))
                .insert_header(("content-type", "application/json"))
                .set_payload(body.to_vec()),
        )
    };
    for (method, path) in routes {
        for body in [
            &b"[]"[..],
            b"[\"mallory\", \"correct horse battery\"]",
            b"[\"mallory\", \"correct horse battery\", null, null]",
            b"[{}]",
            b"null",
            b"\"text\"",
            b"42",
            b"true",
        ] {
            let reply = send(method, path, body).await;
            let what = format!("{method} {path} {}", String::from_utf8_lossy(body));
            assert_eq!(reply.status, 422, "{what}: {}", reply.text);
            assert_eq!(reply.error_code(), "validation_error", "{what}");
            assert_eq!(
                reply.body["detail"], "body: must be a JSON object",
                "{what}"
            );
        }
        // Malformed JSON is still 400 malformed_json.
        send(method, path, b"[").await.assert(400, "malformed_json");
    }
    // Nothing was changed or created by an array.
    assert_eq!(app.try_register("mallory").await.status, 201);
    let me = app.get("/profile", &admin).await;
    assert_eq!(me.body["username"], "root");
}

fn token_request(body: String) -> TestRequest {
    from("192.0.2.1", TestRequest::post())
        .uri("/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

/// An RFC 6749 error: `error_description` is `detail`, and it is never cached.
fn assert_oauth_error(reply: &Reply, status: u16, code: &str) {
    reply.assert(status, code);
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(
        reply.body["error_description"], reply.body["detail"],
        "{}",
        reply.text
    );
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
}

async fn token_endpoint_errors_carry_error_description(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "2")]);
    let too_large = format!("username=alice&password={}", "x".repeat(70_000));
    assert_oauth_error(
        &app.send(token_request(too_large)).await,
        413,
        "payload_too_large",
    );
    assert_oauth_error(
        &app.send(token_request("username=a&password=b".into()))
            .await,
        400,
        "invalid_grant",
    );
    let limited = app
        .send(token_request("username=a&password=b".into()))
        .await;
    assert_oauth_error(&limited, 429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    // The other rate-limited routes keep the plain error body.
    let login = json!({"username": "a", "password": "b"});
    let reply = app
        .send(from("192.0.2.1", TestRequest::post().uri("/login")).set_json(login))
        .await;
    reply.assert(429, "too_many_requests");
    assert!(
        reply.body.get("error_description").is_none(),
        "{}",
        reply.text
    );
}

async fn a_new_api_key_is_never_cached(app: TestApp) {
    let token = app.user("alice").await;
    let reply = app
        .send(
            TestRequest::post()
                .uri("/api-keys")
                .insert_header(bearer(&token))
                .set_json(json!({"name": "ci", "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert!(reply.body["key"].is_string());
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
}
