//! Pruning specifics of the SQL stores, beyond the store contract: SQLite's announcement rows
//! go once read, and on PostgreSQL one process prunes at a time (an advisory lock).

use auth_diesel::{DieselStore, testing::TestDatabase};
use auth_domain::{
    NewUser, PasswordHash, PruneOutcome, PrunePolicy, PruneStore, Role, SessionStore, UserId,
    UserStore, Username, now,
};
use chrono::TimeDelta;
#[cfg(feature = "postgres")]
use {
    auth_diesel::PRUNE_LOCK_KEY,
    diesel::{Connection, PgConnection, RunQueryDsl},
};

fn policy(read_before: chrono::DateTime<chrono::Utc>) -> PrunePolicy {
    let long_ago = now() - TimeDelta::days(3650);
    PrunePolicy {
        sessions_ended_before: long_ago,
        throttles_quiet_since: long_ago,
        audit_before: None,
        invalidations_before: read_before,
        batch_size: 1,
    }
}

#[test]
fn sqlite_announcements_go_once_every_process_has_read_them() {
    let database = TestDatabase::sqlite();
    let store = DieselStore::connect(database.url(), 2).unwrap();
    let user = store
        .create_user(NewUser {
            id: UserId::new(),
            username: Username::parse("alice").unwrap(),
            email: None,
            password_hash: PasswordHash::new("$2b$04$x"),
            role: Role::User,
            created_at: now(),
        })
        .unwrap();
    // Each revocation announces itself in `cache_invalidations`.
    for _ in 0..3 {
        store
            .revoke_user_sessions(user.id, auth_domain::SessionRevocation::All, now())
            .unwrap();
    }
    let kept = store.prune(&policy(now() - TimeDelta::hours(1))).unwrap();
    assert!(
        matches!(kept, PruneOutcome::Pruned(r) if r.cache_invalidations == 0),
        "{kept:?}"
    );
    let gone = store.prune(&policy(now() + TimeDelta::seconds(1))).unwrap();
    assert!(
        matches!(gone, PruneOutcome::Pruned(r) if r.cache_invalidations == 3),
        "{gone:?}"
    );
}

#[test]
#[cfg(feature = "postgres")]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn on_postgresql_one_process_prunes_at_a_time() {
    let database = TestDatabase::postgres().expect("AUTH_TEST_DATABASE_URL is set");
    let store = DieselStore::connect(database.url(), 2).unwrap();
    // Another instance, mid-prune, holds the lock.
    let mut other = PgConnection::establish(database.url()).unwrap();
    diesel::sql_query(format!("SELECT pg_advisory_lock({PRUNE_LOCK_KEY})"))
        .execute(&mut other)
        .unwrap();
    assert_eq!(store.prune(&policy(now())).unwrap(), PruneOutcome::Busy);
    diesel::sql_query(format!("SELECT pg_advisory_unlock({PRUNE_LOCK_KEY})"))
        .execute(&mut other)
        .unwrap();
    assert!(matches!(
        store.prune(&policy(now())).unwrap(),
        PruneOutcome::Pruned(_)
    ));
    // The lock was released: the other instance can take it now.
    #[derive(diesel::QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let locked = diesel::sql_query(format!(
        "SELECT pg_try_advisory_lock({PRUNE_LOCK_KEY}) AS locked"
    ))
    .get_result::<Locked>(&mut other)
    .unwrap();
    assert!(locked.locked);
}
