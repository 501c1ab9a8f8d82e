//! The credential generation's contract: a password change, disabling a user and turning a
//! second factor on end what the user's credentials gave, in one transaction, and what a
//! credential check produced (a session, an API key, an `mfa_token`'s challenge) is stored
//! only at the generation the check saw, even when the two race.

use std::sync::Barrier;

use auth_domain::{
    CredentialGeneration, EncryptedTotpSecret, MfaChallenge, MfaTokenHash, PasswordChange,
    PasswordHash, SessionId, SessionRevocation, Store, StoreError, User, UserChanges, UserId, now,
};
use chrono::TimeDelta;

use super::{new_api_key, new_session, new_user};

const RACERS: usize = 8;

fn challenge(user: &User, token: &str) -> MfaChallenge {
    let at = now();
    MfaChallenge {
        token_hash: MfaTokenHash::new(token),
        user_id: user.id,
        generation: user.credential_generation,
        access_ttl_secs: 900,
        created_at: at,
        expires_at: at + TimeDelta::minutes(5),
        failures: 0,
    }
}

fn change(user: &User, sessions: SessionRevocation) -> PasswordChange {
    PasswordChange {
        user: user.id,
        expected: user.credential_generation,
        new_hash: PasswordHash::new("$2b$04$the-new-one"),
        sessions,
        at: now(),
    }
}

fn is_live(store: &dyn Store, session: SessionId) -> bool {
    let (session, _) = store.session_with_user(session).unwrap().unwrap();
    session.revoked_at.is_none()
}

fn key_is_live(store: &dyn Store, prefix: &str) -> bool {
    let (key, _, _) = store.api_key_by_prefix(prefix).unwrap().unwrap();
    key.revoked_at.is_none()
}

/// A password change sets the hash, moves the generation on, ends the sessions it selects
/// (the kept one aside) and those opened with keys, revokes every key and forgets the
/// `mfa_token`s, and says which; another user's are untouched.
pub fn a_password_change_ends_what_the_old_password_gave(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let kept = store.create_session(new_session(alice.id)).unwrap();
    let other = store.create_session(new_session(alice.id)).unwrap();
    let key = store
        .create_api_key(new_api_key(alice.id, "pref0101"))
        .unwrap();
    let mut exchanged = new_session(alice.id);
    exchanged.session.api_key = Some(key.id);
    exchanged.refresh_token_hash = None;
    let exchanged = store.create_session(exchanged).unwrap();
    store
        .create_mfa_challenge(&challenge(&alice, "a1"))
        .unwrap();
    let bobs = store.create_session(new_session(bob.id)).unwrap();
    store
        .create_api_key(new_api_key(bob.id, "pref0102"))
        .unwrap();
    store.create_mfa_challenge(&challenge(&bob, "b1")).unwrap();

    let change = change(&alice, SessionRevocation::AllExcept(kept.id));
    let mut changed = store.change_password(&change).unwrap();
    changed.ended_sessions.sort();
    let mut ended = vec![other.id, exchanged.id];
    ended.sort();
    assert_eq!(changed.ended_sessions, ended);
    assert_eq!(changed.revoked_api_keys, vec![key.id]);
    assert_eq!(changed.user.password_hash, change.new_hash);
    assert_eq!(changed.user.updated_at, change.at);
    assert_eq!(changed.user.credential_generation, CredentialGeneration(1));
    assert_eq!(store.user_by_id(alice.id).unwrap(), Some(changed.user));
    assert!(is_live(store, kept.id));
    assert!(!is_live(store, other.id) && !is_live(store, exchanged.id));
    assert!(!key_is_live(store, "pref0101"));
    assert_eq!(store.mfa_challenge(&MfaTokenHash::new("a1")).unwrap(), None);
    // Bob's are untouched.
    assert!(is_live(store, bobs.id));
    assert!(key_is_live(store, "pref0102"));
    assert!(
        store
            .mfa_challenge(&MfaTokenHash::new("b1"))
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .user_by_id(bob.id)
            .unwrap()
            .unwrap()
            .credential_generation,
        CredentialGeneration(0)
    );
    // A reset ends every session.
    let reset = store
        .change_password(&self::change(
            &store.user_by_id(alice.id).unwrap().unwrap(),
            SessionRevocation::All,
        ))
        .unwrap();
    assert_eq!(reset.ended_sessions, vec![kept.id]);
    assert!(reset.revoked_api_keys.is_empty());
}

/// Of two changes checked against the same password, only the first is made; a change of an
/// unknown user is not found.
pub fn a_password_change_checked_at_an_old_generation_changes_nothing(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let session = store.create_session(new_session(alice.id)).unwrap();
    let first = store
        .change_password(&change(&alice, SessionRevocation::All))
        .unwrap();
    let mut second = change(&alice, SessionRevocation::All);
    second.new_hash = PasswordHash::new("$2b$04$the-other-one");
    let err = store.change_password(&second).unwrap_err();
    assert!(matches!(err, StoreError::CredentialsChanged), "{err:?}");
    assert_eq!(store.user_by_id(alice.id).unwrap(), Some(first.user));
    assert!(!is_live(store, session.id));
    let mut unknown = change(&alice, SessionRevocation::All);
    unknown.user = UserId::new();
    let err = store.change_password(&unknown).unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// A session, an API key or a challenge is stored only while the generation it was checked at
/// is still the user's (a hash upgrade keeps the generation); a session opened with a key
/// only while the key is not revoked.
pub fn what_a_check_produced_is_stored_only_at_the_users_generation(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    // An upgrade of the hash keeps the generation: what the old-cost hash checked still counts.
    let upgraded = PasswordHash::new("$2b$05$upgraded");
    assert!(
        store
            .replace_password_hash(alice.id, &alice.password_hash, &upgraded, now())
            .unwrap()
    );
    store.create_session(new_session(alice.id)).unwrap();
    store
        .create_api_key(new_api_key(alice.id, "pref0201"))
        .unwrap();
    store
        .create_mfa_challenge(&challenge(&alice, "c1"))
        .unwrap();

    store
        .change_password(&change(&alice, SessionRevocation::All))
        .unwrap();
    let changed = |result: Result<(), StoreError>| {
        assert!(
            matches!(result, Err(StoreError::CredentialsChanged)),
            "{result:?}"
        );
    };
    let sessions_before = store.user_sessions(alice.id).unwrap().len();
    changed(store.create_session(new_session(alice.id)).map(drop));
    changed(
        store
            .create_api_key(new_api_key(alice.id, "pref0202"))
            .map(drop),
    );
    changed(store.create_mfa_challenge(&challenge(&alice, "c2")));
    assert_eq!(
        store.user_sessions(alice.id).unwrap().len(),
        sessions_before
    );
    assert_eq!(store.api_key_by_prefix("pref0202").unwrap(), None);
    assert_eq!(store.mfa_challenge(&MfaTokenHash::new("c2")).unwrap(), None);

    // At the new generation they are stored.
    let now_alice = store.user_by_id(alice.id).unwrap().unwrap();
    let mut session = new_session(alice.id);
    session.generation = now_alice.credential_generation;
    store.create_session(session).unwrap();
    let mut key = new_api_key(alice.id, "pref0203");
    key.generation = now_alice.credential_generation;
    let key = store.create_api_key(key).unwrap();
    store
        .create_mfa_challenge(&challenge(&now_alice, "c3"))
        .unwrap();

    // A session opened with a revoked key is not.
    store.revoke_api_key(alice.id, key.id, now()).unwrap();
    let mut exchanged = new_session(alice.id);
    exchanged.generation = now_alice.credential_generation;
    exchanged.session.api_key = Some(key.id);
    exchanged.refresh_token_hash = None;
    changed(store.create_session(exchanged).map(drop));
    // An unknown user is not found.
    let err = store
        .create_session(new_session(UserId::new()))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Sessions and keys created concurrently with a password change, all checked at the
/// generation before it: each is either refused or ended by the change, whichever commits
/// first. None survives.
pub fn nothing_checked_before_a_concurrent_password_change_survives_it(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let kept = store.create_session(new_session(alice.id)).unwrap();
    let barrier = Barrier::new(RACERS + 1);
    let (sessions, keys) = std::thread::scope(|scope| {
        let racers: Vec<_> = (0..RACERS)
            .map(|racer| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    let (mut sessions, mut keys) = (Vec::new(), Vec::new());
                    for n in 0..4 {
                        sessions.push(store.create_session(new_session(alice.id)).map(|s| s.id));
                        let prefix = format!("race{racer}{n:03}");
                        keys.push(store.create_api_key(new_api_key(alice.id, &prefix)));
                    }
                    (sessions, keys)
                })
            })
            .collect();
        let changer = scope.spawn(|| {
            barrier.wait();
            store
                .change_password(&change(&alice, SessionRevocation::AllExcept(kept.id)))
                .unwrap()
        });
        changer.join().unwrap();
        racers.into_iter().map(|racer| racer.join().unwrap()).fold(
            (Vec::new(), Vec::new()),
            |(mut s, mut k), (s2, k2)| {
                s.extend(s2);
                k.extend(k2);
                (s, k)
            },
        )
    });
    for session in sessions {
        match session {
            Ok(id) => assert!(!is_live(store, id), "session {id} survived the change"),
            Err(e) => assert!(matches!(e, StoreError::CredentialsChanged), "{e:?}"),
        }
    }
    for key in keys {
        match key {
            Ok(key) => assert!(
                !key_is_live(store, &key.prefix),
                "key {} survived the change",
                key.prefix
            ),
            Err(e) => assert!(matches!(e, StoreError::CredentialsChanged), "{e:?}"),
        }
    }
    assert!(is_live(store, kept.id));
}

/// Disabling a user ends every session, revokes every key and forgets the `mfa_token`s, and
/// moves the generation on; enabling the user again brings none of them back.
pub fn disabling_a_user_ends_their_sessions_keys_and_challenges(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let session = store.create_session(new_session(alice.id)).unwrap();
    store
        .create_api_key(new_api_key(alice.id, "pref0301"))
        .unwrap();
    store
        .create_mfa_challenge(&challenge(&alice, "d1"))
        .unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    store
        .create_api_key(new_api_key(bob.id, "pref0302"))
        .unwrap();

    let mut disable = UserChanges::at(now());
    disable.is_active = Some(false);
    let disabled = store.update_user(alice.id, &disable).unwrap();
    assert!(!disabled.is_active);
    assert_eq!(disabled.credential_generation, CredentialGeneration(1));
    assert!(!is_live(store, session.id));
    assert!(!key_is_live(store, "pref0301"));
    assert_eq!(store.mfa_challenge(&MfaTokenHash::new("d1")).unwrap(), None);
    assert!(key_is_live(store, "pref0302"));

    let mut enable = UserChanges::at(now());
    enable.is_active = Some(true);
    let enabled = store.update_user(alice.id, &enable).unwrap();
    assert!(enabled.is_active);
    assert!(!key_is_live(store, "pref0301"));
    assert!(!is_live(store, session.id));
    // Other changes leave credentials alone.
    let mut rename = UserChanges::at(now());
    rename.role = Some(auth_domain::Role::Admin);
    let renamed = store.update_user(bob.id, &rename).unwrap();
    assert_eq!(renamed.credential_generation, CredentialGeneration(0));
    assert!(key_is_live(store, "pref0302"));
}

/// Turning a second factor on ends every other session of the user, the kept one is marked as
/// having passed it, the generation moves on (a login checked before is refused), and API keys
/// stay.
pub fn enabling_totp_ends_the_other_sessions_and_marks_the_kept_one(store: &dyn Store) {
    let alice = store.create_user(new_user("alice")).unwrap();
    let kept = store.create_session(new_session(alice.id)).unwrap();
    let other = store.create_session(new_session(alice.id)).unwrap();
    store
        .create_api_key(new_api_key(alice.id, "pref0401"))
        .unwrap();
    let bob = store.create_user(new_user("bob")).unwrap();
    let bobs = store.create_session(new_session(bob.id)).unwrap();
    let secret = EncryptedTotpSecret::new("v1.alice");
    assert!(
        store
            .begin_totp_enrolment(alice.id, &secret, now())
            .unwrap()
    );
    assert!(
        store
            .enable_totp(alice.id, &secret, 1, &[], kept.id, now())
            .unwrap()
    );
    let (session, user) = store.session_with_user(kept.id).unwrap().unwrap();
    assert!(session.revoked_at.is_none() && session.mfa);
    assert!(user.mfa_enabled);
    assert_eq!(user.credential_generation, CredentialGeneration(1));
    assert!(!is_live(store, other.id));
    assert!(!store.session_with_user(other.id).unwrap().unwrap().0.mfa);
    assert!(key_is_live(store, "pref0401"));
    assert!(is_live(store, bobs.id));
    let err = store.create_session(new_session(alice.id)).unwrap_err();
    assert!(matches!(err, StoreError::CredentialsChanged), "{err:?}");
}
