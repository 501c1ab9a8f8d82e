//! The store traits implemented once over [`DbConnection`], for both backends.

use std::fmt;

use auth_domain::{
    ApiKey, ApiKeyId, ApiKeyStore, AttemptVerdict, AuditEvent, AuditQuery, AuditStore, Conflict,
    LockoutPolicy, LoginThrottle, LoginThrottleStore, NewApiKey, NewSession, NewUser, PasswordHash,
    RefreshOutcome, RefreshRotation, Session, SessionId, SessionRevocation, SessionStore,
    StoreError, User, UserChanges, UserId, UserQuery, UserStore, Username,
};
use chrono::{DateTime, Utc};
use diesel::{
    connection::SimpleConnection,
    prelude::*,
    result::{DatabaseErrorKind, Error as DieselError},
};

use crate::{
    connection::{Backend, ConnectError, DbConnection, DbPool, PooledDb, open_pool},
    rows::{ApiKeyRow, AuditRow, RefreshTokenRow, SessionRow, UserChangeset, UserRow, naive},
    schema::{api_keys, audit_events, login_throttles, refresh_tokens, sessions, users},
};

/// A [`Store`](auth_domain::Store) over SQLite or PostgreSQL. Methods block; call them from a
/// blocking pool (as `auth_core::AuthService` does).
pub struct DieselStore {
    pool: DbPool,
    backend: Backend,
}

impl fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DieselStore")
            .field("backend", &self.backend)
            .field("pool_size", &self.pool.max_size())
            .finish()
    }
}

impl DieselStore {
    /// Opens `sqlite://PATH` (creating the file and its folder) or `postgres://...`, applies
    /// pending migrations, and opens a pool of at most `pool_size` connections.
    pub fn connect(url: &str, pool_size: u32) -> Result<Self, ConnectError> {
        let (pool, backend) = open_pool(url, pool_size)?;
        Ok(Self { pool, backend })
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn conn(&self) -> Result<PooledDb, StoreError> {
        self.pool.get().map_err(StoreError::unavailable)
    }
}

/// Maps a driver error to what the domain may know: unique keys become conflicts, a missing
/// parent row becomes not-found, everything else is "unavailable" (HTTP 503).
fn store_error(e: DieselError) -> StoreError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            // PostgreSQL names the index; SQLite names the column in the message.
            let culprit = info.constraint_name().unwrap_or(info.message());
            StoreError::Conflict(if culprit.contains("email") {
                Conflict::Email
            } else if culprit.contains("prefix") {
                Conflict::KeyPrefix
            } else {
                Conflict::Username
            })
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _)
        | DieselError::NotFound => StoreError::NotFound,
        other => StoreError::unavailable(other),
    }
}

/// Runs `work` in a transaction, keeping the domain error it returns.
fn transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    enum TxError {
        Store(StoreError),
        Db(DieselError),
    }
    impl From<DieselError> for TxError {
        fn from(e: DieselError) -> Self {
            TxError::Db(e)
        }
    }
    conn.transaction(|conn| work(conn).map_err(TxError::Store))
        .map_err(|e| match e {
            TxError::Store(e) => e,
            TxError::Db(e) => store_error(e),
        })
}

/// Takes the row lock of every active admin (a write, so SQLite takes its write lock too), so
/// that changes which could remove the last admin run one after the other.
fn lock_admins(conn: &mut DbConnection) -> Result<(), StoreError> {
    diesel::update(active_admins())
        .set(users::role.eq(users::role))
        .execute(conn)
        .map_err(store_error)?;
    Ok(())
}

type ActiveAdmins = diesel::dsl::Filter<
    diesel::dsl::Filter<users::table, diesel::dsl::Eq<users::role, &'static str>>,
    diesel::dsl::Eq<users::is_active, bool>,
>;

fn active_admins() -> ActiveAdmins {
    users::table
        .filter(users::role.eq("admin"))
        .filter(users::is_active.eq(true))
}

fn count_active_admins(conn: &mut DbConnection) -> Result<i64, StoreError> {
    active_admins()
        .count()
        .get_result(conn)
        .map_err(store_error)
}

/// `%needle%` for LIKE, with LIKE's own characters escaped (by `\\`).
fn like_pattern(needle: &str) -> String {
    let escaped: String = needle
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

fn load_user(conn: &mut DbConnection, id: &str) -> Result<Option<User>, StoreError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(store_error)?
        .map(User::try_from)
        .transpose()
}

impl UserStore for DieselStore {
    fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let user = new.into_user();
        diesel::insert_into(users::table)
            .values(UserRow::from(&user))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(user)
    }

    fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        load_user(&mut *self.conn()?, &id.to_string())
    }

    fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        users::table
            .filter(users::username_normalized.eq(username.normalized()))
            .select(UserRow::as_select())
            .first(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?
            .map(User::try_from)
            .transpose()
    }

    fn update_user(&self, id: UserId, changes: &UserChanges) -> Result<User, StoreError> {
        let id = id.to_string();
        let guarded = changes.role.is_some() || changes.is_active.is_some();
        transaction(&mut *self.conn()?, |conn| {
            let admins_before = if guarded {
                lock_admins(conn)?;
                count_active_admins(conn)?
            } else {
                0
            };
            let updated = diesel::update(users::table.find(&id))
                .set(UserChangeset::from(changes))
                .execute(conn)
                .map_err(store_error)?;
            if updated == 0 {
                return Err(StoreError::NotFound);
            }
            if admins_before > 0 && count_active_admins(conn)? == 0 {
                return Err(StoreError::Conflict(Conflict::LastAdmin));
            }
            load_user(conn, &id)?.ok_or(StoreError::NotFound)
        })
    }

    fn replace_password_hash(
        &self,
        id: UserId,
        expected: &PasswordHash,
        new: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let replaced = diesel::update(
            users::table
                .find(id.to_string())
                .filter(users::password_hash.eq(expected.expose())),
        )
        .set((
            users::password_hash.eq(new.expose()),
            users::updated_at.eq(naive(at)),
        ))
        .execute(&mut *self.conn()?)
        .map_err(store_error)?;
        Ok(replaced == 1)
    }

    fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        let id = id.to_string();
        transaction(&mut *self.conn()?, |conn| {
            lock_admins(conn)?;
            let admins_before = count_active_admins(conn)?;
            let deleted = diesel::delete(users::table.find(&id))
                .execute(conn)
                .map_err(store_error)?;
            if deleted == 0 {
                return Err(StoreError::NotFound);
            }
            if admins_before > 0 && count_active_admins(conn)? == 0 {
                return Err(StoreError::Conflict(Conflict::LastAdmin));
            }
            Ok(())
        })
    }

    fn list_users(&self, query: &UserQuery) -> Result<(Vec<User>, u64), StoreError> {
        let filtered = || {
            let mut select = users::table.into_boxed();
            if let Some(q) = &query.q {
                let pattern = like_pattern(q);
                select = select.filter(
                    users::username_normalized
                        .like(pattern.clone())
                        .escape('\\')
                        .or(users::email_normalized.like(pattern).escape('\\')),
                );
            }
            select
        };
        let mut conn = self.conn()?;
        let total: i64 = filtered()
            .count()
            .get_result(&mut *conn)
            .map_err(store_error)?;
        let users = filtered()
            .order((users::created_at.asc(), users::id.asc()))
            .limit(i64::from(query.limit))
            .offset(i64::from(query.offset))
            .select(UserRow::as_select())
            .load(&mut *conn)
            .map_err(store_error)?
            .into_iter()
            .map(User::try_from)
            .collect::<Result<_, _>>()?;
        Ok((users, u64::try_from(total).unwrap_or_default()))
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn()?
            .batch_execute("SELECT 1")
            .map_err(StoreError::unavailable)
    }
}

impl SessionStore for DieselStore {
    fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            diesel::insert_into(sessions::table)
                .values(SessionRow::from(&new.session))
                .execute(conn)
                .map_err(store_error)?;
            if let Some(hash) = &new.refresh_token_hash {
                diesel::insert_into(refresh_tokens::table)
                    .values(RefreshTokenRow {
                        token_hash: hash.as_str().to_owned(),
                        session_id: new.session.id.to_string(),
                        issued_at: naive(new.session.created_at),
                        superseded_at: None,
                    })
                    .execute(conn)
                    .map_err(store_error)?;
            }
            Ok(())
        })?;
        Ok(new.session)
    }

    fn session_with_user(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError> {
        let found = sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(id.to_string()))
            .select((SessionRow::as_select(), UserRow::as_select()))
            .first::<(SessionRow, UserRow)>(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?;
        found
            .map(|(session, user)| Ok((Session::try_from(session)?, User::try_from(user)?)))
            .transpose()
    }

    fn user_sessions(&self, user: UserId) -> Result<Vec<Session>, StoreError> {
        sessions::table
            .filter(sessions::user_id.eq(user.to_string()))
            .order((sessions::created_at.desc(), sessions::id.desc()))
            .select(SessionRow::as_select())
            .load(&mut *self.conn()?)
            .map_err(store_error)?
            .into_iter()
            .map(Session::try_from)
            .collect()
    }

    fn rotate_refresh_token(
        &self,
        rotation: &RefreshRotation,
    ) -> Result<RefreshOutcome, StoreError> {
        let presented = rotation.presented.as_str();
        let at = naive(rotation.at);
        transaction(&mut *self.conn()?, |conn| {
            // Write first: this no-op update takes the session's row lock (PostgreSQL) or the
            // database write lock (SQLite) before anything is read, so two rotations of one
            // session run one after the other and the second sees the first's result.
            let owner = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(presented))
                .select(refresh_tokens::session_id);
            let locked = diesel::update(sessions::table.filter(sessions::id.eq_any(owner)))
                .set(sessions::last_used_at.eq(sessions::last_used_at))
                .execute(conn)
                .map_err(store_error)?;
            if locked == 0 {
                return Ok(RefreshOutcome::Invalid);
            }
            let (session_id, superseded_at) = refresh_tokens::table
                .find(presented)
                .select((refresh_tokens::session_id, refresh_tokens::superseded_at))
                .first::<(String, Option<chrono::NaiveDateTime>)>(conn)
                .map_err(store_error)?;
            let (session, user) = sessions::table
                .inner_join(users::table)
                .filter(sessions::id.eq(&session_id))
                .select((SessionRow::as_select(), UserRow::as_select()))
                .first::<(SessionRow, UserRow)>(conn)
                .map_err(store_error)?;
            let (session, user) = (Session::try_from(session)?, User::try_from(user)?);
            if !session.is_live_at(rotation.at) {
                return Ok(RefreshOutcome::Invalid);
            }
            match superseded_at {
                None => {
                    diesel::update(
                        refresh_tokens::table
                            .filter(refresh_tokens::session_id.eq(&session_id))
                            .filter(refresh_tokens::superseded_at.is_null()),
                    )
                    .set(refresh_tokens::superseded_at.eq(at))
                    .execute(conn)
                    .map_err(store_error)?;
                }
                Some(when) if rotation.at - when.and_utc() <= rotation.reuse_grace => {}
                Some(_) => {
                    diesel::update(sessions::table.find(&session_id))
                        .set(sessions::revoked_at.eq(at))
                        .execute(conn)
                        .map_err(store_error)?;
                    return Ok(RefreshOutcome::ReuseDetected {
                        session: session.id,
                        user: user.id,
                    });
                }
            }
            diesel::insert_into(refresh_tokens::table)
                .values(RefreshTokenRow {
                    token_hash: rotation.replacement.as_str().to_owned(),
                    session_id: session_id.clone(),
                    issued_at: at,
                    superseded_at: None,
                })
                .execute(conn)
                .map_err(store_error)?;
            let idle_expires_at = rotation.at + rotation.idle_ttl;
            diesel::update(sessions::table.find(&session_id))
                .set((
                    sessions::last_used_at.eq(at),
                    sessions::idle_expires_at.eq(naive(idle_expires_at)),
                ))
                .execute(conn)
                .map_err(store_error)?;
            let session = Session {
                last_used_at: rotation.at,
                idle_expires_at,
                ..session
            };
            Ok(RefreshOutcome::Rotated { session, user })
        })
    }

    fn revoke_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        let id = id.to_string();
        transaction(&mut *self.conn()?, |conn| {
            let ended = diesel::update(
                sessions::table
                    .find(&id)
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(naive(at)))
            .execute(conn)
            .map_err(store_error)?;
            if ended == 0 {
                // Already ended (keep the first time) or no such session.
                sessions::table
                    .find(&id)
                    .select(sessions::id)
                    .first::<String>(conn)
                    .map_err(store_error)?;
            }
            Ok(())
        })
    }

    fn revoke_user_sessions(
        &self,
        user: UserId,
        which: SessionRevocation,
        at: DateTime<Utc>,
    ) -> Result<usize, StoreError> {
        let live = sessions::table
            .filter(sessions::user_id.eq(user.to_string()))
            .filter(sessions::revoked_at.is_null());
        let mut conn = self.conn()?;
        let ended = match which {
            SessionRevocation::All => diesel::update(live)
                .set(sessions::revoked_at.eq(naive(at)))
                .execute(&mut *conn),
            SessionRevocation::AllExcept(keep) => {
                diesel::update(live.filter(sessions::id.ne(keep.to_string())))
                    .set(sessions::revoked_at.eq(naive(at)))
                    .execute(&mut *conn)
            }
        };
        ended.map_err(store_error)
    }
}

impl ApiKeyStore for DieselStore {
    fn create_api_key(&self, new: NewApiKey) -> Result<ApiKey, StoreError> {
        diesel::insert_into(api_keys::table)
            .values(ApiKeyRow::new(&new.key, new.key_hash))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(new.key)
    }

    fn user_api_keys(&self, user: UserId) -> Result<Vec<ApiKey>, StoreError> {
        api_keys::table
            .filter(api_keys::user_id.eq(user.to_string()))
            .order((api_keys::created_at.desc(), api_keys::id.desc()))
            .select(ApiKeyRow::as_select())
            .load(&mut *self.conn()?)
            .map_err(store_error)?
            .iter()
            .map(ApiKey::try_from)
            .collect()
    }

    fn api_key_by_prefix(
        &self,
        prefix: &str,
    ) -> Result<Option<(ApiKey, String, User)>, StoreError> {
        let found = api_keys::table
            .inner_join(users::table)
            .filter(api_keys::prefix.eq(prefix))
            .select((ApiKeyRow::as_select(), UserRow::as_select()))
            .first::<(ApiKeyRow, UserRow)>(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?;
        found
            .map(|(key, user)| Ok((ApiKey::try_from(&key)?, key.key_hash, User::try_from(user)?)))
            .transpose()
    }

    fn revoke_api_key(
        &self,
        user: UserId,
        id: ApiKeyId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            let revoked = diesel::update(
                api_keys::table
                    .find(id.to_string())
                    .filter(api_keys::user_id.eq(user.to_string()))
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(naive(at)))
            .execute(conn)
            .map_err(store_error)?;
            if revoked == 0 {
                return Err(StoreError::NotFound);
            }
            diesel::update(
                sessions::table
                    .filter(sessions::api_key_id.eq(id.to_string()))
                    .filter(sessions::revoked_at.is_null()),
            )
            .set(sessions::revoked_at.eq(naive(at)))
            .execute(conn)
            .map_err(store_error)?;
            Ok(())
        })
    }

    fn touch_api_key(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        diesel::update(api_keys::table.find(id.to_string()))
            .set(api_keys::last_used_at.eq(naive(at)))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(())
    }
}

impl AuditStore for DieselStore {
    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        diesel::insert_into(audit_events::table)
            .values(AuditRow::from(event))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(())
    }

    fn audit_events(&self, query: &AuditQuery) -> Result<(Vec<AuditEvent>, u64), StoreError> {
        let filtered = || {
            let mut select = audit_events::table.into_boxed();
            if let Some(user) = query.user {
                let user = user.to_string();
                select = select.filter(
                    audit_events::actor_id
                        .eq(user.clone())
                        .or(audit_events::target_id.eq(user)),
                );
            }
            if let Some(since) = query.since {
                select = select.filter(audit_events::at.ge(naive(since)));
            }
            if let Some(until) = query.until {
                select = select.filter(audit_events::at.lt(naive(until)));
            }
            select
        };
        let mut conn = self.conn()?;
        let total: i64 = filtered()
            .count()
            .get_result(&mut *conn)
            .map_err(store_error)?;
        let events = filtered()
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .limit(i64::from(query.limit))
            .offset(i64::from(query.offset))
            .select(AuditRow::as_select())
            .load(&mut *conn)
            .map_err(store_error)?
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<Result<_, _>>()?;
        Ok((events, u64::try_from(total).unwrap_or_default()))
    }
}

impl LoginThrottleStore for DieselStore {
    fn take_login_attempt(
        &self,
        username: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError> {
        // Two first attempts on one name can both find no row and both insert; the loser of
        // that race retries, and then finds the row.
        let mut conn = self.conn()?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.take_login_attempt_once(&mut conn, username, policy, at) {
                Err(StoreError::Conflict(_)) if attempt < 3 => continue,
                other => return other,
            }
        }
    }

    fn clear_login_failures(&self, username: &str) -> Result<(), StoreError> {
        diesel::delete(login_throttles::table.find(username))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(())
    }
}

impl DieselStore {
    fn take_login_attempt_once(
        &self,
        conn: &mut DbConnection,
        username: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError> {
        let at_naive = naive(at);
        transaction(conn, |conn| {
            // Count the attempt unless locked, in one write: concurrent attempts serialize on
            // the row, and each sees the lock the one before it may have set.
            let counted = diesel::update(
                login_throttles::table.find(username).filter(
                    login_throttles::locked_until
                        .is_null()
                        .or(login_throttles::locked_until.le(at_naive)),
                ),
            )
            .set((
                login_throttles::failures.eq(login_throttles::failures + 1),
                login_throttles::updated_at.eq(at_naive),
            ))
            .execute(conn)
            .map_err(store_error)?;
            let row = login_throttles::table
                .find(username)
                .select((login_throttles::failures, login_throttles::locked_until))
                .first::<(i32, Option<chrono::NaiveDateTime>)>(conn)
                .optional()
                .map_err(store_error)?;
            let failures = match (counted, row) {
                (0, Some((failures, locked_until))) => {
                    return Ok(AttemptVerdict::Locked(LoginThrottle {
                        failures: u32::try_from(failures).unwrap_or(u32::MAX),
                        locked_until: locked_until.map(|t| t.and_utc()),
                    }));
                }
                (0, None) => {
                    diesel::insert_into(login_throttles::table)
                        .values((
                            login_throttles::username_normalized.eq(username),
                            login_throttles::failures.eq(1),
                            login_throttles::updated_at.eq(at_naive),
                        ))
                        .execute(conn)
                        .map_err(store_error)?;
                    1
                }
                (_, Some((failures, _))) => u32::try_from(failures).unwrap_or(u32::MAX),
                (_, None) => return Err(StoreError::NotFound),
            };
            let locked_until = policy.delay_after(failures).map(|delay| at + delay);
            if let Some(until) = locked_until {
                diesel::update(login_throttles::table.find(username))
                    .set(login_throttles::locked_until.eq(naive(until)))
                    .execute(conn)
                    .map_err(store_error)?;
            }
            Ok(AttemptVerdict::Counted(LoginThrottle {
                failures,
                locked_until,
            }))
        })
    }
}
