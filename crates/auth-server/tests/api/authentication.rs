use actix_web::test::TestRequest;

use crate::helpers::{TestApp, bearer};

crate::on_every_store!(
    no_credentials_is_401_not_authenticated,
    bad_tokens_are_401_invalid_token_with_rfc_6750_header,
    token_in_the_query_string_is_ignored,
    refresh_token_is_not_a_bearer_token,
    logout_ends_the_session_at_the_next_request,
    logout_scopes_others_and_global,
    unknown_logout_scope_is_422,
    disabled_user_is_refused_at_the_next_request,
);

async fn no_credentials_is_401_not_authenticated(app: TestApp) {
    for path in [
        "/profile",
        "/users/me",
        "/token_expiry",
        "/protected",
        "/admin",
    ] {
        let reply = app.send(TestRequest::get().uri(path)).await;
        reply.assert(401, "not_authenticated");
        assert_eq!(reply.body["detail"], "Not authenticated");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{path}");
    }
    for scheme in ["Basic YWxpY2U6cGFzcw==", "Bearer", "Token abc"] {
        let reply = app
            .send(
                TestRequest::get()
                    .uri("/profile")
                    .insert_header(("Authorization", scheme)),
            )
            .await;
        reply.assert(401, "not_authenticated");
    }
}

async fn bad_tokens_are_401_invalid_token_with_rfc_6750_header(app: TestApp) {
    let token = app.user("alice").await;
    let tampered = format!("{}x", &token[..token.len() - 1]);
    let huge = "a".repeat(20_000);
    for bad in ["garbage", "a.b.c", tampered.as_str(), huge.as_str()] {
        let reply = app.get("/profile", bad).await;
        reply.assert(401, "invalid_token");
        let challenge = reply.header("www-authenticate").unwrap();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\", error_description=\""),
            "{challenge}"
        );
    }
    // Non-ASCII bytes in the header are a 401, not a crash.
    let reply = app
        .send(TestRequest::get().uri("/profile").insert_header((
            "Authorization",
            actix_web::http::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )))
        .await;
    reply.assert(401, "invalid_token");
}

async fn token_in_the_query_string_is_ignored(app: TestApp) {
    let token = app.user("alice").await;
    for query in ["access_token", "token"] {
        let uri = format!("/profile?{query}={token}");
        app.send(TestRequest::get().uri(&uri))
            .await
            .assert(401, "not_authenticated");
    }
}

async fn refresh_token_is_not_a_bearer_token(app: TestApp) {
    app.register("alice").await;
    let login = app.login_with("alice", crate::helpers::PASSWORD).await;
    let refresh = login.body["refresh_token"].as_str().unwrap();
    app.get("/profile", refresh)
        .await
        .assert(401, "invalid_token");
}

async fn logout_ends_the_session_at_the_next_request(app: TestApp) {
    let token = app.user("alice").await;
    assert_eq!(app.get("/profile", &token).await.status, 200);
    let reply = app
        .send(
            TestRequest::post()
                .uri("/logout")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert!(reply.text.is_empty());
    let reply = app.get("/profile", &token).await;
    reply.assert(401, "invalid_token");
    assert_eq!(reply.body["detail"], "The session has ended");
    app.send(
        TestRequest::post()
            .uri("/logout")
            .insert_header(bearer(&token)),
    )
    .await
    .assert(401, "invalid_token");
    app.send(TestRequest::post().uri("/logout"))
        .await
        .assert(401, "not_authenticated");
}

async fn logout_scopes_others_and_global(app: TestApp) {
    let first = app.user("alice").await;
    let second = app.token("alice").await;
    let third = app.token("alice").await;
    let reply = app
        .send(
            TestRequest::post()
                .uri("/logout?scope=others")
                .insert_header(bearer(&first)),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(app.get("/profile", &first).await.status, 200);
    assert_eq!(app.get("/profile", &second).await.status, 401);
    assert_eq!(app.get("/profile", &third).await.status, 401);

    let fourth = app.token("alice").await;
    let reply = app
        .send(
            TestRequest::post()
                .uri("/logout?scope=global")
                .insert_header(bearer(&fourth)),
        )
        .await;
    assert_eq!(reply.status, 204);
    assert_eq!(app.get("/profile", &first).await.status, 401);
    assert_eq!(app.get("/profile", &fourth).await.status, 401);
}

async fn unknown_logout_scope_is_422(app: TestApp) {
    let token = app.user("alice").await;
    app.send(
        TestRequest::post()
            .uri("/logout?scope=everything")
            .insert_header(bearer(&token)),
    )
    .await
    .assert(422, "validation_error");
    assert_eq!(app.get("/profile", &token).await.status, 200);
}

async fn disabled_user_is_refused_at_the_next_request(app: TestApp) {
    let token = app.user("alice").await;
    app.disable("alice").await;
    let reply = app.get("/profile", &token).await;
    reply.assert(401, "invalid_token");
    // Disabling a user (as an admin or `auth-server users disable` does) ends their sessions.
    assert_eq!(reply.body["detail"], "The session has ended");
}
