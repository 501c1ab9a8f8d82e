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
    ClientInfo, Conflict, Email, NewSession, NewUser, PasswordHash, RefreshTokenHash, Role,
    Session, SessionId, SessionRevocation, Store, StoreError, UserChanges, UserId, Username, now,
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
        },
        refresh_token_hash: RefreshTokenHash::new(format!("digest-{}", SessionId::new())),
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
