//! The admin listings page by cursor (`next` in a page, `after` in the next request), search by
//! prefix, count only when asked (by default: without `after`), and still take `offset`.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp};

crate::on_every_store!(
    users_are_walked_page_by_page_each_exactly_once,
    q_matches_the_start_of_a_username_or_email,
    total_is_counted_without_after_or_when_asked,
    limit_and_offset_still_page_and_hand_over_to_after,
    the_audit_log_is_walked_newest_first_within_its_filters,
    bad_cursors_are_validation_errors,
);

fn names(body: &Value) -> Vec<String> {
    body["users"]
        .as_array()
        .unwrap_or_else(|| panic!("no users in {body}"))
        .iter()
        .map(|u| u["username"].as_str().unwrap().to_owned())
        .collect()
}

fn next(body: &Value) -> Option<String> {
    body["next"].as_str().map(str::to_owned)
}

async fn register_with_email(app: &TestApp, username: &str, email: &str) {
    let reply = app
        .post_json(
            "/register",
            json!({"username": username, "password": PASSWORD, "email": email}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
}

/// Follows `next` from `first` (a path with a query) to the last page, returning every page.
async fn walk(app: &TestApp, admin: &str, first: &str) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut path = first.to_owned();
    loop {
        let reply = app.get(&path, admin).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        let after = next(&reply.body);
        pages.push(reply.body);
        match after {
            Some(after) => path = format!("{first}&after={after}"),
            None => return pages,
        }
    }
}

async fn users_are_walked_page_by_page_each_exactly_once(app: TestApp) {
    let admin = app.admin("root").await;
    for i in 0..8 {
        app.register(&format!("user{i}")).await;
    }
    let everyone = app.get("/admin/users?limit=200", &admin).await;
    let expected = names(&everyone.body);
    assert_eq!(expected.len(), 9);
    assert_eq!(expected[0], "root");
    assert_eq!(everyone.body["next"], Value::Null, "one page: no next");
    for limit in [1, 2, 4, 9] {
        let pages = walk(&app, &admin, &format!("/admin/users?limit={limit}")).await;
        let seen: Vec<String> = pages.iter().flat_map(names).collect();
        assert_eq!(seen, expected, "limit {limit}");
        assert_eq!(pages.len(), 9usize.div_ceil(limit), "limit {limit}");
        assert!(pages.iter().all(|p| names(p).len() <= limit));
        assert_eq!(pages.last().unwrap()["next"], Value::Null);
    }
    // A user who registers meanwhile comes at the end of the walk.
    let first = app.get("/admin/users?limit=5", &admin).await;
    app.register("latecomer").await;
    let after = next(&first.body).unwrap();
    let rest = app
        .get(&format!("/admin/users?limit=200&after={after}"), &admin)
        .await;
    assert_eq!(
        names(&rest.body),
        ["user4", "user5", "user6", "user7", "latecomer"]
    );
}

async fn q_matches_the_start_of_a_username_or_email(app: TestApp) {
    let admin = app.admin("root").await;
    register_with_email(&app, "alice", "wonder@example.com").await;
    app.register("malice").await;
    register_with_email(&app, "bob", "Alice.B@example.com").await;
    app.register("alicia").await;
    register_with_email(&app, "carol", "carol@alice.example").await;
    let search = |q: &'static str| {
        let app = &app;
        let admin = &admin;
        async move { app.get(&format!("/admin/users?q={q}"), admin).await }
    };
    let found = search("ALI").await;
    assert_eq!(names(&found.body), ["alice", "bob", "alicia"]);
    assert_eq!(found.body["total"], 3);
    assert_eq!(names(&search("wonder%40ex").await.body), ["alice"]);
    assert_eq!(names(&search("alice.b%40example.com").await.body), ["bob"]);
    // Not a part in the middle, and no wildcards.
    assert!(names(&search("lice").await.body).is_empty());
    assert!(names(&search("a%25").await.body).is_empty());
    assert!(names(&search("_").await.body).is_empty());
    // Walking a search gives the same users.
    let pages = walk(&app, &admin, "/admin/users?q=ali&limit=1").await;
    let seen: Vec<String> = pages.iter().flat_map(names).collect();
    assert_eq!(seen, ["alice", "bob", "alicia"]);
}

async fn total_is_counted_without_after_or_when_asked(app: TestApp) {
    let admin = app.admin("root").await;
    for name in ["alice", "bob", "carol"] {
        app.register(name).await;
    }
    let first = app.get("/admin/users?limit=2", &admin).await;
    assert_eq!(first.body["total"], 4);
    let after = next(&first.body).unwrap();
    let second = app
        .get(&format!("/admin/users?limit=2&after={after}"), &admin)
        .await;
    assert_eq!(names(&second.body), ["bob", "carol"]);
    assert_eq!(second.body["total"], Value::Null, "{}", second.text);
    let counted = app
        .get(&format!("/admin/users?after={after}&total=true"), &admin)
        .await;
    assert_eq!(counted.body["total"], 4, "every match, not what is left");
    let uncounted = app.get("/admin/users?total=false", &admin).await;
    assert_eq!(uncounted.body["total"], Value::Null);
    assert_eq!(names(&uncounted.body).len(), 4);
    let audit = app.get("/admin/audit?limit=1", &admin).await;
    assert!(audit.body["total"].as_u64().unwrap() > 4, "{}", audit.text);
    let after = next(&audit.body).unwrap();
    let later = app
        .get(&format!("/admin/audit?limit=1&after={after}"), &admin)
        .await;
    assert_eq!(later.body["total"], Value::Null);
    let counted = app
        .get(&format!("/admin/audit?after={after}&total=true"), &admin)
        .await;
    assert_eq!(counted.body["total"], audit.body["total"]);
    for query in ["total=maybe", "total=1"] {
        app.get(&format!("/admin/users?{query}"), &admin)
            .await
            .assert(422, "validation_error");
    }
}

async fn limit_and_offset_still_page_and_hand_over_to_after(app: TestApp) {
    let admin = app.admin("root").await;
    for name in ["alice", "bob", "carol", "dave"] {
        app.register(name).await;
    }
    let page = app.get("/admin/users?limit=2&offset=1", &admin).await;
    assert_eq!(names(&page.body), ["alice", "bob"]);
    assert_eq!(page.body["total"], 5);
    let last = app.get("/admin/users?limit=2&offset=3", &admin).await;
    assert_eq!(names(&last.body), ["carol", "dave"]);
    assert_eq!(last.body["next"], Value::Null);
    let beyond = app.get("/admin/users?offset=10", &admin).await;
    assert_eq!(
        (names(&beyond.body).len(), &beyond.body["total"]),
        (0, &json!(5))
    );
    // The `next` of an offset page continues it.
    let after = next(&page.body).unwrap();
    let rest = app
        .get(&format!("/admin/users?after={after}"), &admin)
        .await;
    assert_eq!(names(&rest.body), ["carol", "dave"]);
    let events = app.get("/admin/audit?limit=2&offset=1", &admin).await;
    let all = app.get("/admin/audit?limit=3", &admin).await;
    assert_eq!(events.body["events"][0], all.body["events"][1]);
    assert_eq!(events.body["events"][1], all.body["events"][2]);
}

async fn the_audit_log_is_walked_newest_first_within_its_filters(app: TestApp) {
    let admin = app.admin("root").await;
    let alice = app.user("alice").await;
    for _ in 0..3 {
        app.login_with("alice", "wrong password!").await;
    }
    app.token("alice").await;
    app.user("bob").await;
    let alice_id = app.get("/profile", &alice).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ids = |pages: &[Value]| -> Vec<String> {
        pages
            .iter()
            .flat_map(|p| p["events"].as_array().unwrap().clone())
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    };
    for filter in [String::new(), format!("&user={alice_id}")] {
        let one = app
            .get(&format!("/admin/audit?limit=200{filter}"), &admin)
            .await;
        let expected = ids(std::slice::from_ref(&one.body));
        assert!(expected.len() >= 3, "{}", one.text);
        let pages = walk(&app, &admin, &format!("/admin/audit?limit=2{filter}")).await;
        assert_eq!(ids(&pages), expected, "filter {filter:?}");
        let times: Vec<&str> = pages
            .iter()
            .flat_map(|p| p["events"].as_array().unwrap())
            .map(|e| e["at"].as_str().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    }
    // A time window applies to every page.
    let all = app.get("/admin/audit?limit=200", &admin).await;
    let events = all.body["events"].as_array().unwrap();
    let at = |e: &Value| e["at"].as_str().unwrap().to_owned();
    let (until, since) = (at(&events[1]), at(&events[events.len() - 2]));
    let window = format!("/admin/audit?limit=1&since={since}&until={until}");
    let pages = walk(&app, &admin, &window).await;
    let expected: Vec<String> = events
        .iter()
        .filter(|e| at(e) >= since && at(e) < until)
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(expected.len() >= 2);
    assert_eq!(ids(&pages), expected);
}

async fn bad_cursors_are_validation_errors(app: TestApp) {
    let admin = app.admin("root").await;
    app.register("alice").await;
    let users = app.get("/admin/users?limit=1", &admin).await;
    let user_cursor = next(&users.body).unwrap();
    let audit = app.get("/admin/audit?limit=1", &admin).await;
    let audit_cursor = next(&audit.body).unwrap();
    // Well-formed, but at a time no store can compare with (years 1 to 9999 only).
    let far = chrono::NaiveDate::from_ymd_opt(20_000, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_micros();
    let far = format!("u{far:016x}{}", &user_cursor[17..]);
    let bad = [
        "x".to_owned(),
        String::new(),
        user_cursor[..user_cursor.len() - 1].to_owned(),
        format!("{user_cursor}0"),
        user_cursor.replace('u', "a"),
        far,
        format!("u{}", "f".repeat(64)),
        format!("u{}", "z".repeat(48)),
        format!("u+{}", &user_cursor[2..]),
        "%00".to_owned(),
    ];
    for after in &bad {
        app.get(&format!("/admin/users?after={after}"), &admin)
            .await
            .assert(422, "validation_error");
    }
    // A cursor of one listing is not one of the other.
    app.get(&format!("/admin/audit?after={user_cursor}"), &admin)
        .await
        .assert(422, "validation_error");
    app.get(&format!("/admin/users?after={audit_cursor}"), &admin)
        .await
        .assert(422, "validation_error");
    // `after` and a non-zero `offset` together are refused.
    app.get(
        &format!("/admin/users?after={user_cursor}&offset=1"),
        &admin,
    )
    .await
    .assert(422, "validation_error");
    let zero = app
        .get(
            &format!("/admin/users?after={user_cursor}&offset=0"),
            &admin,
        )
        .await;
    assert_eq!(names(&zero.body), ["alice"]);
}
