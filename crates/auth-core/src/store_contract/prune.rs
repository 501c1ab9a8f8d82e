//! The [`PruneStore`](auth_domain::PruneStore) contract: what is past its use goes, in batches;
//! everything a live credential or a running lock needs stays.

use auth_domain::{
    AuditEvent, AuditQuery, Email, EmailTokenHash, Limit, LockoutPolicy, MailLimits, NewEmailToken,
    PruneOutcome, PrunePolicy, PruneReport, RefreshOutcome, RefreshRotation, RefreshTokenHash,
    Store, TokenPurpose, User, now,
};
use chrono::TimeDelta;

use super::{new_session, new_user};

fn pruned(outcome: PruneOutcome) -> PruneReport {
    match outcome {
        PruneOutcome::Pruned(report) => report,
        PruneOutcome::Busy => panic!("no other process prunes this store"),
    }
}

/// Sessions ended before the cut-off go with their refresh tokens, in batches; live sessions
/// keep their retired tokens (reuse detection needs them); decayed throttle rows go and running
/// locks stay; audit events older than the retention go. A second run finds nothing.
pub fn pruning_removes_what_is_past_its_use_and_keeps_the_rest(store: &dyn Store) {
    let at = now();
    let (day, hour) = (TimeDelta::days(1), TimeDelta::hours(1));
    let user = store.create_user(new_user("alice")).unwrap();

    // A live session, rotated once: its retired token must survive.
    let live = new_session(user.id);
    let retired = live.refresh_token_hash.clone().unwrap();
    store.create_session(live.clone()).unwrap();
    let rotation = |presented: &RefreshTokenHash, grace| RefreshRotation {
        presented: presented.clone(),
        replacement: RefreshTokenHash::new(format!("digest-{}", uuid::Uuid::new_v4())),
        at,
        reuse_grace: grace,
        idle_ttl: TimeDelta::days(14),
    };
    let rotated = store
        .rotate_refresh_token(&rotation(&retired, TimeDelta::seconds(10)))
        .unwrap();
    assert!(
        matches!(rotated, RefreshOutcome::Rotated { .. }),
        "{rotated:?}"
    );
    // Ended recently: kept for the retention.
    let recent = store.create_session(new_session(user.id)).unwrap();
    store.revoke_session(recent.id, at - hour).unwrap();
    // Ended long ago: revoked, past its absolute deadline, idle past its idle deadline.
    let revoked = store.create_session(new_session(user.id)).unwrap();
    store.revoke_session(revoked.id, at - day * 2).unwrap();
    let mut expired = new_session(user.id);
    expired.session.created_at = at - day * 100;
    expired.session.last_used_at = at - day * 100;
    expired.session.expires_at = at - day * 10;
    let mut idle = new_session(user.id);
    idle.session.created_at = at - day * 20;
    idle.session.last_used_at = at - day * 20;
    idle.session.idle_expires_at = at - day * 6;
    let ended_tokens: Vec<_> = [&expired, &idle]
        .iter()
        .map(|s| s.refresh_token_hash.clone().unwrap())
        .collect();
    store.create_session(expired.clone()).unwrap();
    store.create_session(idle.clone()).unwrap();

    // Throttles: quiet for 2 h (goes), a failure now (stays), a lock that runs on (stays).
    let short = LockoutPolicy {
        max_failures: 1,
        base_delay: TimeDelta::seconds(30),
        max_delay: TimeDelta::seconds(30),
        decay: TimeDelta::minutes(15),
    };
    let long = LockoutPolicy {
        base_delay: hour * 4,
        max_delay: hour * 4,
        ..short
    };
    store
        .take_login_attempt("quiet", &short, at - hour * 2)
        .unwrap();
    store.take_login_attempt("recent", &short, at).unwrap();
    store
        .take_login_attempt("locked", &long, at - hour * 2)
        .unwrap();

    // Audit: one event past a year, one from yesterday.
    let event = |when| AuditEvent {
        id: uuid::Uuid::new_v4(),
        at: when,
        action: "login".into(),
        outcome: "success".into(),
        actor: None,
        target: None,
        ip: None,
        detail: None,
    };
    store.record(&event(at - day * 400)).unwrap();
    let kept_event = event(at - day);
    store.record(&kept_event).unwrap();

    let policy = PrunePolicy {
        sessions_ended_before: at - day,
        throttles_quiet_since: at - hour,
        audit_before: Some(at - day * 365),
        invalidations_before: at - hour,
        expired_before: at - day * 3650,
        mail_requests_before: at - day * 3650,
        batch_size: 2,
    };
    let report = pruned(store.prune(&policy).unwrap());
    assert_eq!(
        (
            report.sessions,
            report.refresh_tokens,
            report.login_throttles,
            report.audit_events
        ),
        (3, 3, 1, 1),
        "{report}"
    );
    for gone in [revoked.id, expired.session.id, idle.session.id] {
        assert_eq!(store.session_with_user(gone).unwrap(), None);
    }
    for token in &ended_tokens {
        let outcome = store
            .rotate_refresh_token(&rotation(token, TimeDelta::days(365)))
            .unwrap();
        assert_eq!(outcome, RefreshOutcome::Invalid);
    }
    assert!(store.session_with_user(recent.id).unwrap().is_some());
    assert!(store.login_throttle("quiet").unwrap().is_none());
    assert!(store.login_throttle("recent").unwrap().is_some());
    assert!(store.login_throttle("locked").unwrap().is_some());
    let query = AuditQuery {
        limit: 10,
        ..AuditQuery::default()
    };
    assert_eq!(store.audit_events(&query).unwrap().0, [kept_event]);

    // Nothing left to remove; and without an audit retention the log stays whole.
    let again = PrunePolicy {
        audit_before: None,
        invalidations_before: at - day,
        ..policy
    };
    let second = pruned(store.prune(&again).unwrap());
    assert_eq!(second.total(), 0, "{second}");
    // The live session's retired token is still known: presenting it now is reuse.
    let reuse = store
        .rotate_refresh_token(&RefreshRotation {
            at: at + TimeDelta::seconds(1),
            ..rotation(&retired, TimeDelta::zero())
        })
        .unwrap();
    assert!(
        matches!(reuse, RefreshOutcome::ReuseDetected { session, .. } if session == live.session.id),
        "{reuse:?}"
    );
}

/// Expired email tokens go, live ones stay; mail requests older than
/// the cut-off go, so that the per-account limits still count the recent ones. A second run
/// finds nothing.
pub fn pruning_removes_expired_email_tokens_and_old_mail_requests(store: &dyn Store) {
    let at = now();
    let (minute, hour) = (TimeDelta::minutes(1), TimeDelta::hours(1));
    let with_email = |name: &str| {
        let mut user = new_user(name);
        user.email = Some(Email::parse(&format!("{name}@example.com")).unwrap());
        store.create_user(user).unwrap()
    };
    let (alice, bob) = (with_email("alice"), with_email("bob"));
    let link = |user: &User, digest: &str, created: chrono::DateTime<chrono::Utc>, ttl| {
        let token = NewEmailToken {
            hash: EmailTokenHash::new(digest),
            user: user.id,
            purpose: TokenPurpose::PasswordReset,
            email: user.email.clone().unwrap(),
            created_at: created,
            expires_at: created + ttl,
        };
        assert!(store.issue_email_token(&token, Limit::CountOnly).unwrap());
    };
    // Alice's link was asked for two hours ago and expired after 30 minutes; Bob's is fresh.
    link(&alice, "expired-link", at - hour * 2, minute * 30);
    link(&bob, "live-link", at - TimeDelta::seconds(20), minute * 30);

    let long_ago = at - TimeDelta::days(3650);
    let policy = PrunePolicy {
        sessions_ended_before: long_ago,
        throttles_quiet_since: long_ago,
        audit_before: None,
        invalidations_before: long_ago,
        expired_before: at,
        mail_requests_before: at - hour,
        batch_size: 1,
    };
    let report = pruned(store.prune(&policy).unwrap());
    assert_eq!(
        (report.email_tokens, report.mail_requests),
        (1, 1),
        "{report}"
    );
    assert_eq!(
        store
            .email_token(&EmailTokenHash::new("expired-link"))
            .unwrap(),
        None
    );
    assert!(
        store
            .email_token(&EmailTokenHash::new("live-link"))
            .unwrap()
            .is_some()
    );
    // Bob's request of 20 seconds ago still counts: a second one now is too soon.
    let limits = Limit::Within(MailLimits::default());
    let again = NewEmailToken {
        hash: EmailTokenHash::new("too-soon"),
        user: bob.id,
        purpose: TokenPurpose::PasswordReset,
        email: bob.email.clone().unwrap(),
        created_at: at,
        expires_at: at + minute * 30,
    };
    assert!(!store.issue_email_token(&again, limits).unwrap());

    let second = pruned(store.prune(&policy).unwrap());
    assert_eq!(second.total(), 0, "{second}");
}
