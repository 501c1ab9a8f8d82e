//! Findings 4, 9 and 10 of the second security review, about the second factor: turning it on
//! left older credentials alive and the password alone turned it off; its confirmation was an
//! unthrottled code oracle; and right passwords counted as failures against the right code.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::{
    helpers::{PASSWORD, TestApp, bearer},
    mfa::{audit, claims, code, delete, enrol, mfa_token, post, with_code, wrong_code},
};

crate::on_every_store!(
    confirming_a_second_factor_ends_every_other_session,
    turning_the_second_factor_off_needs_a_code_as_well_as_the_password,
    wrong_confirmation_codes_count_toward_the_lockout,
    the_confirmation_is_rate_limited,
    right_passwords_never_lock_out_the_second_factor,
);

/// Finding 4: after the confirmation, a session from before (its access and refresh tokens)
/// is dead; the confirming session goes on, and its refreshed tokens say it passed the second
/// factor. API keys are kept.
async fn confirming_a_second_factor_ends_every_other_session(app: TestApp) {
    app.register("alice").await;
    let confirming = app.login("alice").await;
    let old = app.login("alice").await;
    let token = confirming["access_token"].as_str().unwrap();
    let key = app.api_key(token).await;
    let old_access = old["access_token"].as_str().unwrap();
    // Both sessions are in the credential cache before the change.
    assert_eq!(app.get("/profile", old_access).await.status, 200);
    assert_eq!(app.get("/profile", token).await.status, 200);

    enrol(&app, token).await;

    app.get("/profile", old_access)
        .await
        .assert(401, "invalid_token");
    app.refresh(&old["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    assert_eq!(app.get("/profile", token).await.status, 200);
    let refreshed = app.refresh(&confirming["refresh_token"]).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    let access = refreshed.body["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["amr"], json!(["pwd", "otp"]));
    let sessions = app.get("/sessions", access).await;
    assert_eq!(
        sessions.body.as_array().unwrap().len(),
        1,
        "{}",
        sessions.text
    );
    // The API key stays (the docs say so).
    let with_key = app
        .send(
            TestRequest::get()
                .uri("/profile")
                .insert_header(("X-API-Key", key)),
        )
        .await;
    assert_eq!(with_key.status, 200, "{}", with_key.text);
}

/// Finding 4: `DELETE /mfa/totp` needs a current code or a recovery code besides the password;
/// a wrong one is refused and counts. A pending enrolment is discarded with the password alone.
async fn turning_the_second_factor_off_needs_a_code_as_well_as_the_password(app: TestApp) {
    let token = app.user("alice").await;
    let (secret, recovery) = enrol(&app, &token).await;
    delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await
    .assert(422, "validation_error");
    delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD, "code": code(&secret, 1), "recovery_code": recovery[0]}),
    )
    .await
    .assert(422, "validation_error");
    for body in [
        json!({"current_password": PASSWORD, "code": wrong_code(&secret)}),
        json!({"current_password": PASSWORD, "recovery_code": "aaaa-bbbb-cccc-dddd"}),
    ] {
        delete(&app, "/mfa/totp", &token, body)
            .await
            .assert(403, "invalid_code");
    }
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], true);
    let off = delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD, "recovery_code": recovery[0]}),
    )
    .await;
    assert_eq!(off.status, 204, "{}", off.text);
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], false);

    // On again; off with a current code this time.
    let (secret, _) = enrol(&app, &token).await;
    let off = delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD, "code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(off.status, 204, "{}", off.text);
    // A pending enrolment has no code to give: the password discards it.
    let pending = post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(pending.status, 201, "{}", pending.text);
    let discarded = delete(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(discarded.status, 204, "{}", discarded.text);

    let admin = app.admin("root").await;
    let details: Vec<_> = audit(&app, &admin, "mfa.disabled")
        .await
        .iter()
        .map(|e| e["detail"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        details,
        [
            "pending enrolment discarded",
            "totp",
            "totp",
            "recovery_code: wrong, stale or used",
            "totp: wrong, stale or used",
        ],
    );
}

/// Finding 9: each wrong code at `POST /mfa/totp/confirm` is a failed password attempt, so the
/// fifth locks the client out of the account: the right code and the password are refused.
async fn wrong_confirmation_codes_count_toward_the_lockout(app: TestApp) {
    let token = app.user("alice").await;
    let started = post(
        &app,
        "/mfa/totp",
        &token,
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let secret = started.body["secret"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        post(
            &app,
            "/mfa/totp/confirm",
            &token,
            json!({"code": wrong_code(&secret)}),
        )
        .await
        .assert(422, "invalid_code");
    }
    let locked = post(
        &app,
        "/mfa/totp/confirm",
        &token,
        json!({"code": code(&secret, 0)}),
    )
    .await;
    locked.assert(429, "too_many_attempts");
    assert!(locked.header("retry-after").is_some());
    app.login_with("alice", PASSWORD)
        .await
        .assert(429, "too_many_attempts");
    assert_eq!(app.get("/profile", &token).await.body["mfa_enabled"], false);
}

/// Finding 9: the confirmation is rate-limited per client address like the login routes.
async fn the_confirmation_is_rate_limited(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "3")]);
    let token = app.user("alice").await;
    let confirm = || {
        TestRequest::post()
            .uri("/mfa/totp/confirm")
            .peer_addr("198.51.100.9:50000".parse().unwrap())
            .insert_header(bearer(&token))
            .set_json(json!({"code": "000000"}))
    };
    for _ in 0..3 {
        app.send(confirm())
            .await
            .assert(409, "mfa_enrolment_not_started");
    }
    let limited = app.send(confirm()).await;
    limited.assert(429, "too_many_requests");
    assert!(limited.header("retry-after").is_some());
}

/// Finding 10: right passwords on an account with a second factor are no failures: after six
/// of them the right code still logs in; only wrong codes count.
async fn right_passwords_never_lock_out_the_second_factor(app: TestApp) {
    let token = app.user("alice").await;
    let (secret, _) = enrol(&app, &token).await;
    let mut last = String::new();
    for _ in 0..6 {
        last = mfa_token(&app, "alice").await;
    }
    let tokens = with_code(&app, &last, &code(&secret, 1)).await;
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    // With wrong codes between them, right passwords neither count nor clear: four wrong
    // codes, a right password, then a fifth wrong code lock the client out.
    let first = mfa_token(&app, "alice").await;
    for _ in 0..4 {
        with_code(&app, &first, &wrong_code(&secret))
            .await
            .assert(401, "invalid_code");
    }
    let second = mfa_token(&app, "alice").await;
    with_code(&app, &second, &wrong_code(&secret))
        .await
        .assert(401, "invalid_code");
    app.login_with("alice", PASSWORD)
        .await
        .assert(429, "too_many_attempts");
}
