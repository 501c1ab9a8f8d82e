//! The [`MfaStore`](auth_domain::MfaStore) contract: enrolments pending until enabled, the
//! user's `mfa_enabled` flag, steps and recovery codes used once (atomically), challenges that
//! are single use, expire and die after too many failures, and removal.

use std::sync::Barrier;

use auth_domain::{
    CredentialGeneration, EncryptedTotpSecret, MfaChallenge, MfaTokenHash, RecoveryCodeHash,
    SessionId, Store, StoreError, TotpRemoval, UserId, now,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::{new_session, new_user};

const MAX_FAILURES: u32 = 3;
const RACERS: usize = 8;

fn sealed(text: &str) -> EncryptedTotpSecret {
    EncryptedTotpSecret::new(format!("v1.{text}"))
}

fn codes(prefix: &str) -> Vec<RecoveryCodeHash> {
    (0..10)
        .map(|i| RecoveryCodeHash::new(format!("{prefix}-code-{i}")))
        .collect()
}

/// A challenge of a user made by [`enrolled`], whose credential generation is 1 (enabling the
/// second factor moved it on once).
fn challenge(user: UserId, token: &str, at: DateTime<Utc>) -> MfaChallenge {
    MfaChallenge {
        token_hash: MfaTokenHash::new(token),
        user_id: user,
        generation: CredentialGeneration(1),
        access_ttl_secs: 900,
        created_at: at,
        expires_at: at + TimeDelta::minutes(5),
        failures: 0,
    }
}

/// A user `name` with an enabled second factor (last step 100) and the recovery codes of
/// `codes(name)`.
fn enrolled(store: &dyn Store, name: &str) -> UserId {
    let user = store.create_user(new_user(name)).unwrap().id;
    assert!(
        store
            .begin_totp_enrolment(user, &sealed(name), now())
            .unwrap()
    );
    assert!(
        store
            .enable_totp(
                user,
                &sealed(name),
                100,
                &codes(name),
                SessionId::new(),
                now()
            )
            .unwrap()
    );
    user
}

/// An enrolment is pending (and the user's flag off) until it is enabled with its current
/// secret; a new one replaces a pending one but never an enabled one. Enabling sets the flag,
/// the last step and the recovery codes; the session lookup sees the flag.
pub fn totp_enrolments_are_pending_until_enabled_with_their_secret(store: &dyn Store) {
    let user = store.create_user(new_user("alice")).unwrap();
    let session = store.create_session(new_session(user.id)).unwrap();
    assert_eq!(store.totp_enrolment(user.id).unwrap(), None);
    let t0 = now();
    assert!(
        store
            .begin_totp_enrolment(user.id, &sealed("one"), t0)
            .unwrap()
    );
    assert!(
        store
            .begin_totp_enrolment(user.id, &sealed("two"), t0)
            .unwrap()
    );
    let pending = store.totp_enrolment(user.id).unwrap().unwrap();
    assert_eq!(
        (
            &pending.secret,
            pending.created_at,
            pending.confirmed_at,
            pending.last_step
        ),
        (&sealed("two"), t0, None, None)
    );
    assert!(!store.user_by_id(user.id).unwrap().unwrap().mfa_enabled);
    // The replaced secret cannot be enabled.
    assert!(
        !store
            .enable_totp(user.id, &sealed("one"), 7, &codes("a"), session.id, t0)
            .unwrap()
    );
    assert_eq!(store.recovery_codes_left(user.id).unwrap(), 0);
    let t1 = t0 + TimeDelta::seconds(1);
    assert!(
        store
            .enable_totp(user.id, &sealed("two"), 7, &codes("a"), session.id, t1)
            .unwrap()
    );
    let enabled = store.totp_enrolment(user.id).unwrap().unwrap();
    assert!(enabled.is_enabled());
    assert_eq!(
        (enabled.confirmed_at, enabled.last_step),
        (Some(t1), Some(7))
    );
    assert_eq!(store.recovery_codes_left(user.id).unwrap(), 10);
    let stored = store.user_by_id(user.id).unwrap().unwrap();
    assert!(stored.mfa_enabled);
    assert_eq!(stored.updated_at, t1);
    assert!(
        store
            .session_with_user(session.id)
            .unwrap()
            .unwrap()
            .1
            .mfa_enabled
    );
    // Enabled: neither a new enrolment nor a second enabling changes anything.
    assert!(
        !store
            .begin_totp_enrolment(user.id, &sealed("three"), t1)
            .unwrap()
    );
    assert!(
        !store
            .enable_totp(user.id, &sealed("two"), 9, &codes("b"), session.id, t1)
            .unwrap()
    );
    assert_eq!(store.totp_enrolment(user.id).unwrap().unwrap(), enabled);
    assert!(
        store
            .use_recovery_code(user.id, &codes("a")[0], t1)
            .unwrap()
    );
}

/// Enrolling an unknown user is [`StoreError::NotFound`].
pub fn totp_enrolment_needs_an_existing_user(store: &dyn Store) {
    let err = store
        .begin_totp_enrolment(UserId::new(), &sealed("x"), now())
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// A step is accepted only if it is later than the last one used, and of concurrent uses of
/// one step exactly one wins. A pending enrolment uses no step.
pub fn totp_steps_are_used_once_and_in_order(store: &dyn Store) {
    let user = enrolled(store, "alice");
    assert!(!store.use_totp_step(user, 99).unwrap());
    assert!(!store.use_totp_step(user, 100).unwrap());
    assert!(store.use_totp_step(user, 101).unwrap());
    assert!(!store.use_totp_step(user, 101).unwrap());
    assert_eq!(
        store.totp_enrolment(user).unwrap().unwrap().last_step,
        Some(101)
    );
    let barrier = Barrier::new(RACERS);
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store.use_totp_step(user, 102).unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|won| *won)
            .count()
    });
    assert_eq!(wins, 1);
    let pending = store.create_user(new_user("bob")).unwrap().id;
    assert!(
        store
            .begin_totp_enrolment(pending, &sealed("b"), now())
            .unwrap()
    );
    assert!(!store.use_totp_step(pending, 1).unwrap());
    assert!(!store.use_totp_step(UserId::new(), 1).unwrap());
}

/// Each recovery code works once, only for its user, and concurrent uses of one code let
/// exactly one through.
pub fn recovery_codes_work_once_for_their_user(store: &dyn Store) {
    let (alice, bob) = (enrolled(store, "alice"), enrolled(store, "bob"));
    let at = now();
    let mine = &codes("alice")[0];
    assert!(!store.use_recovery_code(bob, mine, at).unwrap());
    assert!(store.use_recovery_code(alice, mine, at).unwrap());
    assert!(!store.use_recovery_code(alice, mine, at).unwrap());
    assert!(
        !store
            .use_recovery_code(alice, &RecoveryCodeHash::new("unknown"), at)
            .unwrap()
    );
    assert_eq!(store.recovery_codes_left(alice).unwrap(), 9);
    assert_eq!(store.recovery_codes_left(bob).unwrap(), 10);
    let contested = &codes("alice")[1];
    let barrier = Barrier::new(RACERS);
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store.use_recovery_code(alice, contested, at).unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|won| *won)
            .count()
    });
    assert_eq!(wins, 1);
    assert_eq!(store.recovery_codes_left(alice).unwrap(), 8);
}

/// Removal takes the enrolment, the recovery codes, the open challenges and the user's flag,
/// and says what it removed.
pub fn removing_totp_takes_its_codes_challenges_and_flag(store: &dyn Store) {
    let (alice, bob) = (enrolled(store, "alice"), enrolled(store, "bob"));
    let at = now();
    store
        .create_mfa_challenge(&challenge(alice, "a1", at))
        .unwrap();
    store
        .create_mfa_challenge(&challenge(bob, "b1", at))
        .unwrap();
    let later = at + TimeDelta::seconds(1);
    assert_eq!(
        store.remove_totp(alice, later).unwrap(),
        TotpRemoval::Enabled
    );
    let user = store.user_by_id(alice).unwrap().unwrap();
    assert!(!user.mfa_enabled);
    assert_eq!(user.updated_at, later);
    assert_eq!(store.totp_enrolment(alice).unwrap(), None);
    assert_eq!(store.recovery_codes_left(alice).unwrap(), 0);
    assert!(
        !store
            .use_recovery_code(alice, &codes("alice")[0], later)
            .unwrap()
    );
    assert_eq!(store.mfa_challenge(&MfaTokenHash::new("a1")).unwrap(), None);
    assert_eq!(
        store.remove_totp(alice, later).unwrap(),
        TotpRemoval::Nothing
    );
    // Bob's are untouched.
    assert!(store.user_by_id(bob).unwrap().unwrap().mfa_enabled);
    assert_eq!(store.recovery_codes_left(bob).unwrap(), 10);
    assert!(
        store
            .mfa_challenge(&MfaTokenHash::new("b1"))
            .unwrap()
            .is_some()
    );
    // A pending enrolment is removed as such, and the flag was never on.
    assert!(
        store
            .begin_totp_enrolment(alice, &sealed("again"), later)
            .unwrap()
    );
    assert_eq!(
        store.remove_totp(alice, later).unwrap(),
        TotpRemoval::Pending
    );
    assert_eq!(store.totp_enrolment(alice).unwrap(), None);
}

/// A challenge reads back as stored; wrong codes count up and the last one allowed deletes
/// it; it is taken once, and never when expired or exhausted; of concurrent takes one wins.
pub fn mfa_challenges_are_single_use_and_die_after_too_many_failures(store: &dyn Store) {
    let user = enrolled(store, "alice");
    let at = now();
    let first = challenge(user, "first", at);
    store.create_mfa_challenge(&first).unwrap();
    assert_eq!(
        store.mfa_challenge(&first.token_hash).unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.mfa_challenge(&MfaTokenHash::new("unknown")).unwrap(),
        None
    );
    assert_eq!(
        store
            .fail_mfa_challenge(&first.token_hash, MAX_FAILURES)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .fail_mfa_challenge(&first.token_hash, MAX_FAILURES)
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .mfa_challenge(&first.token_hash)
            .unwrap()
            .unwrap()
            .failures,
        2
    );
    assert!(
        store
            .take_mfa_challenge(&first.token_hash, at, MAX_FAILURES)
            .unwrap()
    );
    assert!(
        !store
            .take_mfa_challenge(&first.token_hash, at, MAX_FAILURES)
            .unwrap()
    );
    assert_eq!(store.mfa_challenge(&first.token_hash).unwrap(), None);

    let exhausted = challenge(user, "exhausted", at);
    store.create_mfa_challenge(&exhausted).unwrap();
    for n in 1..=MAX_FAILURES {
        assert_eq!(
            store
                .fail_mfa_challenge(&exhausted.token_hash, MAX_FAILURES)
                .unwrap(),
            n
        );
    }
    assert_eq!(store.mfa_challenge(&exhausted.token_hash).unwrap(), None);
    assert!(
        !store
            .take_mfa_challenge(&exhausted.token_hash, at, MAX_FAILURES)
            .unwrap()
    );
    assert_eq!(
        store
            .fail_mfa_challenge(&exhausted.token_hash, MAX_FAILURES)
            .unwrap(),
        0
    );

    let expiring = challenge(user, "expiring", at);
    store.create_mfa_challenge(&expiring).unwrap();
    assert!(
        !store
            .take_mfa_challenge(&expiring.token_hash, expiring.expires_at, MAX_FAILURES)
            .unwrap()
    );
    // A stricter limit than its failures refuses it too.
    store
        .fail_mfa_challenge(&expiring.token_hash, MAX_FAILURES)
        .unwrap();
    assert!(
        !store
            .take_mfa_challenge(&expiring.token_hash, at, 1)
            .unwrap()
    );

    let contested = challenge(user, "contested", at);
    store.create_mfa_challenge(&contested).unwrap();
    let barrier = Barrier::new(RACERS);
    let wins = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let (barrier, token) = (&barrier, &contested.token_hash);
                scope.spawn(move || {
                    barrier.wait();
                    store.take_mfa_challenge(token, at, MAX_FAILURES).unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|won| *won)
            .count()
    });
    assert_eq!(wins, 1);
}

/// Making a challenge forgets those that had expired by then; live ones stay. A challenge
/// needs an existing user.
pub fn expired_challenges_are_forgotten_when_new_ones_are_made(store: &dyn Store) {
    let user = enrolled(store, "alice");
    let at = now();
    let old = challenge(user, "old", at - TimeDelta::minutes(10));
    let live = challenge(user, "live", at - TimeDelta::minutes(1));
    store.create_mfa_challenge(&live).unwrap();
    store.create_mfa_challenge(&old).unwrap();
    assert!(store.mfa_challenge(&old.token_hash).unwrap().is_some());
    store
        .create_mfa_challenge(&challenge(user, "new", at))
        .unwrap();
    assert_eq!(store.mfa_challenge(&old.token_hash).unwrap(), None);
    assert!(store.mfa_challenge(&live.token_hash).unwrap().is_some());
    let err = store
        .create_mfa_challenge(&challenge(UserId::new(), "orphan", at))
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// Deleting a user deletes their second factor, recovery codes and challenges.
pub fn deleting_a_user_removes_their_second_factor(store: &dyn Store) {
    let user = enrolled(store, "alice");
    let token = challenge(user, "alice-token", now());
    store.create_mfa_challenge(&token).unwrap();
    store.delete_user(user).unwrap();
    assert_eq!(store.totp_enrolment(user).unwrap(), None);
    assert_eq!(store.recovery_codes_left(user).unwrap(), 0);
    assert_eq!(store.mfa_challenge(&token.token_hash).unwrap(), None);
}
