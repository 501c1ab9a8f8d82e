//! Second review, item 2: a stored hash above `password.max_verify_cost` (an imported
//! `$2b$31$`, about 35 hours of bcrypt) is never verified. A login against it fails as a wrong
//! password does, at once; the current-password checks too; and nobody else waits for it.

use std::time::Duration;

use auth_diesel::DieselStore;
use auth_domain::{PasswordHash, UserId, UserStore, now};
use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, bearer};

crate::on_every_store!(a_hash_above_the_max_verify_cost_fails_like_a_wrong_password_at_once);

/// A well-formed bcrypt hash of cost 31 (a cost-4 hash with its cost rewritten: it is never
/// verified anyway, and making a real one would take a day and a half).
const COST_31: &str = "$2b$31$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96";

async fn a_hash_above_the_max_verify_cost_fails_like_a_wrong_password_at_once(app: TestApp) {
    let alice = app.register("alice").await.body;
    app.register("bob").await;
    // Logged in before the hash is swapped: her session can still ask for a password change.
    let alice_token = app.token("alice").await;
    let id = UserId(alice["id"].as_str().unwrap().parse().unwrap());
    // The hash goes into the database directly, as an old import would have put it.
    let store = DieselStore::connect(app.database.url(), 1).unwrap();
    let current = store.user_by_id(id).unwrap().unwrap().password_hash;
    assert!(
        store
            .replace_password_hash(id, &current, &PasswordHash::new(COST_31), now())
            .unwrap()
    );
    let wrong_for_bob = app.login_with("bob", "not the password").await;

    let everything = async {
        // Alice's right password and a wrong one, bob's logins, all at once: without the limit
        // alice's attempts would hold the hashing threads for hours.
        let alice_logins = join_all([
            app.login_with("alice", PASSWORD),
            app.login_with("alice", "not the password"),
            app.login_with("ALICE", PASSWORD),
        ]);
        let bob_logins = join_all((0..3).map(|_| app.login_with("bob", PASSWORD)));
        let (alice_replies, bob_replies) =
            futures_util::future::join(alice_logins, bob_logins).await;
        let profile = app
            .send(
                actix_web::test::TestRequest::put()
                    .uri("/profile")
                    .insert_header(bearer(&alice_token))
                    .set_json(json!({
                        "password": "a brand new passphrase 9",
                        "current_password": PASSWORD
                    })),
            )
            .await;
        (alice_replies, bob_replies, profile)
    };
    let (alice_replies, bob_replies, profile) =
        actix_web::rt::time::timeout(Duration::from_secs(20), everything)
            .await
            .expect("a login against a cost-31 hash ran bcrypt on it");
    for reply in &alice_replies {
        reply.assert(401, "invalid_credentials");
        // Exactly what a wrong password of another account gets.
        assert_eq!(reply.body, wrong_for_bob.body, "{}", reply.text);
    }
    for reply in &bob_replies {
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
    profile.assert(403, "invalid_current_password");
    // Nothing was changed, and the failures counted as any wrong password's do: four so far,
    // the fifth locks.
    let stored = store.user_by_id(id).unwrap().unwrap().password_hash;
    assert_eq!(stored.expose(), COST_31);
    app.login_with("alice", PASSWORD)
        .await
        .assert(401, "invalid_credentials");
    app.login_with("alice", PASSWORD)
        .await
        .assert(429, "too_many_attempts");
}
