//! The [`LoginThrottleStore`](auth_domain::LoginThrottleStore) contract: counting, locking and
//! clearing failed logins, atomically.

use std::sync::Barrier;

use auth_domain::{AttemptVerdict, LockoutPolicy, LoginThrottle, Store, now};
use chrono::TimeDelta;

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
