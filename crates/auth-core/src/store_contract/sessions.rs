//! The [`SessionStore`](auth_domain::SessionStore) contract: sessions, their revocation, and
//! refresh-token rotation with its grace period and reuse detection.

use std::sync::Barrier;

use auth_domain::{
    RefreshOutcome, RefreshRotation, RefreshTokenHash, Session, SessionId, SessionRevocation,
    Store, StoreError, UserId, now,
};
use chrono::TimeDelta;

use super::{new_session, new_user};

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
