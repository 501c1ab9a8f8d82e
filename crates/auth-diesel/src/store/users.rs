//! [`UserStore`] for [`DieselStore`], with the guard that keeps the last active admin.

use auth_domain::{
    Conflict, Email, Invalidation, NewUser, PasswordChange, PasswordChanged, PasswordHash,
    SessionRevocation, StoreError, TokenPurpose, User, UserChanges, UserId, UserQuery, UserStore,
    Username,
};
use chrono::{DateTime, Utc};
use diesel::{connection::SimpleConnection, prelude::*};

use super::{DieselStore, credentials, notify, store_error, transaction};
use crate::{
    connection::DbConnection,
    rows::{UserChangeset, UserRow, naive},
    schema::{email_tokens, users},
};

mod listing;

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

pub(super) fn load_user(conn: &mut DbConnection, id: &str) -> Result<Option<User>, StoreError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(store_error)?
        .map(User::try_from)
        .transpose()
}

/// [`UserStore::change_password`] inside the caller's transaction.
pub(super) fn change_password_in(
    conn: &mut DbConnection,
    change: &PasswordChange,
) -> Result<PasswordChanged, StoreError> {
    let id = change.user.to_string();
    // Holding the row at the expected generation first: a second change checked against the
    // same password finds it moved on.
    credentials::hold_generation(conn, change.user, change.expected)?;
    diesel::update(users::table.find(&id))
        .set((
            users::password_hash.eq(change.new_hash.expose()),
            users::updated_at.eq(naive(change.at)),
        ))
        .execute(conn)
        .map_err(store_error)?;
    let (ended_sessions, revoked_api_keys) =
        credentials::end_credentials(conn, change.user, change.sessions, change.at)?;
    // A reset link sent before the change does not work after it.
    diesel::delete(
        email_tokens::table
            .filter(email_tokens::user_id.eq(&id))
            .filter(email_tokens::purpose.eq(TokenPurpose::PasswordReset.as_str())),
    )
    .execute(conn)
    .map_err(store_error)?;
    notify(conn, Invalidation::User(change.user))?;
    Ok(PasswordChanged {
        user: load_user(conn, &id)?.ok_or(StoreError::NotFound)?,
        ended_sessions,
        revoked_api_keys,
    })
}

/// Clears `email_verified` when `email` replaces the user's address with another one (or with
/// none); run before the change is written.
fn unverify_changed_email(
    conn: &mut DbConnection,
    id: &str,
    email: &Option<Email>,
) -> Result<(), StoreError> {
    let target = users::table.find(id);
    match email {
        Some(new) => diesel::update(
            target.filter(
                users::email_normalized
                    .is_null()
                    .or(users::email_normalized.ne(new.normalized())),
            ),
        )
        .set(users::email_verified.eq(false))
        .execute(conn),
        None => diesel::update(target)
            .set(users::email_verified.eq(false))
            .execute(conn),
    }
    .map_err(store_error)?;
    Ok(())
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
        let user_id = id;
        let id = id.to_string();
        let guarded = changes.role.is_some() || changes.is_active.is_some();
        transaction(&mut *self.conn()?, |conn| {
            let admins_before = if guarded {
                lock_admins(conn)?;
                count_active_admins(conn)?
            } else {
                0
            };
            if let Some(email) = &changes.email {
                unverify_changed_email(conn, &id, email)?;
            }
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
            if changes.is_active == Some(false) {
                credentials::end_credentials(
                    conn,
                    user_id,
                    SessionRevocation::All,
                    changes.updated_at,
                )?;
            }
            notify(conn, Invalidation::User(user_id))?;
            load_user(conn, &id)?.ok_or(StoreError::NotFound)
        })
    }

    fn change_password(&self, change: &PasswordChange) -> Result<PasswordChanged, StoreError> {
        transaction(&mut *self.conn()?, |conn| change_password_in(conn, change))
    }

    fn replace_password_hash(
        &self,
        id: UserId,
        expected: &PasswordHash,
        new: &PasswordHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            let replaced = diesel::update(
                users::table
                    .find(id.to_string())
                    .filter(users::password_hash.eq(expected.expose())),
            )
            .set((
                users::password_hash.eq(new.expose()),
                users::updated_at.eq(naive(at)),
            ))
            .execute(conn)
            .map_err(store_error)?;
            if replaced == 1 {
                notify(conn, Invalidation::User(id))?;
            }
            Ok(replaced == 1)
        })
    }

    fn delete_user(&self, id: UserId) -> Result<(), StoreError> {
        let user_id = id;
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
            notify(conn, Invalidation::User(user_id))
        })
    }

    fn list_users(&self, query: &UserQuery) -> Result<(Vec<User>, Option<u64>), StoreError> {
        listing::list(&mut *self.conn()?, self.backend(), query)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn()?
            .batch_execute("SELECT 1")
            .map_err(StoreError::unavailable)
    }
}
