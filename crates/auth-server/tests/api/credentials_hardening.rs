//! Findings of the security review about credentials: the current password as an unthrottled
//! oracle, API keys that outlive a compromise, and lockout used as a weapon.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, bearer};

crate::on_every_store!(
    wrong_current_passwords_count_toward_the_lockout,
    a_client_locked_out_of_login_cannot_confirm_the_password_elsewhere,
    creating_an_api_key_needs_the_current_password,
    a_password_change_revokes_every_api_key_and_what_it_minted,
    a_locked_out_attacker_does_not_lock_out_the_owners_client,
    failures_from_many_clients_lock_the_account_at_a_higher_limit,
);

const NEW_PASSWORD: &str = "a completely new passphrase";

fn from(peer: &str, request: TestRequest) -> TestRequest {
    request.peer_addr(format!("{peer}:50000").parse().unwrap())
}

#[track_caller]
fn assert_locked(reply: &Reply) {
    reply.assert(429, "too_many_attempts");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After {retry}");
}

async fn change_password(app: &TestApp, token: &str, current: &str) -> Reply {
    app.send(
        TestRequest::patch()
            .uri("/profile")
            .insert_header(bearer(token))
            .set_json(json!({"password": NEW_PASSWORD, "current_password": current})),
    )
    .await
}

async fn create_key(app: &TestApp, token: &str, body: Value) -> Reply {
    app.send(
        TestRequest::post()
            .uri("/api-keys")
            .insert_header(bearer(token))
            .set_json(body),
    )
    .await
}

/// PATCH /profile was an unthrottled password oracle: now each wrong current password counts
/// like a failed login, and once the client is locked out the right one gets 429 as well.
async fn wrong_current_passwords_count_toward_the_lockout(app: TestApp) {
    let token = app.user("alice").await;
    for _ in 0..5 {
        change_password(&app, &token, "not the password")
            .await
            .assert(403, "invalid_current_password");
    }
    assert_locked(&change_password(&app, &token, PASSWORD).await);
    assert_locked(&app.login_with("alice", PASSWORD).await);
}

async fn a_client_locked_out_of_login_cannot_confirm_the_password_elsewhere(app: TestApp) {
    let token = app.user("alice").await;
    for _ in 0..5 {
        app.login_with("alice", "not the password")
            .await
            .assert(401, "invalid_credentials");
    }
    assert_locked(&change_password(&app, &token, PASSWORD).await);
    assert_locked(
        &create_key(
            &app,
            &token,
            json!({"name": "k", "current_password": PASSWORD}),
        )
        .await,
    );
}

/// A stolen access token alone must not become a lasting credential.
async fn creating_an_api_key_needs_the_current_password(app: TestApp) {
    let token = app.user("alice").await;
    create_key(&app, &token, json!({"name": "k"}))
        .await
        .assert(422, "current_password_required");
    create_key(
        &app,
        &token,
        json!({"name": "k", "current_password": "not the password"}),
    )
    .await
    .assert(403, "invalid_current_password");
    let created = create_key(
        &app,
        &token,
        json!({"name": "k", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.header("cache-control"), Some("no-store"));
    assert_eq!(created.header("pragma"), Some("no-cache"));
    // Wrong ones count like failed logins: five in a row lock this client out.
    for _ in 0..5 {
        create_key(
            &app,
            &token,
            json!({"name": "k", "current_password": "not the password"}),
        )
        .await
        .assert(403, "invalid_current_password");
    }
    assert_locked(&app.login_with("alice", PASSWORD).await);
}

/// After a compromise the owner changes the password: every API key dies, and with it every
/// token minted from a key.
async fn a_password_change_revokes_every_api_key_and_what_it_minted(app: TestApp) {
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    let with_key = |r: TestRequest| r.insert_header(("X-API-Key", key.clone()));
    let minted = app
        .send(with_key(TestRequest::post().uri("/login/api-key")))
        .await;
    assert_eq!(minted.status, 200, "{}", minted.text);
    let minted = minted.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(app.get("/profile", &minted).await.status, 200);

    let changed = change_password(&app, &token, PASSWORD).await;
    assert_eq!(changed.status, 200, "{}", changed.text);

    app.send(with_key(TestRequest::get().uri("/profile")))
        .await
        .assert(401, "invalid_api_key");
    app.send(with_key(TestRequest::post().uri("/login/api-key")))
        .await
        .assert(401, "invalid_api_key");
    app.get("/profile", &minted)
        .await
        .assert(401, "invalid_token");
    let keys = app.get("/api-keys", &token).await;
    assert!(
        keys.body
            .as_array()
            .unwrap()
            .iter()
            .all(|k| !k["revoked_at"].is_null()),
        "{}",
        keys.text
    );
    // The session that changed the password goes on.
    assert_eq!(app.get("/profile", &token).await.status, 200);
}

async fn login_from(app: &TestApp, peer: &str, password: &str) -> Reply {
    app.send(from(
        peer,
        TestRequest::post()
            .uri("/login")
            .set_json(json!({"username": "alice", "password": password})),
    ))
    .await
}

/// The lock is per (username, client): an attacker who locked themselves out has not locked
/// out the owner, who logs in from elsewhere.
async fn a_locked_out_attacker_does_not_lock_out_the_owners_client(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "0")]);
    app.register("alice").await;
    for _ in 0..5 {
        login_from(&app, "203.0.113.66", "guess")
            .await
            .assert(401, "invalid_credentials");
    }
    assert_locked(&login_from(&app, "203.0.113.66", PASSWORD).await);
    assert_eq!(
        login_from(&app, "198.51.100.20", PASSWORD).await.status,
        200
    );
    // The owner's own mistakes are counted for the owner's client only.
    login_from(&app, "198.51.100.20", "typo")
        .await
        .assert(401, "invalid_credentials");
    assert_eq!(
        login_from(&app, "198.51.100.20", PASSWORD).await.status,
        200
    );
}

/// Guessing spread over many addresses still meets a limit: failures from all clients lock
/// the account for everyone at `security.max_failed_logins_per_user`.
async fn failures_from_many_clients_lock_the_account_at_a_higher_limit(app: TestApp) {
    let app = app.with_settings(&[
        ("security.rate_limit_per_minute", "0"),
        ("security.max_failed_logins_per_user", "8"),
    ]);
    app.register("alice").await;
    for n in 0..8 {
        let peer = format!("203.0.113.{}", n / 3 + 1);
        login_from(&app, &peer, "guess")
            .await
            .assert(401, "invalid_credentials");
    }
    // No single client reached 5, yet the account is locked for every client.
    assert_locked(&login_from(&app, "198.51.100.20", PASSWORD).await);
    assert_locked(&login_from(&app, "203.0.113.9", "guess").await);
}
