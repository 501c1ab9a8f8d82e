//! The credential generation in [`DieselStore`](super::DieselStore): the guard that every
//! insert of what a credential check produced takes, and ending what a user's credentials
//! gave, both inside the caller's transaction.
//!
//! Both sides take the user's row first, with a write (a row lock on PostgreSQL, the write lock
//! on SQLite): the guard with a no-op update that matches only while the generation is the
//! one the check saw, the change with the update that moves it. Under PostgreSQL's READ
//! COMMITTED a guard that waited for a change re-reads the row and no longer matches; a change
//! that waited for a guard's insert to commit then sees the inserted row in its next statement
//! and ends it. Either way nothing checked against the old credentials survives.

use auth_domain::{
    ApiKeyId, CredentialGeneration, SessionId, SessionRevocation, StoreError, UserId,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::store_error;
use crate::{
    connection::DbConnection,
    rows::{naive, uuid},
    schema::{api_keys, mfa_challenges, sessions, users},
};

/// Holds the user's row until the transaction ends, if the user's credential generation is
/// still `generation`; [`StoreError::CredentialsChanged`] if it moved on,
/// [`StoreError::NotFound`] for an unknown user.
pub(super) fn hold_generation(
    conn: &mut DbConnection,
    user: UserId,
    generation: CredentialGeneration,
) -> Result<(), StoreError> {
    let id = user.to_string();
    let held = diesel::update(
        users::table
            .find(&id)
            .filter(users::credential_generation.eq(generation.0)),
    )
    .set(users::credential_generation.eq(users::credential_generation))
    .execute(conn)
    .map_err(store_error)?;
    if held == 1 {
        return Ok(());
    }
    let exists: i64 = users::table
        .find(&id)
        .count()
        .get_result(conn)
        .map_err(store_error)?;
    Err(if exists == 0 {
        StoreError::NotFound
    } else {
        StoreError::CredentialsChanged
    })
}

/// Holds the key's row until the transaction ends, if the key is not revoked;
/// [`StoreError::CredentialsChanged`] otherwise.
pub(super) fn hold_live_key(conn: &mut DbConnection, key: ApiKeyId) -> Result<(), StoreError> {
    let held = diesel::update(
        api_keys::table
            .find(key.to_string())
            .filter(api_keys::revoked_at.is_null()),
    )
    .set(api_keys::revoked_at.eq(api_keys::revoked_at))
    .execute(conn)
    .map_err(store_error)?;
    if held == 1 {
        Ok(())
    } else {
        Err(StoreError::CredentialsChanged)
    }
}

/// Moves the user's credential generation on (taking the user's row).
pub(super) fn next_generation(conn: &mut DbConnection, user: UserId) -> Result<(), StoreError> {
    diesel::update(users::table.find(user.to_string()))
        .set(users::credential_generation.eq(users::credential_generation + 1))
        .execute(conn)
        .map_err(store_error)?;
    Ok(())
}

/// Ends the user's live sessions that `which` selects; returns their ids. The caller holds the
/// user's row, so no session of the user is opened between the read of the ids and the
/// update, which therefore ends those (and, with the same filter, needs no list of ids: a user
/// may have very many).
pub(super) fn end_sessions(
    conn: &mut DbConnection,
    user: UserId,
    which: SessionRevocation,
    at: DateTime<Utc>,
) -> Result<Vec<SessionId>, StoreError> {
    let keep = match which {
        SessionRevocation::All => String::new(),
        SessionRevocation::AllExcept(keep) => keep.to_string(),
    };
    let selected = || {
        sessions::table
            .filter(sessions::user_id.eq(user.to_string()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::id.ne(keep.clone()))
    };
    let ids: Vec<String> = selected()
        .select(sessions::id)
        .load(conn)
        .map_err(store_error)?;
    diesel::update(selected())
        .set(sessions::revoked_at.eq(naive(at)))
        .execute(conn)
        .map_err(store_error)?;
    ids.iter().map(|id| Ok(SessionId(uuid(id)?))).collect()
}

/// Ends everything the user's credentials gave, holding the user's row (the caller has taken
/// it, or this takes it): the generation moves on, the sessions `which` selects end, every API
/// key is revoked, and the `mfa_token`s waiting for their second step are forgotten. Returns
/// the ended sessions and the revoked keys; announcing the change is the caller's.
pub(super) fn end_credentials(
    conn: &mut DbConnection,
    user: UserId,
    which: SessionRevocation,
    at: DateTime<Utc>,
) -> Result<(Vec<SessionId>, Vec<ApiKeyId>), StoreError> {
    next_generation(conn, user)?;
    let id = user.to_string();
    // As with sessions: keys are created holding the user's row, so the update ends the keys
    // just read.
    let live = || {
        api_keys::table
            .filter(api_keys::user_id.eq(id.clone()))
            .filter(api_keys::revoked_at.is_null())
    };
    let keys: Vec<String> = live()
        .select(api_keys::id)
        .load(conn)
        .map_err(store_error)?;
    diesel::update(live())
        .set(api_keys::revoked_at.eq(naive(at)))
        .execute(conn)
        .map_err(store_error)?;
    // Every session of the user, the kept one aside; those opened with a key are among them
    // (they are the user's too), so the kept one, a login's, is the only survivor.
    let ended = end_sessions(conn, user, which, at)?;
    diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(&id)))
        .execute(conn)
        .map_err(store_error)?;
    let keys = keys
        .iter()
        .map(|id| Ok(ApiKeyId(uuid(id)?)))
        .collect::<Result<_, StoreError>>()?;
    Ok((ended, keys))
}
