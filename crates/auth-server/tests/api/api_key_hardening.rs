//! Findings 11 and 14 of the second security review, about API keys: the exchange was not
//! rate-limited and every wrong secret wrote an audit row against the key's owner; and
//! disabling a user left their keys to come back with the user.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, bearer},
    mfa::audit,
};

crate::on_every_store!(
    the_api_key_exchange_is_rate_limited,
    refusals_of_a_key_are_audited_once_a_minute_per_key_and_reason,
    disabling_a_user_revokes_their_api_keys_for_good,
);

fn exchange(key: &str, peer: &str) -> TestRequest {
    TestRequest::post()
        .uri("/login/api-key")
        .peer_addr(format!("{peer}:50000").parse().unwrap())
        .insert_header(("X-API-Key", key))
}

/// The same key with another secret: its prefix is known, the secret is wrong.
fn with_wrong_secret(key: &str) -> String {
    let (prefix, secret) = key.rsplit_once('_').unwrap();
    let wrong = if secret.starts_with('A') { "B" } else { "A" };
    format!("{prefix}_{wrong}{}", &secret[1..])
}

/// Finding 11: `POST /login/api-key` counts against the client address's rate limit, as
/// `/login` does.
async fn the_api_key_exchange_is_rate_limited(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "3")]);
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    for _ in 0..3 {
        let reply = app.send(exchange(&key, "198.51.100.7")).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    let limited = app.send(exchange(&key, "198.51.100.7")).await;
    limited.assert(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
    // A wrong key is limited too, before it is looked at.
    app.send(exchange(&with_wrong_secret(&key), "198.51.100.7"))
        .await
        .assert(429, "too_many_requests");
    // Another address has its own bucket.
    assert_eq!(app.send(exchange(&key, "198.51.100.8")).await.status, 200);
}

/// Finding 11: wrong secrets with a known prefix are refused every time but recorded against
/// the owner once a minute per key (and per reason), not once per request.
async fn refusals_of_a_key_are_audited_once_a_minute_per_key_and_reason(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "0")]);
    let token = app.user("alice").await;
    let (first, second) = (app.api_key(&token).await, app.api_key(&token).await);
    for key in [&first, &second] {
        for _ in 0..10 {
            app.send(exchange(&with_wrong_secret(key), "198.51.100.7"))
                .await
                .assert(401, "invalid_api_key");
            app.send(
                TestRequest::get()
                    .uri("/profile")
                    .insert_header(("X-API-Key", with_wrong_secret(key))),
            )
            .await
            .assert(401, "invalid_api_key");
        }
    }
    // The right secret of a revoked key: another reason, recorded once as well.
    let keys = app.get("/api-keys", &token).await;
    let id = keys.body[0]["id"].as_str().unwrap();
    let revoked = app
        .send(
            TestRequest::delete()
                .uri(&format!("/api-keys/{id}"))
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    let revoked_key = if keys.body[0]["prefix"] == prefix_of(&first) {
        &first
    } else {
        &second
    };
    for _ in 0..5 {
        app.send(exchange(revoked_key, "198.51.100.7"))
            .await
            .assert(401, "invalid_api_key");
    }

    let admin = app.admin("root").await;
    let mut refusals: Vec<String> = audit(&app, &admin, "api_key.used")
        .await
        .iter()
        .filter(|e| e["outcome"] == "failure")
        .map(|e| detail(e).to_owned())
        .collect();
    refusals.sort();
    let mut expected = vec![
        format!("key {}: wrong secret", keys.body[0]["id"].as_str().unwrap()),
        format!("key {}: wrong secret", keys.body[1]["id"].as_str().unwrap()),
        format!("key {id}: revoked or expired"),
    ];
    expected.sort();
    assert_eq!(refusals, expected);
}

fn prefix_of(key: &str) -> String {
    key.split('_').nth(1).unwrap().to_owned()
}

fn detail(event: &Value) -> &str {
    event["detail"].as_str().unwrap_or_default()
}

/// Finding 14: disabling a user revokes their API keys (and what they minted), so enabling the
/// user again does not bring them back; it works the same from the admin API and the CLI.
async fn disabling_a_user_revokes_their_api_keys_for_good(app: TestApp) {
    let root = app.admin("root").await;
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    let minted = app.send(exchange(&key, "198.51.100.7")).await;
    assert_eq!(minted.status, 200, "{}", minted.text);
    let minted = minted.body["access_token"].as_str().unwrap().to_owned();
    let id = app.get("/profile", &token).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = |body: Value| {
        TestRequest::patch()
            .uri(&format!("/admin/users/{id}"))
            .insert_header(bearer(&root))
            .set_json(body)
    };
    // In the credential cache before the change.
    let by_key = || {
        TestRequest::get()
            .uri("/profile")
            .insert_header(("X-API-Key", key.clone()))
    };
    assert_eq!(app.send(by_key()).await.status, 200);

    let disabled = app.send(patch(json!({"is_active": false}))).await;
    assert_eq!(disabled.status, 200, "{}", disabled.text);
    app.send(by_key()).await.assert(401, "invalid_api_key");
    let enabled = app.send(patch(json!({"is_active": true}))).await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);
    app.send(by_key()).await.assert(401, "invalid_api_key");
    app.send(exchange(&key, "198.51.100.7"))
        .await
        .assert(401, "invalid_api_key");
    app.get("/profile", &minted)
        .await
        .assert(401, "invalid_token");
    app.get("/profile", &token)
        .await
        .assert(401, "invalid_token");
    // The owner logs in again and sees the key revoked; a new one works.
    let token = app.token("alice").await;
    let keys = app.get("/api-keys", &token).await;
    assert!(!keys.body[0]["revoked_at"].is_null(), "{}", keys.text);
    let fresh = app.api_key(&token).await;

    // As the operator's `auth-server users disable` does it.
    app.disable("alice").await;
    app.send(
        TestRequest::get()
            .uri("/profile")
            .insert_header(("X-API-Key", fresh)),
    )
    .await
    .assert(401, "invalid_api_key");
}
