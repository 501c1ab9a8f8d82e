//! [`SessionStore`] for [`DieselStore`], with refresh-token rotation.

use auth_domain::{
    Invalidation, NewSession, RefreshOutcome, RefreshRotation, Session, SessionId,
    SessionRevocation, SessionStore, StoreError, User, UserId,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::{DieselStore, credentials, notify, store_error, transaction};
use crate::{
    rows::{RefreshTokenRow, SessionRow, UserRow, naive},
    schema::{refresh_tokens, sessions, users},
};

impl SessionStore for DieselStore {
    fn create_session(&self, new: NewSession) -> Result<Session, StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            credentials::hold_generation(conn, new.session.user_id, new.generation)?;
            if let Some(key) = new.session.api_key {
                credentials::hold_live_key(conn, key)?;
            }
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
                    notify(conn, Invalidation::Session(session.id))?;
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
        let uuid = id.0;
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
            notify(conn, Invalidation::Session(SessionId(uuid)))
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
        transaction(&mut *self.conn()?, |conn| {
            let ended = match which {
                SessionRevocation::All => diesel::update(live)
                    .set(sessions::revoked_at.eq(naive(at)))
                    .execute(conn),
                SessionRevocation::AllExcept(keep) => {
                    diesel::update(live.filter(sessions::id.ne(keep.to_string())))
                        .set(sessions::revoked_at.eq(naive(at)))
                        .execute(conn)
                }
            }
            .map_err(store_error)?;
            notify(conn, Invalidation::User(user))?;
            Ok(ended)
        })
    }
}
