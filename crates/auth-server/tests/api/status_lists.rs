//! Token Status Lists (issue 20, the server side): every access token references an entry of
//! a list published at `GET /statuslists/{id}`, and the entry is 1 as soon as anything makes
//! the token invalid at the server.

use actix_web::{
    http::{StatusCode, header::HeaderMap},
    test::{self, TestRequest},
};
use auth_core::status_list::{Bits, StatusList};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(
    tokens_reference_a_published_list_and_start_valid,
    logout_revoke_and_password_change_set_the_bit,
    disabling_and_role_changes_set_the_bit,
    the_list_is_cached_by_etag_and_unknown_lists_are_404,
);

/// A raw answer: the list token is not JSON.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    text: String,
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Raw {
    let service = test::init_service(auth_actix::app(app.state.clone())).await;
    let mut request = TestRequest::get().uri(path);
    for (name, value) in headers {
        request = request.insert_header((*name, *value));
    }
    let response = test::call_service(&service, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let text = String::from_utf8_lossy(&test::read_body(response).await).into_owned();
    Raw {
        status,
        headers,
        text,
    }
}

/// The `status` claim of an access token: the list's URL and the index.
fn status_of(token: &str) -> (String, u64) {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let entry = &claims["status"]["status_list"];
    (
        entry["uri"].as_str().unwrap().to_owned(),
        entry["idx"].as_u64().unwrap(),
    )
}

fn path_of(uri: &str) -> &str {
    &uri[uri.find("/statuslists/").unwrap()..]
}

/// The bit of `token` in the list the server publishes now, the list token checked as a
/// verifier checks it.
async fn bit(app: &TestApp, token: &str) -> u8 {
    let (uri, idx) = status_of(token);
    let reply = fetch(app, path_of(&uri), &[]).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/statuslist+jwt"
    );
    let claims = app
        .state
        .service
        .verifier()
        .verify_status_list(&reply.text, &uri)
        .unwrap();
    assert_eq!(claims.sub, uri);
    assert_eq!(claims.ttl, Some(2));
    assert_eq!(claims.status_list.bits, 1);
    let list = StatusList::decode(Bits::One, &claims.status_list.lst, 1 << 24).unwrap();
    list.get(idx).unwrap()
}

async fn tokens_reference_a_published_list_and_start_valid(app: TestApp) {
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let (uri, alice_idx) = status_of(&alice);
    let (bob_uri, bob_idx) = status_of(&bob);
    assert!(uri.ends_with("/statuslists/1"), "{uri}");
    assert!(uri.starts_with("http"), "{uri}");
    assert_eq!(uri, bob_uri);
    assert_ne!(alice_idx, bob_idx);
    assert_eq!(bit(&app, &alice).await, 0);
    assert_eq!(bit(&app, &bob).await, 0);
    // A refresh gives the session a new entry.
    let login = app.login("alice").await;
    let refreshed = app.refresh(&login["refresh_token"]).await;
    let renewed = refreshed.body["access_token"].as_str().unwrap();
    assert_ne!(
        status_of(renewed).1,
        status_of(login["access_token"].as_str().unwrap()).1
    );
    assert_eq!(bit(&app, renewed).await, 0);

    // The unsigned JSON form, on request.
    let reply = fetch(
        &app,
        path_of(&uri),
        &[("Accept", "application/statuslist+json")],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers.get("content-type").unwrap(),
        "application/statuslist+json"
    );
    let body: Value = serde_json::from_str(&reply.text).unwrap();
    assert_eq!(body["status_list"]["bits"], 1);
    let list = StatusList::decode(
        Bits::One,
        body["status_list"]["lst"].as_str().unwrap(),
        1 << 24,
    )
    .unwrap();
    assert_eq!(list.get(alice_idx), Some(0));

    // With `server.public_url`, the URL is built on it.
    let app = app.with_settings(&[("server.public_url", "https://auth.example.com")]);
    let token = app.token("alice").await;
    let (uri, _) = status_of(&token);
    assert!(
        uri.starts_with("https://auth.example.com/statuslists/"),
        "{uri}"
    );
    assert_eq!(bit(&app, &token).await, 0);
}

async fn logout_revoke_and_password_change_set_the_bit(app: TestApp) {
    let bystander = app.user("bob").await;
    let alice = app.user("alice").await;
    // Fetched (and signed, and kept) before the logout: the token kept must not be served after.
    assert_eq!(bit(&app, &alice).await, 0, "before logout");
    let logout = app
        .send(
            TestRequest::post()
                .uri("/logout")
                .insert_header(bearer(&alice)),
        )
        .await;
    assert!(logout.status.is_success(), "{}", logout.text);
    assert_eq!(bit(&app, &alice).await, 1, "logout");

    let other = app.token("alice").await;
    assert_eq!(bit(&app, &other).await, 0, "before /revoke");
    let revoke = app
        .send(
            TestRequest::post()
                .uri("/revoke")
                .set_form([("token", other.as_str())]),
        )
        .await;
    assert_eq!(revoke.status, 200);
    assert_eq!(bit(&app, &other).await, 1, "RFC 7009 /revoke");

    let kept = app.token("alice").await;
    let ended = app.token("alice").await;
    let change = app
        .send(
            TestRequest::patch()
                .uri("/profile")
                .insert_header(bearer(&kept))
                .set_json(
                    json!({"password": "another correct horse", "current_password": PASSWORD}),
                ),
        )
        .await;
    assert_eq!(change.status, 200, "{}", change.text);
    assert_eq!(bit(&app, &ended).await, 1, "password change");
    assert_eq!(bit(&app, &bystander).await, 0, "another user's token");
}

async fn disabling_and_role_changes_set_the_bit(app: TestApp) {
    let admin = app.admin("root").await;
    let bystander = app.user("bob").await;
    let alice = app.user("alice").await;
    let carol = app.user("carol").await;
    let carol_id = app.get("/users/me", &carol).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    app.disable("alice").await;
    assert_eq!(bit(&app, &alice).await, 1, "disabled");

    let promote = app
        .send(
            TestRequest::patch()
                .uri(&format!("/admin/users/{carol_id}"))
                .insert_header(bearer(&admin))
                .set_json(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(promote.status, 200, "{}", promote.text);
    assert_eq!(bit(&app, &carol).await, 1, "role change");
    // The server itself still reads the current role: the session lives on.
    assert_eq!(app.get("/admin", &carol).await.status, 200);
    // A new token states the new role and is valid.
    let fresh = app.token("carol").await;
    assert_eq!(bit(&app, &fresh).await, 0);
    assert_eq!(bit(&app, &bystander).await, 0, "another user's token");
}

async fn the_list_is_cached_by_etag_and_unknown_lists_are_404(app: TestApp) {
    let alice = app.user("alice").await;
    let (uri, _) = status_of(&alice);
    let first = fetch(&app, path_of(&uri), &[]).await;
    assert_eq!(first.status, 200);
    assert_eq!(
        first.headers.get("cache-control").unwrap(),
        "private, max-age=2"
    );
    let etag = first
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let again = fetch(&app, path_of(&uri), &[("If-None-Match", &etag)]).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.text, "");
    // A change of the bits changes the tag.
    app.send(
        TestRequest::post()
            .uri("/logout")
            .insert_header(bearer(&alice)),
    )
    .await;
    let changed = fetch(&app, path_of(&uri), &[("If-None-Match", &etag)]).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.headers.get("etag").unwrap(), etag.as_str());

    for missing in ["/statuslists/999", "/statuslists/0", "/statuslists/x"] {
        let reply = fetch(&app, missing, &[]).await;
        assert_eq!(reply.status, 404, "{missing}");
        let body: Value = serde_json::from_str(&reply.text).unwrap();
        assert_eq!(body["error"], "not_found", "{missing}");
    }
}
