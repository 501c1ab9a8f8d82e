//! The [`LoginThrottleStore`](auth_domain::LoginThrottleStore) contract: counting, locking and
//! clearing failed logins, atomically.

use std::sync::Barrier;

use auth_domain::{AttemptVerdict, LockoutPolicy, LoginThrottle, Store, now};
use chrono::TimeDelta;

const POLICY: LockoutPolicy = LockoutPolicy {
    max_failures: 3,
    base_delay: TimeDelta::seconds(30),
    max_delay: TimeDelta::seconds(3600),
    decay: TimeDelta::minutes(15),
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
                locked_until: None,
                last_failure_at: Some(at),
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
            locked_until: Some(later + TimeDelta::seconds(60)),
            last_failure_at: Some(later),
        }
    );
    store.clear_login_failures("alice").unwrap();
    let fresh = counted(store.take_login_attempt("alice", &POLICY, later).unwrap());
    assert_eq!(
        fresh,
        LoginThrottle {
            failures: 1,
            locked_until: None,
            last_failure_at: Some(later),
        }
    );
    store.clear_login_failures("never-tried").unwrap();
}

/// A count with no failure for the policy's decay period starts again from zero, once any lock
/// has ended; a locked key stays locked however quiet. Reading a record changes nothing.
pub fn quiet_failure_counts_decay(store: &dyn Store) {
    let at = now();
    assert_eq!(store.login_throttle("carol|198.51.100.7").unwrap(), None);
    for _ in 0..2 {
        counted(
            store
                .take_login_attempt("carol|198.51.100.7", &POLICY, at)
                .unwrap(),
        );
    }
    let read = store.login_throttle("carol|198.51.100.7").unwrap().unwrap();
    assert_eq!((read.failures, read.last_failure_at), (2, Some(at)));
    assert_eq!(
        store.login_throttle("carol|198.51.100.7").unwrap(),
        Some(read),
        "reading must not count"
    );
    // Just before the decay period ends, the count goes on (and locks at three).
    let almost = at + POLICY.decay - TimeDelta::seconds(1);
    let third = counted(
        store
            .take_login_attempt("carol|198.51.100.7", &POLICY, almost)
            .unwrap(),
    );
    assert_eq!(third.failures, 3);
    assert!(third.locked_until.is_some());
    // A full quiet period after the last failure, with the lock over: counting starts again.
    let quiet = almost + POLICY.decay;
    let fresh = counted(
        store
            .take_login_attempt("carol|198.51.100.7", &POLICY, quiet)
            .unwrap(),
    );
    assert_eq!((fresh.failures, fresh.locked_until), (1, None));

    // A lock longer than the decay period is not lifted by the quiet.
    let long = LockoutPolicy {
        base_delay: TimeDelta::hours(2),
        max_delay: TimeDelta::hours(2),
        ..POLICY
    };
    for _ in 0..3 {
        counted(store.take_login_attempt("dave", &long, at).unwrap());
    }
    let during = at + TimeDelta::minutes(90);
    assert!(matches!(
        store.take_login_attempt("dave", &long, during).unwrap(),
        AttemptVerdict::Locked(_)
    ));
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

/// A withdrawn attempt no longer counts and lifts the lock it set, but keeps the failures
/// before it; a lock that a failure counted since has set stays.
pub fn withdrawn_attempts_neither_count_nor_clear_earlier_failures(store: &dyn Store) {
    let at = now();
    for _ in 0..2 {
        counted(store.take_login_attempt("erin", &POLICY, at).unwrap());
    }
    // The third attempt locks (unless it succeeds); withdrawn, it is as if it never was.
    let third = counted(store.take_login_attempt("erin", &POLICY, at).unwrap());
    assert!(third.locked_until.is_some());
    store.withdraw_login_attempt("erin", &third).unwrap();
    let after = store.login_throttle("erin").unwrap().unwrap();
    assert_eq!((after.failures, after.locked_until), (2, None));
    // Withdrawn again and again: the earlier failures go one at a time, never below zero.
    let fourth = counted(store.take_login_attempt("erin", &POLICY, at).unwrap());
    store.withdraw_login_attempt("erin", &fourth).unwrap();
    assert_eq!(store.login_throttle("erin").unwrap().unwrap().failures, 2);
    store
        .withdraw_login_attempt("never-tried", &fourth)
        .unwrap();
    assert_eq!(store.login_throttle("never-tried").unwrap(), None);

    // A lock set by a failure counted after the withdrawn attempt stays.
    let first_lock = counted(store.take_login_attempt("erin", &POLICY, at).unwrap());
    let lock_over = first_lock.locked_until.unwrap();
    let next = counted(
        store
            .take_login_attempt("erin", &POLICY, lock_over)
            .unwrap(),
    );
    assert_eq!(next.failures, 4);
    store.withdraw_login_attempt("erin", &first_lock).unwrap();
    let after = store.login_throttle("erin").unwrap().unwrap();
    assert_eq!((after.failures, after.locked_until), (3, next.locked_until));
}

/// Sixteen first attempts at once on a name that has no record, under a high limit: every one
/// is counted, none is taken for locked (on PostgreSQL the row one of them inserts appears
/// between another's update and read).
pub fn concurrent_first_attempts_are_counted_not_locked(store: &dyn Store) {
    const RACERS: usize = 16;
    let roomy = LockoutPolicy {
        max_failures: 100,
        ..POLICY
    };
    for round in 0..10 {
        let key = format!("first-{round}");
        let barrier = Barrier::new(RACERS);
        let at = now();
        let verdicts: Vec<AttemptVerdict> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..RACERS)
                .map(|_| {
                    let (barrier, key) = (&barrier, &key);
                    scope.spawn(move || {
                        barrier.wait();
                        store.take_login_attempt(key, &roomy, at).unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let locked: Vec<_> = verdicts
            .iter()
            .filter(|v| matches!(v, AttemptVerdict::Locked(_)))
            .collect();
        assert!(locked.is_empty(), "round {round}: {locked:?}");
        let count = store.login_throttle(&key).unwrap().unwrap().failures;
        assert_eq!(count, RACERS as u32, "round {round}");
    }
}
