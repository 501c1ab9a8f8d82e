//! Verified addresses and email changes, through the real app: the links are read from the
//! app's MemoryMailer, as a user reads them from their inbox.

use actix_web::test::TestRequest;
use auth_core::{MailKind, Message};
use auth_domain::Email;
use serde_json::{Value, json};

use crate::{
    helpers::{LINK_BASE, PASSWORD, Reply, TestApp, bearer},
    mfa::{code, delete, enrol},
};

const NEW_PASSWORD: &str = "a brand new horse battery";

crate::on_every_store!(
    registration_sends_a_link_that_verifies_the_address_once,
    a_fresh_link_is_sent_on_request_within_the_limits,
    requesting_a_link_needs_an_unverified_address,
    a_verified_address_can_be_required_for_every_login,
    an_email_change_needs_the_password_and_waits_for_its_link,
    an_address_taken_meanwhile_is_refused_on_confirmation,
    removing_the_email_needs_the_password_and_tells_the_old_address,
    a_wrong_password_for_an_email_change_counts_toward_the_lockout,
    with_mail_off_an_email_change_applies_at_once_with_the_password,
    notices_go_to_verified_addresses_only,
);

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

async fn register_with_email(app: &TestApp, username: &str) -> Value {
    let reply = app
        .post_json(
            "/register",
            json!({
                "username": username,
                "password": PASSWORD,
                "email": format!("{username}@example.com"),
            }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body
}

/// The token of the verify-email link in `message`, checking the link's form.
fn token_in(message: &Message) -> String {
    let prefix = format!("{LINK_BASE}/verify-email?token=");
    let start = message
        .text()
        .find(&prefix)
        .unwrap_or_else(|| panic!("no verify-email link in {}", message.text()))
        + prefix.len();
    let token: String = message.text()[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "{token}");
    assert!(message.html().contains(&format!("{prefix}{token}")));
    token
}

/// The token of the last message of `kind` to `to`.
fn last_token(app: &TestApp, kind: MailKind, to: &str) -> String {
    let message = app
        .mail()
        .last(kind, &email(to))
        .unwrap_or_else(|| panic!("no {kind} message to {to}"));
    token_in(&message)
}

fn sent(app: &TestApp, kind: MailKind, to: &str) -> usize {
    app.mail()
        .messages()
        .iter()
        .filter(|m| m.kind() == kind && m.to() == &email(to))
        .count()
}

async fn verify(app: &TestApp, token: &str) -> Reply {
    app.post_json("/email/verify", json!({"token": token}))
        .await
}

async fn request_link(app: &TestApp, access: &str) -> Reply {
    app.send(
        TestRequest::post()
            .uri("/email/verify/request")
            .insert_header(bearer(access)),
    )
    .await
}

async fn patch_profile(app: &TestApp, access: &str, body: Value) -> Reply {
    app.send(
        TestRequest::patch()
            .uri("/profile")
            .insert_header(bearer(access))
            .set_json(body),
    )
    .await
}

/// Registers `username` with an address and verifies it with the link sent at registration.
async fn verified_user(app: &TestApp, username: &str) -> String {
    register_with_email(app, username).await;
    let address = format!("{username}@example.com");
    let token = last_token(app, MailKind::EmailVerification, &address);
    let reply = verify(app, &token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    app.token(username).await
}

async fn audit_actions(app: &TestApp, user_id: &Value) -> Vec<(String, String)> {
    let root = app.admin("root").await;
    let id = user_id.as_str().unwrap();
    let audit = app
        .get(&format!("/admin/audit?user={id}&limit=200"), &root)
        .await;
    audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

async fn registration_sends_a_link_that_verifies_the_address_once(app: TestApp) {
    let registered = register_with_email(&app, "alice").await;
    assert_eq!(registered["email_verified"], false);
    assert_eq!(registered["pending_email"], Value::Null);
    // Registering without an address sends nothing.
    app.register("nomail").await;
    let messages = app.mail().messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].kind(), MailKind::EmailVerification);
    assert!(
        messages[0].text().contains("24 hours"),
        "{}",
        messages[0].text()
    );
    let token = last_token(&app, MailKind::EmailVerification, "alice@example.com");

    let reply = verify(&app, &token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["id"], registered["id"]);
    assert_eq!(reply.body["email"], "alice@example.com");
    assert_eq!(reply.body["email_verified"], true);
    let access = app.token("alice").await;
    assert_eq!(
        app.get("/profile", &access).await.body["email_verified"],
        true
    );

    // Once only; anything else is not a token.
    verify(&app, &token)
        .await
        .assert(400, "invalid_verification_token");
    verify(&app, "not-a-token")
        .await
        .assert(400, "invalid_verification_token");
    verify(&app, "")
        .await
        .assert(400, "invalid_verification_token");
    verify(&app, &"x".repeat(500))
        .await
        .assert(400, "invalid_verification_token");
    app.post_json("/email/verify", json!({}))
        .await
        .assert(422, "validation_error");

    let actions = audit_actions(&app, &registered["id"]).await;
    assert!(
        actions.contains(&("email.verified".into(), "verification".into())),
        "{actions:?}"
    );
}

async fn a_fresh_link_is_sent_on_request_within_the_limits(app: TestApp) {
    register_with_email(&app, "alice").await;
    let first = last_token(&app, MailKind::EmailVerification, "alice@example.com");
    let access = app.token("alice").await;
    // The link at registration was not asked for: it does not count.
    let reply = request_link(&app, &access).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(
        sent(&app, MailKind::EmailVerification, "alice@example.com"),
        2
    );
    let second = last_token(&app, MailKind::EmailVerification, "alice@example.com");
    assert_ne!(first, second);
    // Within a minute: the same answer, nothing sent.
    let reply = request_link(&app, &access).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(
        sent(&app, MailKind::EmailVerification, "alice@example.com"),
        2
    );
    // The newer link voids the older.
    verify(&app, &first)
        .await
        .assert(400, "invalid_verification_token");
    assert_eq!(verify(&app, &second).await.status, 200);
}

async fn requesting_a_link_needs_an_unverified_address(app: TestApp) {
    let nomail = app.user("nomail").await;
    request_link(&app, &nomail).await.assert(422, "no_email");
    let alice = verified_user(&app, "alice").await;
    request_link(&app, &alice)
        .await
        .assert(409, "email_already_verified");
    app.send(TestRequest::post().uri("/email/verify/request"))
        .await
        .assert(401, "not_authenticated");
    let key = app.api_key(&alice).await;
    app.send(
        TestRequest::post()
            .uri("/email/verify/request")
            .insert_header(("X-API-Key", key.as_str())),
    )
    .await
    .assert(403, "session_required");
}

async fn a_verified_address_can_be_required_for_every_login(app: TestApp) {
    // A key made before the rule: its exchange is refused once the rule is on.
    let bob = verified_user(&app, "bob").await;
    register_with_email(&app, "carol").await;
    let carol = app.token("carol").await;
    let carol_key = app.api_key(&carol).await;
    let bob_key = app.api_key(&bob).await;
    let app = app.with_settings(&[("security.require_verified_email", "true")]);

    app.try_register("nomail")
        .await
        .assert(422, "validation_error");
    register_with_email(&app, "alice").await;
    // The state of the account is told only to the one who knows the password.
    app.login_with("alice", "wrong horse battery")
        .await
        .assert(401, "invalid_credentials");
    app.login_with("alice", PASSWORD)
        .await
        .assert(403, "email_not_verified");
    let form = app
        .send(TestRequest::post().uri("/token").set_form([
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ]))
        .await;
    form.assert(403, "email_not_verified");
    let exchange = |key: String| {
        TestRequest::post()
            .uri("/login/api-key")
            .insert_header(("X-API-Key", key))
    };
    app.send(exchange(carol_key))
        .await
        .assert(403, "email_not_verified");
    assert_eq!(app.send(exchange(bob_key)).await.status, 200);

    let token = last_token(&app, MailKind::EmailVerification, "alice@example.com");
    assert_eq!(verify(&app, &token).await.status, 200);
    let login = app.login_with("alice", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.text);
}

async fn an_email_change_needs_the_password_and_waits_for_its_link(app: TestApp) {
    let access = verified_user(&app, "alice").await;
    let new = json!({"email": "alice@example.org"});
    patch_profile(&app, &access, new.clone())
        .await
        .assert(422, "current_password_required");
    patch_profile(
        &app,
        &access,
        json!({"email": "alice@example.org", "current_password": "wrong horse battery"}),
    )
    .await
    .assert(403, "invalid_current_password");
    assert_eq!(sent(&app, MailKind::EmailChange, "alice@example.org"), 0);

    let reply = patch_profile(
        &app,
        &access,
        json!({"email": "alice@example.org", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["email"], "alice@example.com");
    assert_eq!(reply.body["email_verified"], true);
    assert_eq!(reply.body["pending_email"], "alice@example.org");
    let profile = app.get("/profile", &access).await.body;
    assert_eq!(profile["email"], "alice@example.com");
    assert_eq!(profile["pending_email"], "alice@example.org");
    // The same address again is no change, and needs no password (a PUT of the whole profile).
    let same = patch_profile(&app, &access, json!({"email": "alice@example.com"})).await;
    assert_eq!(same.status, 200, "{}", same.text);
    assert_eq!(same.body["pending_email"], "alice@example.org");

    let message = app
        .mail()
        .last(MailKind::EmailChange, &email("alice@example.org"))
        .expect("an email_change message to the new address");
    assert!(message.text().contains("alice@example.org"));
    let token = token_in(&message);
    let confirmed = verify(&app, &token).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.body["email"], "alice@example.org");
    assert_eq!(confirmed.body["email_verified"], true);
    assert_eq!(confirmed.body["pending_email"], Value::Null);
    let profile = app.get("/profile", &access).await.body;
    assert_eq!(profile["email"], "alice@example.org");
    assert_eq!(profile["pending_email"], Value::Null);
    verify(&app, &token)
        .await
        .assert(400, "invalid_verification_token");

    // The old, verified address is told.
    let notice = app
        .mail()
        .last(MailKind::EmailChangedNotice, &email("alice@example.com"))
        .expect("an email_changed_notice to the old address");
    assert!(
        notice.text().contains("alice@example.org"),
        "{}",
        notice.text()
    );
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);

    let actions = audit_actions(&app, &profile["id"]).await;
    for expected in [
        ("email.changed", "pending"),
        ("email.verified", "email_change"),
    ] {
        assert!(
            actions.contains(&(expected.0.into(), expected.1.into())),
            "{actions:?}"
        );
    }
    assert!(
        actions
            .iter()
            .any(|(a, d)| a == "email.changed" && d == "wrong_current_password"),
        "{actions:?}"
    );
}

async fn an_address_taken_meanwhile_is_refused_on_confirmation(app: TestApp) {
    register_with_email(&app, "bob").await;
    let access = app.user("alice").await;
    patch_profile(
        &app,
        &access,
        json!({"email": "BOB@example.com", "current_password": PASSWORD}),
    )
    .await
    .assert(409, "email_taken");
    let reply = patch_profile(
        &app,
        &access,
        json!({"email": "shared@example.com", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let token = last_token(&app, MailKind::EmailChange, "shared@example.com");
    // A pending address is nobody's yet: carol registers it.
    let carol = app
        .post_json(
            "/register",
            json!({"username": "carol", "password": PASSWORD, "email": "shared@example.com"}),
        )
        .await;
    assert_eq!(carol.status, 201, "{}", carol.text);
    verify(&app, &token).await.assert(409, "email_taken");
    let profile = app.get("/profile", &access).await.body;
    assert_eq!(profile["email"], Value::Null);
}

async fn removing_the_email_needs_the_password_and_tells_the_old_address(app: TestApp) {
    let access = verified_user(&app, "alice").await;
    patch_profile(&app, &access, json!({"email": null}))
        .await
        .assert(422, "current_password_required");
    let reply = patch_profile(
        &app,
        &access,
        json!({"email": null, "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["email"], Value::Null);
    assert_eq!(reply.body["email_verified"], false);
    let notice = app
        .mail()
        .last(MailKind::EmailChangedNotice, &email("alice@example.com"))
        .expect("an email_changed_notice to the old address");
    assert!(notice.text().contains("alice"), "{}", notice.text());
}

async fn a_wrong_password_for_an_email_change_counts_toward_the_lockout(app: TestApp) {
    let app = app.with_settings(&[("security.max_failed_logins", "3")]);
    let access = app.user("alice").await;
    let mut locked = false;
    for _ in 0..5 {
        let reply = patch_profile(
            &app,
            &access,
            json!({"email": "a@example.com", "current_password": "wrong horse battery"}),
        )
        .await;
        locked |= reply.status == 429;
    }
    assert!(locked, "the lockout never set in");
    app.login_with("alice", PASSWORD)
        .await
        .assert(429, "too_many_attempts");
}

async fn with_mail_off_an_email_change_applies_at_once_with_the_password(app: TestApp) {
    let app = app.without_mail();
    let access = app.user("alice").await;
    patch_profile(&app, &access, json!({"email": "a@example.com"}))
        .await
        .assert(422, "current_password_required");
    let reply = patch_profile(
        &app,
        &access,
        json!({"email": "a@example.com", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["email"], "a@example.com");
    assert_eq!(reply.body["email_verified"], false);
    assert_eq!(reply.body["pending_email"], Value::Null);
    verify(&app, "whatever").await.assert(404, "not_found");
    request_link(&app, &access).await.assert(404, "not_found");
    let doc = app.send(TestRequest::get().uri("/openapi.json")).await.body;
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/email/verify", "/email/verify/request"] {
        assert!(!paths.contains_key(path), "{path} is described");
    }
}

async fn notices_go_to_verified_addresses_only(app: TestApp) {
    // Unverified: a second factor and a password change tell no one.
    register_with_email(&app, "bob").await;
    let bob = app.token("bob").await;
    enrol(&app, &bob).await;
    let reply = patch_profile(
        &app,
        &bob,
        json!({"password": NEW_PASSWORD, "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        sent(&app, MailKind::PasswordChangedNotice, "bob@example.com"),
        0
    );
    assert_eq!(sent(&app, MailKind::MfaChangedNotice, "bob@example.com"), 0);

    let alice = verified_user(&app, "alice").await;
    let reply = patch_profile(
        &app,
        &alice,
        json!({"password": NEW_PASSWORD, "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let notice = app
        .mail()
        .last(MailKind::PasswordChangedNotice, &email("alice@example.com"))
        .expect("a password_changed_notice");
    assert!(notice.text().contains("changed"), "{}", notice.text());

    // The second factor, with the new password.
    let started = crate::mfa::post(
        &app,
        "/mfa/totp",
        &alice,
        json!({"current_password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let secret = started.body["secret"].as_str().unwrap().to_owned();
    let confirmed = crate::mfa::post(
        &app,
        "/mfa/totp/confirm",
        &alice,
        json!({"code": code(&secret, 0)}),
    )
    .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(
        sent(&app, MailKind::MfaChangedNotice, "alice@example.com"),
        1
    );
    let enabled = app
        .mail()
        .last(MailKind::MfaChangedNotice, &email("alice@example.com"))
        .unwrap();
    assert!(enabled.text().contains("turned on"), "{}", enabled.text());
    let off = delete(
        &app,
        "/mfa/totp",
        &alice,
        json!({"current_password": NEW_PASSWORD, "code": code(&secret, 1)}),
    )
    .await;
    assert_eq!(off.status, 204, "{}", off.text);
    assert_eq!(
        sent(&app, MailKind::MfaChangedNotice, "alice@example.com"),
        2
    );
}
