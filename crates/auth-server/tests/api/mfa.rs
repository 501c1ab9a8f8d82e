//! The second factor through the real app: enrolment (password, then a confirming code),
//! `mfa_required` at `/login` and `/token`, the second step at `/login/mfa` (codes, replays,
//! recovery codes, the `mfa_token`'s limits), disabling, the admins' reset, and codes made by an
//! independent implementation (pyotp).
//!
//! Codes are computed here with totp-rs for the current 30-second step and the next one. The
//! server accepts one step either side of its own, so a step boundary passing between the two
//! clocks changes nothing; the tests never wait.

use std::{
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

use actix_web::test::TestRequest;
use auth_core::MfaToken;
use auth_diesel::DieselStore;
use auth_domain::{MfaChallenge, MfaStore, now};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Secret, TOTP};

use crate::helpers::{PASSWORD, Reply, TestApp, bearer};

crate::on_every_store!(
    enrolment_needs_the_password_and_a_confirming_code,
    login_asks_for_the_second_factor_and_its_tokens_say_so,
    wrong_and_replayed_codes_are_refused,
    mfa_tokens_are_single_use_bound_and_expire,
    five_wrong_codes_kill_the_mfa_token,
    wrong_codes_count_toward_the_lockout,
    recovery_codes_work_once_each,
    disabling_makes_login_one_step_again,
    admins_reset_a_lost_device,
    the_token_endpoint_asks_for_the_second_factor_too,
);

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code of `secret` (base32) for the current step plus `offset` steps.
pub(crate) fn code(secret: &str, offset: i64) -> String {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    let totp = TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let at = unix_now() as i64 + offset * 30;
    totp.generate(u64::try_from(at).unwrap())
}

/// A code that is none of `secret`'s from two steps back to two ahead.
pub(crate) fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|offset| code(secret, offset)).collect();
    (0..)
        .map(|n| format!("{n:06}"))
        .find(|candidate| !near.contains(candidate))
        .unwrap()
}

pub(crate) async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.send(
        TestRequest::post()
            .uri(path)
            .insert_header(bearer(token))
            .set_json(body),
    )
    .await
}

pub(crate) async fn delete(app: &TestApp, path: &str, token: &str, body: Value) -> Reply {
    app.send(
        TestRequest::delete()
            .uri(path)
            .insert_header(bearer(token))
            .set_json(body),
    )
    .await
}

/// Turns the second factor on for the holder of `token` (confirming with the current step's
/// code); returns the secret and the recovery codes.
pub(crate) async fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let started = post(
        app,
        "/mfa/totp",
        token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let secret = started.body["secret"].as_str().unwrap().to_owned();
    let confirmed = post(
        app,
        "/mfa/totp/confirm",
        token,
        json!({"code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let codes = confirmed.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (secret, codes)
}

/// Logs in with the right password, expecting `403 mfa_required`; returns the `mfa_token`.
pub(crate) async fn mfa_token(app: &TestApp, username: &str) -> String {
    let reply = app.login_with(username, PASSWORD).await;
    reply.assert(403, "mfa_required");
    assert!(reply.body.get("access_token").is_none(), "{}", reply.text);
    reply.body["mfa_token"].as_str().unwrap().to_owned()
}

async fn second_step(app: &TestApp, body: Value) -> Reply {
    app.post_json("/login/mfa", body).await
}

pub(crate) async fn with_code(app: &TestApp, mfa_token: &str, code: &str) -> Reply {
    second_step(app, json!({"mfa_token": mfa_token, "code": code})).await
}

/// The claims of an access token, read without verifying (the app verified it).
pub(crate) fn claims(access_token: &str) -> Value {
    let payload = access_token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// The audit events with `action`, newest first, as an admin reads them.
pub(crate) async fn audit(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let reply = app.get("/admin/audit?limit=200", admin).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

async fn enrolment_needs_the_password_and_a_confirming_code(app: TestApp) {
    let token = app.user("alice").await;
    let key = app.api_key(&token).await;
    // The cached user is read once before the change: the change must reach the cache.
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], false);
    post(&app, "/mfa/totp", &token, json!({}))
        .await
        .assert(422, "current_password_required");
    post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": "not my password"}),
    )
    .await
    .assert(403, "invalid_current_password");
    post(&app, "/mfa/totp/confirm", &token, json!({"code": "123456"}))
        .await
        .assert(409, "mfa_enrolment_not_started");
    let by_key = app
        .send(
            TestRequest::post()
                .uri("/mfa/totp")
                .insert_header(("X-API-Key", key))
                .set_json(json!({"current_password": PASSWORD})),
        )
        .await;
    by_key.assert(403, "session_required");

    let first = post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(first.header("pragma"), Some("no-cache"));
    let old = first.body["secret"].as_str().unwrap().to_owned();
    assert_eq!(Secret::Encoded(old.clone()).to_bytes().unwrap().len(), 20);
    assert_eq!(
        first.body["otpauth_uri"],
        format!(
            "otpauth://totp/auth-server:alice?secret={old}&issuer=auth-server\
             &algorithm=SHA1&digits=6&period=30"
        )
    );
    // Pending: nothing changes yet.
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], false);
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);

    // A new enrolment replaces the pending one: the old secret's codes no longer confirm.
    let second = post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(second.status, 201, "{}", second.text);
    let secret = second.body["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, old);
    post(
        &app,
        "/mfa/totp/confirm",
        &token,
        json!({"code": code(&old, 0)}),
    )
    .await
    .assert(422, "invalid_code");
    post(
        &app,
        "/mfa/totp/confirm",
        &token,
        json!({"code": wrong_code(&secret)}),
    )
    .await
    .assert(422, "invalid_code");
    post(&app, "/mfa/totp/confirm", &token, json!({}))
        .await
        .assert(422, "validation_error");

    let confirmed = post(
        &app,
        "/mfa/totp/confirm",
        &token,
        json!({"code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.header("cache-control"), Some("no-store"));
    let codes = confirmed.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    // On at once, for the very token that was cached before.
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], true);
    post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await
    .assert(409, "mfa_already_enabled");
    post(
        &app,
        "/mfa/totp/confirm",
        &token,
        json!({"code": code(&secret, 1)}),
    )
    .await
    .assert(409, "mfa_already_enabled");
    mfa_token(&app, "alice").await;

    let admin = app.admin("root").await;
    let enrolled = audit(&app, &admin, "mfa.enrolled").await;
    let outcomes: Vec<_> = enrolled.iter().map(|e| e["outcome"].clone()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "success").count(),
        1,
        "{enrolled:?}"
    );
    assert_eq!(enrolled[0]["detail"], "totp; 10 recovery codes");
    let log = app.get("/admin/audit?limit=200", &admin).await.text;
    for secret in [&old, &secret] {
        assert!(
            !log.contains(secret.as_str()),
            "a secret is in the audit log"
        );
    }
}

async fn login_asks_for_the_second_factor_and_its_tokens_say_so(app: TestApp) {
    let token = app.user("alice").await;
    let bob = app.user("bob").await;
    let (secret, _) = enrol(&app, &token).await;

    let challenged = app
        .post_json(
            "/login",
            json!({"username": "alice", "password": PASSWORD, "expires_in": 120}),
        )
        .await;
    challenged.assert(403, "mfa_required");
    assert_eq!(challenged.header("cache-control"), Some("no-store"));
    let mfa_token = challenged.body["mfa_token"].as_str().unwrap().to_owned();
    assert_eq!(mfa_token.len(), 43);
    assert!(challenged.body.get("access_token").is_none());

    // A wrong password answers exactly as for anyone else: nothing says the account has MFA.
    let wrong_alice = app.login_with("alice", "not the password").await;
    let wrong_bob = app.login_with("bob", "not the password").await;
    wrong_alice.assert(401, "invalid_credentials");
    assert_eq!(wrong_alice.text, wrong_bob.text);
    assert_eq!(
        wrong_alice.header("www-authenticate"),
        wrong_bob.header("www-authenticate")
    );

    let tokens = with_code(&app, &mfa_token, &code(&secret, 1)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    assert_eq!(tokens.body["token_type"], "bearer");
    assert_eq!(tokens.body["expires_in"], 120);
    let access = tokens.body["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["amr"], json!(["pwd", "otp"]));
    assert_eq!(app.get("/profile", access).await.body["username"], "alice");
    // A refreshed token of that session still says so; a one-step login's token has no amr.
    let refreshed = app.refresh(&tokens.body["refresh_token"]).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let refreshed = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(claims(refreshed)["amr"], json!(["pwd", "otp"]));
    assert!(claims(&bob).get("amr").is_none(), "{}", claims(&bob));

    let admin = app.admin("root").await;
    let logins = audit(&app, &admin, "login").await;
    assert!(
        logins
            .iter()
            .any(|e| e["detail"] == "password+totp" && e["outcome"] == "success"),
        "{logins:?}"
    );
    let challenged = audit(&app, &admin, "mfa.challenged").await;
    assert_eq!(challenged.len(), 1, "{challenged:?}");
}

async fn wrong_and_replayed_codes_are_refused(app: TestApp) {
    // A high lockout limit: the lockout is not what this is about.
    let app = app.with_settings(&[("security.max_failed_logins", "100")]);
    let token = app.user("alice").await;
    let (secret, _) = enrol(&app, &token).await;
    let junk_token = mfa_token(&app, "alice").await;
    for junk in ["", "12345", "abcdef", "1234567"] {
        with_code(&app, &junk_token, junk)
            .await
            .assert(401, "invalid_code");
    }
    let first = mfa_token(&app, "alice").await;
    with_code(&app, &first, &wrong_code(&secret))
        .await
        .assert(401, "invalid_code");
    second_step(&app, json!({"mfa_token": first}))
        .await
        .assert(422, "validation_error");
    second_step(
        &app,
        json!({"mfa_token": first, "code": code(&secret, 1), "recovery_code": "x"}),
    )
    .await
    .assert(422, "validation_error");
    // The token survives wrong codes (up to its limit), and the right one opens the session.
    let next = code(&secret, 1);
    assert_eq!(with_code(&app, &first, &next).await.status, 200);
    // The same code again, in another login: refused, as is the older confirming code.
    let again = mfa_token(&app, "alice").await;
    with_code(&app, &again, &next)
        .await
        .assert(401, "invalid_code");
    with_code(&app, &again, &code(&secret, 0))
        .await
        .assert(401, "invalid_code");
}

async fn mfa_tokens_are_single_use_bound_and_expire(app: TestApp) {
    let token = app.user("alice").await;
    let (secret, _) = enrol(&app, &token).await;
    let used = mfa_token(&app, "alice").await;
    assert_eq!(with_code(&app, &used, &code(&secret, 1)).await.status, 200);
    with_code(&app, &used, &wrong_code(&secret))
        .await
        .assert(401, "invalid_mfa_token");
    // Never a bearer token.
    let live = mfa_token(&app, "alice").await;
    app.get("/profile", &live)
        .await
        .assert(401, "invalid_token");
    with_code(&app, MfaToken::generate().expose(), "123456")
        .await
        .assert(401, "invalid_mfa_token");
    with_code(&app, &"x".repeat(10_000), "123456")
        .await
        .assert(401, "invalid_mfa_token");

    // Expired: the live challenge, copied under new tokens with a past and a future expiry.
    let store = DieselStore::connect(app.database.url(), 1).unwrap();
    let challenge = store
        .mfa_challenge(&MfaToken::from_client(live.clone()).digest())
        .unwrap()
        .unwrap();
    let copy = |expires_at| {
        let token = MfaToken::generate();
        store
            .create_mfa_challenge(&MfaChallenge {
                token_hash: token.digest(),
                expires_at,
                ..challenge.clone()
            })
            .unwrap();
        token.expose().to_owned()
    };
    // (The expired one last: making a challenge forgets those expired before it.)
    let fresh = copy(now() + TimeDelta::minutes(5));
    let expired = copy(now() - TimeDelta::seconds(1));
    with_code(&app, &expired, &wrong_code(&secret))
        .await
        .assert(401, "invalid_mfa_token");
    // The same challenge unexpired is alive: only the time differs.
    with_code(&app, &fresh, &wrong_code(&secret))
        .await
        .assert(401, "invalid_code");

    // Bound to the password check: a password change in between kills it.
    let new_password = "a whole new passphrase 93";
    let changed = app
        .send(
            TestRequest::patch()
                .uri("/profile")
                .insert_header(bearer(&token))
                .set_json(json!({"password": new_password, "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    with_code(&app, &live, &wrong_code(&secret))
        .await
        .assert(401, "invalid_mfa_token");
    app.login_with("alice", new_password)
        .await
        .assert(403, "mfa_required");
}

async fn five_wrong_codes_kill_the_mfa_token(app: TestApp) {
    // A high lockout limit, so that only the token's own limit is at work here.
    let app = app.with_settings(&[("security.max_failed_logins", "100")]);
    let token = app.user("alice").await;
    let (secret, _) = enrol(&app, &token).await;
    let right = code(&secret, 1);
    let doomed = mfa_token(&app, "alice").await;
    for _ in 0..5 {
        with_code(&app, &doomed, &wrong_code(&secret))
            .await
            .assert(401, "invalid_code");
    }
    with_code(&app, &doomed, &right)
        .await
        .assert(401, "invalid_mfa_token");
    // Four wrong codes leave it alive.
    let survivor = mfa_token(&app, "alice").await;
    for _ in 0..4 {
        with_code(&app, &survivor, &wrong_code(&secret))
            .await
            .assert(401, "invalid_code");
    }
    assert_eq!(with_code(&app, &survivor, &right).await.status, 200);
    let admin = app.admin("root").await;
    let failed = audit(&app, &admin, "mfa.challenge_failed").await;
    assert_eq!(failed.len(), 9, "{failed:?}");
    assert_eq!(
        failed[4]["detail"],
        "totp: wrong, stale or used; 5 of 5 wrong codes for this mfa_token"
    );
}

async fn wrong_codes_count_toward_the_lockout(app: TestApp) {
    // The default limit: five failed password checks from one client lock it out. The right
    // password of an account with a second factor neither counts nor clears the count; only
    // the second factor clears it, and every wrong code counts.
    let token = app.user("alice").await;
    let (secret, _) = enrol(&app, &token).await;
    let first = mfa_token(&app, "alice").await;
    for _ in 0..4 {
        with_code(&app, &first, &wrong_code(&secret))
            .await
            .assert(401, "invalid_code");
    }
    // Logging in again does not clear them: the fifth wrong code, with a new mfa_token, locks.
    let mfa = mfa_token(&app, "alice").await;
    with_code(&app, &mfa, &wrong_code(&secret))
        .await
        .assert(401, "invalid_code");
    // The token itself would take more codes (see five_wrong_codes_kill_the_mfa_token), but
    // this client is now locked out of the account: even the right code is not checked.
    let locked = with_code(&app, &mfa, &code(&secret, 1)).await;
    locked.assert(429, "too_many_attempts");
    assert!(locked.header("retry-after").is_some());
    app.login_with("alice", PASSWORD)
        .await
        .assert(429, "too_many_attempts");
}

async fn recovery_codes_work_once_each(app: TestApp) {
    let token = app.user("alice").await;
    let (_, codes) = enrol(&app, &token).await;
    let first = mfa_token(&app, "alice").await;
    let tokens = second_step(&app, json!({"mfa_token": first, "recovery_code": codes[0]})).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let access = tokens.body["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["amr"], json!(["pwd", "otp"]));
    let second = mfa_token(&app, "alice").await;
    second_step(
        &app,
        json!({"mfa_token": second, "recovery_code": codes[0]}),
    )
    .await
    .assert(401, "invalid_code");
    second_step(
        &app,
        json!({"mfa_token": second, "recovery_code": "aaaa-bbbb-cccc-dddd"}),
    )
    .await
    .assert(401, "invalid_code");
    // Read loosely: case, spaces and dashes do not matter.
    let typed = codes[1].to_uppercase().replace('-', " ");
    let tokens = second_step(&app, json!({"mfa_token": second, "recovery_code": typed})).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let admin = app.admin("root").await;
    let used = audit(&app, &admin, "mfa.recovery_used").await;
    assert_eq!(used.len(), 2, "{used:?}");
    assert_eq!(used[0]["detail"], "8 recovery codes left");
    let log = app.get("/admin/audit?limit=200", &admin).await.text;
    assert!(!log.contains(&codes[0]) && !log.contains(&codes[1]));
}

async fn disabling_makes_login_one_step_again(app: TestApp) {
    let token = app.user("alice").await;
    let (secret, _) = enrol(&app, &token).await;
    let pending = mfa_token(&app, "alice").await;
    delete(&app, "/mfa/totp", &token, json!({}))
        .await
        .assert(422, "current_password_required");
    delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": "not my password", "code": code(&secret, 1)}),
    )
    .await
    .assert(403, "invalid_current_password");
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], true);
    let off = delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD, "code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(off.status, 204, "{}", off.text);
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], false);
    let login = app.login_with("alice", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
    assert!(
        claims(login.body["access_token"].as_str().unwrap())
            .get("amr")
            .is_none()
    );
    // A login that was waiting for its code is gone with the second factor.
    with_code(&app, &pending, &code(&secret, 1))
        .await
        .assert(401, "invalid_mfa_token");
    delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await
    .assert(409, "mfa_not_enabled");
    // It can be turned on again, with a new secret.
    let (again, _) = enrol(&app, &token).await;
    assert_ne!(again, secret);
    let admin = app.admin("root").await;
    let disabled = audit(&app, &admin, "mfa.disabled").await;
    let details: Vec<_> = disabled.iter().map(|e| e["detail"].clone()).collect();
    assert_eq!(
        details,
        [json!("totp"), json!("wrong_current_password")],
        "{disabled:?}"
    );
}

async fn admins_reset_a_lost_device(app: TestApp) {
    let token = app.user("alice").await;
    let alice = app.get("/profile", &token).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    enrol(&app, &token).await;
    let admin = app.admin("root").await;
    let path = format!("/admin/users/{alice}/mfa");
    let shown = app.get(&format!("/admin/users/{alice}"), &admin).await;
    assert_eq!(shown.body["mfa_enabled"], true);
    let listed = app.get("/admin/users?q=alice", &admin).await;
    assert_eq!(listed.body["users"][0]["mfa_enabled"], true);
    delete(&app, &path, &token, json!({}))
        .await
        .assert(403, "forbidden");
    let reset = app
        .send(
            TestRequest::delete()
                .uri(&path)
                .insert_header(bearer(&admin)),
        )
        .await;
    assert_eq!(reset.status, 204, "{}", reset.text);
    assert_eq!(
        app.get(&format!("/admin/users/{alice}"), &admin).await.body["mfa_enabled"],
        false
    );
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], false);
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
    app.send(
        TestRequest::delete()
            .uri(&path)
            .insert_header(bearer(&admin)),
    )
    .await
    .assert(409, "mfa_not_enabled");
    app.send(
        TestRequest::delete()
            .uri("/admin/users/00000000-0000-0000-0000-000000000000/mfa")
            .insert_header(bearer(&admin)),
    )
    .await
    .assert(404, "not_found");
    let resets = audit(&app, &admin, "mfa.reset").await;
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(resets[0]["target"], alice.as_str());
    assert!(resets[0]["actor"].is_string());
}

async fn the_token_endpoint_asks_for_the_second_factor_too(app: TestApp) {
    let token = app.user("alice").await;
    app.register("bob").await;
    let (secret, _) = enrol(&app, &token).await;
    let form = |user: &str, password: &str| {
        TestRequest::post()
            .uri("/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload(format!(
                "grant_type=password&username={user}&password={}",
                password.replace(' ', "+")
            ))
    };
    let challenged = app.send(form("alice", PASSWORD)).await;
    challenged.assert(403, "mfa_required");
    assert_eq!(
        challenged.body["error_description"],
        challenged.body["detail"]
    );
    assert_eq!(challenged.header("cache-control"), Some("no-store"));
    assert_eq!(challenged.header("pragma"), Some("no-cache"));
    assert!(challenged.body.get("access_token").is_none());
    let mfa = challenged.body["mfa_token"].as_str().unwrap();
    let tokens = with_code(&app, mfa, &code(&secret, 1)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert_eq!(tokens.body["expires_in"], 900);
    // A wrong password is the usual invalid_grant, as for anyone.
    let wrong_alice = app.send(form("alice", "not the password")).await;
    let wrong_bob = app.send(form("bob", "not the password")).await;
    wrong_alice.assert(400, "invalid_grant");
    assert_eq!(wrong_alice.body, wrong_bob.body);
}

/// pyotp, an implementation independent of ours, reads our `otpauth://` URI and makes codes
/// that we accept, both to confirm the enrolment and to log in.
#[actix_web::test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "pyotp interop: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with pyotp)"
)]
async fn pyotp_makes_codes_that_we_accept() {
    require_pyotp();
    let app = TestApp::sqlite();
    let token = app.user("alice").await;
    let started = post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let uri = started.body["otpauth_uri"].as_str().unwrap();
    // The code of the current step, and of the next one (for the login).
    let script = "import sys, time, pyotp\n\
                  totp = pyotp.parse_uri(sys.argv[1])\n\
                  assert (totp.digits, totp.interval, totp.issuer, totp.name) == \
                  (6, 30, 'auth-server', 'alice'), vars(totp)\n\
                  now = int(time.time())\n\
                  print(totp.at(now), totp.at(now + 30))";
    let output = Command::new("python3")
        .args(["-c", script, uri])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).unwrap();
    let codes: Vec<&str> = printed.split_whitespace().collect();
    assert_eq!(codes.len(), 2, "{printed}");
    let confirmed = post(&app, "/mfa/totp/confirm", &token, json!({"code": codes[0]})).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let mfa = mfa_token(&app, "alice").await;
    let tokens = with_code(&app, &mfa, codes[1]).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
}

/// Fails unless python3 with pyotp is here: the interop test runs only when asked for
/// (AUTH_TEST_REQUIRE_INTEROP, see build.rs), and then it must not pass without pyotp.
fn require_pyotp() {
    let found = Command::new("python3")
        .args(["-c", "import pyotp"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the pyotp interop test needs python3 with pyotp: `python3 -m pip install pyotp`"
    );
}
