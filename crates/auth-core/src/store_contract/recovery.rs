//! The [`RecoveryStore`](auth_domain::RecoveryStore) contract: tokens sent by email are stored
//! as digests, a newer one voids older ones, the per-account limits on requested messages hold
//! even when requests race, and a password reset redeems its token once, in the transaction
//! that changes the password.

use std::sync::Barrier;

use auth_domain::{
    CredentialGeneration, Email, EmailTokenHash, Limit, LockoutPolicy, MailLimits, NewEmailToken,
    PasswordChange, PasswordHash, PasswordResetChange, SessionRevocation, Store, StoreError,
    TokenPurpose, User, UserChanges, UserId, now,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::{new_api_key, new_session, new_user};

const RACERS: usize = 8;

const LIMITS: MailLimits = MailLimits {
    min_interval: TimeDelta::seconds(60),
    max_per_hour: 3,
};

fn email(raw: &str) -> Email {
    Email::parse(raw).expect("test emails are valid")
}

/// A user called `name` with the address `{name}@example.com`.
fn user_with_email(store: &dyn Store, name: &str) -> User {
    let mut user = new_user(name);
    user.email = Some(email(&format!("{name}@example.com")));
    store.create_user(user).unwrap()
}

fn token(user: &User, digest: &str, at: DateTime<Utc>) -> NewEmailToken {
    NewEmailToken {
        hash: EmailTokenHash::new(digest),
        user: user.id,
        purpose: TokenPurpose::PasswordReset,
        email: user.email.clone().expect("the user has an address"),
        created_at: at,
        expires_at: at + TimeDelta::minutes(30),
    }
}

fn reset(user: &User, digest: &str) -> PasswordResetChange {
    PasswordResetChange {
        change: PasswordChange {
            user: user.id,
            expected: user.credential_generation,
            new_hash: PasswordHash::new("$2b$04$the-reset-one"),
            sessions: SessionRevocation::All,
            at: now(),
        },
        token: EmailTokenHash::new(digest),
        lockout_key: user.username.normalized(),
    }
}

fn current(store: &dyn Store, user: &User) -> User {
    store.user_by_id(user.id).unwrap().unwrap()
}

/// Users are found by their address without regard to case; an address no one has finds no one.
pub fn users_are_found_by_email_without_regard_to_case(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    store.create_user(new_user("bob")).unwrap();
    assert_eq!(
        store.user_by_email(&email("ALICE@Example.com")).unwrap(),
        Some(alice)
    );
    assert_eq!(
        store.user_by_email(&email("bob@example.com")).unwrap(),
        None
    );
}

/// A token is found by its digest with what it was issued with; a newer token of the user voids
/// the older one (another user's stays); an unknown user's token is not found.
pub fn email_tokens_are_found_by_digest_and_a_newer_one_voids_the_older(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let bob = user_with_email(store, "bob");
    let at = now();
    assert!(
        store
            .issue_email_token(&token(&alice, "a1", at), Limit::CountOnly)
            .unwrap()
    );
    assert!(
        store
            .issue_email_token(&token(&bob, "b1", at), Limit::CountOnly)
            .unwrap()
    );
    let found = store
        .email_token(&EmailTokenHash::new("a1"))
        .unwrap()
        .unwrap();
    assert_eq!(found.user, alice.id);
    assert_eq!(found.purpose, TokenPurpose::PasswordReset);
    assert_eq!(found.email, email("alice@example.com"));
    assert_eq!(found.created_at, at);
    assert_eq!(found.expires_at, at + TimeDelta::minutes(30));
    assert!(found.is_live(at) && !found.is_live(found.expires_at));

    let later = at + TimeDelta::seconds(1);
    assert!(
        store
            .issue_email_token(&token(&alice, "a2", later), Limit::CountOnly)
            .unwrap()
    );
    assert_eq!(store.email_token(&EmailTokenHash::new("a1")).unwrap(), None);
    assert!(
        store
            .email_token(&EmailTokenHash::new("a2"))
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .email_token(&EmailTokenHash::new("b1"))
            .unwrap()
            .is_some()
    );
    assert_eq!(store.email_token(&EmailTokenHash::new("zz")).unwrap(), None);

    let mut stranger = token(&alice, "s1", at);
    stranger.user = UserId::new();
    assert!(matches!(
        store.issue_email_token(&stranger, Limit::CountOnly),
        Err(StoreError::NotFound)
    ));
}

/// At most one requested message per `min_interval` and `max_per_hour` in any hour, per
/// account; a refused request stores nothing and is not counted; a counted-only request (an
/// admin's) is never refused but counts.
pub fn requested_messages_are_limited_per_account(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let bob = user_with_email(store, "bob");
    let t0 = now();
    let issue = |user: &User, digest: &str, at: DateTime<Utc>, limit: Limit| {
        store
            .issue_email_token(&token(user, digest, at), limit)
            .unwrap()
    };
    let within = Limit::Within(LIMITS);
    assert!(issue(&alice, "a1", t0, within));
    // Too soon: refused, nothing stored, and the earlier token still works.
    assert!(!issue(&alice, "a2", t0 + TimeDelta::seconds(59), within));
    assert_eq!(store.email_token(&EmailTokenHash::new("a2")).unwrap(), None);
    assert!(
        store
            .email_token(&EmailTokenHash::new("a1"))
            .unwrap()
            .is_some()
    );
    // Bob has his own count.
    assert!(issue(&bob, "b1", t0 + TimeDelta::seconds(1), within));
    assert!(issue(&alice, "a3", t0 + TimeDelta::seconds(61), within));
    // An admin's request is never refused, but counts: it is the third in the hour.
    assert!(issue(
        &alice,
        "a4",
        t0 + TimeDelta::seconds(62),
        Limit::CountOnly
    ));
    assert!(!issue(&alice, "a5", t0 + TimeDelta::seconds(200), within));
    assert!(!issue(&alice, "a6", t0 + TimeDelta::seconds(3599), within));
    // An hour after the first, the first has left the window (the hour before a request
    // excludes its start).
    assert!(issue(&alice, "a7", t0 + TimeDelta::seconds(3600), within));
    // Within a minute of that one: refused again.
    assert!(!issue(&alice, "a8", t0 + TimeDelta::seconds(3659), within));
    assert!(
        store
            .email_token(&EmailTokenHash::new("a7"))
            .unwrap()
            .is_some()
    );
}

/// Requests for one account made at once (on as many connections) issue one token: the limit
/// holds for instances that share the store.
pub fn concurrent_requests_for_one_account_issue_one_token(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let at = now();
    let barrier = Barrier::new(RACERS);
    let issued: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|n| {
                let (alice, barrier) = (&alice, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    store
                        .issue_email_token(
                            &token(alice, &format!("r{n}"), at),
                            Limit::Within(LIMITS),
                        )
                        .unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });
    assert_eq!(issued, 1);
}

/// A reset with a live token changes the password as a password change does (every session
/// ends, every key is revoked), deletes the token, clears the account's login-throttle rows
/// (only its own), and verifies the address the token was sent to; the token works once.
pub fn a_reset_redeems_its_token_once_and_ends_everything(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let first = store.create_session(new_session(alice.id)).unwrap();
    let second = store.create_session(new_session(alice.id)).unwrap();
    let key = store
        .create_api_key(new_api_key(alice.id, "pref0201"))
        .unwrap();
    let policy = LockoutPolicy {
        max_failures: 100,
        base_delay: TimeDelta::seconds(30),
        max_delay: TimeDelta::seconds(3600),
        decay: TimeDelta::minutes(15),
    };
    let keys = [
        "alice",
        "alice|203.0.113.7",
        "alice|-",
        "alicex",
        "alicex|-",
        "bob",
    ];
    for key in keys {
        store.take_login_attempt(key, &policy, now()).unwrap();
    }
    assert!(!current(store, &alice).email_verified);
    store
        .issue_email_token(&token(&alice, "t1", now()), Limit::CountOnly)
        .unwrap();

    let mut changed = store.reset_password(&reset(&alice, "t1")).unwrap();
    changed.ended_sessions.sort();
    let mut ended = vec![first.id, second.id];
    ended.sort();
    assert_eq!(changed.ended_sessions, ended);
    assert_eq!(changed.revoked_api_keys, vec![key.id]);
    assert!(changed.user.email_verified);
    assert_eq!(
        changed.user.password_hash,
        PasswordHash::new("$2b$04$the-reset-one")
    );
    assert_eq!(changed.user.credential_generation, CredentialGeneration(1));
    assert_eq!(
        store.user_by_id(alice.id).unwrap(),
        Some(changed.user.clone())
    );
    assert_eq!(store.email_token(&EmailTokenHash::new("t1")).unwrap(), None);
    for key in ["alice", "alice|203.0.113.7", "alice|-"] {
        assert_eq!(store.login_throttle(key).unwrap(), None, "{key}");
    }
    for key in ["alicex", "alicex|-", "bob"] {
        assert!(store.login_throttle(key).unwrap().is_some(), "{key}");
    }

    // Used: the same token again changes nothing.
    let again = reset(&changed.user, "t1");
    assert!(matches!(
        store.reset_password(&again),
        Err(StoreError::NotFound)
    ));
    assert_eq!(current(store, &alice), changed.user);
}

/// An expired token, another user's token, and a token voided by a password change made since
/// change nothing.
pub fn expired_foreign_and_voided_reset_tokens_change_nothing(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    let bob = user_with_email(store, "bob");
    let mut expired = token(&alice, "old", now() - TimeDelta::minutes(31));
    expired.expires_at = now() - TimeDelta::seconds(1);
    store.issue_email_token(&expired, Limit::CountOnly).unwrap();
    assert!(matches!(
        store.reset_password(&reset(&alice, "old")),
        Err(StoreError::NotFound)
    ));
    store
        .issue_email_token(&token(&bob, "bobs", now()), Limit::CountOnly)
        .unwrap();
    assert!(matches!(
        store.reset_password(&reset(&alice, "bobs")),
        Err(StoreError::NotFound)
    ));
    assert_eq!(current(store, &alice), alice);
    assert_eq!(current(store, &bob), bob);

    // Any password change voids the user's reset tokens.
    store
        .issue_email_token(&token(&alice, "fresh", now()), Limit::CountOnly)
        .unwrap();
    let changed = store
        .change_password(&PasswordChange {
            user: alice.id,
            expected: alice.credential_generation,
            new_hash: PasswordHash::new("$2b$04$changed"),
            sessions: SessionRevocation::All,
            at: now(),
        })
        .unwrap();
    assert_eq!(
        store.email_token(&EmailTokenHash::new("fresh")).unwrap(),
        None
    );
    assert!(matches!(
        store.reset_password(&reset(&changed.user, "fresh")),
        Err(StoreError::NotFound)
    ));
    assert_eq!(current(store, &alice), changed.user);
    assert!(
        store
            .email_token(&EmailTokenHash::new("bobs"))
            .unwrap()
            .is_some()
    );
}

/// A reset verifies the address only if it is still the one the token was sent to; a change to
/// another address clears the flag, a change of case only keeps it.
pub fn a_reset_verifies_only_the_address_its_token_was_sent_to(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    store
        .issue_email_token(&token(&alice, "t1", now()), Limit::CountOnly)
        .unwrap();
    let mut moved = UserChanges::at(now());
    moved.email = Some(Some(email("alice@elsewhere.example")));
    let alice = store.update_user(alice.id, &moved).unwrap();
    let changed = store.reset_password(&reset(&alice, "t1")).unwrap();
    assert!(!changed.user.email_verified);
    assert!(!current(store, &alice).email_verified);

    store
        .issue_email_token(&token(&changed.user, "t2", now()), Limit::CountOnly)
        .unwrap();
    let changed = store.reset_password(&reset(&changed.user, "t2")).unwrap();
    assert!(changed.user.email_verified);
    let mut case = UserChanges::at(now());
    case.email = Some(Some(email("Alice@Elsewhere.example")));
    assert!(store.update_user(alice.id, &case).unwrap().email_verified);
    let mut other = UserChanges::at(now());
    other.email = Some(Some(email("alice@third.example")));
    assert!(!store.update_user(alice.id, &other).unwrap().email_verified);
    assert!(!current(store, &alice).email_verified);
}

/// Of resets with one token made at once, one changes the password; the others change nothing.
pub fn concurrent_resets_with_one_token_change_the_password_once(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    store
        .issue_email_token(&token(&alice, "t1", now()), Limit::CountOnly)
        .unwrap();
    let barrier = Barrier::new(RACERS);
    let results: Vec<Result<_, StoreError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let (alice, barrier) = (&alice, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    store.reset_password(&reset(alice, "t1"))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let made = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(made, 1, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(
            matches!(
                refused,
                StoreError::NotFound | StoreError::CredentialsChanged
            ),
            "{refused:?}"
        );
    }
    assert_eq!(
        current(store, &alice).credential_generation,
        CredentialGeneration(1)
    );
}

/// Deleting a user removes their tokens.
pub fn deleting_a_user_removes_their_email_tokens(store: &dyn Store) {
    let alice = user_with_email(store, "alice");
    store
        .issue_email_token(&token(&alice, "t1", now()), Limit::CountOnly)
        .unwrap();
    store.delete_user(alice.id).unwrap();
    assert_eq!(store.email_token(&EmailTokenHash::new("t1")).unwrap(), None);
}
