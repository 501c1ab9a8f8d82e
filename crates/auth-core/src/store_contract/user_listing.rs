//! The listing of [`UserStore`](auth_domain::UserStore): prefix search, paging by offset and
//! by cursor, and counting.

use auth_domain::{Count, Cursor, Email, Store, User, UserId, UserQuery, now};
use chrono::TimeDelta;

use super::new_user;

/// Creates users named `names` with these emails, one second apart, and returns them.
fn create_listed(store: &dyn Store, users: &[(&str, Option<&str>)]) -> Vec<User> {
    let base = now();
    let users = users.iter().enumerate().map(|(i, (name, email))| {
        let mut user = new_user(name);
        user.email = email.map(|e| Email::parse(e).unwrap());
        user.created_at = base + TimeDelta::seconds(i as i64);
        store.create_user(user).unwrap()
    });
    users.collect()
}

/// The usernames of a listing, and its total.
fn list(store: &dyn Store, query: UserQuery) -> (Vec<String>, Option<u64>) {
    let (users, total) = store.list_users(&query).unwrap();
    let names = users.iter().map(|u| u.username.to_string()).collect();
    (names, total)
}

/// Listing filters by a case-insensitive prefix, pages by offset, and counts when asked.
pub fn users_are_listed_filtered_and_paged(store: &dyn Store) {
    create_listed(
        store,
        &[
            ("Alice", Some("alice@example.com")),
            ("bob", Some("bob@ALICE.org")),
            ("carol", None),
            ("dave_", Some("d%v@example.com")),
        ],
    );
    let names = |q: Option<&str>, limit, offset| {
        let query = UserQuery {
            q: q.map(Into::into),
            limit,
            offset,
            count: Count::All,
            ..UserQuery::default()
        };
        list(store, query)
    };
    let all = ["Alice", "bob", "carol", "dave_"].map(String::from);
    assert_eq!(names(None, 10, 0), (all.to_vec(), Some(4)));
    assert_eq!(names(None, 2, 1), (all[1..3].to_vec(), Some(4)));
    // A prefix of the username or the email, in any case; not any other part.
    assert_eq!(names(Some("ALIce"), 10, 0), (vec![all[0].clone()], Some(1)));
    assert_eq!(names(Some("bob@a"), 10, 0), (vec![all[1].clone()], Some(1)));
    assert_eq!(names(Some("lice"), 10, 0), (vec![], Some(0)));
    // LIKE's wildcards are taken literally.
    assert_eq!(names(Some("d%"), 10, 0), (vec![all[3].clone()], Some(1)));
    assert_eq!(names(Some("%"), 10, 0), (vec![], Some(0)));
    assert_eq!(names(Some("_"), 10, 0), (vec![], Some(0)));
    assert_eq!(names(Some("dav_"), 10, 0), (vec![], Some(0)));
    assert_eq!(names(Some("nobody"), 10, 0), (vec![], Some(0)));
    // Counted as asked: not at all, up to a bound, or every match.
    let counted = |q: Option<&str>, count| {
        let query = UserQuery {
            q: q.map(Into::into),
            limit: 1,
            count,
            ..UserQuery::default()
        };
        list(store, query)
    };
    assert_eq!(counted(None, Count::Skip), (vec![all[0].clone()], None));
    assert_eq!(counted(None, Count::UpTo(2)).1, Some(2));
    assert_eq!(counted(None, Count::UpTo(4)).1, Some(4));
    assert_eq!(counted(None, Count::UpTo(5)).1, Some(4));
    assert_eq!(counted(Some("B"), Count::UpTo(1)).1, Some(1));
    assert_eq!(counted(Some("B"), Count::UpTo(5)).1, Some(1));
}

/// A prefix matches up to its last character exactly: the bound above it (the prefix with its
/// last character incremented) lets nothing else in, whatever characters follow.
pub fn user_prefixes_match_exactly_at_their_bounds(store: &dyn Store) {
    create_listed(
        store,
        &[
            ("azz", Some("z{@example.com")),
            ("azz9", Some("azz.9@example.com")),
            ("a-zz", Some("zz@example.com")),
            ("a99", Some("y~@example.com")),
            ("b00", Some("a=@example.com")),
            ("aZZZ", None),
            ("c00", Some("a{b@example.com")),
            ("d00", Some("{a@example.com")),
        ],
    );
    let names = |q: &str| {
        let query = UserQuery {
            q: Some(q.into()),
            limit: 10,
            ..UserQuery::default()
        };
        list(store, query).0
    };
    assert_eq!(names("az"), ["azz", "azz9", "aZZZ"]);
    assert_eq!(names("a{"), ["c00"]);
    assert_eq!(names("z"), ["azz", "a-zz"]);
    assert_eq!(names("{"), ["d00"]);
    assert_eq!(names("a9"), ["a99"]);
    assert_eq!(
        names("a"),
        ["azz", "azz9", "a-zz", "a99", "b00", "aZZZ", "c00"]
    );
    assert_eq!(names("a="), ["b00"]);
    assert_eq!(names("y~@example.com"), ["a99"]);
    assert!(names("y~@example.comm").is_empty());
}

/// Pages after a cursor continue the order (created_at, then id, so equal times neither
/// repeat nor skip a user), with or without a filter, and count every match when asked.
pub fn users_are_paged_after_a_cursor(store: &dyn Store) {
    let mut created = create_listed(
        store,
        &[
            ("usr0", None),
            ("usr1", None),
            ("xyz2", Some("usr2@example.com")),
        ],
    );
    // Four more users created at one time, so that only their ids order them.
    let tied = created[2].created_at + TimeDelta::seconds(1);
    for name in ["usr3", "usr4", "xyz5", "usr6"] {
        let mut user = new_user(name);
        user.created_at = tied;
        created.push(store.create_user(user).unwrap());
    }
    created.sort_by_key(|u| (u.created_at, u.id));
    let walk = |q: Option<&str>, limit| {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let query = UserQuery {
                q: q.map(Into::into),
                after,
                limit,
                count: if after.is_some() {
                    Count::All
                } else {
                    Count::Skip
                },
                ..UserQuery::default()
            };
            let (page, total) = store.list_users(&query).unwrap();
            if after.is_some() {
                let matching = created
                    .iter()
                    .filter(|u| q.is_none() || u.username.as_str() != "xyz5");
                assert_eq!(total, Some(matching.count() as u64));
            }
            let Some(last) = page.last() else {
                return seen;
            };
            after = Some(Cursor::of_user(last));
            seen.extend(page.iter().map(|u| u.id));
        }
    };
    let all: Vec<UserId> = created.iter().map(|u| u.id).collect();
    for limit in [1, 2, 3, 7, 10] {
        assert_eq!(walk(None, limit), all, "limit {limit}");
    }
    let with_u: Vec<UserId> = created
        .iter()
        .filter(|u| u.username.as_str() != "xyz5")
        .map(|u| u.id)
        .collect();
    assert_eq!(walk(Some("USR"), 2), with_u);
    // An offset counts from the cursor.
    let query = UserQuery {
        after: Some(Cursor::of_user(&created[1])),
        limit: 2,
        offset: 1,
        ..UserQuery::default()
    };
    let (page, _) = store.list_users(&query).unwrap();
    assert_eq!(page.iter().map(|u| u.id).collect::<Vec<_>>(), all[3..5]);
    // The cursor of a deleted user still says where to go on.
    store.delete_user(created[3].id).unwrap();
    let query = UserQuery {
        after: Some(Cursor::of_user(&created[3])),
        limit: 1,
        ..UserQuery::default()
    };
    assert_eq!(store.list_users(&query).unwrap().0[0].id, all[4]);
}
