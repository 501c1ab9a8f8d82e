//! The store contract: the behaviour every [`Store`] implementation must have.
//!
//! Each function checks one behaviour against a fresh, empty store and panics when it is not
//! met. [`store_contract_tests!`](crate::store_contract_tests) turns the whole list into
//! `#[test]`s; this workspace runs it against [`MemoryStore`](crate::MemoryStore), SQLite and
//! PostgreSQL, and a custom store can run it too:
//!
//! ```text
//! // The expression is evaluated once per test; `None` skips the test.
//! auth_core::store_contract_tests!(Some(Box::new(MyStore::new())));
//! ```

use std::sync::Barrier;

use auth_domain::{
    ApiKey, ApiKeyId, AttemptVerdict, AuditEvent, AuditQuery, ClientInfo, Conflict, Email,
    LockoutPolicy, LoginThrottle, NewApiKey, NewSession, NewUser, PasswordHash, RefreshOutcome,
    RefreshRotation, RefreshTokenHash, Role, Session, SessionId, SessionRevocation, Store,
    StoreError, User, UserChanges, UserId, UserQuery, Username, now,
};
use chrono::TimeDelta;

/// Generates one `#[test]` per contract behaviour. `$fixture` is an expression evaluated in each
/// test, giving `Option<F>` where `F` dereferences to an empty store; `None` skips the test (the
/// fixture should say why, e.g. that no PostgreSQL URL was configured).
#[macro_export]
macro_rules! store_contract_tests {
    ($fixture:expr) => {
        $crate::store_contract_tests!(@each $fixture;
            creates_and_finds_users,
            usernames_are_unique_without_regard_to_case,
            emails_are_unique_without_regard_to_case,
            update_changes_only_the_given_fields,
            update_to_a_taken_username_or_email_conflicts,
            update_of_an_unknown_user_is_not_found,
            times_round_trip_to_the_microsecond,
            sessions_are_found_with_their_user,
            sessions_need_an_existing_user,
            revoking_a_session_keeps_its_first_end_time,
            revoking_user_sessions_can_spare_one,
            concurrent_registrations_of_one_name_yield_one_user,
            ping_answers,
            user_sessions_are_listed_newest_first,
            rotation_replaces_the_token_and_renews_the_session,
            a_token_rotated_within_the_grace_period_rotates_again,
            reuse_after_the_grace_period_revokes_the_session,
            unknown_tokens_and_ended_sessions_do_not_rotate,
            concurrent_rotations_of_one_token_keep_one_session,
            sessions_without_a_refresh_token_cannot_be_refreshed,
            the_last_active_admin_cannot_be_demoted_disabled_or_deleted,
            concurrent_demotions_of_the_last_two_admins_leave_one,
            deleting_a_user_removes_their_sessions_and_keys,
            users_are_listed_filtered_and_paged,
            api_keys_are_found_by_prefix_with_their_user,
            api_keys_are_revoked_only_by_their_owner,
            audit_events_are_filtered_by_user_and_time,
            login_attempts_lock_a_username_and_success_clears_them,
            concurrent_login_attempts_never_pass_the_limit,
            password_hash_upgrades_never_undo_a_change,
            revoking_an_api_key_ends_the_sessions_opened_with_it,
        );
    };
    (@each $fixture:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some(fixture) = $fixture {
                    $crate::testing::$name(&*fixture);
                }
            }
        )*
    };
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId::new(),
        username: Username::parse(name).expect("test usernames are valid"),
        email: None,
        password_hash: PasswordHash::new(format!("$2b$04$hash-of-{name}")),
        role: Role::User,
        created_at: now(),
    }
}

fn with_email(mut user: NewUser, email: &str) -> NewUser {
    user.email = Some(Email::parse(email).expect("test emails are valid"));
    user
}

fn new_session(user: UserId) -> NewSession {
    let at = now();
    NewSession {
        session: Session {
            id: SessionId::new(),
            user_id: user,
            created_at: at,
            last_used_at: at,
            idle_expires_at: at + TimeDelta::days(14),
            expires_at: at + TimeDelta::days(90),
            revoked_at: None,
            client: ClientInfo {
                ip: Some("203.0.113.7".into()),
                user_agent: Some("contract-test/1.0".into()),
            },
            api_key: None,
        },
        refresh_token_hash: Some(RefreshTokenHash::new(format!(
            "digest-{}",
            SessionId::new()
        ))),
    }
}

fn username(name: &str) -> Username {
    Username::parse(name).expect("test usernames are valid")
}

/// A created user is found by id and by username in any case; unknown ones are not.
pub fn creates_and_finds_users(store: &dyn Store) {
    let created = store
        .create_user(with_email(new_user("Alice"), "alice@example.com"))
        .unwrap();
    assert_eq!(created.username.as_str(), "Alice");
    assert!(created.is_active);
    assert_eq!(
        store.user_by_id(created.id).unwrap().as_ref(),
        Some(&created)
    );
    assert_eq!(
        store.user_by_username(&username("aLiCe")).unwrap().as_ref(),
        Some(&created)
    );
    assert_eq!(store.user_by_username(&username("bob")).unwrap(), None);
    assert_eq!(store.user_by_id(UserId::new()).unwrap(), None);
}

/// `Alice` and `alice` cannot both exist.
pub fn usernames_are_unique_without_regard_to_case(store: &dyn Store) {
    store.create_user(new_user("Alice")).unwrap();
    let err = store.create_user(new_user("alice")).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::Username)),
        "{err:?}"
    );
}

/// Emails are unique without regard to case; any number of users may have none.
pub fn emails_are_unique_without_regard_to_case(store: &dyn Store) {
    store
        .create_user(with_email(new_user("alice"), "Same@Example.com"))
        .unwrap();
    let err = store
        .create_user(with_email(new_user("bob"), "same@example.COM"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::Email)),
        "{err:?}"
    );
    store.create_user(new_user("carol")).unwrap();
    store.create_user(new_user("dave")).unwrap();
}

/// An update changes what it names, and nothing else.
pub fn update_changes_only_the_given_fields(store: &dyn Store) {
    let user = store
        .create_user(with_email(new_user("alice"), "a@example.com"))
        .unwrap();
    let later = user.updated_at + TimeDelta::seconds(3);

    let mut rename = UserChanges::at(later);
    rename.username = Some(username("Alicia"));
    let renamed = store.update_user(user.id, &rename).unwrap();
    assert_eq!(renamed.username.as_str(), "Alicia");
    assert_eq!(renamed.email, user.email);
    assert_eq!(renamed.password_hash, user.password_hash);
    assert_eq!(renamed.created_at, user.created_at);
    assert_eq!(renamed.updated_at, later);
    assert_eq!(store.user_by_username(&username("alice")).unwrap(), None);
    assert_eq!(
        store.user_by_username(&username("alicia")).unwrap(),
        Some(renamed.clone())
    );

    let mut everything = UserChanges::at(later);
    everything.email = Some(None);
    everything.password_hash = Some(PasswordHash::new("$2b$04$another"));
    everything.role = Some(Role::Admin);
    everything.is_active = Some(false);
    let changed = store.update_user(user.id, &everything).unwrap();
    assert_eq!(changed.email, None);
    assert_eq!(changed.password_hash, PasswordHash::new("$2b$04$another"));
    assert_eq!(changed.role, Role::Admin);
    assert!(!changed.is_active);
    assert_eq!(store.user_by_id(user.id).unwrap(), Some(changed));
}

/// Renaming onto a taken username or email is a conflict and changes nothing.
pub fn update_to_a_taken_username_or_email_conflicts(store: &dyn Store) {
    store
        .create_user(with_email(new_user("alice"), "alice@example.com"))
        .unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();

    let mut rename = UserChanges::at(now());
    rename.username = Some(username("ALICE"));
    let err = store.update_user(bob.id, &rename).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::Username)),
        "{err:?}"
    );

    let mut email = UserChanges::at(now());
    email.email = Some(Some(Email::parse("Alice@example.com").unwrap()));
    let err = store.update_user(bob.id, &email).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::Email)),
        "{err:?}"
    );

    assert_eq!(store.user_by_id(bob.id).unwrap(), Some(bob));
}

/// Updating a user that does not exist is `NotFound`.
pub fn update_of_an_unknown_user_is_not_found(store: &dyn Store) {
    let err = store
        .update_user(UserId::new(), &UserChanges::at(now()))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Times written with microseconds come back equal.
pub fn times_round_trip_to_the_microsecond(store: &dyn Store) {
    let mut user = new_user("alice");
    user.created_at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
    let created = store.create_user(user).unwrap();
    let stored = store.user_by_id(created.id).unwrap().unwrap();
    assert_eq!(stored.created_at, created.created_at);
    assert_eq!(stored.updated_at.timestamp_subsec_micros(), 123_456);
}

/// A session is found together with its user, exactly as created.
pub fn sessions_are_found_with_their_user(store: &dyn Store) {
    let user = store.create_user(new_user("alice")).unwrap();
    let new = new_session(user.id);
    let created = store.create_session(new.clone()).unwrap();
    assert_eq!(created, new.session);
    let (session, owner) = store.session_with_user(created.id).unwrap().unwrap();
    assert_eq!(session, new.session);
    assert_eq!(owner, user);
    assert_eq!(store.session_with_user(SessionId::new()).unwrap(), None);
}

/// A session for a user that does not exist is refused.
pub fn sessions_need_an_existing_user(store: &dyn Store) {
    let err = store
        .create_session(new_session(UserId::new()))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Revoking ends a session once; revoking again keeps the first time; unknown ids are NotFound.
pub fn revoking_a_session_keeps_its_first_end_time(store: &dyn Store) {
    let user = store.create_user(new_user("alice")).unwrap();
    let session = store.create_session(new_session(user.id)).unwrap();
    let first = now();
    store.revoke_session(session.id, first).unwrap();
    store
        .revoke_session(session.id, first + TimeDelta::seconds(60))
        .unwrap();
    let (stored, _) = store.session_with_user(session.id).unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(first));
    assert!(!stored.is_live_at(first));
    let err = store.revoke_session(SessionId::new(), first).unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Revoking a user's sessions ends only that user's live sessions, sparing one if asked.
pub fn revoking_user_sessions_can_spare_one(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let keep = store.create_session(new_session(alice.id)).unwrap();
    let others: Vec<_> = (0..2)
        .map(|_| store.create_session(new_session(alice.id)).unwrap())
        .collect();
    let bobs = store.create_session(new_session(bob.id)).unwrap();
    let at = now();

    let ended = store
        .revoke_user_sessions(alice.id, SessionRevocation::AllExcept(keep.id), at)
        .unwrap();
    assert_eq!(ended, 2);
    let revoked_at = |id| store.session_with_user(id).unwrap().unwrap().0.revoked_at;
    assert_eq!(revoked_at(keep.id), None);
    for other in &others {
        assert_eq!(revoked_at(other.id), Some(at));
    }
    assert_eq!(revoked_at(bobs.id), None);

    let ended = store
        .revoke_user_sessions(alice.id, SessionRevocation::All, at)
        .unwrap();
    assert_eq!(ended, 1);
    assert_eq!(revoked_at(keep.id), Some(at));
    assert_eq!(revoked_at(bobs.id), None);
}

/// Eight threads registering one name (in different cases) at once: exactly one user results.
pub fn concurrent_registrations_of_one_name_yield_one_user(store: &dyn Store) {
    const RACERS: usize = 8;
    let barrier = Barrier::new(RACERS);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let name = if i % 2 == 0 { "racer" } else { "RACER" };
                    barrier.wait();
                    store.create_user(new_user(name))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{results:?}");
    for result in results.iter().filter(|r| r.is_err()) {
        assert!(
            matches!(result, Err(StoreError::Conflict(Conflict::Username))),
            "{result:?}"
        );
    }
}

/// A healthy store answers a ping.
pub fn ping_answers(store: &dyn Store) {
    store.ping().unwrap();
}

/// A user's sessions come newest first, ended ones included, other users' never.
pub fn user_sessions_are_listed_newest_first(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let mut older = new_session(alice.id);
    older.session.created_at -= TimeDelta::minutes(5);
    let older = store.create_session(older).unwrap();
    let newer = store.create_session(new_session(alice.id)).unwrap();
    store.create_session(new_session(bob.id)).unwrap();
    store.revoke_session(older.id, now()).unwrap();
    let ids: Vec<_> = store
        .user_sessions(alice.id)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, [newer.id, older.id]);
}

fn digest(name: &str) -> RefreshTokenHash {
    RefreshTokenHash::new(format!("digest-{name}-{}", SessionId::new()))
}

fn rotation(
    presented: &RefreshTokenHash,
    replacement: &RefreshTokenHash,
    at: chrono::DateTime<chrono::Utc>,
) -> RefreshRotation {
    RefreshRotation {
        presented: presented.clone(),
        replacement: replacement.clone(),
        at,
        reuse_grace: TimeDelta::seconds(10),
        idle_ttl: TimeDelta::days(14),
    }
}

/// A user with one session whose first refresh token is returned.
fn session_with_token(store: &dyn Store, name: &str) -> (Session, RefreshTokenHash) {
    let user = store.create_user(new_user(name)).unwrap();
    let new = new_session(user.id);
    let token = new
        .refresh_token_hash
        .clone()
        .expect("test sessions have a refresh token");
    (store.create_session(new).unwrap(), token)
}

fn rotated(outcome: RefreshOutcome) -> Session {
    match outcome {
        RefreshOutcome::Rotated { session, .. } => session,
        other => panic!("expected a rotation, got {other:?}"),
    }
}

/// Rotating a live token stores the replacement, retires the old one and renews the session.
pub fn rotation_replaces_the_token_and_renews_the_session(store: &dyn Store) {
    let (session, first) = session_with_token(store, "alice");
    let second = digest("second");
    let at = session.created_at + TimeDelta::hours(1);
    let renewed = rotated(
        store
            .rotate_refresh_token(&rotation(&first, &second, at))
            .unwrap(),
    );
    assert_eq!(renewed.id, session.id);
    assert_eq!(renewed.last_used_at, at);
    assert_eq!(renewed.idle_expires_at, at + TimeDelta::days(14));
    assert_eq!(renewed.expires_at, session.expires_at);
    let (stored, _) = store.session_with_user(session.id).unwrap().unwrap();
    assert_eq!(stored, renewed);

    let third = digest("third");
    let later = at + TimeDelta::hours(1);
    rotated(
        store
            .rotate_refresh_token(&rotation(&second, &third, later))
            .unwrap(),
    );
}

/// Two refreshes of one token inside the grace period both succeed; the next rotation of either
/// retires the other, whose later use is reuse.
pub fn a_token_rotated_within_the_grace_period_rotates_again(store: &dyn Store) {
    let (session, first) = session_with_token(store, "alice");
    let t = session.created_at + TimeDelta::minutes(1);
    let (a, b) = (digest("a"), digest("b"));
    rotated(
        store
            .rotate_refresh_token(&rotation(&first, &a, t))
            .unwrap(),
    );
    rotated(
        store
            .rotate_refresh_token(&rotation(&first, &b, t + TimeDelta::seconds(3)))
            .unwrap(),
    );
    // Both siblings are live; rotating one retires the other.
    let c = digest("c");
    let t2 = t + TimeDelta::minutes(5);
    rotated(store.rotate_refresh_token(&rotation(&b, &c, t2)).unwrap());
    let outcome = store
        .rotate_refresh_token(&rotation(&a, &digest("d"), t2 + TimeDelta::seconds(30)))
        .unwrap();
    assert!(
        matches!(outcome, RefreshOutcome::ReuseDetected { .. }),
        "{outcome:?}"
    );
}

/// Presenting a token rotated longer ago than the grace period revokes the whole session.
pub fn reuse_after_the_grace_period_revokes_the_session(store: &dyn Store) {
    let (session, first) = session_with_token(store, "alice");
    let second = digest("second");
    let t = session.created_at + TimeDelta::minutes(1);
    rotated(
        store
            .rotate_refresh_token(&rotation(&first, &second, t))
            .unwrap(),
    );
    let reuse_at = t + TimeDelta::seconds(11);
    let outcome = store
        .rotate_refresh_token(&rotation(&first, &digest("x"), reuse_at))
        .unwrap();
    assert_eq!(
        outcome,
        RefreshOutcome::ReuseDetected {
            session: session.id,
            user: session.user_id
        }
    );
    let (stored, _) = store.session_with_user(session.id).unwrap().unwrap();
    assert_eq!(stored.revoked_at, Some(reuse_at));
    // The legitimate holder's token died with the session.
    let after = store
        .rotate_refresh_token(&rotation(&second, &digest("y"), reuse_at))
        .unwrap();
    assert_eq!(after, RefreshOutcome::Invalid);
}

/// Unknown tokens, and tokens of revoked, idle or expired sessions, change nothing.
pub fn unknown_tokens_and_ended_sessions_do_not_rotate(store: &dyn Store) {
    let t = now();
    let unknown = store.rotate_refresh_token(&rotation(&digest("nope"), &digest("z"), t));
    assert_eq!(unknown.unwrap(), RefreshOutcome::Invalid);

    let (revoked, token) = session_with_token(store, "revoked");
    store.revoke_session(revoked.id, t).unwrap();
    let outcome = store
        .rotate_refresh_token(&rotation(&token, &digest("z"), t))
        .unwrap();
    assert_eq!(outcome, RefreshOutcome::Invalid);

    let (idle, token) = session_with_token(store, "idle");
    let past_idle = idle.idle_expires_at + TimeDelta::seconds(1);
    let outcome = store
        .rotate_refresh_token(&rotation(&token, &digest("z"), past_idle))
        .unwrap();
    assert_eq!(outcome, RefreshOutcome::Invalid);

    let (old, token) = session_with_token(store, "old");
    let past_end = old.expires_at + TimeDelta::seconds(1);
    let outcome = store
        .rotate_refresh_token(&rotation(&token, &digest("z"), past_end))
        .unwrap();
    assert_eq!(outcome, RefreshOutcome::Invalid);
    let (stored, _) = store.session_with_user(old.id).unwrap().unwrap();
    assert_eq!(stored.revoked_at, None);
}

/// Eight concurrent rotations of one token: all succeed (within the grace period) and leave
/// exactly one live session.
pub fn concurrent_rotations_of_one_token_keep_one_session(store: &dyn Store) {
    const RACERS: usize = 8;
    let (session, first) = session_with_token(store, "alice");
    let t = session.created_at + TimeDelta::minutes(1);
    let barrier = Barrier::new(RACERS);
    let outcomes: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|i| {
                let (barrier, first) = (&barrier, &first);
                scope.spawn(move || {
                    let replacement = digest(&format!("racer-{i}"));
                    barrier.wait();
                    store.rotate_refresh_token(&rotation(first, &replacement, t))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for outcome in outcomes {
        assert_eq!(rotated(outcome.unwrap()).id, session.id);
    }
    let sessions = store.user_sessions(session.user_id).unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].is_live_at(t));
}

/// A session opened without a refresh token (API-key exchange) works but never refreshes.
pub fn sessions_without_a_refresh_token_cannot_be_refreshed(store: &dyn Store) {
    let user = store.create_user(new_user("alice")).unwrap();
    let mut new = new_session(user.id);
    new.refresh_token_hash = None;
    let session = store.create_session(new).unwrap();
    assert!(store.session_with_user(session.id).unwrap().is_some());
    let outcome = store
        .rotate_refresh_token(&rotation(&digest("any"), &digest("z"), now()))
        .unwrap();
    assert_eq!(outcome, RefreshOutcome::Invalid);
}

fn admin(store: &dyn Store, name: &str) -> User {
    let mut user = new_user(name);
    user.role = Role::Admin;
    store.create_user(user).unwrap()
}

fn change(f: impl FnOnce(&mut UserChanges)) -> UserChanges {
    let mut changes = UserChanges::at(now());
    f(&mut changes);
    changes
}

fn is_last_admin(result: Result<impl std::fmt::Debug, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict(Conflict::LastAdmin)))
}

/// With one active admin left, demoting, disabling or deleting them is refused; with two, one
/// may go.
pub fn the_last_active_admin_cannot_be_demoted_disabled_or_deleted(store: &dyn Store) {
    let root = admin(store, "root");
    let user = store.create_user(new_user("alice")).unwrap();
    // Ordinary users are not guarded.
    store
        .update_user(user.id, &change(|c| c.is_active = Some(false)))
        .unwrap();

    assert!(is_last_admin(
        store.update_user(root.id, &change(|c| c.role = Some(Role::User)))
    ));
    assert!(is_last_admin(
        store.update_user(root.id, &change(|c| c.is_active = Some(false)))
    ));
    assert!(is_last_admin(store.delete_user(root.id)));
    let unchanged = store.user_by_id(root.id).unwrap().unwrap();
    assert!(unchanged.role == Role::Admin && unchanged.is_active);
    // Renaming the last admin is fine.
    store
        .update_user(root.id, &change(|c| c.username = Some(username("groot"))))
        .unwrap();

    let second = admin(store, "second");
    store
        .update_user(root.id, &change(|c| c.role = Some(Role::User)))
        .unwrap();
    assert!(is_last_admin(store.delete_user(second.id)));
}

/// Two admins demoting each other at the same time: exactly one demotion succeeds.
pub fn concurrent_demotions_of_the_last_two_admins_leave_one(store: &dyn Store) {
    let a = admin(store, "admin-a");
    let b = admin(store, "admin-b");
    let barrier = Barrier::new(2);
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = [a.id, b.id]
            .into_iter()
            .map(|id| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store.update_user(id, &change(|c| c.role = Some(Role::User)))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let admins = [a.id, b.id]
        .into_iter()
        .filter(|id| store.user_by_id(*id).unwrap().unwrap().role == Role::Admin)
        .count();
    assert_eq!(admins, 1);
}

fn new_api_key(user: UserId, prefix: &str) -> NewApiKey {
    NewApiKey {
        key: ApiKey {
            id: ApiKeyId::new(),
            user_id: user,
            name: format!("key {prefix}"),
            prefix: prefix.to_owned(),
            created_at: now(),
            expires_at: None,
            last_used_at: None,
            revoked_at: None,
        },
        key_hash: format!("hash-of-{prefix}"),
    }
}

/// Deleting a user removes them, their sessions and their API keys; unknown ids are NotFound.
pub fn deleting_a_user_removes_their_sessions_and_keys(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let session = store.create_session(new_session(alice.id)).unwrap();
    let bobs = store.create_session(new_session(bob.id)).unwrap();
    store
        .create_api_key(new_api_key(alice.id, "aaaa1111"))
        .unwrap();
    store.delete_user(alice.id).unwrap();
    assert_eq!(store.user_by_id(alice.id).unwrap(), None);
    assert_eq!(store.session_with_user(session.id).unwrap(), None);
    assert_eq!(store.api_key_by_prefix("aaaa1111").unwrap(), None);
    assert!(store.session_with_user(bobs.id).unwrap().is_some());
    assert!(matches!(
        store.delete_user(alice.id),
        Err(StoreError::NotFound)
    ));
    // The name is free again.
    store.create_user(new_user("alice")).unwrap();
}

/// Listing filters by a case-insensitive substring of username or email, pages, and counts.
pub fn users_are_listed_filtered_and_paged(store: &dyn Store) {
    let base = now();
    for (i, (name, email)) in [
        ("Alice", Some("alice@example.com")),
        ("bob", Some("bob@ALICE.org")),
        ("carol", None),
        ("dave_", Some("d%v@example.com")),
    ]
    .into_iter()
    .enumerate()
    {
        let mut user = new_user(name);
        user.email = email.map(|e| Email::parse(e).unwrap());
        user.created_at = base + TimeDelta::seconds(i as i64);
        store.create_user(user).unwrap();
    }
    let names = |q: Option<&str>, limit, offset| {
        let query = UserQuery {
            q: q.map(Into::into),
            limit,
            offset,
        };
        let (users, total) = store.list_users(&query).unwrap();
        let names: Vec<String> = users.iter().map(|u| u.username.to_string()).collect();
        (names, total)
    };
    assert_eq!(
        names(None, 10, 0),
        (
            vec!["Alice".into(), "bob".into(), "carol".into(), "dave_".into()],
            4
        )
    );
    assert_eq!(names(None, 2, 1), (vec!["bob".into(), "carol".into()], 4));
    assert_eq!(
        names(Some("ALIce"), 10, 0),
        (vec!["Alice".into(), "bob".into()], 2)
    );
    // LIKE's wildcards are taken literally.
    assert_eq!(names(Some("%"), 10, 0), (vec!["dave_".into()], 1));
    assert_eq!(names(Some("_"), 10, 0), (vec!["dave_".into()], 1));
    assert_eq!(names(Some("nobody"), 10, 0), (vec![], 0));
}

/// A key is found by its prefix together with its user and digest; prefixes are unique.
pub fn api_keys_are_found_by_prefix_with_their_user(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let mut older = new_api_key(alice.id, "pref0001");
    older.key.created_at -= TimeDelta::minutes(1);
    older.key.expires_at = Some(now() + TimeDelta::days(30));
    let older = store.create_api_key(older).unwrap();
    let newer = store
        .create_api_key(new_api_key(alice.id, "pref0002"))
        .unwrap();
    let (found, hash, owner) = store.api_key_by_prefix("pref0001").unwrap().unwrap();
    assert_eq!(
        (found, hash.as_str(), owner.id),
        (older.clone(), "hash-of-pref0001", alice.id)
    );
    assert_eq!(store.api_key_by_prefix("nope0000").unwrap(), None);
    let err = store
        .create_api_key(new_api_key(alice.id, "pref0001"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(Conflict::KeyPrefix)),
        "{err:?}"
    );
    let ids: Vec<_> = store
        .user_api_keys(alice.id)
        .unwrap()
        .iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, [newer.id, older.id]);
    let used = now();
    store.touch_api_key(older.id, used).unwrap();
    let (found, _, _) = store.api_key_by_prefix("pref0001").unwrap().unwrap();
    assert_eq!(found.last_used_at, Some(used));
}

/// Only the owner's live key can be revoked; a revoked key stays listed, marked.
pub fn api_keys_are_revoked_only_by_their_owner(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let key = store
        .create_api_key(new_api_key(alice.id, "pref0003"))
        .unwrap();
    let at = now();
    assert!(matches!(
        store.revoke_api_key(bob.id, key.id, at),
        Err(StoreError::NotFound)
    ));
    store.revoke_api_key(alice.id, key.id, at).unwrap();
    assert!(matches!(
        store.revoke_api_key(alice.id, key.id, at),
        Err(StoreError::NotFound)
    ));
    let (found, _, _) = store.api_key_by_prefix("pref0003").unwrap().unwrap();
    assert_eq!(found.revoked_at, Some(at));
    assert!(!found.is_live_at(at));
}

/// Audit events come newest first, filtered by actor-or-target and a time window, with a total.
pub fn audit_events_are_filtered_by_user_and_time(store: &dyn Store) {
    let (alice, bob) = (UserId::new(), UserId::new());
    let base = now();
    let event = |i: i64, action: &str, actor: Option<UserId>, target: Option<UserId>| AuditEvent {
        id: uuid::Uuid::new_v4(),
        at: base + TimeDelta::seconds(i),
        action: action.into(),
        outcome: "success".into(),
        actor,
        target,
        ip: Some("192.0.2.1".into()),
        detail: None,
    };
    let events = [
        event(0, "login", Some(alice), Some(alice)),
        event(1, "login", Some(bob), Some(bob)),
        event(2, "admin.user_updated", Some(bob), Some(alice)),
        event(3, "login", None, None),
    ];
    for e in &events {
        store.record(e).unwrap();
    }
    let query = |user, since, until, limit, offset| {
        let (found, total) = store
            .audit_events(&AuditQuery {
                user,
                since,
                until,
                limit,
                offset,
            })
            .unwrap();
        (found, total)
    };
    let (all, total) = query(None, None, None, 10, 0);
    assert_eq!(total, 4);
    assert_eq!(
        all,
        [
            events[3].clone(),
            events[2].clone(),
            events[1].clone(),
            events[0].clone()
        ]
    );
    let (alices, total) = query(Some(alice), None, None, 10, 0);
    assert_eq!(
        (alices, total),
        (vec![events[2].clone(), events[0].clone()], 2)
    );
    let window = query(
        None,
        Some(base + TimeDelta::seconds(1)),
        Some(base + TimeDelta::seconds(3)),
        10,
        0,
    );
    assert_eq!(window, (vec![events[2].clone(), events[1].clone()], 2));
    let (page, total) = query(None, None, None, 1, 1);
    assert_eq!((page, total), (vec![events[2].clone()], 4));
}

const POLICY: LockoutPolicy = LockoutPolicy {
    max_failures: 3,
    base_delay: TimeDelta::seconds(30),
    max_delay: TimeDelta::seconds(3600),
};

fn counted(verdict: AttemptVerdict) -> LoginThrottle {
    match verdict {
        AttemptVerdict::Counted(throttle) => throttle,
        AttemptVerdict::Locked(throttle) => panic!("locked: {throttle:?}"),
    }
}

/// Attempts are counted per username; the policy's limit locks it (a locked name's attempts are
/// not counted); the lock ends on time; success clears the count.
pub fn login_attempts_lock_a_username_and_success_clears_them(store: &dyn Store) {
    let at = now();
    for n in 1..=2 {
        let throttle = counted(store.take_login_attempt("alice", &POLICY, at).unwrap());
        assert_eq!(
            throttle,
            LoginThrottle {
                failures: n,
                locked_until: None
            }
        );
    }
    let third = counted(store.take_login_attempt("alice", &POLICY, at).unwrap());
    assert_eq!(third.locked_until, Some(at + TimeDelta::seconds(30)));
    let refused = store
        .take_login_attempt("alice", &POLICY, at + TimeDelta::seconds(29))
        .unwrap();
    assert_eq!(refused, AttemptVerdict::Locked(third));
    assert_eq!(
        counted(store.take_login_attempt("bob", &POLICY, at).unwrap()).failures,
        1
    );
    // After the lock, the next attempt counts and locks for twice as long.
    let later = at + TimeDelta::seconds(30);
    let fourth = counted(store.take_login_attempt("alice", &POLICY, later).unwrap());
    assert_eq!(
        fourth,
        LoginThrottle {
            failures: 4,
            locked_until: Some(later + TimeDelta::seconds(60))
        }
    );
    store.clear_login_failures("alice").unwrap();
    let fresh = counted(store.take_login_attempt("alice", &POLICY, later).unwrap());
    assert_eq!(
        fresh,
        LoginThrottle {
            failures: 1,
            locked_until: None
        }
    );
    store.clear_login_failures("never-tried").unwrap();
}

/// Sixteen attempts at once on one name: exactly the policy's three get through.
pub fn concurrent_login_attempts_never_pass_the_limit(store: &dyn Store) {
    const RACERS: usize = 16;
    let barrier = Barrier::new(RACERS);
    let at = now();
    let verdicts: Vec<AttemptVerdict> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store.take_login_attempt("target", &POLICY, at).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let through = verdicts
        .iter()
        .filter(|v| matches!(v, AttemptVerdict::Counted(_)))
        .count();
    assert_eq!(through, POLICY.max_failures as usize, "{verdicts:?}");
}

/// Replacing a hash succeeds only while the stored hash is the expected one.
pub fn password_hash_upgrades_never_undo_a_change(store: &dyn Store) {
    let user = store.create_user(new_user("alice")).unwrap();
    let upgraded = PasswordHash::new("$2b$05$upgraded");
    let at = now();
    assert!(
        store
            .replace_password_hash(user.id, &user.password_hash, &upgraded, at)
            .unwrap()
    );
    assert_eq!(
        store.user_by_id(user.id).unwrap().unwrap().password_hash,
        upgraded
    );
    // A stale expectation (the password changed meanwhile) changes nothing.
    let stale = store
        .replace_password_hash(
            user.id,
            &user.password_hash,
            &PasswordHash::new("$2b$05$old"),
            at,
        )
        .unwrap();
    assert!(!stale);
    assert_eq!(
        store.user_by_id(user.id).unwrap().unwrap().password_hash,
        upgraded
    );
    assert!(
        !store
            .replace_password_hash(UserId::new(), &upgraded, &upgraded, at)
            .unwrap()
    );
}

/// Revoking a key ends the sessions opened by exchanging it, and no other.
pub fn revoking_an_api_key_ends_the_sessions_opened_with_it(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let key = store
        .create_api_key(new_api_key(alice.id, "pref0009"))
        .unwrap();
    let mut exchanged = new_session(alice.id);
    exchanged.session.api_key = Some(key.id);
    exchanged.refresh_token_hash = None;
    let exchanged = store.create_session(exchanged).unwrap();
    let ordinary = store.create_session(new_session(alice.id)).unwrap();
    assert_eq!(
        store
            .session_with_user(exchanged.id)
            .unwrap()
            .unwrap()
            .0
            .api_key,
        Some(key.id)
    );
    let at = now();
    store.revoke_api_key(alice.id, key.id, at).unwrap();
    let revoked_at = |id| store.session_with_user(id).unwrap().unwrap().0.revoked_at;
    assert_eq!(revoked_at(exchanged.id), Some(at));
    assert_eq!(revoked_at(ordinary.id), None);
}
