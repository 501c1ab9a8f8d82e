//! [`RecoveryStore`] for [`DieselStore`]: tokens sent by email (`email_tokens`) and the
//! messages requests asked for (`mail_requests`).
//!
//! Issuing takes the user's row first, with a write (a row lock on PostgreSQL, the write lock
//! on SQLite), so that two instances counting one account's requests count one after the
//! other: the second sees the first's row.

use auth_domain::{
    Email, EmailConfirmed, EmailToken, EmailTokenHash, Invalidation, Limit, NewEmailToken,
    PasswordChanged, PasswordResetChange, RecoveryStore, StoreError, TokenPurpose, User, UserId,
};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use super::{DieselStore, notify, store_error, transaction, users::change_password_in};
use crate::{
    connection::DbConnection,
    rows::{UserRow, corrupt, naive, utc, uuid},
    schema::{email_tokens, login_throttles, mail_requests, users},
};

/// Holds the user's row until the transaction ends; [`StoreError::NotFound`] for an unknown
/// user.
fn hold_user(conn: &mut DbConnection, user: UserId) -> Result<(), StoreError> {
    let held = diesel::update(users::table.find(user.to_string()))
        .set(users::credential_generation.eq(users::credential_generation))
        .execute(conn)
        .map_err(store_error)?;
    if held == 1 {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

type TokenRow = (String, String, String, NaiveDateTime, NaiveDateTime);

fn token_from_row(
    (user_id, purpose, email, created_at, expires_at): TokenRow,
) -> Result<EmailToken, StoreError> {
    Ok(EmailToken {
        user: UserId(uuid(&user_id)?),
        purpose: TokenPurpose::parse(&purpose).ok_or_else(|| corrupt("token purpose"))?,
        email: Email::parse(&email).map_err(|_| corrupt("email"))?,
        created_at: utc(created_at),
        expires_at: utc(expires_at),
    })
}

fn find_token(
    conn: &mut DbConnection,
    hash: &EmailTokenHash,
) -> Result<Option<EmailToken>, StoreError> {
    email_tokens::table
        .find(hash.expose())
        .select((
            email_tokens::user_id,
            email_tokens::purpose,
            email_tokens::email,
            email_tokens::created_at,
            email_tokens::expires_at,
        ))
        .first::<TokenRow>(conn)
        .optional()
        .map_err(store_error)?
        .map(token_from_row)
        .transpose()
}

/// `key` as a LIKE pattern that matches itself literally.
fn like_literal(key: &str) -> String {
    key.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Counts a requested message for `user` at `at`, unless `limit` refuses it; returns whether
/// it was counted. The caller holds the user's row.
fn count_request(
    conn: &mut DbConnection,
    user: &str,
    at: DateTime<Utc>,
    limit: Limit,
) -> Result<bool, StoreError> {
    let mine = || mail_requests::table.filter(mail_requests::user_id.eq(user.to_owned()));
    diesel::delete(mine().filter(mail_requests::requested_at.le(naive(at - TimeDelta::hours(1)))))
        .execute(conn)
        .map_err(store_error)?;
    if let Limit::Within(limits) = limit {
        let in_the_hour: i64 = mine().count().get_result(conn).map_err(store_error)?;
        let too_soon: i64 = mine()
            .filter(mail_requests::requested_at.gt(naive(at - limits.min_interval)))
            .count()
            .get_result(conn)
            .map_err(store_error)?;
        if too_soon > 0 || in_the_hour >= i64::from(limits.max_per_hour) {
            return Ok(false);
        }
    }
    diesel::insert_into(mail_requests::table)
        .values((
            mail_requests::id.eq(uuid::Uuid::new_v4().to_string()),
            mail_requests::user_id.eq(user),
            mail_requests::requested_at.eq(naive(at)),
        ))
        .execute(conn)
        .map_err(store_error)?;
    Ok(true)
}

impl RecoveryStore for DieselStore {
    fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        users::table
            .filter(users::email_normalized.eq(email.normalized()))
            .select(UserRow::as_select())
            .first(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?
            .map(User::try_from)
            .transpose()
    }

    fn issue_email_token(&self, token: &NewEmailToken, limit: Limit) -> Result<bool, StoreError> {
        let user = token.user.to_string();
        let at = token.created_at;
        transaction(&mut *self.conn()?, |conn| {
            hold_user(conn, token.user)?;
            if limit != Limit::Uncounted && !count_request(conn, &user, at, limit)? {
                return Ok(false);
            }
            if token.purpose == TokenPurpose::EmailChange {
                diesel::update(users::table.find(&user))
                    .set(users::pending_email.eq(token.email.as_str()))
                    .execute(conn)
                    .map_err(store_error)?;
                notify(conn, Invalidation::User(token.user))?;
            }
            diesel::delete(
                email_tokens::table
                    .filter(email_tokens::user_id.eq(&user))
                    .filter(email_tokens::purpose.eq(token.purpose.as_str())),
            )
            .execute(conn)
            .map_err(store_error)?;
            diesel::insert_into(email_tokens::table)
                .values((
                    email_tokens::token_hash.eq(token.hash.expose()),
                    email_tokens::user_id.eq(&user),
                    email_tokens::purpose.eq(token.purpose.as_str()),
                    email_tokens::email.eq(token.email.as_str()),
                    email_tokens::created_at.eq(naive(token.created_at)),
                    email_tokens::expires_at.eq(naive(token.expires_at)),
                ))
                .execute(conn)
                .map_err(store_error)?;
            Ok(true)
        })
    }

    fn email_token(&self, hash: &EmailTokenHash) -> Result<Option<EmailToken>, StoreError> {
        find_token(&mut *self.conn()?, hash)
    }

    fn reset_password(&self, reset: &PasswordResetChange) -> Result<PasswordChanged, StoreError> {
        let change = &reset.change;
        let id = change.user.to_string();
        transaction(&mut *self.conn()?, |conn| {
            // The user's row first, as every credential change takes it: of two resets with
            // one token, the second waits here and then finds the token gone.
            hold_user(conn, change.user)?;
            let token = match find_token(conn, &reset.token)? {
                Some(token)
                    if token.user == change.user
                        && token.purpose == TokenPurpose::PasswordReset
                        && token.is_live(change.at) =>
                {
                    token
                }
                _ => return Err(StoreError::NotFound),
            };
            // Deletes every reset token of the user, this one included.
            let mut changed = change_password_in(conn, change)?;
            let verified = diesel::update(
                users::table
                    .find(&id)
                    .filter(users::email_normalized.eq(token.email.normalized())),
            )
            .set(users::email_verified.eq(true))
            .execute(conn)
            .map_err(store_error)?;
            changed.user.email_verified |= verified == 1;
            diesel::delete(
                login_throttles::table.filter(
                    login_throttles::username_normalized
                        .eq(&reset.lockout_key)
                        .or(login_throttles::username_normalized
                            .like(format!("{}|%", like_literal(&reset.lockout_key)))
                            .escape('\\')),
                ),
            )
            .execute(conn)
            .map_err(store_error)?;
            Ok(changed)
        })
    }

    fn confirm_email(
        &self,
        hash: &EmailTokenHash,
        at: DateTime<Utc>,
    ) -> Result<EmailConfirmed, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            // Which user is only known from the token: read it, hold the user, read it again.
            let user_id = find_token(conn, hash)?.ok_or(StoreError::NotFound)?.user;
            hold_user(conn, user_id)?;
            let token = find_token(conn, hash)?
                .filter(|t| t.is_live(at))
                .ok_or(StoreError::NotFound)?;
            let id = user_id.to_string();
            let before = load(conn, &id)?;
            let same = |email: &Option<Email>| {
                email
                    .as_ref()
                    .is_some_and(|e| e.normalized() == token.email.normalized())
            };
            let mine = || email_tokens::table.filter(email_tokens::user_id.eq(id.clone()));
            match token.purpose {
                TokenPurpose::EmailVerification if same(&before.email) => {
                    diesel::update(users::table.find(&id))
                        .set(users::email_verified.eq(true))
                        .execute(conn)
                        .map_err(store_error)?;
                    diesel::delete(mine().filter(
                        email_tokens::purpose.eq(TokenPurpose::EmailVerification.as_str()),
                    ))
                    .execute(conn)
                    .map_err(store_error)?;
                }
                TokenPurpose::EmailChange if same(&before.pending_email) => {
                    diesel::update(users::table.find(&id))
                        .set((
                            users::email.eq(token.email.as_str()),
                            users::email_normalized.eq(token.email.normalized()),
                            users::email_verified.eq(true),
                            users::pending_email.eq(None::<String>),
                            users::updated_at.eq(naive(at)),
                        ))
                        .execute(conn)
                        .map_err(store_error)?;
                    diesel::delete(mine()).execute(conn).map_err(store_error)?;
                }
                _ => return Err(StoreError::NotFound),
            }
            notify(conn, Invalidation::User(user_id))?;
            Ok(EmailConfirmed {
                user: load(conn, &id)?,
                purpose: token.purpose,
                previous_email: before.email,
                previous_verified: before.email_verified,
            })
        })
    }
}

fn load(conn: &mut DbConnection, id: &str) -> Result<User, StoreError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()
        .map_err(store_error)?
        .ok_or(StoreError::NotFound)
        .and_then(User::try_from)
}
