use actix_web::test::TestRequest;

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(
    password_grant_issues_tokens_for_the_form,
    token_endpoint_errors_follow_rfc_6749,
);

fn form(body: &'static str) -> TestRequest {
    TestRequest::post()
        .uri("/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body)
}

async fn password_grant_issues_tokens_for_the_form(app: TestApp) {
    app.register("alice").await;
    for body in [
        "grant_type=password&username=alice&password=correct+horse+battery",
        "username=alice&password=correct%20horse%20battery&scope=",
    ] {
        let reply = app.send(form(body)).await;
        assert_eq!(reply.status, 200, "{body}: {}", reply.text);
        assert_eq!(reply.body["token_type"], "bearer");
        assert_eq!(reply.header("cache-control"), Some("no-store"));
        let token = reply.body["access_token"].as_str().unwrap();
        assert_eq!(app.get("/users/me", token).await.body["username"], "alice");
    }
    let _ = PASSWORD;
}

async fn token_endpoint_errors_follow_rfc_6749(app: TestApp) {
    app.register("alice").await;
    let cases = [
        ("username=alice&password=wrong-password", "invalid_grant"),
        ("username=nobody&password=wrong-password", "invalid_grant"),
        ("grant_type=client_credentials", "unsupported_grant_type"),
        ("grant_type=password&username=alice", "invalid_request"),
        ("grant_type=password&password=x", "invalid_request"),
        ("username=%ZZ&password=x", "invalid_grant"),
    ];
    for (body, code) in cases {
        let reply = app.send(form(body)).await;
        reply.assert(400, code);
        assert_eq!(
            reply.body["error_description"], reply.body["detail"],
            "{body}"
        );
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }
    let json = TestRequest::post()
        .uri("/token")
        .set_json(serde_json::json!({"username": "alice", "password": PASSWORD}));
    app.send(json).await.assert(400, "invalid_request");
    // The endpoint takes no bearer token: sending one changes nothing.
    let reply = app
        .send(form("username=alice&password=nope").insert_header(bearer("x")))
        .await;
    reply.assert(400, "invalid_grant");
}
