use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(
    a_key_is_shown_once_and_acts_as_its_owner,
    a_key_is_exchanged_for_an_access_token_without_refresh,
    revoked_expired_or_unknown_keys_are_refused_at_once,
    a_key_follows_its_owners_current_role_and_state,
    a_key_cannot_manage_keys_sessions_or_the_password,
    a_token_from_a_key_keeps_the_keys_limits_and_dies_with_it,
    api_key_input_is_validated,
);

/// `POST /api-keys` with `body`, confirmed with the right current password unless `body` names
/// one.
async fn create_key(app: &TestApp, token: &str, mut body: Value) -> crate::helpers::Reply {
    if let Some(fields) = body.as_object_mut() {
        fields
            .entry("current_password")
            .or_insert_with(|| PASSWORD.into());
    }
    app.send(
        TestRequest::post()
            .uri("/api-keys")
            .insert_header(bearer(token))
            .set_json(body),
    )
    .await
}

fn with_key(request: TestRequest, key: &str) -> TestRequest {
    request.insert_header(("X-API-Key", key.to_owned()))
}

async fn a_key_is_shown_once_and_acts_as_its_owner(app: TestApp) {
    let token = app.user("alice").await;
    let reply = create_key(&app, &token, json!({"name": "ci deploy"})).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let key = reply.body["key"].as_str().unwrap().to_owned();
    let prefix = reply.body["prefix"].as_str().unwrap();
    assert!(key.starts_with(&format!("ak_{prefix}_")), "{key}");
    assert!(key.len() >= 3 + 8 + 1 + 43);
    assert_eq!(reply.body["name"], "ci deploy");
    assert_eq!(reply.body["expires_at"], Value::Null);

    // Listed without the key.
    let list = app.get("/api-keys", &token).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(list.body[0].get("key").is_none());
    assert!(!list.text.contains(&key));

    // Key-ok routes accept it, as alice.
    for path in ["/profile", "/users/me"] {
        let me = app.send(with_key(TestRequest::get().uri(path), &key)).await;
        assert_eq!(
            (me.status.as_u16(), me.body["username"].as_str()),
            (200, Some("alice"))
        );
    }
    let protected = app
        .send(with_key(TestRequest::get().uri("/protected"), &key))
        .await;
    assert_eq!(protected.body["username"], "alice");
    // Its use is recorded.
    let list = app.get("/api-keys", &token).await;
    assert!(list.body[0]["last_used_at"].is_string(), "{}", list.text);
}

async fn a_key_is_exchanged_for_an_access_token_without_refresh(app: TestApp) {
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    let reply = app
        .send(with_key(TestRequest::post().uri("/login/api-key"), &key))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body.get("refresh_token").is_none(), "{}", reply.text);
    assert_eq!(reply.body["token_type"], "bearer");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let access = reply.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/profile", access).await.body["username"], "alice");
    app.send(TestRequest::post().uri("/login/api-key"))
        .await
        .assert(401, "not_authenticated");
    app.send(with_key(
        TestRequest::post().uri("/login/api-key"),
        "ak_00000000_nope",
    ))
    .await
    .assert(401, "invalid_api_key");
}

async fn revoked_expired_or_unknown_keys_are_refused_at_once(app: TestApp) {
    let token = app.user("alice").await;
    let created = create_key(&app, &token, json!({"name": "short", "expires_in_days": 1})).await;
    let expires =
        chrono::DateTime::parse_from_rfc3339(created.body["expires_at"].as_str().unwrap()).unwrap();
    let in_a_day = (expires.timestamp() - chrono::Utc::now().timestamp() - 86_400).abs();
    assert!(in_a_day < 60, "expires_at is not a day away: {expires}");
    let key = created.body["key"].as_str().unwrap().to_owned();
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.send(with_key(TestRequest::get().uri("/profile"), &key))
            .await
            .status,
        200
    );

    let reply = app
        .send(
            TestRequest::delete()
                .uri(&format!("/api-keys/{id}"))
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(reply.status, 204);
    app.send(with_key(TestRequest::get().uri("/profile"), &key))
        .await
        .assert(401, "invalid_api_key");
    let listed = app.get("/api-keys", &token).await;
    assert!(listed.body[0]["revoked_at"].is_string());
    app.send(
        TestRequest::delete()
            .uri(&format!("/api-keys/{id}"))
            .insert_header(bearer(&token)),
    )
    .await
    .assert(404, "not_found");

    // A key whose secret is wrong, or which is malformed or huge.
    let prefix_only = format!("{}{}", &key[..12], "A".repeat(43));
    let huge = "k".repeat(5000);
    for bad in [prefix_only.as_str(), "garbage", huge.as_str()] {
        app.send(with_key(TestRequest::get().uri("/profile"), bad))
            .await
            .assert(401, "invalid_api_key");
    }
}

async fn a_key_follows_its_owners_current_role_and_state(app: TestApp) {
    let admin = app.admin("root").await;
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    app.send(with_key(TestRequest::get().uri("/admin"), &key))
        .await
        .assert(403, "forbidden");
    let alice = app.get("/profile", &token).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let promote = TestRequest::patch()
        .uri(&format!("/admin/users/{alice}"))
        .insert_header(bearer(&admin))
        .set_json(json!({"role": "admin"}));
    assert_eq!(app.send(promote).await.status, 200);
    assert_eq!(
        app.send(with_key(TestRequest::get().uri("/admin"), &key))
            .await
            .status,
        200
    );
    let disable = TestRequest::patch()
        .uri(&format!("/admin/users/{alice}"))
        .insert_header(bearer(&admin))
        .set_json(json!({"is_active": false}));
    assert_eq!(app.send(disable).await.status, 200);
    app.send(with_key(TestRequest::get().uri("/profile"), &key))
        .await
        .assert(401, "invalid_api_key");
}

async fn a_key_cannot_manage_keys_sessions_or_the_password(app: TestApp) {
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    let requests = [
        TestRequest::post()
            .uri("/api-keys")
            .set_json(json!({"name": "another"})),
        TestRequest::get().uri("/api-keys"),
        TestRequest::get().uri("/sessions"),
        TestRequest::post().uri("/logout?scope=global"),
        TestRequest::patch()
            .uri("/profile")
            .set_json(json!({"password": "a new passphrase", "current_password": PASSWORD})),
        TestRequest::get().uri("/token_expiry"),
    ];
    for request in requests {
        app.send(with_key(request, &key))
            .await
            .assert(403, "session_required");
    }
    // Nothing changed: the password, the sessions and the keys are as they were.
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
    assert_eq!(app.get("/profile", &token).await.status, 200);
    assert_eq!(
        app.get("/api-keys", &token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn api_key_input_is_validated(app: TestApp) {
    let token = app.user("alice").await;
    for body in [
        json!({"name": ""}),
        json!({"name": "x".repeat(65)}),
        json!({"name": "tab\there"}),
        json!({"name": "k", "expires_in_days": 0}),
        json!({"name": "k", "expires_in_days": 100000}),
    ] {
        create_key(&app, &token, body)
            .await
            .assert(422, "validation_error");
    }
    create_key(&app, &token, json!({}))
        .await
        .assert(422, "validation_error");
    app.send(
        TestRequest::post()
            .uri("/api-keys")
            .set_json(json!({"name": "k"})),
    )
    .await
    .assert(401, "not_authenticated");
    app.send(
        TestRequest::delete()
            .uri("/api-keys/not-a-uuid")
            .insert_header(bearer(&token)),
    )
    .await
    .assert(404, "not_found");
}

async fn a_token_from_a_key_keeps_the_keys_limits_and_dies_with_it(app: TestApp) {
    let token = app.admin("root").await;
    let created = create_key(&app, &token, json!({"name": "k"})).await.body;
    let key = created["key"].as_str().unwrap().to_owned();
    let exchanged = app
        .send(with_key(TestRequest::post().uri("/login/api-key"), &key))
        .await;
    let access = exchanged.body["access_token"].as_str().unwrap().to_owned();
    // It reads like the key does...
    assert_eq!(app.get("/profile", &access).await.status, 200);
    assert_eq!(app.get("/admin", &access).await.status, 200);
    // ...and is refused wherever the key is: it cannot mint keys, manage sessions, change the
    // password, or administer.
    let with_token = |r: TestRequest| r.insert_header(bearer(&access));
    let requests = [
        TestRequest::post()
            .uri("/api-keys")
            .set_json(json!({"name": "escalated"})),
        TestRequest::get().uri("/sessions"),
        TestRequest::post().uri("/logout?scope=global"),
        TestRequest::patch()
            .uri("/profile")
            .set_json(json!({"password": "a new passphrase", "current_password": PASSWORD})),
        TestRequest::get().uri("/admin/users"),
        TestRequest::get().uri("/admin/audit"),
    ];
    for request in requests {
        app.send(with_token(request))
            .await
            .assert(403, "session_required");
    }
    assert_eq!(
        app.get("/api-keys", &token)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // Revoking the key ends the token it was exchanged for.
    let id = created["id"].as_str().unwrap();
    app.send(
        TestRequest::delete()
            .uri(&format!("/api-keys/{id}"))
            .insert_header(bearer(&token)),
    )
    .await;
    app.get("/profile", &access)
        .await
        .assert(401, "invalid_token");
}
