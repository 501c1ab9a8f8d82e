//! Finding 1 of the second security review: a password change must remove an attacker whose
//! work is already in flight. Logins, API-key creations and second login steps that checked
//! the old password run concurrently with the change; whatever they produced must be refused
//! afterwards, however their steps interleaved with the change's.
//!
//! No sleeps: every attempt is sent at once, the change among them, and the hashing pool runs
//! them side by side. The assertions hold for every interleaving; without the store's guard
//! the interleavings that let a credential survive come up in nearly every run.

use actix_web::test::TestRequest;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::{
    helpers::{PASSWORD, Reply, TestApp, bearer},
    mfa::enrol,
};

crate::on_every_store!(
    nothing_checked_against_the_old_password_survives_its_change,
    second_login_steps_in_flight_do_not_survive_a_password_change,
);

const NEW_PASSWORD: &str = "a completely new passphrase";
const LOGINS: usize = 24;
const KEYS: usize = 12;

/// Many hashing threads and connections, no rate limit and no lockout in the way: as many
/// attempts as possible are in flight at the moment of the change.
fn racing(app: TestApp) -> TestApp {
    app.with_settings(&[
        ("password.hash_threads", "8"),
        ("database.pool_size", "16"),
        ("security.rate_limit_per_minute", "0"),
        ("security.max_failed_logins", "1000"),
        ("security.max_failed_logins_per_user", "1000"),
    ])
}

/// What one racing request was.
enum Attempt {
    Login,
    Key,
    Change,
}

fn change_password(token: &str) -> TestRequest {
    TestRequest::patch()
        .uri("/profile")
        .insert_header(bearer(token))
        .set_json(json!({"password": NEW_PASSWORD, "current_password": PASSWORD}))
}

async fn nothing_checked_against_the_old_password_survives_its_change(app: TestApp) {
    let app = racing(app);
    let owner = app.user("alice").await;
    // The attacker's stolen session, and the old password.
    let stolen = app.token("alice").await;
    // Both sessions in the credential cache, so that no request waits for the store before it
    // reaches the hashing pool: the change is queued among the attempts, not behind them.
    for token in [&owner, &stolen] {
        assert_eq!(app.get("/profile", token).await.status, 200);
    }

    let mut requests = Vec::new();
    for n in 0..LOGINS + KEYS {
        if n == (LOGINS + KEYS) / 2 {
            requests.push((Attempt::Change, change_password(&owner)));
        }
        requests.push(if n % 3 == 2 {
            (
                Attempt::Key,
                TestRequest::post()
                    .uri("/api-keys")
                    .insert_header(bearer(&stolen))
                    .set_json(json!({"name": format!("k{n}"), "current_password": PASSWORD})),
            )
        } else {
            (
                Attempt::Login,
                TestRequest::post()
                    .uri("/login")
                    .set_json(json!({"username": "alice", "password": PASSWORD})),
            )
        });
    }
    let (kinds, requests): (Vec<_>, Vec<_>) = requests.into_iter().unzip();
    let replies = join_all(requests.into_iter().map(|request| app.send(request))).await;

    let (mut sessions, mut keys) = (Vec::new(), Vec::new());
    for (kind, reply) in kinds.iter().zip(&replies) {
        match kind {
            Attempt::Change => assert_eq!(reply.status, 200, "{}", reply.text),
            Attempt::Login if reply.status == 200 => sessions.push(reply.body.clone()),
            Attempt::Login => {
                reply.assert(401, "invalid_credentials");
            }
            Attempt::Key if reply.status == 201 => keys.push(reply.body["key"].clone()),
            Attempt::Key => assert_refused_key_creation(reply),
        }
    }
    eprintln!(
        "{} of {LOGINS} logins and {} of {KEYS} key creations got through; the change ended them all",
        sessions.len(),
        keys.len()
    );

    for session in &sessions {
        assert_session_ended(&app, session).await;
    }
    for key in &keys {
        let key = key.as_str().unwrap();
        app.send(
            TestRequest::get()
                .uri("/profile")
                .insert_header(("X-API-Key", key)),
        )
        .await
        .assert(401, "invalid_api_key");
        app.send(
            TestRequest::post()
                .uri("/login/api-key")
                .insert_header(("X-API-Key", key)),
        )
        .await
        .assert(401, "invalid_api_key");
    }
    app.get("/profile", &stolen)
        .await
        .assert(401, "invalid_token");
    // The owner goes on, with the new password.
    assert_eq!(app.get("/profile", &owner).await.status, 200);
    let keys = app.get("/api-keys", &owner).await;
    let live: Vec<_> = keys
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["revoked_at"].is_null())
        .collect();
    assert!(live.is_empty(), "live keys after the change: {live:?}");
    assert_eq!(app.login_with("alice", NEW_PASSWORD).await.status, 200);
    app.login_with("alice", PASSWORD)
        .await
        .assert(401, "invalid_credentials");
}

/// A key creation that did not get through: the stolen session had already ended, or the old
/// password no longer was the password.
#[track_caller]
fn assert_refused_key_creation(reply: &Reply) {
    match reply.status.as_u16() {
        401 => reply.assert(401, "invalid_token"),
        _ => reply.assert(403, "invalid_current_password"),
    };
}

/// Neither the access token nor the refresh token of `session` works any more.
async fn assert_session_ended(app: &TestApp, session: &Value) {
    let access = session["access_token"].as_str().unwrap();
    app.get("/profile", access)
        .await
        .assert(401, "invalid_token");
    app.refresh(&session["refresh_token"])
        .await
        .assert(401, "invalid_grant");
}

/// The second step of a login (`POST /login/mfa`) checks a challenge that was bound to the old
/// password: those that finish as the password changes must not leave a session behind.
async fn second_login_steps_in_flight_do_not_survive_a_password_change(app: TestApp) {
    let app = racing(app);
    let owner = app.user("alice").await;
    let (_, recovery_codes) = enrol(&app, &owner).await;
    assert_eq!(app.get("/profile", &owner).await.status, 200);
    // The attacker knows the old password and holds recovery codes (as from a leaked backup).
    let mut mfa_tokens = Vec::new();
    for _ in &recovery_codes {
        let reply = app.login_with("alice", PASSWORD).await;
        reply.assert(403, "mfa_required");
        mfa_tokens.push(reply.body["mfa_token"].as_str().unwrap().to_owned());
    }

    let mut requests: Vec<TestRequest> = mfa_tokens
        .iter()
        .zip(&recovery_codes)
        .map(|(mfa_token, code)| {
            TestRequest::post()
                .uri("/login/mfa")
                .set_json(json!({"mfa_token": mfa_token, "recovery_code": code}))
        })
        .collect();
    // First: its two bcrypt runs give the second steps a head start, so that the change
    // commits while they are at work.
    let change_at = 0;
    requests.insert(change_at, change_password(&owner));
    let mut replies = join_all(requests.into_iter().map(|request| app.send(request))).await;
    let changed = replies.remove(change_at);
    assert_eq!(changed.status, 200, "{}", changed.text);

    let mut opened = 0;
    for reply in &replies {
        if reply.status == 200 {
            opened += 1;
            assert_session_ended(&app, &reply.body).await;
        } else {
            reply.assert(401, "invalid_mfa_token");
        }
    }
    eprintln!(
        "{opened} of {} second steps got through; the change ended them all",
        replies.len()
    );
    assert_eq!(app.get("/profile", &owner).await.status, 200);
}
