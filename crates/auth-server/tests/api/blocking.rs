//! bcrypt never runs on the HTTP worker's thread: a flood of logins does not hold up other routes.

use actix_web::test::TestRequest;
use std::time::Instant;

use crate::helpers::{PASSWORD, TestApp};

/// The test runtime has one thread, like one actix worker. If bcrypt ran on it, `/health`
/// (sent after the logins) could only finish after them; running on the blocking pool, it
/// finishes first. An ordering, not a timing threshold.
#[actix_web::test]
async fn a_flood_of_logins_does_not_hold_up_other_routes() {
    // Cost 10: about a quarter of a second per hash in a debug build.
    let app = TestApp::sqlite().with_settings(&[("password.bcrypt_cost", "10")]);
    assert_eq!(app.register("alice").await.status, 201);
    let login = || async {
        let reply = app.login_with("alice", PASSWORD).await;
        assert_eq!(reply.status, 200);
        Instant::now()
    };
    let health = async {
        let reply = app.send(TestRequest::get().uri("/health")).await;
        assert_eq!(reply.status, 200);
        Instant::now()
    };
    let (a, b, c, d, health_done) = tokio::join!(login(), login(), login(), login(), health);
    let first_login_done = [a, b, c, d].into_iter().min().unwrap();
    assert!(
        health_done < first_login_done,
        "/health waited for bcrypt: it finished {:?} after the first login",
        health_done - first_login_done
    );
}

/// With one hashing thread and no queue, logins that find the thread busy are refused at once
/// (503 with `Retry-After`, nothing done) instead of waiting: load shedding. `/token` answers
/// in the RFC 6749 shape. Meanwhile the refused ones did not count as failed logins.
#[actix_web::test]
async fn password_work_beyond_the_hashing_queue_is_shed_with_503() {
    let app = TestApp::sqlite().with_settings(&[
        ("password.bcrypt_cost", "10"),
        ("password.hash_threads", "1"),
        ("password.max_queued_hashes", "0"),
    ]);
    assert_eq!(app.register("alice").await.status, 201);
    let form = || {
        app.send(
            TestRequest::post()
                .uri("/token")
                .insert_header(("content-type", "application/x-www-form-urlencoded"))
                .set_payload("username=alice&password=correct+horse+battery"),
        )
    };
    let (a, b, c, d) = tokio::join!(
        app.login_with("alice", PASSWORD),
        app.login_with("alice", PASSWORD),
        form(),
        form()
    );
    let replies = [a, b, c, d];
    let shed: Vec<_> = replies.iter().filter(|r| r.status == 503).collect();
    assert!(
        replies.iter().any(|r| r.status == 200),
        "one login runs: {replies:?}"
    );
    assert!(!shed.is_empty(), "the others are shed: {replies:?}");
    for reply in &shed {
        reply.assert(503, "service_unavailable");
        assert_eq!(reply.header("retry-after"), Some("1"));
    }
    for reply in replies.iter().skip(2).filter(|r| r.status == 503) {
        assert!(
            reply.body["error_description"].is_string(),
            "{}",
            reply.text
        );
    }
    // Once the thread is free, logins go through again.
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);
}
