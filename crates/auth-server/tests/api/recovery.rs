//! A way back in by email, through the real app: `POST /password/forgot` sends a link (read
//! from the app's MemoryMailer), `POST /password/reset` uses it, and what the reset must end
//! ends at once.

use actix_web::test::TestRequest;
use auth_core::{MailKind, Message};
use auth_domain::Email;
use serde_json::{Value, json};

use crate::helpers::{LINK_BASE, PASSWORD, Reply, TestApp, bearer};

const NEW_PASSWORD: &str = "a brand new horse battery";
const ANSWER: &str = "If an account matches, a message is on its way";

crate::on_every_store!(
    a_reset_link_sets_a_new_password_once_and_ends_every_credential,
    forgot_answers_the_same_whoever_is_named,
    forgot_needs_exactly_one_well_formed_name,
    the_per_account_limits_hold_and_a_newer_link_voids_the_older,
    a_refused_password_leaves_the_token_working,
    a_password_change_voids_reset_links,
    a_reset_lifts_the_accounts_lockout,
    admins_can_send_a_reset_link,
    with_mail_off_the_routes_do_not_exist,
    forgot_is_rate_limited_per_client_address,
);

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

/// Registers `username` with `{username}@example.com`.
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

/// Asks for a reset link and waits for the work that goes on after the answer (the lookup and
/// the message), so that the message can be read next.
async fn forgot(app: &TestApp, body: Value) -> Reply {
    let reply = app.post_json("/password/forgot", body).await;
    app.state.service.idle().await;
    reply
}

async fn reset(app: &TestApp, token: &str, new_password: &str) -> Reply {
    app.post_json(
        "/password/reset",
        json!({"token": token, "new_password": new_password}),
    )
    .await
}

/// The token of the link in `message`, checking the link's form.
fn token_in(message: &Message) -> String {
    let prefix = format!("{LINK_BASE}/reset-password?token=");
    let start = message
        .text()
        .find(&prefix)
        .unwrap_or_else(|| panic!("no reset link in {}", message.text()))
        + prefix.len();
    let token: String = message.text()[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert_eq!(token.len(), 43, "{token}");
    assert!(message.html().contains(&format!("{prefix}{token}")));
    token
}

/// The token of the last reset message to `{username}@example.com`.
fn last_token(app: &TestApp, username: &str) -> String {
    let message = app
        .mail()
        .last(
            MailKind::PasswordReset,
            &email(&format!("{username}@example.com")),
        )
        .expect("a password_reset message");
    token_in(&message)
}

fn resets_sent(app: &TestApp) -> usize {
    app.mail()
        .messages()
        .iter()
        .filter(|m| m.kind() == MailKind::PasswordReset)
        .count()
}

fn assert_accepted(reply: &Reply) {
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(reply.body, json!({"detail": ANSWER}));
}

async fn a_reset_link_sets_a_new_password_once_and_ends_every_credential(app: TestApp) {
    let registered = register_with_email(&app, "alice").await;
    assert_eq!(registered["email_verified"], false);
    let session = app.login("alice").await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    let key = app.api_key(&access).await;

    assert_accepted(&forgot(&app, json!({"email": "ALICE@example.com"})).await);
    let token = last_token(&app, "alice");
    let reply = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert!(
        reply.text.is_empty(),
        "the reset does not sign in: {}",
        reply.text
    );

    // Everything the old password gave is refused at once.
    app.get("/profile", &access)
        .await
        .assert(401, "invalid_token");
    app.refresh(&session["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    app.send(
        TestRequest::post()
            .uri("/login/api-key")
            .insert_header(("X-API-Key", key.as_str())),
    )
    .await
    .assert(401, "invalid_api_key");
    app.login_with("alice", PASSWORD)
        .await
        .assert(401, "invalid_credentials");
    let fresh = app.login_with("alice", NEW_PASSWORD).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    let fresh = fresh.body["access_token"].as_str().unwrap().to_owned();
    // The link proved the address.
    let profile = app.get("/profile", &fresh).await;
    assert_eq!(profile.body["email_verified"], true, "{}", profile.text);

    // Used: the link works once.
    let again = reset(&app, &token, "yet another horse battery").await;
    again.assert(400, "invalid_reset_token");
    assert!(again.body["detail"].is_string());
    reset(&app, "not-a-token", NEW_PASSWORD)
        .await
        .assert(400, "invalid_reset_token");

    // The owner is told, at the now verified address.
    let notice = app
        .mail()
        .last(MailKind::PasswordChangedNotice, &email("alice@example.com"))
        .expect("a password_changed_notice");
    assert!(notice.text().contains("reset"), "{}", notice.text());

    // Audited, without the token.
    let root = app.admin("root").await;
    let id = registered["id"].as_str().unwrap();
    let audit = app
        .get(&format!("/admin/audit?user={id}&limit=200"), &root)
        .await;
    assert!(!audit.text.contains(&token));
    let actions: Vec<&str> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"password.reset"), "{actions:?}");
}

async fn forgot_answers_the_same_whoever_is_named(app: TestApp) {
    register_with_email(&app, "alice").await;
    app.register("nomail").await;
    register_with_email(&app, "gone").await;
    app.disable("gone").await;

    let mut answers = Vec::new();
    for body in [
        json!({"username": "nobody"}),
        json!({"email": "nobody@example.com"}),
        json!({"username": "nomail"}),
        json!({"username": "gone"}),
        json!({"email": "gone@example.com"}),
        json!({"username": "alice"}),
    ] {
        let reply = forgot(&app, body).await;
        assert_accepted(&reply);
        answers.push((reply.status, reply.text));
    }
    assert!(
        answers.windows(2).all(|pair| pair[0] == pair[1]),
        "{answers:?}"
    );
    // Only the active account with an address got a message.
    let sent = app.mail().messages();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].to(), &email("alice@example.com"));
}

async fn forgot_needs_exactly_one_well_formed_name(app: TestApp) {
    for body in [
        json!({}),
        json!({"email": "alice@example.com", "username": "alice"}),
        json!({"email": null, "username": null}),
    ] {
        forgot(&app, body).await.assert(422, "validation_error");
    }
    forgot(&app, json!({"email": "not an address"}))
        .await
        .assert(422, "invalid_email");
    forgot(&app, json!({"username": "a"}))
        .await
        .assert(422, "invalid_username");
    assert!(app.mail().is_empty());
}

async fn the_per_account_limits_hold_and_a_newer_link_voids_the_older(app: TestApp) {
    register_with_email(&app, "alice").await;
    // Within a minute: the second is answered alike and sends nothing.
    assert_accepted(&forgot(&app, json!({"username": "alice"})).await);
    assert_accepted(&forgot(&app, json!({"email": "alice@example.com"})).await);
    assert_eq!(resets_sent(&app), 1);
    let first = last_token(&app, "alice");

    // No interval, two an hour: the third is refused; the second link voids the first.
    let app = app.with_settings(&[
        ("mail.min_interval_secs", "0"),
        ("mail.max_per_account_per_hour", "2"),
    ]);
    assert_accepted(&forgot(&app, json!({"username": "alice"})).await);
    assert_eq!(resets_sent(&app), 2);
    let second = last_token(&app, "alice");
    assert_accepted(&forgot(&app, json!({"username": "alice"})).await);
    assert_eq!(resets_sent(&app), 2);
    reset(&app, &first, NEW_PASSWORD)
        .await
        .assert(400, "invalid_reset_token");
    assert_eq!(reset(&app, &second, NEW_PASSWORD).await.status, 204);
}

async fn a_refused_password_leaves_the_token_working(app: TestApp) {
    register_with_email(&app, "alice").await;
    forgot(&app, json!({"username": "alice"})).await;
    let token = last_token(&app, "alice");
    reset(&app, &token, "password")
        .await
        .assert(422, "weak_password");
    reset(&app, &token, "alice@example.com")
        .await
        .assert(422, "weak_password");
    reset(&app, &token, "short")
        .await
        .assert(422, "invalid_password");
    let missing = app
        .post_json("/password/reset", json!({"token": token}))
        .await;
    missing.assert(422, "validation_error");
    app.login_with("alice", PASSWORD).await;
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status, 204);
}

async fn a_password_change_voids_reset_links(app: TestApp) {
    register_with_email(&app, "alice").await;
    let access = app.token("alice").await;
    forgot(&app, json!({"username": "alice"})).await;
    let token = last_token(&app, "alice");
    let changed = app
        .send(
            TestRequest::patch()
                .uri("/profile")
                .insert_header(bearer(&access))
                .set_json(json!({"password": NEW_PASSWORD, "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    reset(&app, &token, "yet another horse battery")
        .await
        .assert(400, "invalid_reset_token");
    assert_eq!(app.login_with("alice", NEW_PASSWORD).await.status, 200);
}

async fn a_reset_lifts_the_accounts_lockout(app: TestApp) {
    let app = app.with_settings(&[("security.max_failed_logins", "3")]);
    register_with_email(&app, "alice").await;
    let mut locked = false;
    for _ in 0..5 {
        let reply = app.login_with("alice", "wrong horse battery").await;
        locked |= reply.status == 429;
    }
    assert!(locked, "the lockout never set in");
    app.login_with("alice", PASSWORD)
        .await
        .assert(429, "too_many_attempts");
    forgot(&app, json!({"username": "alice"})).await;
    let token = last_token(&app, "alice");
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status, 204);
    let reply = app.login_with("alice", NEW_PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

async fn admins_can_send_a_reset_link(app: TestApp) {
    let root = app.admin("root").await;
    let alice = register_with_email(&app, "alice").await;
    let nomail = app.register("nomail").await.body;
    let user = app.user("bob").await;
    let path = |user: &Value| {
        format!(
            "/admin/users/{}/password-reset",
            user["id"].as_str().unwrap()
        )
    };
    let post =
        |path: String, token: &str| TestRequest::post().uri(&path).insert_header(bearer(token));

    app.send(post(path(&alice), &user))
        .await
        .assert(403, "forbidden");
    assert_eq!(resets_sent(&app), 0);
    // A request of the user's own does not stop the support desk: counted, never refused.
    forgot(&app, json!({"username": "alice"})).await;
    let reply = app.send(post(path(&alice), &root)).await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    assert_eq!(resets_sent(&app), 2);
    // ...but it counts: the user's next request within the interval sends nothing.
    forgot(&app, json!({"username": "alice"})).await;
    assert_eq!(resets_sent(&app), 2);
    let token = last_token(&app, "alice");
    assert_eq!(reset(&app, &token, NEW_PASSWORD).await.status, 204);

    app.send(post(path(&nomail), &root))
        .await
        .assert(409, "no_email");
    app.send(post(
        path(&json!({"id": uuid::Uuid::new_v4().to_string()})),
        &root,
    ))
    .await
    .assert(404, "not_found");

    let id = alice["id"].as_str().unwrap();
    let audit = app
        .get(&format!("/admin/audit?user={id}&limit=200"), &root)
        .await;
    let requested: Vec<&Value> = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "password.reset_requested")
        .collect();
    assert_eq!(requested.len(), 1, "{}", audit.text);
    let root_id = app.get("/profile", &root).await.body["id"].clone();
    assert_eq!(requested[0]["actor"], root_id, "{}", audit.text);
}

async fn with_mail_off_the_routes_do_not_exist(app: TestApp) {
    let app = app.without_mail();
    let root = app.admin("root").await;
    let alice = register_with_email(&app, "alice").await;
    forgot(&app, json!({"username": "alice"}))
        .await
        .assert(404, "not_found");
    forgot(&app, json!({})).await.assert(404, "not_found");
    reset(&app, "whatever", NEW_PASSWORD)
        .await
        .assert(404, "not_found");
    let path = format!(
        "/admin/users/{}/password-reset",
        alice["id"].as_str().unwrap()
    );
    app.send(TestRequest::post().uri(&path).insert_header(bearer(&root)))
        .await
        .assert(404, "not_found");
    let doc = app.send(TestRequest::get().uri("/openapi.json")).await.body;
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/register"));
    for path in [
        "/password/forgot",
        "/password/reset",
        "/admin/users/{id}/password-reset",
    ] {
        assert!(!paths.contains_key(path), "{path} is described");
    }
}

async fn forgot_is_rate_limited_per_client_address(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "2")]);
    let from = |peer: &str, path: &str, body: Value| {
        TestRequest::post()
            .uri(path)
            .peer_addr(format!("{peer}:50000").parse().unwrap())
            .set_json(body)
    };
    let nobody = json!({"username": "nobody"});
    for _ in 0..2 {
        let reply = app
            .send(from("198.51.100.7", "/password/forgot", nobody.clone()))
            .await;
        assert_accepted(&reply);
    }
    let reply = app
        .send(from("198.51.100.7", "/password/forgot", nobody.clone()))
        .await;
    reply.assert(429, "too_many_requests");
    assert!(reply.header("Retry-After").is_some());
    let body = json!({"token": "whatever", "new_password": NEW_PASSWORD});
    app.send(from("198.51.100.7", "/password/reset", body.clone()))
        .await
        .assert(429, "too_many_requests");
    // Another address has its own bucket.
    app.send(from("198.51.100.8", "/password/reset", body))
        .await
        .assert(400, "invalid_reset_token");
}

/// The answer does not wait for the account's lookup (a store write when a message goes out,
/// which would tell by its time that the account exists): with the database unreachable,
/// `POST /password/forgot` still answers 202 at once, while a login answers 503. The request
/// is lost with the outage (logged); once the database is back, a new one sends the link.
#[actix_web::test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
async fn forgot_answers_before_it_looks_the_account_up() {
    let app = TestApp::postgres();
    register_with_email(&app, "alice").await;

    app.database.set_reachable(false);
    let reply = app
        .post_json("/password/forgot", json!({"username": "alice"}))
        .await;
    assert_accepted(&reply);
    app.login_with("alice", PASSWORD)
        .await
        .assert(503, "service_unavailable");
    app.state.service.idle().await;
    assert_eq!(resets_sent(&app), 0);

    app.database.set_reachable(true);
    assert_accepted(&forgot(&app, json!({"username": "alice"})).await);
    assert_eq!(resets_sent(&app), 1);
}
