//! The [`UserStore`](auth_domain::UserStore) contract: creation, lookup, updates, deletion,
//! password-hash upgrades, and the rule that the last active admin stays (the listing is in
//! `user_listing`).

use std::sync::Barrier;

use auth_domain::{
    Conflict, Email, NewUser, PasswordHash, Role, Store, StoreError, User, UserChanges, UserId,
    Username, now,
};
use chrono::TimeDelta;

use super::{new_api_key, new_session, new_user};

fn with_email(mut user: NewUser, email: &str) -> NewUser {
    user.email = Some(Email::parse(email).expect("test emails are valid"));
    user
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
    everything.role = Some(Role::Admin);
    everything.is_active = Some(false);
    let changed = store.update_user(user.id, &everything).unwrap();
    assert_eq!(changed.email, None);
    assert_eq!(changed.password_hash, user.password_hash);
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
