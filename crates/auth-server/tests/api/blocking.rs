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
