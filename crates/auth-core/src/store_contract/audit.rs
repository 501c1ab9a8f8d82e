//! The [`AuditStore`](auth_domain::AuditStore) contract: filtering, ordering and paging.

use auth_domain::{AuditEvent, AuditQuery, Store, UserId, now};
use chrono::TimeDelta;

/// Audit events come newest first, filtered by actor-or-target and a time window, with a total.
pub fn audit_events_are_filtered_by_user_and_time(store: &dyn Store) {
    let (alice, bob) = (UserId::new(), UserId::new());
    let base = now();
    let event = |i: i64, action: &str, actor: Option<UserId>, target: Option<UserId>| AuditEvent {
        id: uuid::Uuid::new_v4(),
        at: base + TimeDelta::seconds(i),
        action: action.into(),
        outcome: "success".into(),
        actor,
        target,
        ip: Some("192.0.2.1".into()),
        detail: None,
    };
    let events = [
        event(0, "login", Some(alice), Some(alice)),
        event(1, "login", Some(bob), Some(bob)),
        event(2, "admin.user_updated", Some(bob), Some(alice)),
        event(3, "login", None, None),
    ];
    for e in &events {
        store.record(e).unwrap();
    }
    let query = |user, since, until, limit, offset| {
        let (found, total) = store
            .audit_events(&AuditQuery {
                user,
                since,
                until,
                limit,
                offset,
            })
            .unwrap();
        (found, total)
    };
    let (all, total) = query(None, None, None, 10, 0);
    assert_eq!(total, 4);
    assert_eq!(
        all,
        [
            events[3].clone(),
            events[2].clone(),
            events[1].clone(),
            events[0].clone()
        ]
    );
    let (alices, total) = query(Some(alice), None, None, 10, 0);
    assert_eq!(
        (alices, total),
        (vec![events[2].clone(), events[0].clone()], 2)
    );
    let window = query(
        None,
        Some(base + TimeDelta::seconds(1)),
        Some(base + TimeDelta::seconds(3)),
        10,
        0,
    );
    assert_eq!(window, (vec![events[2].clone(), events[1].clone()], 2));
    let (page, total) = query(None, None, None, 1, 1);
    assert_eq!((page, total), (vec![events[2].clone()], 4));
}
