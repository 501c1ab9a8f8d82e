//! Status list entries ([`StatusListStore`](auth_domain::StatusListStore)): allocated at random
//! for live sessions, INVALID as soon as a token's claims no longer hold, reused after expiry.

use std::collections::BTreeSet;

use auth_domain::{
    NewStatusEntry, Role, STATUS_ENTRY_GRACE, SessionId, SessionRevocation, StatusEntry,
    StatusScope, Store, StoreError, User, UserChanges, Username, now,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::{new_session, new_user};

fn entry_for(user: &User, session: SessionId, at: DateTime<Utc>, size: u64) -> NewStatusEntry {
    NewStatusEntry {
        session,
        user: user.id,
        role: user.role,
        username: user.username.to_string(),
        expires_at: at + TimeDelta::minutes(15),
        at,
        list_size: size,
    }
}

fn revoked(store: &dyn Store, scope: StatusScope) -> BTreeSet<StatusEntry> {
    store
        .revoked_status_entries(scope, now() - STATUS_ENTRY_GRACE)
        .unwrap()
        .into_iter()
        .map(|r| r.entry)
        .collect()
}

/// Entries are drawn at random from the whole list (not in sequence), never twice while
/// live, and only for a live session whose user still has the token's claims.
pub fn status_entries_are_random_distinct_and_need_live_claims(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let session = store.create_session(new_session(alice.id)).unwrap();
    let size = 1 << 20;
    let entries: BTreeSet<StatusEntry> = (0..64)
        .map(|_| {
            store
                .allocate_status_entry(&entry_for(&alice, session.id, now(), size))
                .unwrap()
        })
        .collect();
    assert_eq!(entries.len(), 64, "an index was given twice");
    assert!(entries.iter().all(|e| e.list == 1 && e.idx < size));
    let idxs: Vec<u64> = entries.iter().map(|e| e.idx).collect();
    assert!(
        idxs.windows(2).any(|w| w[1] - w[0] > 1_000),
        "indexes are not spread over the list: {idxs:?}"
    );
    assert_eq!(store.status_lists().unwrap(), vec![1]);
    assert!(revoked(store, StatusScope::All).is_empty());

    let mut admin_claims = entry_for(&alice, session.id, now(), size);
    admin_claims.role = Role::Admin;
    let mut old_name = entry_for(&alice, session.id, now(), size);
    old_name.username = "alicia".into();
    for wrong in [admin_claims, old_name] {
        assert!(matches!(
            store.allocate_status_entry(&wrong),
            Err(StoreError::CredentialsChanged)
        ));
    }
    store.revoke_session(session.id, now()).unwrap();
    assert!(matches!(
        store.allocate_status_entry(&entry_for(&alice, session.id, now(), size)),
        Err(StoreError::CredentialsChanged)
    ));
}

/// An entry becomes INVALID with the change that makes its token's claims false: its session
/// ended (one, all but one, all), its user's role or username changed, the user disabled or
/// deleted; and not with a change that leaves them true (a hash upgrade).
pub fn ending_sessions_and_changing_claims_revoke_their_entries(store: &dyn Store) {
    let size = 1 << 20;
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let carol = store.create_user(new_user("carol")).unwrap();
    let dave = store.create_user(new_user("dave")).unwrap();
    let sessions: Vec<_> = (0..3)
        .map(|_| store.create_session(new_session(alice.id)).unwrap())
        .collect();
    let allocate = |user: &User, session: SessionId| {
        store
            .allocate_status_entry(&entry_for(user, session, now(), size))
            .unwrap()
    };
    let alices: Vec<StatusEntry> = sessions.iter().map(|s| allocate(&alice, s.id)).collect();
    let bobs_session = store.create_session(new_session(bob.id)).unwrap();
    let bobs = allocate(&bob, bobs_session.id);
    let carols_session = store.create_session(new_session(carol.id)).unwrap();
    let carols = allocate(&carol, carols_session.id);
    let daves_session = store.create_session(new_session(dave.id)).unwrap();
    let daves = allocate(&dave, daves_session.id);
    let set = |entries: &[StatusEntry]| entries.iter().copied().collect::<BTreeSet<_>>();

    store.revoke_session(sessions[1].id, now()).unwrap();
    assert_eq!(revoked(store, StatusScope::All), set(&[alices[1]]));
    assert_eq!(
        revoked(store, StatusScope::Session(sessions[1].id)),
        set(&[alices[1]])
    );
    store
        .revoke_user_sessions(
            alice.id,
            SessionRevocation::AllExcept(sessions[0].id),
            now(),
        )
        .unwrap();
    assert_eq!(revoked(store, StatusScope::All), set(&alices[1..]));

    // Same claims: nothing changes.
    store
        .replace_password_hash(
            alice.id,
            &alice.password_hash,
            &auth_domain::PasswordHash::new("$2b$04$another"),
            now(),
        )
        .unwrap();
    assert_eq!(revoked(store, StatusScope::All), set(&alices[1..]));

    let mut demote = UserChanges::at(now());
    demote.role = Some(Role::Admin);
    store.update_user(alice.id, &demote).unwrap();
    assert_eq!(revoked(store, StatusScope::User(alice.id)), set(&alices));
    assert_eq!(revoked(store, StatusScope::User(bob.id)), set(&[]));

    let mut rename = UserChanges::at(now());
    rename.username = Some(Username::parse("robert").unwrap());
    store.update_user(bob.id, &rename).unwrap();
    let mut disable = UserChanges::at(now());
    disable.is_active = Some(false);
    store.update_user(carol.id, &disable).unwrap();
    store.delete_user(dave.id).unwrap();
    let mut all = set(&alices);
    all.extend([bobs, carols, daves]);
    assert_eq!(revoked(store, StatusScope::All), all);
    assert_eq!(revoked(store, StatusScope::List(1)), all);
    assert!(revoked(store, StatusScope::List(2)).is_empty());
    assert!(
        store
            .revoked_status_entries(StatusScope::All, now() + TimeDelta::hours(1))
            .unwrap()
            .is_empty(),
        "entries whose token expired before `since` are left out"
    );
}

/// A full list sends new entries to the next one; an entry whose token expired long enough
/// ago is reused, VALID again.
pub fn status_entries_spill_over_and_are_reused_after_expiry(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let session = store.create_session(new_session(alice.id)).unwrap();
    let first = store
        .allocate_status_entry(&entry_for(&alice, session.id, now(), 1))
        .unwrap();
    assert_eq!(first, StatusEntry { list: 1, idx: 0 });
    let second = store
        .allocate_status_entry(&entry_for(&alice, session.id, now(), 1))
        .unwrap();
    assert_eq!(second, StatusEntry { list: 2, idx: 0 });
    assert_eq!(store.status_lists().unwrap(), vec![1, 2]);
    store.revoke_session(session.id, now()).unwrap();
    assert_eq!(revoked(store, StatusScope::List(1)).len(), 1);

    // A day later, both tokens are long expired: the first index is free again.
    let later = now() + TimeDelta::days(1);
    let other = store.create_session(new_session(alice.id)).unwrap();
    let reused = store
        .allocate_status_entry(&entry_for(&alice, other.id, later, 1))
        .unwrap();
    assert_eq!(reused, first);
    assert!(
        store
            .revoked_status_entries(StatusScope::List(1), now())
            .unwrap()
            .is_empty(),
        "the reused entry is VALID"
    );
}
