use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(
    profile_and_users_me_return_the_caller,
    profile_update_changes_username_and_email,
    profile_update_conflicts_are_409,
    profile_update_validates_input,
    password_change_requires_the_current_password,
    password_change_ends_other_sessions_only,
    renamed_user_keeps_tokens_and_newcomer_gets_none_of_them,
    a_username_or_password_cannot_be_removed,
);

fn update(method: &str, token: &str, body: Value) -> TestRequest {
    let request = match method {
        "PUT" => TestRequest::put(),
        _ => TestRequest::patch(),
    };
    request
        .uri("/profile")
        .insert_header(bearer(token))
        .set_json(body)
}

async fn profile_and_users_me_return_the_caller(app: TestApp) {
    let token = app.user("alice").await;
    let profile = app.get("/profile", &token).await;
    assert_eq!(profile.status, 200);
    assert_eq!(profile.body["username"], "alice");
    assert_eq!(profile.body["email"], Value::Null);
    let me = app.get("/users/me", &token).await;
    assert_eq!(me.body, profile.body);
    assert_eq!(app.get("/profile/", &token).await.body, profile.body);
}

/// With mail off, a new address applies at once (with the current password); with mail on it
/// waits for its link (verification.rs).
async fn profile_update_changes_username_and_email(app: TestApp) {
    let app = app.without_mail();
    let token = app.user("alice").await;
    for method in ["PUT", "PATCH"] {
        let name = format!("alice-{}", method.to_lowercase());
        let reply = app
            .send(update(
                method,
                &token,
                json!({"username": name, "email": "a@example.com", "current_password": PASSWORD}),
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert_eq!(reply.body["username"], name);
        assert_eq!(reply.body["email"], "a@example.com");
    }
    // Absent fields stay; an explicit null removes the email.
    let reply = app.send(update("PATCH", &token, json!({}))).await;
    assert_eq!(reply.body["email"], "a@example.com");
    let reply = app
        .send(update(
            "PATCH",
            &token,
            json!({"email": null, "current_password": PASSWORD}),
        ))
        .await;
    assert_eq!(reply.body["email"], Value::Null);
    assert_eq!(
        app.get("/profile", &token).await.body["username"],
        "alice-patch"
    );
}

async fn profile_update_conflicts_are_409(app: TestApp) {
    app.post_json(
        "/register",
        json!({"username": "bob", "password": PASSWORD, "email": "bob@example.com"}),
    )
    .await;
    let token = app.user("alice").await;
    app.send(update("PATCH", &token, json!({"username": "BOB"})))
        .await
        .assert(409, "username_taken");
    app.send(update(
        "PATCH",
        &token,
        json!({"email": "Bob@Example.com", "current_password": PASSWORD}),
    ))
    .await
    .assert(409, "email_taken");
}

async fn profile_update_validates_input(app: TestApp) {
    let token = app.user("alice").await;
    app.send(update("PATCH", &token, json!({"username": "x"})))
        .await
        .assert(422, "invalid_username");
    app.send(update("PATCH", &token, json!({"email": "nope"})))
        .await
        .assert(422, "invalid_email");
    app.send(update("PATCH", &token, json!({"username": ["a"]})))
        .await
        .assert(422, "validation_error");
    app.send(update(
        "PATCH",
        &token,
        json!({"password": "short", "current_password": PASSWORD}),
    ))
    .await
    .assert(422, "invalid_password");
    app.send(
        TestRequest::patch()
            .uri("/profile")
            .set_json(json!({"username": "zed"})),
    )
    .await
    .assert(401, "not_authenticated");
}

async fn password_change_requires_the_current_password(app: TestApp) {
    let token = app.user("alice").await;
    app.send(update(
        "PUT",
        &token,
        json!({"password": "a new passphrase"}),
    ))
    .await
    .assert(422, "current_password_required");
    app.send(update(
        "PUT",
        &token,
        json!({"password": "a new passphrase", "current_password": "wrong guess!"}),
    ))
    .await
    .assert(403, "invalid_current_password");
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
}

async fn password_change_ends_other_sessions_only(app: TestApp) {
    let mine = app.user("alice").await;
    let other = app.token("alice").await;
    let reply = app
        .send(update(
            "PATCH",
            &mine,
            json!({"password": "a new passphrase", "current_password": PASSWORD}),
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(app.get("/profile", &mine).await.status, 200);
    app.get("/profile", &other)
        .await
        .assert(401, "invalid_token");
    app.login_with("alice", PASSWORD)
        .await
        .assert(401, "invalid_credentials");
    assert_eq!(
        app.login_with("alice", "a new passphrase").await.status,
        200
    );
}

async fn renamed_user_keeps_tokens_and_newcomer_gets_none_of_them(app: TestApp) {
    let token = app.user("alice").await;
    let original_id = app.get("/profile", &token).await.body["id"].clone();
    app.send(update("PATCH", &token, json!({"username": "alicia"})))
        .await;
    let newcomer = app.register("alice").await;
    assert_eq!(newcomer.status, 201);
    let me = app.get("/profile", &token).await;
    assert_eq!(me.body["id"], original_id);
    assert_eq!(me.body["username"], "alicia");
    assert_ne!(newcomer.body["id"], original_id);
}

/// `null` removes the email, which is optional; a username and a password are not, so `null`
/// there is a wrong type (422), not a silent no-op, and the document says so.
async fn a_username_or_password_cannot_be_removed(app: TestApp) {
    let token = app.user("alice").await;
    for method in ["PUT", "PATCH"] {
        for body in [
            json!({"username": null}),
            json!({"username": null, "email": "a@example.com"}),
            json!({"password": null, "current_password": PASSWORD}),
        ] {
            let reply = app.send(update(method, &token, body.clone())).await;
            reply.assert(422, "validation_error");
            let field = body
                .as_object()
                .unwrap()
                .keys()
                .find(|k| body[*k].is_null());
            let detail = reply.body["detail"].as_str().unwrap();
            assert!(
                detail.starts_with(&format!("{}: ", field.unwrap())),
                "{method} {body}: {detail}"
            );
        }
    }
    // Nothing changed.
    let profile = app.get("/profile", &token).await;
    assert_eq!(profile.body["username"], "alice");
    assert_eq!(profile.body["email"], Value::Null);
    // The password too: it still logs in (`token` asserts the 200).
    app.token("alice").await;

    let reply = app.send(TestRequest::get().uri("/openapi.json")).await;
    let properties = &reply.body["components"]["schemas"]["ProfileUpdate"]["properties"];
    for field in ["username", "password"] {
        assert_eq!(properties[field]["type"], "string", "{field}");
    }
    assert_eq!(properties["email"]["type"], json!(["string", "null"]));
}
