use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(
    admins_list_and_search_users_page_by_page,
    admin_routes_refuse_users_keys_and_bad_input,
    deactivation_and_demotion_take_effect_at_the_next_request,
    deleting_a_user_ends_their_sessions_and_keys,
    the_last_active_admin_cannot_be_demoted_disabled_or_deleted,
    admins_end_a_users_sessions,
    no_route_lets_a_user_raise_their_own_role,
    the_audit_log_records_who_did_what_without_secrets,
);

async fn id_of(app: &TestApp, token: &str) -> String {
    app.get("/profile", token).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn patch(admin: &str, id: &str, body: Value) -> TestRequest {
    TestRequest::patch()
        .uri(&format!("/admin/users/{id}"))
        .insert_header(bearer(admin))
        .set_json(body)
}

fn delete(admin: &str, path: String) -> TestRequest {
    TestRequest::delete()
        .uri(&path)
        .insert_header(bearer(admin))
}

async fn admins_list_and_search_users_page_by_page(app: TestApp) {
    let admin = app.admin("root").await;
    for name in ["alice", "bob", "alicia"] {
        app.register(name).await;
    }
    let reply = app.get("/admin/users?limit=2", &admin).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["total"], 4);
    let names = |body: &Value| -> Vec<String> {
        body["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&reply.body), ["root", "alice"]);
    let next = app.get("/admin/users?limit=2&offset=2", &admin).await;
    assert_eq!(names(&next.body), ["bob", "alicia"]);
    let search = app.get("/admin/users?q=ALI", &admin).await;
    assert_eq!(
        (names(&search.body), &search.body["total"]),
        (vec!["alice".to_owned(), "alicia".to_owned()], &json!(2))
    );
    assert!(!search.text.contains("$2b$"));

    let alice = search.body["users"][0]["id"].as_str().unwrap();
    let one = app.get(&format!("/admin/users/{alice}"), &admin).await;
    assert_eq!(one.body["username"], "alice");
    let missing = uuid::Uuid::new_v4();
    app.get(&format!("/admin/users/{missing}"), &admin)
        .await
        .assert(404, "not_found");
    app.send(patch(
        &admin,
        &missing.to_string(),
        json!({"is_active": false}),
    ))
    .await
    .assert(404, "not_found");
    app.get("/admin/users/not-a-uuid", &admin)
        .await
        .assert(404, "not_found");
}

async fn admin_routes_refuse_users_keys_and_bad_input(app: TestApp) {
    let admin = app.admin("root").await;
    let user = app.user("alice").await;
    app.get("/admin/users", &user)
        .await
        .assert(403, "forbidden");
    app.send(TestRequest::get().uri("/admin/users"))
        .await
        .assert(401, "not_authenticated");
    app.get("/admin/audit", &user)
        .await
        .assert(403, "forbidden");
    // An admin's API key reaches GET /admin, but never the admin API.
    let key = app.api_key(&admin).await;
    let with_key = |path: &str| {
        TestRequest::get()
            .uri(path)
            .insert_header(("X-API-Key", key.clone()))
    };
    assert_eq!(app.send(with_key("/admin")).await.status, 200);
    app.send(with_key("/admin/users"))
        .await
        .assert(403, "session_required");

    for query in [
        "limit=0",
        "limit=201",
        "limit=-1",
        "offset=x",
        &format!("q={}", "a".repeat(65)),
    ] {
        app.get(&format!("/admin/users?{query}"), &admin)
            .await
            .assert(422, "validation_error");
    }
    for query in ["since=yesterday", "user=nobody", "limit=500"] {
        app.get(&format!("/admin/audit?{query}"), &admin)
            .await
            .assert(422, "validation_error");
    }
    let alice = id_of(&app, &user).await;
    for body in [
        json!({"role": "superuser"}),
        json!({"is_active": "yes"}),
        json!({"role": 1}),
    ] {
        app.send(patch(&admin, &alice, body))
            .await
            .assert(422, "validation_error");
    }
}

async fn deactivation_and_demotion_take_effect_at_the_next_request(app: TestApp) {
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let alice_id = id_of(&app, &alice).await;
    let reply = app
        .send(patch(&root, &alice_id, json!({"is_active": false})))
        .await;
    assert_eq!(
        (reply.status.as_u16(), &reply.body["is_active"]),
        (200, &json!(false))
    );
    app.get("/profile", &alice)
        .await
        .assert(401, "invalid_token");
    app.login_with("alice", PASSWORD)
        .await
        .assert(403, "account_disabled");
    app.send(patch(&root, &alice_id, json!({"is_active": true})))
        .await;
    assert_eq!(app.login_with("alice", PASSWORD).await.status, 200);

    let second = app.admin("second").await;
    assert_eq!(app.get("/admin", &second).await.status, 200);
    let second_id = id_of(&app, &second).await;
    let reply = app
        .send(patch(&root, &second_id, json!({"role": "user"})))
        .await;
    assert_eq!(reply.body["role"], "user");
    app.get("/admin", &second).await.assert(403, "forbidden");
    assert_eq!(app.get("/profile", &second).await.status, 200);
}

async fn deleting_a_user_ends_their_sessions_and_keys(app: TestApp) {
    let root = app.admin("root").await;
    let alice = app.user("alice").await;
    let key = app.api_key(&alice).await;
    let alice_id = id_of(&app, &alice).await;
    let reply = app
        .send(delete(&root, format!("/admin/users/{alice_id}")))
        .await;
    assert_eq!(reply.status, 204);
    app.get("/profile", &alice)
        .await
        .assert(401, "invalid_token");
    app.send(
        TestRequest::get()
            .uri("/profile")
            .insert_header(("X-API-Key", key)),
    )
    .await
    .assert(401, "invalid_api_key");
    app.send(delete(&root, format!("/admin/users/{alice_id}")))
        .await
        .assert(404, "not_found");
    app.login_with("alice", PASSWORD)
        .await
        .assert(401, "invalid_credentials");
    assert_eq!(app.register("alice").await.status, 201);
}

async fn the_last_active_admin_cannot_be_demoted_disabled_or_deleted(app: TestApp) {
    let root = app.admin("root").await;
    let root_id = id_of(&app, &root).await;
    for body in [json!({"role": "user"}), json!({"is_active": false})] {
        let reply = app.send(patch(&root, &root_id, body)).await;
        reply.assert(409, "last_admin");
    }
    app.send(delete(&root, format!("/admin/users/{root_id}")))
        .await
        .assert(409, "last_admin");
    assert_eq!(app.get("/admin", &root).await.status, 200);

    let second = app.admin("second").await;
    let second_id = id_of(&app, &second).await;
    // With two admins one may step down, and then the other is the last.
    assert_eq!(
        app.send(patch(&root, &root_id, json!({"role": "user"})))
            .await
            .status,
        200
    );
    app.send(patch(&second, &second_id, json!({"is_active": false})))
        .await
        .assert(409, "last_admin");
}

async fn admins_end_a_users_sessions(app: TestApp) {
    let root = app.admin("root").await;
    app.register("alice").await;
    let one = app.login("alice").await;
    let two = app.login("alice").await;
    let alice_id = id_of(&app, one["access_token"].as_str().unwrap()).await;
    let reply = app
        .send(delete(&root, format!("/admin/users/{alice_id}/sessions")))
        .await;
    assert_eq!(reply.status, 204);
    for tokens in [&one, &two] {
        app.get("/profile", tokens["access_token"].as_str().unwrap())
            .await
            .assert(401, "invalid_token");
        app.refresh(&tokens["refresh_token"])
            .await
            .assert(401, "invalid_grant");
    }
    let missing = uuid::Uuid::new_v4();
    app.send(delete(&root, format!("/admin/users/{missing}/sessions")))
        .await
        .assert(404, "not_found");
    assert_eq!(app.get("/admin", &root).await.status, 200);
}

async fn no_route_lets_a_user_raise_their_own_role(app: TestApp) {
    app.admin("root").await;
    let alice = app.user("alice").await;
    let alice_id = id_of(&app, &alice).await;
    let reply = app
        .send(
            TestRequest::patch()
                .uri("/profile")
                .insert_header(bearer(&alice))
                .set_json(json!({"role": "admin", "is_active": true})),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), &reply.body["role"]),
        (200, &json!("user"))
    );
    app.send(patch(&alice, &alice_id, json!({"role": "admin"})))
        .await
        .assert(403, "forbidden");
    app.get("/admin", &alice).await.assert(403, "forbidden");
}

async fn the_audit_log_records_who_did_what_without_secrets(app: TestApp) {
    let root = app.admin("root").await;
    app.register("alice").await;
    app.login_with("alice", "wrong password!").await;
    let tokens = app.login("alice").await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refreshed = app.refresh(&tokens["refresh_token"]).await.body;
    let access = refreshed["access_token"]
        .as_str()
        .map_or(access, ToOwned::to_owned);
    let created = app
        .send(
            TestRequest::post()
                .uri("/api-keys")
                .insert_header(bearer(&access))
                .set_json(json!({"name": "k", "current_password": PASSWORD})),
        )
        .await
        .body;
    let key = created["key"].as_str().unwrap().to_owned();
    app.send(
        TestRequest::get()
            .uri("/profile")
            .insert_header(("X-API-Key", key.clone())),
    )
    .await;
    app.send(
        TestRequest::delete()
            .uri(&format!("/api-keys/{}", created["id"].as_str().unwrap()))
            .insert_header(bearer(&access)),
    )
    .await;
    app.send(
        TestRequest::patch()
            .uri("/profile")
            .insert_header(bearer(&access))
            .set_json(json!({"password": "a new passphrase", "current_password": PASSWORD})),
    )
    .await;
    let alice_id = id_of(&app, &access).await;
    app.send(patch(&root, &alice_id, json!({"role": "user"})))
        .await;
    app.send(
        TestRequest::post()
            .uri("/logout")
            .insert_header(bearer(&access)),
    )
    .await;

    let reply = app
        .get(&format!("/admin/audit?user={alice_id}&limit=200"), &root)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let events = reply.body["events"].as_array().unwrap();
    assert_eq!(reply.body["total"].as_u64().unwrap() as usize, events.len());
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for expected in [
        ("register", "success"),
        ("login", "failure"),
        ("login", "success"),
        ("refresh", "success"),
        ("api_key.created", "success"),
        ("api_key.used", "success"),
        ("api_key.revoked", "success"),
        ("password.changed", "success"),
        ("admin.user_updated", "success"),
        ("logout", "success"),
    ] {
        assert!(
            seen.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} missing from {seen:?}"
        );
    }
    let by_admin = events
        .iter()
        .find(|e| e["action"] == "admin.user_updated")
        .unwrap();
    assert_eq!(by_admin["target"], alice_id);
    assert_ne!(by_admin["actor"], alice_id);
    assert!(events.iter().all(|e| e["at"].is_string()));
    for secret in [
        PASSWORD,
        "a new passphrase",
        "wrong password!",
        key.as_str(),
        access.as_str(),
    ] {
        assert!(!reply.text.contains(secret), "the audit log shows a secret");
    }
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert!(!reply.text.contains(refresh));

    // Time filter: nothing before the epoch of this test, everything since.
    let since = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let future = app
        .get(
            &format!(
                "/admin/audit?since={}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            &root,
        )
        .await;
    assert_eq!(future.body["total"], 0, "{}", future.text);
    let page = app.get("/admin/audit?limit=1", &root).await;
    assert_eq!(page.body["events"].as_array().unwrap().len(), 1);
    assert!(page.body["total"].as_u64().unwrap() > 10);
}
