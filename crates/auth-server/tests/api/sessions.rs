use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(
    refresh_rotates_both_tokens_within_one_session,
    reused_refresh_token_revokes_the_whole_session,
    concurrent_refreshes_within_the_grace_period_both_succeed,
    refresh_grant_at_the_token_endpoint,
    refresh_fails_after_logout_password_change_or_deactivation,
    malformed_refresh_requests_are_4xx,
    sessions_lists_the_callers_live_sessions,
    deleting_a_session_ends_it_and_only_yours,
);

fn access(tokens: &Value) -> &str {
    tokens["access_token"].as_str().unwrap()
}

async fn refresh_rotates_both_tokens_within_one_session(app: TestApp) {
    app.register("alice").await;
    let first = app.login("alice").await;
    let reply = app.refresh(&first["refresh_token"]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let second = reply.body;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["token_type"], "bearer");
    assert_eq!(reply.headers.get("cache-control").unwrap(), "no-store");
    assert_eq!(app.get("/profile", access(&second)).await.status, 200);
    // Still one session, now renewed.
    let sessions = app.get("/sessions", access(&second)).await.body;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(sessions[0]["current"], true);
    // The rotated token works again only within the grace period (10 s by default).
    let third = app.refresh(&second["refresh_token"]).await;
    assert_eq!(third.status, 200);
}

async fn reused_refresh_token_revokes_the_whole_session(app: TestApp) {
    let app = app.with_settings(&[("session.refresh_reuse_grace_secs", "0")]);
    app.register("alice").await;
    let other_session = app.login("alice").await;
    let stolen = app.login("alice").await;
    let legit = app.refresh(&stolen["refresh_token"]).await.body;
    let reuse = app.refresh(&stolen["refresh_token"]).await;
    reuse.assert(401, "invalid_grant");
    // Every token of that session is dead: the legitimate holder's too.
    app.get("/profile", access(&legit))
        .await
        .assert(401, "invalid_token");
    app.refresh(&legit["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    // Other sessions are unaffected.
    assert_eq!(
        app.get("/profile", access(&other_session)).await.status,
        200
    );
    assert_eq!(
        app.refresh(&other_session["refresh_token"]).await.status,
        200
    );
}

async fn concurrent_refreshes_within_the_grace_period_both_succeed(app: TestApp) {
    app.register("alice").await;
    let tokens = app.login("alice").await;
    let body = json!({"refresh_token": tokens["refresh_token"]});
    let (a, b) = tokio::join!(
        app.post_json("/refresh", body.clone()),
        app.post_json("/refresh", body)
    );
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (200, 200));
    // One session, whichever response the client kept.
    let sessions = app.get("/sessions", access(&a.body)).await.body;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(app.refresh(&b.body["refresh_token"]).await.status, 200);
}

fn form(body: String) -> TestRequest {
    TestRequest::post()
        .uri("/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

async fn refresh_grant_at_the_token_endpoint(app: TestApp) {
    app.register("alice").await;
    let tokens = app.login("alice").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let reply = app
        .send(form(format!(
            "grant_type=refresh_token&refresh_token={refresh}"
        )))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ne!(reply.body["refresh_token"], tokens["refresh_token"]);
    app.send(form("grant_type=refresh_token".into()))
        .await
        .assert(400, "invalid_request");
    let reply = app
        .send(form(
            "grant_type=refresh_token&refresh_token=not-a-token".into(),
        ))
        .await;
    reply.assert(400, "invalid_grant");
    assert_eq!(reply.body["error_description"], reply.body["detail"]);
}

async fn refresh_fails_after_logout_password_change_or_deactivation(app: TestApp) {
    app.register("alice").await;
    let logged_out = app.login("alice").await;
    app.send(
        TestRequest::post()
            .uri("/logout")
            .insert_header(bearer(access(&logged_out))),
    )
    .await;
    app.refresh(&logged_out["refresh_token"])
        .await
        .assert(401, "invalid_grant");

    let mine = app.login("alice").await;
    let other = app.login("alice").await;
    let change = TestRequest::patch()
        .uri("/profile")
        .insert_header(bearer(access(&mine)))
        .set_json(json!({"password": "a new passphrase", "current_password": PASSWORD}));
    assert_eq!(app.send(change).await.status, 200);
    app.refresh(&other["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    assert_eq!(app.refresh(&mine["refresh_token"]).await.status, 200);

    app.disable("alice").await;
    let fresh = app.login_with("alice", "a new passphrase").await;
    fresh.assert(403, "account_disabled");
    app.refresh(&mine["refresh_token"])
        .await
        .assert(401, "invalid_grant");
}

async fn malformed_refresh_requests_are_4xx(app: TestApp) {
    app.post_json("/refresh", json!({}))
        .await
        .assert(422, "validation_error");
    app.post_json("/refresh", json!({"refresh_token": 7}))
        .await
        .assert(422, "validation_error");
    app.post_json("/refresh", json!({"refresh_token": "x".repeat(10_000)}))
        .await
        .assert(401, "invalid_grant");
    app.post_json("/refresh", json!({"refresh_token": ""}))
        .await
        .assert(401, "invalid_grant");
}

async fn sessions_lists_the_callers_live_sessions(app: TestApp) {
    app.register("alice").await;
    app.register("bob").await;
    let login = |agent: &'static str| {
        app.send(
            TestRequest::post()
                .uri("/login")
                .insert_header(("User-Agent", agent))
                .peer_addr("203.0.113.9:40000".parse().unwrap())
                .set_json(json!({"username": "alice", "password": PASSWORD})),
        )
    };
    let laptop = login("laptop/1.0").await.body;
    let phone = login("phone/2.0").await.body;
    let ended = login("old/0.1").await.body;
    app.send(
        TestRequest::post()
            .uri("/logout")
            .insert_header(bearer(access(&ended))),
    )
    .await;
    app.token("bob").await;

    let reply = app.get("/sessions", access(&phone)).await;
    assert_eq!(reply.status, 200);
    let sessions = reply.body.as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{}", reply.text);
    let agents: Vec<_> = sessions
        .iter()
        .map(|s| s["user_agent"].as_str().unwrap())
        .collect();
    assert_eq!(agents, ["phone/2.0", "laptop/1.0"]);
    assert_eq!(sessions[0]["current"], true);
    assert_eq!(sessions[1]["current"], false);
    assert_eq!(sessions[0]["ip"], "203.0.113.9");
    for field in ["created_at", "last_used_at", "expires_at"] {
        chrono::DateTime::parse_from_rfc3339(sessions[0][field].as_str().unwrap()).unwrap();
    }
    let _ = laptop;
    app.send(TestRequest::get().uri("/sessions"))
        .await
        .assert(401, "not_authenticated");
}

async fn deleting_a_session_ends_it_and_only_yours(app: TestApp) {
    app.register("alice").await;
    let mine = app.login("alice").await;
    let other = app.login("alice").await;
    let bobs = app.user("bob").await;
    let sessions = app.get("/sessions", access(&mine)).await.body;
    let other_id = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let delete = |token: &str, id: &str| {
        app.send(
            TestRequest::delete()
                .uri(&format!("/sessions/{id}"))
                .insert_header(bearer(token)),
        )
    };
    // Bob cannot end alice's session, nor learn that it exists.
    delete(&bobs, &other_id).await.assert(404, "not_found");
    assert_eq!(app.get("/profile", access(&other)).await.status, 200);

    let reply = delete(access(&mine), &other_id).await;
    assert_eq!(reply.status, 204);
    app.get("/profile", access(&other))
        .await
        .assert(401, "invalid_token");
    app.refresh(&other["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    delete(access(&mine), &other_id)
        .await
        .assert(404, "not_found");
    delete(access(&mine), "not-a-uuid")
        .await
        .assert(404, "not_found");
    delete(access(&mine), &uuid::Uuid::new_v4().to_string())
        .await
        .assert(404, "not_found");
    assert_eq!(app.get("/profile", access(&mine)).await.status, 200);
}
