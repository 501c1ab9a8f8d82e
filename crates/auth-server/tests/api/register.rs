use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

crate::on_every_store!(
    register_creates_a_user_without_exposing_the_hash,
    register_ignores_privileged_fields,
    username_taken_without_regard_to_case,
    email_taken_without_regard_to_case,
    invalid_usernames_are_422,
    weak_passwords_are_422_with_the_reason,
    invalid_email_is_422,
    malformed_bodies_are_4xx_json_naming_the_field,
    oversized_body_is_413,
);

async fn register_creates_a_user_without_exposing_the_hash(app: TestApp) {
    let reply = app
        .post_json(
            "/register",
            json!({"username": "Alice", "password": PASSWORD, "email": "alice@example.com"}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let user = reply.body.as_object().unwrap();
    let mut keys: Vec<_> = user.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created_at",
            "email",
            "email_verified",
            "id",
            "is_active",
            "mfa_enabled",
            "pending_email",
            "role",
            "updated_at",
            "username"
        ]
    );
    assert_eq!(user["username"], "Alice");
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["role"], "user");
    assert_eq!(user["is_active"], true);
    assert_eq!(user["mfa_enabled"], false);
    assert!(uuid::Uuid::parse_str(user["id"].as_str().unwrap()).is_ok());
    chrono::DateTime::parse_from_rfc3339(user["created_at"].as_str().unwrap()).unwrap();
    assert!(!reply.text.contains("password"));
}

async fn register_ignores_privileged_fields(app: TestApp) {
    let reply = app
        .post_json(
            "/register",
            json!({"username": "mallory", "password": PASSWORD, "role": "admin",
                   "is_active": false, "id": "00000000-0000-0000-0000-000000000000"}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["role"], "user");
    assert_eq!(reply.body["is_active"], true);
    assert_ne!(reply.body["id"], "00000000-0000-0000-0000-000000000000");
}

async fn username_taken_without_regard_to_case(app: TestApp) {
    assert_eq!(app.register("alice").await.status, 201);
    let reply = app.try_register("ALICE").await;
    reply.assert(409, "username_taken");
    assert_eq!(reply.body["detail"], "Username already registered");
}

async fn email_taken_without_regard_to_case(app: TestApp) {
    let register = |name: &str, email: &str| {
        app.post_json(
            "/register",
            json!({"username": name, "password": PASSWORD, "email": email}),
        )
    };
    assert_eq!(register("alice", "a@example.com").await.status, 201);
    register("bob", "A@EXAMPLE.com")
        .await
        .assert(409, "email_taken");
}

async fn invalid_usernames_are_422(app: TestApp) {
    let long = "x".repeat(5000);
    for name in ["ab", long.as_str(), "bad name", "nul\0byte", "émile", ""] {
        let reply = app
            .post_json("/register", json!({"username": name, "password": PASSWORD}))
            .await;
        reply.assert(422, "invalid_username");
    }
}

async fn weak_passwords_are_422_with_the_reason(app: TestApp) {
    let register = |password: String| {
        app.post_json(
            "/register",
            json!({"username": "alice", "password": password}),
        )
    };
    let reply = register("x".into()).await;
    reply.assert(422, "invalid_password");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .contains("at least 8")
    );
    let reply = register("p".repeat(73)).await;
    reply.assert(422, "invalid_password");
    assert!(reply.body["detail"].as_str().unwrap().contains("72 bytes"));
}

async fn invalid_email_is_422(app: TestApp) {
    app.post_json(
        "/register",
        json!({"username": "alice", "password": PASSWORD, "email": "not-an-email"}),
    )
    .await
    .assert(422, "invalid_email");
}

async fn malformed_bodies_are_4xx_json_naming_the_field(app: TestApp) {
    let reply = app
        .post_json("/register", json!({"username": "alice"}))
        .await;
    reply.assert(422, "validation_error");
    assert!(
        reply.body["detail"].as_str().unwrap().contains("password"),
        "{}",
        reply.text
    );

    let reply = app
        .post_json("/register", json!({"username": 42, "password": PASSWORD}))
        .await;
    reply.assert(422, "validation_error");
    assert!(
        reply.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("username"),
        "{}",
        reply.text
    );

    let raw = |body: &'static str, content_type: &'static str| {
        app.send(
            TestRequest::post()
                .uri("/register")
                .insert_header(("content-type", content_type))
                .set_payload(body),
        )
    };
    raw("{\"username\": ", "application/json")
        .await
        .assert(400, "malformed_json");
    raw("{} trailing", "application/json")
        .await
        .assert(400, "malformed_json");
    raw("[]", "application/json")
        .await
        .assert(422, "validation_error");
    raw("username=alice", "application/x-www-form-urlencoded")
        .await
        .assert(400, "invalid_content_type");
    raw("{}", "text/plain")
        .await
        .assert(400, "invalid_content_type");
}

async fn oversized_body_is_413(app: TestApp) {
    let huge = "x".repeat(70 * 1024);
    app.post_json("/register", json!({"username": "alice", "password": huge}))
        .await
        .assert(413, "payload_too_large");
}
