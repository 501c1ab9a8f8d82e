//! The [`RateLimitStore`](auth_domain::RateLimitStore) contract: one budget per key, refilled
//! evenly, never overspent by concurrent requests, and its buckets pruned once full again.

use std::{num::NonZeroU32, sync::Barrier};

use auth_domain::{PruneOutcome, PrunePolicy, RateDecision, RateQuota, Store, now};
use chrono::TimeDelta;

/// 3 at once, one more every 20 s.
fn quota() -> RateQuota {
    RateQuota::per_minute(NonZeroU32::new(3).expect("3 is not zero"))
}

fn refused_for(decision: RateDecision) -> TimeDelta {
    match decision {
        RateDecision::Refused { retry_after } => retry_after,
        RateDecision::Allowed => panic!("allowed past the budget"),
    }
}

/// A key has its whole budget at once, then none until the interval passes; refused requests
/// are not counted; other keys have their own budget.
pub fn rate_budgets_are_spent_and_refilled_per_key(store: &dyn Store) {
    let quota = quota();
    let at = now();
    for _ in 0..3 {
        assert_eq!(
            store.take_rate_token("198.51.100.1", &quota, at).unwrap(),
            RateDecision::Allowed
        );
    }
    for _ in 0..3 {
        let wait = refused_for(store.take_rate_token("198.51.100.1", &quota, at).unwrap());
        assert!(
            wait > TimeDelta::zero() && wait <= quota.interval,
            "{wait:?}"
        );
    }
    // Another address is not touched.
    assert_eq!(
        store.take_rate_token("198.51.100.2", &quota, at).unwrap(),
        RateDecision::Allowed
    );
    // Just before the interval: still nothing; at it, one request (the refused ones did not
    // count), and only one.
    let almost = at + quota.interval - TimeDelta::microseconds(1);
    refused_for(
        store
            .take_rate_token("198.51.100.1", &quota, almost)
            .unwrap(),
    );
    let later = at + quota.interval;
    assert_eq!(
        store
            .take_rate_token("198.51.100.1", &quota, later)
            .unwrap(),
        RateDecision::Allowed
    );
    refused_for(
        store
            .take_rate_token("198.51.100.1", &quota, later)
            .unwrap(),
    );
    // Quiet for a minute: the whole budget again, not more.
    let quiet = later + TimeDelta::minutes(1);
    for _ in 0..3 {
        assert_eq!(
            store
                .take_rate_token("198.51.100.1", &quota, quiet)
                .unwrap(),
            RateDecision::Allowed
        );
    }
    refused_for(
        store
            .take_rate_token("198.51.100.1", &quota, quiet)
            .unwrap(),
    );
}

/// Concurrent requests for one key let exactly the budget through.
pub fn concurrent_requests_never_overspend_a_rate_budget(store: &dyn Store) {
    const RACERS: usize = 12;
    let quota = quota();
    let barrier = Barrier::new(RACERS);
    let at = now();
    let decisions: Vec<RateDecision> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..RACERS)
            .map(|_| {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    store.take_rate_token("2001:db8::7", &quota, at).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let allowed = decisions
        .iter()
        .filter(|d| **d == RateDecision::Allowed)
        .count();
    assert_eq!(allowed, 3, "{decisions:?}");
}

/// A prune removes the buckets that are full again (the same as no bucket) and keeps the
/// others, whose spent budget still counts.
pub fn full_rate_buckets_are_pruned_and_spent_ones_kept(store: &dyn Store) {
    let quota = quota();
    let at = now();
    store
        .take_rate_token("old", &quota, at - TimeDelta::hours(1))
        .unwrap();
    for _ in 0..3 {
        store.take_rate_token("busy", &quota, at).unwrap();
    }
    let long_ago = at - TimeDelta::days(3650);
    let policy = PrunePolicy {
        sessions_ended_before: long_ago,
        throttles_quiet_since: long_ago,
        audit_before: None,
        invalidations_before: long_ago,
        expired_before: long_ago,
        mail_requests_before: long_ago,
        rate_limits_before: at,
        batch_size: 1,
    };
    let PruneOutcome::Pruned(report) = store.prune(&policy).unwrap() else {
        panic!("busy with no other process")
    };
    assert_eq!(report.rate_limits, 1, "{report}");
    refused_for(store.take_rate_token("busy", &quota, at).unwrap());
    let PruneOutcome::Pruned(again) = store.prune(&policy).unwrap() else {
        panic!("busy with no other process")
    };
    assert_eq!(again.rate_limits, 0, "{again}");
}
