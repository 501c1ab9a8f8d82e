//! OAuth 2.0 for other services: `POST /introspect` (RFC 7662), `POST /revoke` (RFC 7009) and
//! `GET /.well-known/oauth-authorization-server` (RFC 8414).

use actix_web::test::TestRequest;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Reply, TestApp, bearer};

const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

crate::on_every_store!(
    introspection_is_for_admins_only,
    introspection_gives_the_claims_of_a_live_token_and_the_users_current_state,
    introspection_says_inactive_for_anything_not_valid_now,
    revoking_an_access_token_ends_its_session,
    revoking_a_refresh_token_ends_its_session_at_once,
    revocation_answers_200_for_any_token,
    revocation_is_rate_limited_like_the_token_endpoint,
    metadata_describes_the_endpoints,
    introspection_says_how_the_token_was_obtained,
    metadata_built_from_the_request_is_never_cached,
);

fn form(path: &str, fields: &[(&str, &str)]) -> TestRequest {
    TestRequest::post().uri(path).set_form(
        fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>(),
    )
}

async fn introspect(app: &TestApp, caller: &str, token: &str) -> Reply {
    app.send(form("/introspect", &[("token", token)]).insert_header(bearer(caller)))
        .await
}

async fn revoke(app: &TestApp, fields: &[(&str, &str)]) -> Reply {
    app.send(form("/revoke", fields)).await
}

fn inactive(reply: &Reply) {
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body, json!({"active": false}));
}

async fn introspection_is_for_admins_only(app: TestApp) {
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    let anonymous = app.send(form("/introspect", &[("token", &alice)])).await;
    anonymous.assert(401, "not_authenticated");
    introspect(&app, &alice, &alice)
        .await
        .assert(403, "forbidden");
    // An admin's API key will do: a service holds one, not a password.
    let key = app.api_key(&admin).await;
    let reply = app
        .send(form("/introspect", &[("token", &alice)]).insert_header(("X-API-Key", key)))
        .await;
    assert_eq!(reply.body["active"], true, "{}", reply.text);
    // The token to look at is required, in the form.
    introspect(&app, &admin, "")
        .await
        .assert(400, "invalid_request");
    let reply = app
        .send(form("/introspect", &[]).insert_header(bearer(&admin)))
        .await;
    reply.assert(400, "invalid_request");
    let json_body = TestRequest::post()
        .uri("/introspect")
        .insert_header(bearer(&admin))
        .set_json(json!({"token": alice}));
    app.send(json_body).await.assert(400, "invalid_request");
}

async fn introspection_gives_the_claims_of_a_live_token_and_the_users_current_state(app: TestApp) {
    let admin = app.admin("root").await;
    let alice_id = app.register("alice").await.body["id"].clone();
    let login = app.login("alice").await;
    let token = login["access_token"].as_str().unwrap();
    let reply = introspect(&app, &admin, token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = &reply.body;
    let claims = payload(token);
    assert_eq!(
        body,
        &json!({
            "active": true,
            "sub": alice_id,
            "username": "alice",
            "role": "user",
            "sid": claims["sid"],
            "exp": claims["exp"],
            "iat": claims["iat"],
            "iss": "auth-server",
            "aud": "auth-server",
            "token_type": "bearer",
        })
    );
    // The role is the user's role now, not the one in the token.
    let service = &app.state.service;
    let user = service.user_by_username("alice").await.unwrap();
    service
        .set_role_and_state(
            &auth_core::Actor::cli(),
            user.id,
            Some(auth_domain::Role::Admin),
            None,
        )
        .await
        .unwrap();
    assert_eq!(introspect(&app, &admin, token).await.body["role"], "admin");
    // A token hint of any kind changes nothing.
    let hinted = form(
        "/introspect",
        &[("token", token), ("token_type_hint", "refresh_token")],
    );
    let reply = app.send(hinted.insert_header(bearer(&admin))).await;
    assert_eq!(reply.body["active"], true);
}

async fn introspection_says_inactive_for_anything_not_valid_now(app: TestApp) {
    let admin = app.admin("root").await;
    app.register("alice").await;
    let login = app.login("alice").await;
    let token = login["access_token"].as_str().unwrap().to_owned();
    assert_eq!(introspect(&app, &admin, &token).await.body["active"], true);

    inactive(&introspect(&app, &admin, "garbage").await);
    inactive(&introspect(&app, &admin, "a.b.c").await);
    // A refresh token is not an access token.
    inactive(&introspect(&app, &admin, login["refresh_token"].as_str().unwrap()).await);
    // Signed by us, but expired.
    let mut expired = payload(&token);
    expired["exp"] = json!(expired["iat"].as_i64().unwrap() - 60);
    expired["iat"] = json!(expired["iat"].as_i64().unwrap() - 120);
    expired["nbf"] = expired["iat"].clone();
    inactive(&introspect(&app, &admin, &resign(&token, &expired)).await);
    // Another user's session id in a token signed by us.
    let bob = app.user("bob").await;
    let mut swapped = payload(&token);
    swapped["sid"] = payload(&bob)["sid"].clone();
    inactive(&introspect(&app, &admin, &resign(&token, &swapped)).await);
    assert_eq!(introspect(&app, &admin, &bob).await.body["active"], true);
    // A disabled user's token.
    app.disable("bob").await;
    inactive(&introspect(&app, &admin, &bob).await);
    // A session that ended (after being seen, so that it was cached).
    let reply = app
        .send(
            TestRequest::post()
                .uri("/logout")
                .insert_header(bearer(&token)),
        )
        .await;
    assert_eq!(reply.status, 204);
    inactive(&introspect(&app, &admin, &token).await);
}

async fn revoking_an_access_token_ends_its_session(app: TestApp) {
    app.register("alice").await;
    let login = app.login("alice").await;
    let token = login["access_token"].as_str().unwrap();
    assert_eq!(app.get("/profile", token).await.status, 200);
    let reply = revoke(
        &app,
        &[("token", token), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.text, "");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    app.get("/profile", token)
        .await
        .assert(401, "invalid_token");
    // The whole session: its refresh token too.
    app.refresh(&login["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    // Recorded as the holder ending the session.
    let admin = app.admin("root").await;
    let audit = app.get("/admin/audit", &admin).await;
    let revoked = audit.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "session.revoked")
        .cloned()
        .unwrap_or(Value::Null);
    let detail = revoked["detail"].as_str().unwrap_or_default();
    assert!(
        detail.ends_with("POST /revoke with its access token"),
        "{audit:?}"
    );
}

async fn revoking_a_refresh_token_ends_its_session_at_once(app: TestApp) {
    app.register("alice").await;
    let login = app.login("alice").await;
    let token = login["access_token"].as_str().unwrap();
    let other = app.token("alice").await;
    // Seen once, so the credential cache holds the session.
    assert_eq!(app.get("/profile", token).await.status, 200);
    let refresh = login["refresh_token"].as_str().unwrap();
    let reply = revoke(&app, &[("token", refresh)]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // At once, though the session was cached: the service told the cache.
    app.get("/profile", token)
        .await
        .assert(401, "invalid_token");
    app.refresh(&login["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    // Only that session.
    assert_eq!(app.get("/profile", &other).await.status, 200);
    // A rotated refresh token, presented after the grace period, ends its session too.
    let app = app.with_settings(&[("session.refresh_reuse_grace_secs", "0")]);
    let login = app.login("alice").await;
    let rotated = app.refresh(&login["refresh_token"]).await;
    assert_eq!(rotated.status, 200);
    let fresh = rotated.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/profile", fresh).await.status, 200);
    let old = login["refresh_token"].as_str().unwrap();
    assert_eq!(revoke(&app, &[("token", old)]).await.status, 200);
    app.get("/profile", fresh)
        .await
        .assert(401, "invalid_token");
}

async fn revocation_answers_200_for_any_token(app: TestApp) {
    let alice = app.user("alice").await;
    let foreign = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "x", "exp": 4_000_000_000_i64}),
        &EncodingKey::from_secret(b"someone else's secret, long enough"),
    )
    .unwrap();
    for token in [
        "garbage",
        "a.b.c",
        &foreign,
        &"x".repeat(10_000),
        "ak_0123abcd_notakey",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let reply = revoke(&app, &[("token", token)]).await;
        assert_eq!(reply.status, 200, "{token}: {}", reply.text);
    }
    // Twice is fine.
    assert_eq!(revoke(&app, &[("token", &alice)]).await.status, 200);
    assert_eq!(revoke(&app, &[("token", &alice)]).await.status, 200);
    // A request without a token is not a revocation request.
    revoke(&app, &[]).await.assert(400, "invalid_request");
    let reply = revoke(&app, &[("token_type_hint", "access_token")]).await;
    reply.assert(400, "invalid_request");
    assert!(reply.body["error_description"].is_string());
    let json_body = TestRequest::post()
        .uri("/revoke")
        .set_json(json!({"token": alice}));
    app.send(json_body).await.assert(400, "invalid_request");
}

async fn revocation_is_rate_limited_like_the_token_endpoint(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "2")]);
    let from = |peer: &str| {
        form("/revoke", &[("token", "garbage")]).peer_addr(format!("{peer}:50000").parse().unwrap())
    };
    for _ in 0..2 {
        assert_eq!(app.send(from("198.51.100.7")).await.status, 200);
    }
    let reply = app.send(from("198.51.100.7")).await;
    reply.assert(429, "too_many_requests");
    assert!(reply.header("retry-after").is_some());
    assert!(
        reply.body["error_description"].is_string(),
        "{}",
        reply.text
    );
    // Per client address, and shared with /token.
    assert_eq!(app.send(from("198.51.100.8")).await.status, 200);
    let token = TestRequest::post()
        .uri("/token")
        .peer_addr("198.51.100.7:50000".parse().unwrap())
        .set_form([("username", "alice"), ("password", "x")]);
    app.send(token).await.assert(429, "too_many_requests");
}

async fn metadata_describes_the_endpoints(app: TestApp) {
    let get = |host: &'static str, forwarded: Option<&'static str>| {
        let mut request = TestRequest::get()
            .uri("/.well-known/oauth-authorization-server")
            .insert_header(("Host", host));
        if let Some(forwarded) = forwarded {
            request = request.insert_header(("X-Forwarded-Host", forwarded));
        }
        request
    };
    let reply = app.send(get("auth.example.test:8443", None)).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let base = "http://auth.example.test:8443";
    assert_eq!(
        reply.body,
        json!({
            "issuer": "auth-server",
            "token_endpoint": format!("{base}/token"),
            "jwks_uri": format!("{base}/.well-known/jwks.json"),
            "grant_types_supported": ["password", "refresh_token"],
            "response_types_supported": [],
            "token_endpoint_auth_methods_supported": ["none"],
            "introspection_endpoint": format!("{base}/introspect"),
            "introspection_endpoint_auth_methods_supported": ["bearer", "api_key"],
            "revocation_endpoint": format!("{base}/revoke"),
            "revocation_endpoint_auth_methods_supported": ["none"],
            "access_token_signing_alg_values_supported": ["HS256"],
        })
    );
    // A client that is not a trusted proxy cannot make us advertise another host.
    let spoofed = app
        .send(get("auth.example.test", Some("evil.example")))
        .await;
    assert_eq!(
        spoofed.body["token_endpoint"],
        "http://auth.example.test/token"
    );
    // A Host that is not a host name is not echoed.
    let garbled = app.send(get("evil.example/x?y", None)).await;
    assert!(
        !garbled.text.contains("evil"),
        "{}",
        garbled.body["token_endpoint"]
    );
    // server.public_url wins, and the issuer is jwt.issuer (make them the same URL for
    // clients that compare them, as RFC 8414 §3.3 asks).
    let app = app.with_settings(&[
        ("server.public_url", "https://auth.example.com/sso/"),
        ("jwt.issuer", "https://auth.example.com/sso"),
    ]);
    let reply = app.send(get("internal:8000", None)).await;
    assert_eq!(reply.body["issuer"], "https://auth.example.com/sso");
    assert_eq!(
        reply.body["revocation_endpoint"],
        "https://auth.example.com/sso/revoke"
    );
    assert_eq!(
        reply.body["jwks_uri"],
        "https://auth.example.com/sso/.well-known/jwks.json"
    );
}

/// A service asking about a token learns what a local verifier of the token would: whether
/// the login passed a second factor (`amr`), and whether the token stands for an API key, with
/// that key's limits (`api_key_id`).
async fn introspection_says_how_the_token_was_obtained(app: TestApp) {
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    // A password login: neither.
    let reply = introspect(&app, &admin, &alice).await;
    assert_eq!(reply.body["active"], true, "{}", reply.text);
    assert!(reply.body.get("amr").is_none(), "{}", reply.text);
    assert!(reply.body.get("api_key_id").is_none(), "{}", reply.text);

    // A token exchanged for an API key: the key's id.
    let key = app.api_key(&alice).await;
    let keys = app.get("/api-keys", &alice).await;
    let key_id = keys.body[0]["id"].as_str().unwrap().to_owned();
    let exchanged = app
        .send(
            TestRequest::post()
                .uri("/login/api-key")
                .insert_header(("X-API-Key", key)),
        )
        .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text);
    let token = exchanged.body["access_token"].as_str().unwrap();
    let reply = introspect(&app, &admin, token).await;
    assert_eq!(reply.body["active"], true, "{}", reply.text);
    assert_eq!(reply.body["api_key_id"], key_id, "{}", reply.text);
    assert!(reply.body.get("amr").is_none(), "{}", reply.text);

    // A login that passed a second factor (here a recovery code): `amr` as in the token.
    let post = |path: &'static str, body: Value| {
        TestRequest::post()
            .uri(path)
            .insert_header(bearer(&alice))
            .set_json(body)
    };
    let started = app
        .send(post("/mfa/totp", json!({"current_password": PASSWORD})))
        .await;
    assert_eq!(started.status, 201, "{}", started.text);
    let secret = totp_rs::Secret::Encoded(started.body["secret"].as_str().unwrap().to_owned());
    let totp = totp_rs::TOTP::new(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_bytes().unwrap(),
    )
    .unwrap();
    let confirmed = app
        .send(post(
            "/mfa/totp/confirm",
            json!({"code": totp.generate_current().unwrap()}),
        ))
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let recovery_code = confirmed.body["recovery_codes"][0].clone();
    let challenge = app.login_with("alice", PASSWORD).await;
    challenge.assert(403, "mfa_required");
    let login = app
        .post_json(
            "/login/mfa",
            json!({"mfa_token": challenge.body["mfa_token"], "recovery_code": recovery_code}),
        )
        .await;
    assert_eq!(login.status, 200, "{}", login.text);
    let token = login.body["access_token"].as_str().unwrap();
    let reply = introspect(&app, &admin, token).await;
    assert_eq!(reply.body["active"], true, "{}", reply.text);
    assert_eq!(reply.body["amr"], json!(["pwd", "otp"]), "{}", reply.text);
    assert_eq!(reply.body["amr"], payload(token)["amr"]);
    assert!(reply.body.get("api_key_id").is_none(), "{}", reply.text);
}

/// Without `server.public_url` the metadata's URLs come from the request (`Host`, or a trusted
/// proxy's forwarded headers), so a shared cache must never keep it: it would serve one
/// request's host to everyone. With `server.public_url` the answer is the same for all, and
/// cacheable.
async fn metadata_built_from_the_request_is_never_cached(app: TestApp) {
    let app = app.with_settings(&[("server.trusted_proxies", "127.0.0.1")]);
    let through_proxy = || {
        TestRequest::get()
            .uri("/.well-known/oauth-authorization-server")
            .peer_addr("127.0.0.1:40000".parse().unwrap())
            .insert_header(("Host", "auth.internal:8000"))
            .insert_header(("X-Forwarded-Host", "evil.example"))
            .insert_header(("X-Forwarded-Proto", "https"))
    };
    // The trusted proxy is believed, but the answer is for this request only.
    let reply = app.send(through_proxy()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["token_endpoint"], "https://evil.example/token");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let direct = app
        .send(
            TestRequest::get()
                .uri("/.well-known/oauth-authorization-server")
                .insert_header(("Host", "auth.example.test")),
        )
        .await;
    assert_eq!(direct.header("cache-control"), Some("no-store"));

    // server.public_url: the forwarded host is not used, and the answer may be cached.
    let app = app.with_settings(&[
        ("server.trusted_proxies", "127.0.0.1"),
        ("server.public_url", "https://auth.example.com"),
    ]);
    let reply = app.send(through_proxy()).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(!reply.text.contains("evil"), "{}", reply.text);
    assert_eq!(
        reply.body["token_endpoint"],
        "https://auth.example.com/token"
    );
    assert_eq!(reply.header("cache-control"), Some("public, max-age=300"));
}

/// The claims of a token, unverified.
fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// `claims` signed as `like` is (our HS256 test secret, its header), so that only the claims
/// differ.
fn resign(like: &str, claims: &Value) -> String {
    let header = jsonwebtoken::decode_header(like).unwrap();
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}
