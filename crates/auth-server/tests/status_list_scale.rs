//! Issue 20, a measurement (ignored by default; not a timed test): the published status list
//! for 1,000,000 live entries, 1 % of them INVALID, built from the store (what an instance does
//! at its first request for a list, or while its listener is down), and one revocation applied
//! without a rebuild (what every announced change costs the next request).
//!
//! `cargo test --release -p auth-server --test status_list_scale -- --ignored --nocapture`
//! (with `AUTH_TEST_DATABASE_URL` set, PostgreSQL too). The figures are in docs/performance.md.

use std::time::Instant;

use auth_core::PublishedStatusLists;
use auth_diesel::{DieselStore, testing::TestDatabase};
use auth_domain::{Invalidation, SessionId, StatusListStore};
use diesel::{Connection, RunQueryDsl};

const ENTRIES: u64 = 1_000_000;

/// Fills `status_list_entries` with ENTRIES live entries of list 1 at scattered indexes
/// (`i * 7919 mod 2^20`, a permutation), one session each, every 100th INVALID.
fn fill(url: &str, postgres: bool) {
    let sql = if postgres {
        "INSERT INTO status_list_entries \
         (list_id, idx, session_id, user_id, role, username, expires_at, status) \
         SELECT 1, (i::bigint * 7919) % 1048576, \
           '00000000-0000-0000-0000-' || lpad(to_hex(i), 12, '0'), \
           '00000000-0000-0000-0001-' || lpad(to_hex(i % 100000), 12, '0'), \
           'user', 'someone', TIMESTAMP '2099-01-01 00:00:00', \
           CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END \
         FROM generate_series(1, 1000000) AS i"
    } else {
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
         INSERT INTO status_list_entries \
         (list_id, idx, session_id, user_id, role, username, expires_at, status) \
         SELECT 1, (i * 7919) % 1048576, \
           printf('00000000-0000-0000-0000-%012x', i), \
           printf('00000000-0000-0000-0001-%012x', i % 100000), \
           'user', 'someone', '2099-01-01 00:00:00', \
           CASE WHEN i % 100 = 0 THEN 1 ELSE 0 END \
         FROM n"
    };
    let started = Instant::now();
    if postgres {
        let mut conn = diesel::PgConnection::establish(url).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
        diesel::sql_query("ANALYZE status_list_entries")
            .execute(&mut conn)
            .unwrap();
    } else {
        let path = url.trim_start_matches("sqlite://");
        let mut conn = diesel::SqliteConnection::establish(path).unwrap();
        diesel::sql_query(sql).execute(&mut conn).unwrap();
        diesel::sql_query("ANALYZE").execute(&mut conn).unwrap();
    }
    println!("  inserted {ENTRIES} entries in {:?}", started.elapsed());
}

fn measure(name: &str, database: &TestDatabase, postgres: bool) {
    println!("{name}:");
    // Connecting runs the migrations; the entries go in after.
    let store = DieselStore::connect(database.url(), 4).unwrap();
    fill(database.url(), postgres);
    assert_eq!(store.status_lists().unwrap(), vec![1]);

    let mut builds = Vec::new();
    for _ in 0..3 {
        let lists = PublishedStatusLists::default();
        let started = Instant::now();
        let list = lists.get(&store, 1, auth_domain::now()).unwrap().unwrap();
        builds.push(started.elapsed());
        assert_eq!(
            list.list
                .as_bytes()
                .iter()
                .map(|b| b.count_ones())
                .sum::<u32>(),
            10_000
        );
    }
    builds.sort();
    println!(
        "  build from the store (read 10,000 INVALID entries, set the bits, encode): {builds:?}, median {:?}",
        builds[1]
    );

    // One revocation: the store marks the entry (here by hand, as the change's transaction
    // does), the change is announced, and the next request reads that session's entries only.
    let lists = PublishedStatusLists::default();
    let before = lists.get(&store, 1, auth_domain::now()).unwrap().unwrap();
    let mut applied = Vec::new();
    for i in [12_345_u64, 23_457, 34_567] {
        let session = format!("00000000-0000-0000-0000-{i:012x}");
        let update =
            format!("UPDATE status_list_entries SET status = 1 WHERE session_id = '{session}'");
        if postgres {
            let mut conn = diesel::PgConnection::establish(database.url()).unwrap();
            diesel::sql_query(update).execute(&mut conn).unwrap();
        } else {
            let path = database.url().trim_start_matches("sqlite://");
            let mut conn = diesel::SqliteConnection::establish(path).unwrap();
            diesel::sql_query(update).execute(&mut conn).unwrap();
        }
        lists.invalidate(Invalidation::Session(SessionId(session.parse().unwrap())));
        let started = Instant::now();
        let after = lists.get(&store, 1, auth_domain::now()).unwrap().unwrap();
        applied.push(started.elapsed());
        let idx = (i * 7919) % 1_048_576;
        assert_eq!(before.list.get(idx), Some(0));
        assert_eq!(after.list.get(idx), Some(1));
    }
    applied.sort();
    println!(
        "  one revocation applied without a rebuild (read the session's entries, set the bit, encode): {applied:?}, median {:?}",
        applied[1]
    );
    let started = Instant::now();
    let _ = lists.get(&store, 1, auth_domain::now()).unwrap().unwrap();
    println!("  a request with no change since: {:?}", started.elapsed());
}

#[test]
#[ignore = "a measurement: cargo test --release -p auth-server --test status_list_scale -- --ignored --nocapture"]
fn a_million_live_entries_build_and_one_revocation() {
    measure("SQLite", &TestDatabase::sqlite(), false);
    if let Some(database) = TestDatabase::postgres() {
        measure("PostgreSQL", &database, true);
    }
}
