//! Operating the server through the real app: health probes, request ids, metrics (labelled by
//! route pattern, never by a raw path or token), login and refresh outcomes, and pruning.

use actix_web::test::TestRequest;
use auth_core::Retention;
use auth_domain::PruneOutcome;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, bearer};

async fn liveness_and_readiness_answer_while_the_store_does(app: TestApp) {
    let live = app.send(TestRequest::get().uri("/health/live")).await;
    assert_eq!(
        (live.status.as_u16(), &live.body),
        (200, &json!({"status": "ok"}))
    );
    let ready = app.send(TestRequest::get().uri("/health/ready")).await;
    assert_eq!(
        (ready.status.as_u16(), &ready.body),
        (200, &json!({"status": "ok", "database": "ok"}))
    );
    // The old probe is unchanged.
    let health = app.send(TestRequest::get().uri("/health")).await;
    assert_eq!(health.body, ready.body);
}

async fn every_response_carries_a_request_id(app: TestApp) {
    let kept = app
        .send(
            TestRequest::get()
                .uri("/health/live")
                .insert_header(("X-Request-Id", "lb-42.a_b")),
        )
        .await;
    assert_eq!(kept.header("x-request-id"), Some("lb-42.a_b"));
    for bad in ["has space", "semi;colon", &"x".repeat(65)] {
        let replaced = app
            .send(
                TestRequest::get()
                    .uri("/nowhere")
                    .insert_header(("X-Request-Id", bad)),
            )
            .await;
        replaced.assert(404, "not_found");
        let id = replaced.header("x-request-id").unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{bad:?} became {id:?}");
    }
    let fresh = app.send(TestRequest::get().uri("/health/live")).await;
    assert!(uuid::Uuid::parse_str(fresh.header("x-request-id").unwrap()).is_ok());
}

async fn metrics_are_off_unless_enabled(app: TestApp) {
    app.send(TestRequest::get().uri("/metrics"))
        .await
        .assert(404, "not_found");
    let app = app.with_settings(&[("metrics.enabled", "true")]);
    let (status, content_type, text) = scrape(&app).await;
    assert_eq!(status, 200, "{text}");
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(text.contains("# TYPE auth_logins_total counter"), "{text}");
}

/// `GET /metrics`: the status, the content type and the text (not JSON, so not `app.send`).
async fn scrape(app: &TestApp) -> (u16, String, String) {
    let service = actix_web::test::init_service(auth_actix::app(app.state.clone())).await;
    let request = TestRequest::get().uri("/metrics").to_request();
    let response = actix_web::test::call_service(&service, request).await;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = actix_web::test::read_body(response).await;
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The value of the sample `series` (name and labels, exactly as written) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn metrics_count_requests_by_route_and_logins_and_refreshes_by_outcome(app: TestApp) {
    let app = app.with_settings(&[
        ("metrics.enabled", "true"),
        ("session.refresh_reuse_grace_secs", "0"),
    ]);
    app.register("alice").await;
    let first = app.login("alice").await;
    let token = first["access_token"].as_str().unwrap().to_owned();
    app.login_with("alice", "wrong password here")
        .await
        .assert(401, "invalid_credentials");
    app.refresh(&first["refresh_token"]).await;
    // The same refresh token again, after the (zero) grace: reuse, the session is revoked.
    app.refresh(&first["refresh_token"])
        .await
        .assert(401, "invalid_grant");
    let second = app.login("alice").await;
    let session = uuid::Uuid::new_v4();
    let token2 = second["access_token"].as_str().unwrap();
    app.send(
        TestRequest::delete()
            .uri(&format!("/sessions/{session}"))
            .insert_header(bearer(token2)),
    )
    .await
    .assert(404, "not_found");
    app.send(TestRequest::get().uri(&format!("/no/such/{session}")))
        .await
        .assert(404, "not_found");

    let text = scrape(&app).await.2;
    for (series, value) in [
        (r#"auth_logins_total{outcome="success"}"#, 2.0),
        (r#"auth_logins_total{outcome="failure"}"#, 1.0),
        (r#"auth_logins_total{outcome="locked"}"#, 0.0),
        (r#"auth_logins_total{outcome="rate_limited"}"#, 0.0),
        (r#"auth_refreshes_total{outcome="success"}"#, 1.0),
        (r#"auth_refreshes_total{outcome="reuse_detected"}"#, 1.0),
        (
            r#"auth_http_requests_total{method="POST",route="/login",status="200"}"#,
            2.0,
        ),
        (
            r#"auth_http_requests_total{method="POST",route="/login",status="401"}"#,
            1.0,
        ),
        (
            r#"auth_http_requests_total{method="DELETE",route="/sessions/{id}",status="404"}"#,
            1.0,
        ),
        (
            r#"auth_http_requests_total{method="GET",route="unmatched",status="404"}"#,
            1.0,
        ),
        (
            r#"auth_http_request_duration_seconds_count{method="POST",route="/register"}"#,
            1.0,
        ),
        ("auth_hash_queue_length", 0.0),
        ("auth_store_up", 1.0),
        ("auth_store_connections_max", 4.0),
        ("auth_store_unavailable_total", 0.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    assert!(
        sample(&text, "auth_store_connections_in_use").is_some(),
        "{text}"
    );
    assert!(
        sample(&text, "auth_store_connections_open").is_some(),
        "{text}"
    );
    assert!(sample(&text, r#"auth_credential_cache_entries{kind="session"}"#).is_some());
    // Labels are patterns: no id, path or token ever becomes a series.
    for secret in [
        session.to_string(),
        token,
        token2.to_owned(),
        "/no/such".into(),
    ] {
        assert!(!text.contains(&secret), "{secret} in\n{text}");
    }
}

async fn rate_limited_logins_and_refreshes_are_counted(app: TestApp) {
    let app = app.with_settings(&[
        ("metrics.enabled", "true"),
        ("security.rate_limit_per_minute", "1"),
    ]);
    let peer = |request: TestRequest, n: u8| {
        request.peer_addr(format!("198.51.100.{n}:4000").parse().unwrap())
    };
    let body = json!({"username": "nobody", "password": PASSWORD});
    for _ in 0..2 {
        app.send(peer(TestRequest::post().uri("/login").set_json(&body), 1))
            .await;
    }
    let refresh = json!({"refresh_token": "x".repeat(43)});
    for _ in 0..2 {
        app.send(peer(
            TestRequest::post().uri("/refresh").set_json(&refresh),
            2,
        ))
        .await;
    }
    let text = scrape(&app).await.2;
    assert_eq!(
        sample(&text, r#"auth_logins_total{outcome="rate_limited"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"auth_logins_total{outcome="failure"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"auth_refreshes_total{outcome="rate_limited"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"auth_refreshes_total{outcome="invalid"}"#),
        Some(1.0)
    );
}

async fn pruning_removes_ended_sessions_and_keeps_live_ones(app: TestApp) {
    let token = app.user("alice").await;
    let ended = app.login("alice").await;
    let ended_token = ended["access_token"].as_str().unwrap();
    app.send(
        TestRequest::post()
            .uri("/logout")
            .insert_header(bearer(ended_token)),
    )
    .await;
    // Kept for the retention...
    let kept = app.state.service.prune(Retention::default()).await.unwrap();
    assert!(
        matches!(kept, PruneOutcome::Pruned(r) if r.sessions == 0),
        "{kept:?}"
    );
    // ...and removed once past it (a retention of zero: everything ended is past it).
    let none = Retention {
        ended_sessions: chrono::TimeDelta::zero(),
        audit_events: Some(chrono::TimeDelta::zero()),
        batch_size: 1,
    };
    let PruneOutcome::Pruned(report) = app.state.service.prune(none).await.unwrap() else {
        panic!("nothing else prunes this database");
    };
    assert_eq!((report.sessions, report.refresh_tokens), (1, 1), "{report}");
    assert!(report.audit_events >= 3, "{report}");
    // The live session is untouched.
    assert_eq!(app.get("/profile", &token).await.status, 200);
}

crate::on_every_store!(
    liveness_and_readiness_answer_while_the_store_does,
    every_response_carries_a_request_id,
    metrics_are_off_unless_enabled,
    metrics_count_requests_by_route_and_logins_and_refreshes_by_outcome,
    rate_limited_logins_and_refreshes_are_counted,
    pruning_removes_ended_sessions_and_keeps_live_ones,
);

/// Readiness follows the store; liveness does not ask it. Needs a PostgreSQL server whose
/// connections can be refused.
#[actix_web::test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
async fn readiness_fails_during_a_store_outage_and_liveness_does_not() {
    let app = TestApp::postgres().with_settings(&[("metrics.enabled", "true")]);
    app.database.set_reachable(false);
    let ready = app.send(TestRequest::get().uri("/health/ready")).await;
    assert_eq!(ready.status, 503, "{}", ready.text);
    assert_eq!(ready.body["error"], "service_unavailable");
    assert!(ready.body["detail"].is_string());
    let live = app.send(TestRequest::get().uri("/health/live")).await;
    assert_eq!(live.status, 200);
    let text = scrape(&app).await.2;
    assert_eq!(sample(&text, "auth_store_up"), Some(0.0), "{text}");
    assert!(sample(&text, "auth_store_unavailable_total").unwrap() >= 1.0);
    app.database.set_reachable(true);
    let ready = app.send(TestRequest::get().uri("/health/ready")).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
}
