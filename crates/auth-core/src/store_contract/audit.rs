//! The [`AuditStore`](auth_domain::AuditStore) contract: filtering, ordering and paging.

use auth_domain::{AuditEvent, AuditQuery, Count, Cursor, Store, UserId, now};
use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

fn event_at(at: DateTime<Utc>, actor: Option<UserId>) -> AuditEvent {
    AuditEvent {
        id: Uuid::new_v4(),
        at,
        action: "login".into(),
        outcome: "success".into(),
        actor,
        target: actor,
        ip: None,
        detail: None,
    }
}

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
                count: Count::All,
                ..AuditQuery::default()
            })
            .unwrap();
        (found, total.unwrap())
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

/// Pages after a cursor continue the order (newest first, then the larger id, so equal times
/// neither repeat nor skip an event), within the filters, and count every match when asked.
pub fn audit_events_are_paged_after_a_cursor(store: &dyn Store) {
    let (alice, bob) = (UserId::new(), UserId::new());
    let base = now();
    let mut events = Vec::new();
    for i in 0..9 {
        // Three events at each time; every third is Bob's.
        let at = base + TimeDelta::seconds(i / 3);
        events.push(event_at(at, Some(if i % 3 == 0 { bob } else { alice })));
    }
    for e in &events {
        store.record(e).unwrap();
    }
    events.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
    let walk = |mut query: AuditQuery| {
        let everything = AuditQuery {
            limit: 100,
            ..query.clone()
        };
        let expected_total = store.audit_events(&everything).unwrap().0.len() as u64;
        let mut seen = Vec::new();
        loop {
            query.count = Count::All;
            let (page, total) = store.audit_events(&query).unwrap();
            assert_eq!(total, Some(expected_total));
            let Some(last) = page.last() else {
                return seen;
            };
            query.after = Some(Cursor::of_event(last));
            seen.extend(page);
        }
    };
    for limit in [1, 2, 4, 9] {
        let all = AuditQuery {
            limit: 100,
            ..AuditQuery::default()
        };
        assert_eq!(store.audit_events(&all).unwrap().0, events);
        let paged = walk(AuditQuery {
            limit,
            ..AuditQuery::default()
        });
        assert_eq!(paged, events, "limit {limit}");
    }
    let alices: Vec<AuditEvent> = events
        .iter()
        .filter(|e| e.actor == Some(alice) && e.at < base + TimeDelta::seconds(2))
        .cloned()
        .collect();
    let filtered = walk(AuditQuery {
        user: Some(alice),
        since: Some(base),
        until: Some(base + TimeDelta::seconds(2)),
        limit: 1,
        ..AuditQuery::default()
    });
    assert_eq!((filtered.len(), filtered), (4, alices));
    // Not counted unless asked; an offset counts from the cursor.
    let (page, total) = store
        .audit_events(&AuditQuery {
            after: Some(Cursor::of_event(&events[2])),
            limit: 2,
            offset: 1,
            ..AuditQuery::default()
        })
        .unwrap();
    assert_eq!((page, total), (events[4..6].to_vec(), None));
    let bounded = AuditQuery {
        user: Some(bob),
        limit: 1,
        count: Count::UpTo(2),
        ..AuditQuery::default()
    };
    assert_eq!(store.audit_events(&bounded).unwrap().1, Some(2));
}
