//! [`RecoveryStore`] for [`DieselStore`]: tokens sent by email (`email_tokens`) and the
//! messages requests asked for (`mail_requests`).
//!
//! Issuing takes the user's row first, with a write (a row lock on PostgreSQL, the write lock
//! on SQLite), so that two instances counting one account's requests count one after the
//! other: the second sees the first's row.

use auth_domain::{
    Email, EmailToken, EmailTokenHash, Limit, NewEmailToken, PasswordChanged, PasswordResetChange,
    RecoveryStore, StoreError, TokenPurpose, User, UserId,
};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

use super::{DieselStore, store_error, transaction, users::change_password_in};
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
            let mine = || mail_requests::table.filter(mail_requests::user_id.eq(user.clone()));
            diesel::delete(
                mine().filter(mail_requests::requested_at.le(naive(at - TimeDelta::hours(1)))),
            )
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
                    mail_requests::user_id.eq(&user),
                    mail_requests::requested_at.eq(naive(at)),
                ))
                .execute(conn)
                .map_err(store_error)?;
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
}
