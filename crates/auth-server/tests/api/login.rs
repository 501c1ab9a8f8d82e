use serde_json::json;

use actix_web::test::TestRequest;

use crate::helpers::{PASSWORD, TestApp};

crate::on_every_store!(
    login_returns_a_token_response_that_is_not_cached,
    unknown_user_and_wrong_password_are_indistinguishable,
    disabled_account_is_403_after_the_right_password,
    requested_lifetime_is_clamped,
    the_document_states_the_clamp_not_a_range,
    overlong_password_is_refused_not_truncated,
);

async fn login_returns_a_token_response_that_is_not_cached(app: TestApp) {
    app.register("alice").await;
    let reply = app.login_with("ALICE", PASSWORD).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["token_type"], "bearer");
    assert_eq!(reply.body["expires_in"], 900);
    assert!(
        reply.body["access_token"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );
    let refresh = reply.body["refresh_token"].as_str().unwrap();
    assert!(refresh.len() >= 43, "refresh token too short: {refresh}");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("pragma"), Some("no-cache"));
}

async fn unknown_user_and_wrong_password_are_indistinguishable(app: TestApp) {
    app.register("alice").await;
    let wrong = app.login_with("alice", "not the password").await;
    let unknown = app.login_with("nobody", PASSWORD).await;
    wrong.assert(401, "invalid_credentials");
    assert_eq!(wrong.body["detail"], "Incorrect username or password");
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.status, unknown.status);
    assert_eq!(wrong.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        wrong.header("www-authenticate"),
        unknown.header("www-authenticate")
    );
}

async fn disabled_account_is_403_after_the_right_password(app: TestApp) {
    app.register("alice").await;
    app.disable("alice").await;

    app.login_with("alice", "not the password")
        .await
        .assert(401, "invalid_credentials");
    app.login_with("alice", PASSWORD)
        .await
        .assert(403, "account_disabled");
}

async fn requested_lifetime_is_clamped(app: TestApp) {
    app.register("alice").await;
    for (asked, granted) in [(300, 300), (1, 60), (999_999, 3600)] {
        let reply = app
            .post_json(
                "/login",
                json!({"username": "alice", "password": PASSWORD, "expires_in": asked}),
            )
            .await;
        assert_eq!(reply.body["expires_in"], granted, "asked {asked}");
    }
}

async fn overlong_password_is_refused_not_truncated(app: TestApp) {
    // Exactly 72 bytes, and strong enough for the policy.
    let exactly_72 = "quartz-violet-harbor-lemon-tugboat-marble-ginger-canyon-whistle-pepper-x";
    assert_eq!(exactly_72.len(), 72);
    let reply = app
        .post_json(
            "/register",
            json!({"username": "alice", "password": exactly_72}),
        )
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(app.login_with("alice", exactly_72).await.status, 200);
    let reply = app
        .login_with("alice", &format!("{exactly_72}-and-more"))
        .await;
    reply.assert(422, "invalid_password");
}

/// `expires_in` out of the configured bounds is clamped, not refused (as the contract has
/// always done, for the clients of the apps it replaces); the document says exactly that, with
/// the server's bounds, and states no minimum or maximum that a generated client or a contract
/// tester would hold the server to.
async fn the_document_states_the_clamp_not_a_range(app: TestApp) {
    let app = app.with_settings(&[
        ("jwt.min_access_ttl_secs", "120"),
        ("jwt.max_access_ttl_secs", "1800"),
    ]);
    let doc = app.send(TestRequest::get().uri("/openapi.json")).await.body;
    let expires_in = &doc["components"]["schemas"]["LoginRequest"]["properties"]["expires_in"];
    for keyword in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
        assert!(expires_in.get(keyword).is_none(), "{keyword}: {expires_in}");
    }
    let description = expires_in["description"].as_str().unwrap();
    assert!(
        description.contains("clamped to 120..1800"),
        "{description}"
    );

    app.register("alice").await;
    for (asked, granted) in [(-5, 120), (1, 120), (600, 600), (1_000_000_000, 1800)] {
        let reply = app
            .post_json(
                "/login",
                json!({"username": "alice", "password": PASSWORD, "expires_in": asked}),
            )
            .await;
        assert_eq!(reply.status, 200, "asked {asked}: {}", reply.text);
        assert_eq!(reply.body["expires_in"], granted, "asked {asked}");
    }
    // What the document does bound is the integer's size (`format: int64`): beyond it, 422,
    // even where the number rounds to i64::MIN as a float.
    for beyond in ["-9223372036854775809", "9223372036854775808", "1e19"] {
        let body =
            format!(r#"{{"username": "alice", "password": "{PASSWORD}", "expires_in": {beyond}}}"#);
        let reply = app
            .send(
                TestRequest::post()
                    .uri("/login")
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload(body),
            )
            .await;
        reply.assert(422, "validation_error");
        assert!(
            reply.body["detail"]
                .as_str()
                .unwrap()
                .starts_with("expires_in: "),
            "{}",
            reply.text
        );
    }
    assert_eq!(expires_in["format"], "int64");
}
