//! The [`ApiKeyStore`](auth_domain::ApiKeyStore) contract: lookup by prefix, revocation by the
//! owner, and the end of the sessions a key opened.

use auth_domain::{Conflict, Store, StoreError, now};
use chrono::TimeDelta;

use super::{new_api_key, new_session, new_user};

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

/// Revoking all of a user's keys revokes only their live keys (an already revoked key keeps
/// its first revocation time), ends the sessions opened with them, and touches no one else's.
pub fn revoking_all_of_a_users_api_keys_spares_other_users(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let first = store
        .create_api_key(new_api_key(alice.id, "pref0011"))
        .unwrap();
    let second = store
        .create_api_key(new_api_key(alice.id, "pref0012"))
        .unwrap();
    let earlier = now() - TimeDelta::hours(1);
    store.revoke_api_key(alice.id, second.id, earlier).unwrap();
    let bobs = store
        .create_api_key(new_api_key(bob.id, "pref0013"))
        .unwrap();
    let mut exchanged = new_session(alice.id);
    exchanged.session.api_key = Some(first.id);
    exchanged.refresh_token_hash = None;
    let exchanged = store.create_session(exchanged).unwrap();
    let mut bobs_session = new_session(bob.id);
    bobs_session.session.api_key = Some(bobs.id);
    bobs_session.refresh_token_hash = None;
    let bobs_session = store.create_session(bobs_session).unwrap();

    let at = now();
    assert_eq!(store.revoke_user_api_keys(alice.id, at).unwrap(), 1);
    let revoked_at = |prefix| {
        store
            .api_key_by_prefix(prefix)
            .unwrap()
            .unwrap()
            .0
            .revoked_at
    };
    assert_eq!(revoked_at("pref0011"), Some(at));
    assert_eq!(revoked_at("pref0012"), Some(earlier));
    assert_eq!(revoked_at("pref0013"), None);
    let session_end = |id| store.session_with_user(id).unwrap().unwrap().0.revoked_at;
    assert_eq!(session_end(exchanged.id), Some(at));
    assert_eq!(session_end(bobs_session.id), None);
    assert_eq!(store.revoke_user_api_keys(alice.id, at).unwrap(), 0);
}
