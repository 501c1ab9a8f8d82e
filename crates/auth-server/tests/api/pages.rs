//! The pages that links in messages open, through the real app: `GET /reset-password?token=…`
//! shows a form and uses nothing up, `POST /reset-password` (form-encoded) sets the password
//! and says how it went, in HTML with the pages' security headers; another site's form post is
//! refused; with mail off the pages do not exist.

use actix_web::{
    http::{StatusCode, header::HeaderMap},
    test::{self, TestRequest},
};
use auth_core::MailKind;
use auth_domain::Email;
use serde_json::{Value, json};

use crate::helpers::{LINK_BASE, PASSWORD, TestApp, bearer};

const NEW_PASSWORD: &str = "a brand new horse battery";

crate::on_every_store!(
    the_link_opens_a_form_and_only_the_form_post_uses_the_token,
    refused_passwords_show_the_form_again_and_leave_the_token_working,
    damaged_links_and_bad_posts_are_4xx_pages,
    a_form_posted_from_another_site_is_refused,
    the_page_post_is_rate_limited_per_client_address,
    with_mail_off_the_pages_do_not_exist,
    the_verify_link_opens_a_button_and_only_its_post_verifies,
    the_verify_page_confirms_an_email_change_and_says_when_the_address_was_taken,
    a_verify_form_posted_from_another_site_is_refused,
    with_mail_off_the_verify_pages_do_not_exist,
);

/// An HTML answer.
struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: String,
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// An HTML page with the pages' headers, and the status.
    #[track_caller]
    fn assert(&self, status: u16, contains: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.html);
        assert_eq!(
            self.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(self.header("cache-control"), Some("no-store"));
        assert_eq!(self.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(self.header("x-frame-options"), Some("DENY"));
        let csp = self.header("content-security-policy").unwrap();
        for directive in [
            "default-src 'none'",
            "style-src 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("script-src"),
            "{csp}"
        );
        assert!(self.html.starts_with("<!DOCTYPE html>"), "{}", self.html);
        assert!(self.html.contains("name=\"viewport\""));
        assert!(self.html.contains("<title>"));
        assert!(self.html.contains("auth-server</title>"), "{}", self.html);
        assert!(!self.html.contains("<script"), "{}", self.html);
        assert!(
            !self.html.contains("http"),
            "an absolute URL: {}",
            self.html
        );
        assert!(
            self.html.contains(contains),
            "{contains:?} in {}",
            self.html
        );
        self
    }

    fn has_form(&self) -> bool {
        self.html
            .contains("<form method=\"post\" action=\"/reset-password\">")
    }
}

async fn send(app: &TestApp, request: TestRequest) -> Page {
    let service = test::init_service(auth_actix::app(app.state.clone())).await;
    let response = test::call_service(&service, request.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let html = String::from_utf8(test::read_body(response).await.to_vec()).unwrap();
    Page {
        status,
        headers,
        html,
    }
}

async fn open(app: &TestApp, token: &str) -> Page {
    send(
        app,
        TestRequest::get().uri(&format!("/reset-password?token={token}")),
    )
    .await
}

fn form(fields: &[(&str, &str)]) -> TestRequest {
    TestRequest::post().uri("/reset-password").set_form(fields)
}

fn reset_form(token: &str, new: &str, repeated: &str) -> TestRequest {
    form(&[
        ("token", token),
        ("new_password", new),
        ("confirm_password", repeated),
    ])
}

/// Registers `username` with an address and asks for a reset link; its token.
async fn token_for(app: &TestApp, username: &str) -> String {
    let reply = app
        .post_json(
            "/register",
            json!({"username": username, "password": PASSWORD,
                   "email": format!("{username}@example.com")}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let reply = app
        .post_json("/password/forgot", json!({"username": username}))
        .await;
    assert_eq!(reply.status, 202, "{}", reply.text);
    // The message is sent by work that runs behind the answer.
    app.state.service.idle().await;
    let to = Email::parse(&format!("{username}@example.com")).unwrap();
    let message = app.mail().last(MailKind::PasswordReset, &to).unwrap();
    let prefix = format!("{LINK_BASE}/reset-password?token=");
    let start = message.text().find(&prefix).unwrap() + prefix.len();
    message.text()[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn logs_in(app: &TestApp, username: &str, password: &str) -> bool {
    app.login_with(username, password).await.status == 200
}

async fn the_link_opens_a_form_and_only_the_form_post_uses_the_token(app: TestApp) {
    let token = token_for(&app, "alice").await;
    let session = app.login("alice").await;
    let access = session["access_token"].as_str().unwrap().to_owned();
    // A mail scanner and then the user open the link: neither uses it up.
    for _ in 0..3 {
        let page = open(&app, &token).await;
        page.assert(200, "Choose a new password");
        assert!(page.has_form());
        assert!(
            page.html
                .contains(&format!("name=\"token\" value=\"{token}\"")),
            "{}",
            page.html
        );
        assert!(page.html.contains("autocomplete=\"new-password\""));
        assert!(page.html.contains("href=\"/assets/pages.css\""));
    }
    let head = send(
        &app,
        TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(&format!("/reset-password?token={token}")),
    )
    .await;
    assert_eq!(head.status, 200);
    assert!(logs_in(&app, "alice", PASSWORD).await);
    assert_eq!(app.get("/profile", &access).await.status, 200);

    let page = send(&app, reset_form(&token, NEW_PASSWORD, NEW_PASSWORD)).await;
    page.assert(200, "Password changed");
    assert!(!page.has_form());
    assert!(
        !page.html.contains(&token),
        "the token is still on the page"
    );
    // What POST /password/reset does: the old credentials end, the new password works.
    assert_eq!(app.get("/profile", &access).await.status, 401);
    assert!(!logs_in(&app, "alice", PASSWORD).await);
    assert!(logs_in(&app, "alice", NEW_PASSWORD).await);
    // Used once.
    send(
        &app,
        reset_form(&token, "another brand new horse", "another brand new horse"),
    )
    .await
    .assert(400, "does not work any more");
    assert!(logs_in(&app, "alice", NEW_PASSWORD).await);

    // The stylesheet: served from here (the CSP allows only this origin's).
    let css = send(&app, TestRequest::get().uri("/assets/pages.css")).await;
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(css.html.contains(".card"));
    assert!(!css.html.contains("url("), "the stylesheet loads nothing");
}

async fn refused_passwords_show_the_form_again_and_leave_the_token_working(app: TestApp) {
    let token = token_for(&app, "bob").await;
    let page = send(
        &app,
        reset_form(&token, NEW_PASSWORD, "a brand new horse batterY"),
    )
    .await;
    page.assert(422, "The two passwords differ");
    assert!(page.has_form());
    assert!(page.html.contains(&format!("value=\"{token}\"")));

    let page = send(&app, reset_form(&token, "password1", "password1")).await;
    page.assert(422, "too easy to guess");
    assert!(page.has_form());

    let page = send(&app, reset_form(&token, "short", "short")).await;
    assert_eq!(page.status, 422, "{}", page.html);
    assert!(page.has_form());

    let long = "x".repeat(73);
    let page = send(&app, reset_form(&token, &long, &long)).await;
    assert_eq!(page.status, 422, "{}", page.html);
    assert!(page.has_form());

    // None of them used the token up, nor changed the password.
    assert!(logs_in(&app, "bob", PASSWORD).await);
    send(&app, reset_form(&token, NEW_PASSWORD, NEW_PASSWORD))
        .await
        .assert(200, "Password changed");
    assert!(logs_in(&app, "bob", NEW_PASSWORD).await);
}

async fn damaged_links_and_bad_posts_are_4xx_pages(app: TestApp) {
    for uri in [
        "/reset-password",
        "/reset-password?token=",
        "/reset-password?other=1",
        "/reset-password?token=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "/reset-password?token=a%20b",
        "/reset-password?token=%FF%FE",
    ] {
        let page = send(&app, TestRequest::get().uri(uri)).await;
        page.assert(400, "This link is incomplete");
        assert!(!page.has_form(), "{uri}");
    }
    let long = format!("/reset-password?token={}", "a".repeat(129));
    send(&app, TestRequest::get().uri(&long))
        .await
        .assert(400, "This link is incomplete");
    // A well-formed token that is nobody's: the form shows (a GET looks nothing up), its
    // post says the link does not work.
    open(&app, "nobodys-token")
        .await
        .assert(200, "Choose a new password");
    send(
        &app,
        reset_form("nobodys-token", NEW_PASSWORD, NEW_PASSWORD),
    )
    .await
    .assert(400, "does not work any more");

    send(&app, form(&[("token", "abc")]))
        .await
        .assert(400, "The form was incomplete");
    send(&app, form(&[]))
        .await
        .assert(400, "The form was incomplete");
    send(
        &app,
        TestRequest::post()
            .uri("/reset-password")
            .set_json(json!({"token": "abc", "new_password": NEW_PASSWORD})),
    )
    .await
    .assert(415, "must be sent form-encoded");
    send(&app, reset_form("a b", NEW_PASSWORD, NEW_PASSWORD))
        .await
        .assert(400, "This link is incomplete");
    let huge = "x".repeat(70 * 1024);
    send(&app, reset_form("abc", &huge, &huge))
        .await
        .assert(413, "Form refused");

    // Other methods: the JSON 405 of every route, with Allow.
    let reply = app
        .send(TestRequest::put().uri("/reset-password?token=abc"))
        .await;
    reply.assert(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET, HEAD, POST"));
    app.send(TestRequest::post().uri("/assets/pages.css"))
        .await
        .assert(405, "method_not_allowed");
}

async fn a_form_posted_from_another_site_is_refused(app: TestApp) {
    let token = token_for(&app, "carol").await;
    let here = |request: TestRequest| request.insert_header(("host", "auth.example.com"));
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "https://auth.example.com.evil.example")],
        vec![("origin", "null")],
        vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
        vec![
            ("origin", "https://auth.example.com"),
            ("sec-fetch-site", "cross-site"),
        ],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let mut request = here(reset_form(&token, NEW_PASSWORD, NEW_PASSWORD));
        for header in &headers {
            request = request.insert_header(*header);
        }
        send(&app, request)
            .await
            .assert(403, "sent from another site");
        assert!(logs_in(&app, "carol", PASSWORD).await, "{headers:?}");
    }
    // The browser's own post from the page (Origin null under `Referrer-Policy: no-referrer`,
    // with Sec-Fetch-Site same-origin) goes through.
    send(
        &app,
        here(reset_form(&token, NEW_PASSWORD, NEW_PASSWORD))
            .insert_header(("origin", "null"))
            .insert_header(("sec-fetch-site", "same-origin")),
    )
    .await
    .assert(200, "Password changed");
    assert!(logs_in(&app, "carol", NEW_PASSWORD).await);

    // This server's own origin, named: also fine.
    let token = token_for(&app, "dave").await;
    send(
        &app,
        here(reset_form(&token, NEW_PASSWORD, NEW_PASSWORD))
            .insert_header(("origin", "http://auth.example.com")),
    )
    .await
    .assert(200, "Password changed");
}

async fn the_page_post_is_rate_limited_per_client_address(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "2")]);
    let from = |peer: &str| {
        reset_form("nobodys-token", NEW_PASSWORD, NEW_PASSWORD)
            .peer_addr(format!("{peer}:50000").parse().unwrap())
    };
    for _ in 0..2 {
        send(&app, from("198.51.100.7"))
            .await
            .assert(400, "does not work any more");
    }
    let page = send(&app, from("198.51.100.7")).await;
    page.assert(429, "Too many tries");
    assert!(page.header("retry-after").is_some());
    send(&app, from("198.51.100.8"))
        .await
        .assert(400, "does not work any more");
}

async fn with_mail_off_the_pages_do_not_exist(app: TestApp) {
    let app = app.without_mail();
    for request in [
        TestRequest::get().uri("/reset-password?token=abc"),
        reset_form("abc", NEW_PASSWORD, NEW_PASSWORD),
        TestRequest::get().uri("/assets/pages.css"),
    ] {
        let reply = app.send(request).await;
        reply.assert(404, "not_found");
        assert_eq!(reply.body["error"], Value::from("not_found"));
    }
}

// The verify-email page: `GET /verify-email?token=…` shows one button, `POST /verify-email`
// (form-encoded) verifies.

fn verify_form(token: &str) -> TestRequest {
    TestRequest::post()
        .uri("/verify-email")
        .set_form([("token", token)])
}

fn has_verify_form(page: &Page) -> bool {
    page.html
        .contains("<form method=\"post\" action=\"/verify-email\">")
}

/// The token of the last verify-email link of `kind` sent to `to`.
fn verify_token(app: &TestApp, kind: MailKind, to: &str) -> String {
    let message = app.mail().last(kind, &Email::parse(to).unwrap()).unwrap();
    let prefix = format!("{LINK_BASE}/verify-email?token=");
    let start = message.text().find(&prefix).unwrap() + prefix.len();
    message.text()[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Registers `username` with `username@example.com`; their access token.
async fn register_with_email(app: &TestApp, username: &str) -> String {
    let reply = app
        .post_json(
            "/register",
            json!({"username": username, "password": PASSWORD,
                   "email": format!("{username}@example.com")}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    app.state.service.idle().await;
    app.token(username).await
}

async fn profile(app: &TestApp, access: &str) -> Value {
    let reply = app.get("/profile", access).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

async fn change_email(app: &TestApp, access: &str, to: &str) {
    let reply = app
        .send(
            TestRequest::patch()
                .uri("/profile")
                .insert_header(bearer(access))
                .set_json(json!({"email": to, "current_password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    app.state.service.idle().await;
}

async fn the_verify_link_opens_a_button_and_only_its_post_verifies(app: TestApp) {
    let access = register_with_email(&app, "alice").await;
    let token = verify_token(&app, MailKind::EmailVerification, "alice@example.com");
    // A mail scanner and then the user open the link: nothing is verified, nothing used up.
    for _ in 0..3 {
        let page = send(
            &app,
            TestRequest::get().uri(&format!("/verify-email?token={token}")),
        )
        .await;
        page.assert(200, "Verify your address");
        assert!(has_verify_form(&page), "{}", page.html);
        assert!(
            page.html
                .contains(&format!("name=\"token\" value=\"{token}\"")),
            "{}",
            page.html
        );
        assert!(page.html.contains("<button type=\"submit\">"));
    }
    assert_eq!(profile(&app, &access).await["email_verified"], false);

    let page = send(&app, verify_form(&token)).await;
    page.assert(200, "Your address alice@example.com is verified.");
    assert!(!has_verify_form(&page));
    assert!(
        !page.html.contains(&token),
        "the token is still on the page"
    );
    assert_eq!(profile(&app, &access).await["email_verified"], true);

    // Used once.
    let page = send(&app, verify_form(&token)).await;
    page.assert(400, "This link does not work any more");
    assert!(!page.html.contains("is verified"), "{}", page.html);

    // Damaged links and bad posts: 4xx pages.
    for uri in [
        "/verify-email",
        "/verify-email?token=",
        "/verify-email?token=a%20b",
    ] {
        send(&app, TestRequest::get().uri(uri))
            .await
            .assert(400, "This link is incomplete");
    }
    send(&app, verify_form("nobodys-token"))
        .await
        .assert(400, "This link does not work any more");
    send(&app, verify_form("a b"))
        .await
        .assert(400, "This link is incomplete");
    send(
        &app,
        TestRequest::post()
            .uri("/verify-email")
            .set_form([("other", "1")]),
    )
    .await
    .assert(400, "The form was incomplete");
    send(
        &app,
        TestRequest::post()
            .uri("/verify-email")
            .set_json(json!({"token": token})),
    )
    .await
    .assert(415, "must be sent form-encoded");
}

async fn the_verify_page_confirms_an_email_change_and_says_when_the_address_was_taken(
    app: TestApp,
) {
    let access = register_with_email(&app, "alice").await;
    change_email(&app, &access, "alice@example.org").await;
    let token = verify_token(&app, MailKind::EmailChange, "alice@example.org");
    assert_eq!(profile(&app, &access).await["email"], "alice@example.com");
    send(&app, verify_form(&token))
        .await
        .assert(200, "Your address alice@example.org is verified.")
        .assert(200, "It is now your account's address");
    let now = profile(&app, &access).await;
    assert_eq!(now["email"], "alice@example.org");
    assert_eq!(now["email_verified"], true);

    // An address another account took meanwhile: 409, in words; nothing changes.
    change_email(&app, &access, "shared@example.com").await;
    let token = verify_token(&app, MailKind::EmailChange, "shared@example.com");
    let carol = app
        .post_json(
            "/register",
            json!({"username": "carol", "password": PASSWORD, "email": "shared@example.com"}),
        )
        .await;
    assert_eq!(carol.status, 201, "{}", carol.text);
    send(&app, verify_form(&token))
        .await
        .assert(409, "This address is taken");
    assert_eq!(profile(&app, &access).await["email"], "alice@example.org");
}

async fn a_verify_form_posted_from_another_site_is_refused(app: TestApp) {
    let access = register_with_email(&app, "carol").await;
    let token = verify_token(&app, MailKind::EmailVerification, "carol@example.com");
    let here = |request: TestRequest| request.insert_header(("host", "auth.example.com"));
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
    ] {
        let mut request = here(verify_form(&token));
        for header in &headers {
            request = request.insert_header(*header);
        }
        send(&app, request)
            .await
            .assert(403, "sent from another site");
        assert_eq!(
            profile(&app, &access).await["email_verified"],
            false,
            "{headers:?}"
        );
    }
    // The browser's own post from the page goes through.
    send(
        &app,
        here(verify_form(&token))
            .insert_header(("origin", "null"))
            .insert_header(("sec-fetch-site", "same-origin")),
    )
    .await
    .assert(200, "carol@example.com is verified");
    assert_eq!(profile(&app, &access).await["email_verified"], true);
}

async fn with_mail_off_the_verify_pages_do_not_exist(app: TestApp) {
    let app = app.without_mail();
    for request in [
        TestRequest::get().uri("/verify-email?token=abc"),
        verify_form("abc"),
    ] {
        let reply = app.send(request).await;
        reply.assert(404, "not_found");
        assert_eq!(reply.body["error"], Value::from("not_found"));
    }
}
