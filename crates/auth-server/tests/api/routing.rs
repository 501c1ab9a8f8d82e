use actix_web::test::TestRequest;
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::helpers::{TestApp, bearer};

crate::on_every_store!(
    protected_route_greets_the_caller,
    admin_route_is_for_admins_only,
    token_expiry_describes_the_callers_token,
    health_reports_the_database,
    jwks_is_empty_while_only_hmac_is_configured,
    unknown_routes_and_methods_are_json,
    responses_carry_nosniff,
);

async fn protected_route_greets_the_caller(app: TestApp) {
    let token = app.user("alice").await;
    let reply = app.get("/protected", &token).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body,
        json!({"message": "This is a protected route", "username": "alice"})
    );
    assert_eq!(app.get("/protected/", &token).await.status, 200);
}

async fn admin_route_is_for_admins_only(app: TestApp) {
    let user = app.user("alice").await;
    let admin = app.admin("root").await;
    for path in ["/admin", "/admin/"] {
        let reply = app.get(path, &admin).await;
        assert_eq!(reply.status, 200, "{path}");
        assert_eq!(reply.body, json!({"msg": "welcome admin"}));
        app.get(path, &user).await.assert(403, "forbidden");
        app.send(TestRequest::get().uri(path))
            .await
            .assert(401, "not_authenticated");
    }
    // The role is read from the store: promoting alice works with her existing token.
    app.state
        .service
        .ensure_admin("alice", auth_domain::Password::new("unused"))
        .await
        .unwrap();
    assert_eq!(app.get("/admin", &user).await.status, 200);
}

async fn token_expiry_describes_the_callers_token(app: TestApp) {
    let token = app.user("alice").await;
    let reply = app.get("/token_expiry", &token).await;
    assert_eq!(reply.status, 200);
    let expire = DateTime::parse_from_rfc3339(reply.body["expire_time"].as_str().unwrap()).unwrap();
    let issued = DateTime::parse_from_rfc3339(reply.body["issued_at"].as_str().unwrap()).unwrap();
    assert_eq!((expire - issued).num_seconds(), 900);
    let left = reply.body["expires_in"].as_i64().unwrap();
    assert!((890..=900).contains(&left), "{left}");
    assert!(issued.with_timezone(&Utc) <= Utc::now());
    app.send(TestRequest::get().uri("/token_expiry"))
        .await
        .assert(401, "not_authenticated");
}

async fn health_reports_the_database(app: TestApp) {
    let reply = app.send(TestRequest::get().uri("/health")).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"status": "ok", "database": "ok"}));
}

async fn jwks_is_empty_while_only_hmac_is_configured(app: TestApp) {
    let reply = app
        .send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, json!({"keys": []}));
    assert!(!reply.text.contains("test-secret"));
}

async fn unknown_routes_and_methods_are_json(app: TestApp) {
    app.send(TestRequest::get().uri("/no/such/route"))
        .await
        .assert(404, "not_found");
    // A 405 names the methods the route serves (RFC 9110 §15.5.6).
    let reply = app.send(TestRequest::get().uri("/login")).await;
    reply.assert(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = app.send(TestRequest::delete().uri("/profile")).await;
    reply.assert(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, PUT, PATCH"));
    let reply = app
        .send(TestRequest::put().uri(&format!("/admin/users/{}/", uuid::Uuid::nil())))
        .await;
    reply.assert(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, PATCH, DELETE"));
    let token = app.user("alice").await;
    app.send(
        TestRequest::post()
            .uri("/admin")
            .insert_header(bearer(&token)),
    )
    .await
    .assert(405, "method_not_allowed");
}

async fn responses_carry_nosniff(app: TestApp) {
    for request in [
        TestRequest::get().uri("/health"),
        TestRequest::get().uri("/nope"),
    ] {
        let reply = app.send(request).await;
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    }
}
