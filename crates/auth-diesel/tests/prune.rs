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
        expired_before: long_ago,
        mail_requests_before: long_ago,
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

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

fn newest_announcement(url: &str) -> i64 {
    let mut conn = diesel::SqliteConnection::establish(url).unwrap();
    diesel::sql_query("SELECT COALESCE(MAX(id), 0) AS id FROM cache_invalidations")
        .get_result::<Id>(&mut conn)
        .unwrap()
        .id
}

fn alice(store: &DieselStore) -> UserId {
    store
        .create_user(NewUser {
            id: UserId::new(),
            username: Username::parse("alice").unwrap(),
            email: None,
            password_hash: PasswordHash::new("$2b$04$x"),
            role: Role::User,
            created_at: now(),
        })
        .unwrap()
        .id
}

fn announce(store: &DieselStore, user: UserId) {
    store
        .revoke_user_sessions(user, auth_domain::SessionRevocation::All, now())
        .unwrap();
}

/// Second review, finding 5: the next id was MAX(id) + 1, so it went back to 1 once a prune
/// had removed every announcement, below what the running listeners had read.
#[test]
fn sqlite_announcement_ids_keep_growing_after_a_prune_removed_them_all() {
    let database = TestDatabase::sqlite();
    let store = DieselStore::connect(database.url(), 2).unwrap();
    let user = alice(&store);
    for _ in 0..3 {
        announce(&store, user);
    }
    let before = newest_announcement(database.url());
    assert!(before >= 3, "{before}");
    let gone = store.prune(&policy(now() + TimeDelta::seconds(1))).unwrap();
    assert!(
        matches!(gone, PruneOutcome::Pruned(r) if r.cache_invalidations == before as u64),
        "{gone:?}"
    );
    assert_eq!(newest_announcement(database.url()), 0);
    announce(&store, user);
    assert_eq!(newest_announcement(database.url()), before + 1);
    // And after a restart (a new store over the same file).
    drop(store);
    let store = DieselStore::connect(database.url(), 2).unwrap();
    store.prune(&policy(now() + TimeDelta::seconds(1))).unwrap();
    announce(&store, user);
    assert_eq!(newest_announcement(database.url()), before + 2);
}

/// The migration to AUTOINCREMENT keeps the announcements of a database made before it, and
/// the ids go on from theirs.
#[test]
fn the_migration_keeps_older_announcements_and_goes_on_from_their_ids() {
    let database = TestDatabase::sqlite();
    let store = DieselStore::connect(database.url(), 2).unwrap();
    let user = alice(&store);
    drop(store);
    // Back to the schema before the migration, with announcements up to id 7.
    let mut conn = diesel::SqliteConnection::establish(database.url()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        include_str!("../../../migrations/2026-12-01-000030_invalidation_ids/down.sqlite.sql"),
    )
    .unwrap();
    diesel::sql_query("DELETE FROM __diesel_schema_migrations WHERE version = '20261201000030'")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO cache_invalidations (id, payload, at) VALUES \
         (5, '*', '2000-01-01 00:00:00'), (7, '*', '2000-01-01 00:00:00')",
    )
    .execute(&mut conn)
    .unwrap();
    drop(conn);

    let store = DieselStore::connect(database.url(), 2).unwrap();
    assert_eq!(newest_announcement(database.url()), 7);
    let gone = store.prune(&policy(now() - TimeDelta::hours(1))).unwrap();
    assert!(
        matches!(gone, PruneOutcome::Pruned(r) if r.cache_invalidations == 2),
        "{gone:?}"
    );
    announce(&store, user);
    assert_eq!(newest_announcement(database.url()), 8);
}

/// Defence in depth: should the ids go back all the same (a table rebuilt, a backup restored
/// under a running server), the listener forgets every cached credential rather than missing
/// what it cannot tell from what it read.
#[test]
fn a_sqlite_listener_that_sees_the_ids_go_back_forgets_everything() {
    use auth_diesel::Heard;
    use auth_domain::Invalidation;
    use std::{
        sync::{Arc, Mutex},
        time::{Duration, Instant},
    };

    let database = TestDatabase::sqlite();
    let store = DieselStore::connect(database.url(), 2).unwrap();
    let user = alice(&store);
    let heard = Arc::new(Mutex::new(Vec::new()));
    store.listen({
        let heard = Arc::clone(&heard);
        move |what| heard.lock().unwrap().push(what)
    });
    let hears = |what: Heard| {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !heard.lock().unwrap().contains(&what) {
            assert!(Instant::now() < deadline, "never heard {what:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    hears(Heard::Connected);
    for _ in 0..3 {
        announce(&store, user);
    }
    hears(Heard::Invalidated(Invalidation::User(user)));
    assert!(
        !heard
            .lock()
            .unwrap()
            .contains(&Heard::Invalidated(Invalidation::All))
    );

    // The table and its sequence start again, as in a database restored from a backup.
    let mut conn = diesel::SqliteConnection::establish(database.url()).unwrap();
    diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "DELETE FROM cache_invalidations; \
         DELETE FROM sqlite_sequence WHERE name = 'cache_invalidations';",
    )
    .unwrap();
    drop(conn);
    announce(&store, user);
    assert_eq!(newest_announcement(database.url()), 1);
    hears(Heard::Invalidated(Invalidation::All));
}
