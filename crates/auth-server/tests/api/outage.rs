//! A store outage is a JSON 503, and the server recovers by itself when the store is back.
//! Needs a real PostgreSQL server, whose connections can be refused and killed.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[actix_web::test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
async fn store_outage_is_a_json_503_and_the_server_recovers() {
    let app = TestApp::postgres();
    let token = app.user("alice").await;

    app.database.set_reachable(false);
    let health = app.send(TestRequest::get().uri("/health")).await;
    assert_eq!(health.status, 503, "{}", health.text);
    assert_eq!(health.body["database"], "unavailable");
    assert_eq!(health.body["error"], "service_unavailable");
    let login = app.login_with("alice", PASSWORD).await;
    login.assert(503, "service_unavailable");
    assert!(
        !login.text.to_lowercase().contains("postgres"),
        "{}",
        login.text
    );
    app.get("/profile", &token)
        .await
        .assert(503, "service_unavailable");

    app.database.set_reachable(true);
    let health = app.send(TestRequest::get().uri("/health")).await;
    assert_eq!(health.body, json!({"status": "ok", "database": "ok"}));
    assert_eq!(app.get("/profile", &token).await.status, 200);
}

/// With the database store, an unreachable database makes the limit this instance's own
/// (fail open to the in-memory limit, never to none): the limited routes still answer 429 past
/// it, and 503 for the outage within it. Once the database is back, the shared budget counts
/// again, from full (what was counted in memory is not carried over).
#[actix_web::test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
async fn the_database_rate_limit_falls_back_to_the_instance_during_an_outage() {
    let app = TestApp::postgres().with_settings(&[
        ("security.rate_limit_per_minute", "2"),
        ("security.rate_limit_store", "database"),
    ]);
    app.register("alice").await;
    let login = || {
        TestRequest::post()
            .uri("/login")
            .peer_addr("198.51.100.9:50000".parse().unwrap())
            .set_json(json!({"username": "alice", "password": PASSWORD}))
    };

    app.database.set_reachable(false);
    for _ in 0..2 {
        app.send(login()).await.assert(503, "service_unavailable");
    }
    let limited = app.send(login()).await;
    limited.assert(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());

    app.database.set_reachable(true);
    // The shared budget of this address is full: both pass, the third is refused there.
    for _ in 0..2 {
        assert_eq!(app.send(login()).await.status, 200);
    }
    app.send(login()).await.assert(429, "too_many_requests");
}
