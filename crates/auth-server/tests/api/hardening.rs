use actix_web::test::TestRequest;
use serde_json::json;

use crate::helpers::{PASSWORD, Reply, TestApp, bearer};

crate::on_every_store!(
    repeated_failures_lock_a_username_with_429_and_retry_after,
    unknown_and_existing_names_lock_alike,
    concurrent_guesses_never_get_past_the_limit,
    a_burst_of_correct_logins_is_not_locked_out,
    a_success_resets_the_failure_count,
    weak_passwords_are_refused_with_the_reason,
    each_client_ip_has_its_own_rate_limit,
    forwarded_addresses_count_only_from_trusted_proxies,
);

fn assert_locked(reply: &Reply) -> u64 {
    reply.assert(429, "too_many_attempts");
    let retry: u64 = reply.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "Retry-After {retry}");
    retry
}

async fn repeated_failures_lock_a_username_with_429_and_retry_after(app: TestApp) {
    app.register("alice").await;
    app.register("bob").await;
    for _ in 0..5 {
        app.login_with("alice", "not the password")
            .await
            .assert(401, "invalid_credentials");
    }
    // Locked: even the right password is refused, before it is checked.
    assert_locked(&app.login_with("alice", PASSWORD).await);
    assert_locked(&app.login_with("ALICE", "not the password").await);
    let form = TestRequest::post()
        .uri("/token")
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload("username=alice&password=correct+horse+battery");
    assert_locked(&app.send(form).await);
    // Other accounts are unaffected.
    assert_eq!(app.login_with("bob", PASSWORD).await.status, 200);
}

async fn unknown_and_existing_names_lock_alike(app: TestApp) {
    app.register("alice").await;
    for name in ["alice", "ghost"] {
        for _ in 0..5 {
            app.login_with(name, "not the password")
                .await
                .assert(401, "invalid_credentials");
        }
    }
    let existing = app.login_with("alice", "not the password").await;
    let unknown = app.login_with("ghost", "not the password").await;
    assert_locked(&existing);
    assert_locked(&unknown);
    assert_eq!(existing.body["error"], unknown.body["error"]);
    let keys = |r: &Reply| {
        let mut names: Vec<String> = r.headers.keys().map(|k| k.to_string()).collect();
        names.sort();
        names
    };
    assert_eq!(keys(&existing), keys(&unknown));
}

async fn a_success_resets_the_failure_count(app: TestApp) {
    app.register("alice").await;
    for _ in 0..4 {
        app.login_with("alice", "not the password").await;
    }
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
    for _ in 0..4 {
        app.login_with("alice", "not the password")
            .await
            .assert(401, "invalid_credentials");
    }
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
}

async fn weak_passwords_are_refused_with_the_reason(app: TestApp) {
    for (username, password) in [
        ("alice", "password123"),
        ("alice", "qwertyuiop"),
        ("zebulon.the.great", "zebulon.the.great!"),
    ] {
        let reply = app
            .post_json(
                "/register",
                json!({"username": username, "password": password}),
            )
            .await;
        reply.assert(422, "weak_password");
        let detail = reply.body["detail"].as_str().unwrap();
        assert!(
            detail.contains("too easy to guess") && detail.contains("passphrase"),
            "{detail}"
        );
    }
    let token = app.user("alice").await;
    let change = TestRequest::patch()
        .uri("/profile")
        .insert_header(bearer(&token))
        .set_json(json!({"password": "alice12345", "current_password": PASSWORD}));
    app.send(change).await.assert(422, "weak_password");
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
}

fn from(peer: &str, request: TestRequest) -> TestRequest {
    request.peer_addr(format!("{peer}:50000").parse().unwrap())
}

fn login_from(peer: &str) -> TestRequest {
    from(
        peer,
        TestRequest::post()
            .uri("/login")
            .set_json(json!({"username": "nobody", "password": "whatever it is"})),
    )
}

async fn each_client_ip_has_its_own_rate_limit(app: TestApp) {
    let app = app.with_settings(&[("security.rate_limit_per_minute", "3")]);
    let peer = "198.51.100.1";
    app.send(login_from(peer))
        .await
        .assert(401, "invalid_credentials");
    app.send(from(
        peer,
        TestRequest::post().uri("/register").set_json(json!({})),
    ))
    .await
    .assert(422, "validation_error");
    app.send(from(
        peer,
        TestRequest::post()
            .uri("/refresh")
            .set_json(json!({"refresh_token": "x"})),
    ))
    .await
    .assert(401, "invalid_grant");
    let limited = app.send(login_from(peer)).await;
    limited.assert(429, "too_many_requests");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let token = from(
        peer,
        TestRequest::post()
            .uri("/token")
            .insert_header(("content-type", "application/x-www-form-urlencoded"))
            .set_payload("username=a&password=b"),
    );
    app.send(token).await.assert(429, "too_many_requests");
    // X-Forwarded-For from an untrusted peer changes nothing.
    let spoofed = login_from(peer).insert_header(("X-Forwarded-For", "203.0.113.50"));
    app.send(spoofed).await.assert(429, "too_many_requests");
    // Another address has its own bucket; routes without credentials are not limited.
    app.send(login_from("198.51.100.2"))
        .await
        .assert(401, "invalid_credentials");
    assert_eq!(
        app.send(from(peer, TestRequest::get().uri("/health")))
            .await
            .status,
        200
    );
}

async fn forwarded_addresses_count_only_from_trusted_proxies(app: TestApp) {
    let app = app.with_settings(&[
        ("security.rate_limit_per_minute", "2"),
        ("server.trusted_proxies", "10.0.0.1, 10.0.0.2"),
    ]);
    let via_proxy =
        |client: &str| login_from("10.0.0.1").insert_header(("X-Forwarded-For", client.to_owned()));
    for _ in 0..2 {
        app.send(via_proxy("198.51.100.7"))
            .await
            .assert(401, "invalid_credentials");
    }
    app.send(via_proxy("198.51.100.7"))
        .await
        .assert(429, "too_many_requests");
    // A client prepending a fake address is still itself: the right-most untrusted entry counts.
    app.send(via_proxy("203.0.113.9, 198.51.100.7"))
        .await
        .assert(429, "too_many_requests");
    // ...through a chain of trusted proxies too.
    app.send(via_proxy("198.51.100.7, 10.0.0.2"))
        .await
        .assert(429, "too_many_requests");
    app.send(via_proxy("198.51.100.8"))
        .await
        .assert(401, "invalid_credentials");

    // Sessions record the same address.
    app.register("alice").await;
    let login = app
        .send(
            from("10.0.0.1", TestRequest::post().uri("/login"))
                .insert_header(("X-Forwarded-For", "192.0.2.44"))
                .set_json(json!({"username": "alice", "password": PASSWORD})),
        )
        .await;
    let token = login.body["access_token"].as_str().unwrap();
    assert_eq!(
        app.get("/sessions", token).await.body[0]["ip"],
        "192.0.2.44"
    );
}

async fn concurrent_guesses_never_get_past_the_limit(app: TestApp) {
    app.register("alice").await;
    // Twelve wrong guesses at once: exactly five get their password checked.
    let guesses: Vec<_> = (0..12)
        .map(|_| app.login_with("alice", "not the password"))
        .collect();
    let replies = futures_util::future::join_all(guesses).await;
    let checked = replies.iter().filter(|r| r.status == 401).count();
    assert_eq!(
        checked,
        5,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for locked in replies.iter().filter(|r| r.status != 401) {
        assert_locked(locked);
    }
}

async fn a_burst_of_correct_logins_is_not_locked_out(app: TestApp) {
    app.register("alice").await;
    let logins: Vec<_> = (0..12).map(|_| app.login_with("alice", PASSWORD)).collect();
    let replies = futures_util::future::join_all(logins).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
}
