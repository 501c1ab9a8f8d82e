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
