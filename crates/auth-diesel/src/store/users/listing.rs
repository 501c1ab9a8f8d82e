//! The users listing: pages in `(created_at, id)` order, prefix search, and counting, each
//! written so that it reads about as many rows as it shows, not the whole table.

use auth_domain::{Count, Cursor, StoreError, User, UserQuery};
use chrono::NaiveDateTime;
use diesel::{
    dsl::sql,
    prelude::*,
    sql_types::{Bool, Integer, Nullable},
};

use crate::{
    connection::{Backend, DbConnection},
    rows::{UserRow, naive},
    schema::users,
    store::store_error,
};

/// The backend type of [`DbConnection`], for boxed queries.
type Db = <DbConnection as Connection>::Backend;

/// A query of users, built at run time.
type Users = users::BoxedQuery<'static, Db>;

/// A condition on a user row, built at run time.
type UserFilter = Box<dyn BoxableExpression<users::table, Db, SqlType = Nullable<Bool>>>;

/// Where [`list`] changes its way of searching.
struct Plan {
    /// The most matches of a search that are read through the prefix indexes and sorted on
    /// every page; with more, a page walks the listing order instead.
    sorted_max: u64,
    /// How many users a page of a search with more matches walks, in listing order, before it
    /// gives up and reads the matches through the prefix indexes.
    walk_max: i64,
}

/// Each bound keeps a page to a few milliseconds of reading at a million users.
const PLAN: Plan = Plan {
    sorted_max: 10_000,
    walk_max: 10_000,
};

/// A page of the users `query` asks for, and their count.
///
/// Without `q`, a page is one range of the `(created_at, id)` index. With `q`, the store first
/// counts the matches through the prefix indexes, up to [`PLAN`]'s `sorted_max` + 1:
/// - that few are read through those indexes and sorted: at most that many rows;
/// - more are found by walking the listing order from the cursor, which fills a page soon when
///   matches are that common, reading at most `walk_max` users; only if a page is still not
///   full there (the matches lie further on, bunched together) are they read through the prefix
///   indexes and sorted after all.
///
/// SQLite keeps no statistics to make this choice itself; PostgreSQL would make it from its
/// statistics, which only describe the whole table, so the same steps serve both.
pub(super) fn list(
    conn: &mut DbConnection,
    backend: Backend,
    query: &UserQuery,
) -> Result<(Vec<User>, Option<u64>), StoreError> {
    list_with(conn, backend, query, &PLAN)
}

fn list_with(
    conn: &mut DbConnection,
    backend: Backend,
    query: &UserQuery,
    plan: &Plan,
) -> Result<(Vec<User>, Option<u64>), StoreError> {
    let prefix = query
        .q
        .as_deref()
        .map(str::to_ascii_lowercase)
        .filter(|q| !q.is_empty());
    let Some(prefix) = prefix else {
        let total = count_users(conn, users::table.into_boxed(), query.count)?;
        return Ok((load_page(conn, users::table.into_boxed(), query)?, total));
    };
    let indexed = match backend {
        Backend::Sqlite => Search::Ranges,
        Backend::Postgres => Search::Both,
    };
    let matching = |search| {
        users::table
            .into_boxed()
            .filter(search_filter(&prefix, search))
    };
    let most = plan.sorted_max + 1;
    let found = count_users(conn, matching(indexed), Count::UpTo(most))?.unwrap_or_default();
    let total = match query.count {
        Count::UpTo(limit) if limit <= most => Some(found.min(limit)),
        Count::All if found < most => Some(found),
        count => count_users(conn, matching(indexed), count)?,
    };
    if found < most {
        return Ok((load_page(conn, matching(indexed), query)?, total));
    }
    let walked = match walk_end(conn, query.after, plan.walk_max)? {
        // Fewer users than a walk are left: walking them all is cheap.
        None => return Ok((load_page(conn, matching(Search::Like), query)?, total)),
        Some(end) => load_page(conn, up_to(matching(Search::Like), end), query)?,
    };
    if walked.len() == query.limit as usize {
        return Ok((walked, total));
    }
    Ok((load_page(conn, matching(indexed), query)?, total))
}

/// `select` limited to the users after `after` in listing order. `created_at >= t` bounds the
/// index range; the rest skips the users of that time already shown.
fn after(select: Users, after: Option<Cursor>) -> Users {
    let Some(after) = after else {
        return select;
    };
    let at = naive(after.at);
    select.filter(users::created_at.ge(at)).filter(
        users::created_at
            .gt(at)
            .or(users::id.gt(after.id.to_string())),
    )
}

/// `select` limited to the users up to `end` (included) in listing order.
fn up_to(select: Users, (at, id): (NaiveDateTime, String)) -> Users {
    select
        .filter(users::created_at.le(at))
        .filter(users::created_at.lt(at).or(users::id.le(id)))
}

/// The sort key of the `walk`th user after `cursor`, read from the index alone; `None` when
/// there are fewer.
fn walk_end(
    conn: &mut DbConnection,
    cursor: Option<Cursor>,
    walk: i64,
) -> Result<Option<(NaiveDateTime, String)>, StoreError> {
    after(users::table.into_boxed(), cursor)
        .order((users::created_at.asc(), users::id.asc()))
        .select((users::created_at, users::id))
        .offset(walk - 1)
        .first(conn)
        .optional()
        .map_err(store_error)
}

/// The page of `select` that `query` asks for: after its cursor, skipping its offset, in
/// listing order.
fn load_page(
    conn: &mut DbConnection,
    select: Users,
    query: &UserQuery,
) -> Result<Vec<User>, StoreError> {
    after(select, query.after)
        .order((users::created_at.asc(), users::id.asc()))
        .limit(i64::from(query.limit))
        .offset(i64::from(query.offset))
        .select(UserRow::as_select())
        .load(conn)
        .map_err(store_error)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// How many users `select` finds, as `count` says.
fn count_users(
    conn: &mut DbConnection,
    select: Users,
    count: Count,
) -> Result<Option<u64>, StoreError> {
    Ok(match count {
        Count::Skip => None,
        Count::All => {
            let all: i64 = select.count().get_result(conn).map_err(store_error)?;
            Some(u64::try_from(all).unwrap_or_default())
        }
        Count::UpTo(most) => {
            // Reading at most `most` rows is what makes this cheap: a COUNT never stops early.
            let rows: Vec<i32> = select
                .select(sql::<Integer>("1"))
                .limit(i64::try_from(most).unwrap_or(i64::MAX))
                .load(conn)
                .map_err(store_error)?;
            Some(rows.len() as u64)
        }
    })
}

/// The smallest string greater than every string that starts with `prefix`, in code point
/// order (which is byte order in UTF-8): `prefix` with its last character incremented, or
/// `None` if there is no such string (`prefix` is empty or all `char::MAX`).
fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match u32::from(last) + 1 {
            0xD800 => Some('\u{E000}'),
            code => char::from_u32(code),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// `'prefix%'` for LIKE, with LIKE's own characters escaped (by `\\`).
fn like_prefix(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// How a prefix search is written, so that the backend reads the rows [`list`] means it to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Search {
    /// Ranges `[prefix, successor)` over the normalized username and email, which their unique
    /// indexes serve: the indexed form on SQLite.
    Ranges,
    /// `LIKE 'prefix%'` alone, which those indexes do not serve (SQLite's LIKE ignores case and
    /// its indexes do not; PostgreSQL's serve LIKE only under the C collation): the form of a
    /// walk in listing order.
    Like,
    /// Ranges, and LIKE to stay exact under any collation (see [`search_filter`]): the indexed
    /// form on PostgreSQL.
    Both,
}

/// Users whose normalized username or email starts with `prefix` (already lower-cased).
///
/// A range `[prefix, successor)` is a prefix range in code point order, which is SQLite's
/// (BINARY) and PostgreSQL's under the C, POSIX and C.UTF-8 collations. Under a linguistic
/// collation (e.g. en_US.UTF-8) it is not, so with [`Search::Both`] the ranges give way when the
/// database says `'a' < 'B'` (a constant that PostgreSQL's planner folds away) and LIKE alone
/// decides, unindexed.
fn search_filter(prefix: &str, search: Search) -> UserFilter {
    let pattern = like_prefix(prefix);
    let like: UserFilter = Box::new(
        users::username_normalized
            .like(pattern.clone())
            .escape('\\')
            .nullable()
            .or(users::email_normalized.like(pattern).escape('\\')),
    );
    let lower = prefix.to_owned();
    let ranges: UserFilter = match successor(prefix) {
        Some(upper) => Box::new(
            users::username_normalized
                .ge(lower.clone())
                .and(users::username_normalized.lt(upper.clone()))
                .nullable()
                .or(users::email_normalized
                    .ge(lower)
                    .and(users::email_normalized.lt(upper))),
        ),
        None => Box::new(
            users::username_normalized
                .ge(lower.clone())
                .nullable()
                .or(users::email_normalized.ge(lower)),
        ),
    };
    match search {
        Search::Ranges => ranges,
        Search::Like => like,
        Search::Both => {
            let linguistic = sql::<Bool>("NOT ('B' < 'a')").nullable();
            Box::new(ranges.or(linguistic).and(like))
        }
    }
}

#[cfg(test)]
mod tests {
    use auth_domain::{
        Count, Cursor, Email, NewUser, PasswordHash, Role, UserId, UserQuery, UserStore, Username,
        now,
    };
    use chrono::{DateTime, TimeDelta, Utc};
    use diesel::prelude::*;

    use super::{PLAN, Plan, Search, list_with, search_filter, successor};
    use crate::{DieselStore, schema::users, testing::TestDatabase};

    #[test]
    fn successors_are_the_next_string_in_code_point_order() {
        assert_eq!(successor("az").as_deref(), Some("a{"));
        assert_eq!(successor("a9").as_deref(), Some("a:"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        assert_eq!(successor("\u{10FFFF}"), None);
        assert_eq!(successor(""), None);
    }

    fn databases() -> impl Iterator<Item = TestDatabase> {
        [Some(TestDatabase::sqlite()), TestDatabase::postgres()]
            .into_iter()
            .flatten()
    }

    fn create(store: &DieselStore, name: &str, email: Option<&str>, at: DateTime<Utc>) {
        store
            .create_user(NewUser {
                id: UserId::new(),
                username: Username::parse(name).unwrap(),
                email: email.map(|e| Email::parse(e).unwrap()),
                password_hash: PasswordHash::new("$2b$04$x"),
                role: Role::User,
                created_at: at,
            })
            .unwrap();
    }

    /// Whichever way `list` writes a search, the same users match, on SQLite and (when
    /// configured) PostgreSQL.
    #[test]
    fn every_way_of_searching_finds_the_same_users() {
        for database in databases() {
            let store = DieselStore::connect(database.url(), 1).unwrap();
            for (name, email) in [
                ("azz", "z{@example.com"),
                ("a-zz", "zz@example.com"),
                ("a99", "a=@example.com"),
                ("c00", "a{b@example.com"),
                ("d_0", "{a@example.com"),
                ("e00", "c%d@example.com"),
            ] {
                create(&store, name, Some(email), now());
            }
            let mut conn = store.conn().unwrap();
            for prefix in [
                "a", "az", "a{", "z", "{", "a9", "a=", "c%", "d_", "_", "%", "x",
            ] {
                let mut found = |search| -> Vec<String> {
                    users::table
                        .filter(search_filter(prefix, search))
                        .order(users::username_normalized)
                        .select(users::username_normalized)
                        .load(&mut *conn)
                        .unwrap()
                };
                let ranges = found(Search::Ranges);
                assert_eq!(found(Search::Like), ranges, "{prefix}");
                assert_eq!(found(Search::Both), ranges, "{prefix}");
            }
        }
    }

    /// Every plan (sorting the matches, walking, walking and then sorting) pages alike, with
    /// matches bunched at the start and the end of the listing and every time tied.
    #[test]
    fn every_plan_pages_alike() {
        for database in databases() {
            let store = DieselStore::connect(database.url(), 1).unwrap();
            let backend = store.backend();
            let base = now();
            for i in 0..20 {
                let name = if !(4..16).contains(&i) { "hit" } else { "miss" };
                let at = base + TimeDelta::seconds(i / 3);
                create(&store, &format!("{name}{i}"), None, at);
            }
            let mut conn = store.conn().unwrap();
            // Every user of a walk, and the total of its first page.
            let mut walk = |q: &str, limit, plan: &Plan| {
                let mut seen = Vec::new();
                let mut query = UserQuery {
                    q: Some(q.into()),
                    limit,
                    count: Count::UpTo(3),
                    ..UserQuery::default()
                };
                let mut first_total = None;
                loop {
                    let (page, total) = list_with(&mut conn, backend, &query, plan).unwrap();
                    if query.after.is_none() {
                        first_total = total;
                    } else {
                        assert_eq!(total, None);
                    }
                    query.count = Count::Skip;
                    let Some(last) = page.last() else {
                        return (seen, first_total);
                    };
                    query.after = Some(Cursor::of_user(last));
                    seen.extend(page.into_iter().map(|u| u.username.to_string()));
                }
            };
            for q in ["HIT", "miss", "hit1", "nobody"] {
                let expected = walk(q, 100, &PLAN);
                assert_eq!(expected.1, Some(expected.0.len().min(3) as u64));
                for limit in [1, 2, 5] {
                    for (sorted_max, walk_max) in [(100, 100), (0, 2), (0, 5), (1, 30)] {
                        let plan = Plan {
                            sorted_max,
                            walk_max,
                        };
                        assert_eq!(walk(q, limit, &plan), expected, "{q} {limit} {sorted_max}");
                    }
                }
            }
        }
    }
}
