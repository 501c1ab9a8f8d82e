//! [`MfaStore`] for [`DieselStore`]. Changes that turn a second factor on or off take the
//! user's row lock first (a write, so SQLite takes its write lock too), so that they run one
//! after the other, and announce [`Invalidation::User`] in their transaction: cached users
//! carry `mfa_enabled`.

use auth_domain::{
    CredentialGeneration, EncryptedTotpSecret, Invalidation, MfaChallenge, MfaStore, MfaTokenHash,
    RecoveryCodeHash, SessionId, SessionRevocation, StoreError, TotpEnrolment, TotpRemoval, UserId,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{DieselStore, credentials, notify, store_error, transaction};
use crate::{
    connection::DbConnection,
    rows::{corrupt, naive, utc, uuid},
    schema::{mfa_challenges, mfa_recovery_codes, mfa_totp, sessions, users},
};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = mfa_totp)]
struct TotpRow {
    user_id: String,
    secret: String,
    created_at: NaiveDateTime,
    confirmed_at: Option<NaiveDateTime>,
    last_step: Option<i64>,
}

impl TryFrom<TotpRow> for TotpEnrolment {
    type Error = StoreError;

    fn try_from(row: TotpRow) -> Result<Self, StoreError> {
        Ok(TotpEnrolment {
            user_id: UserId(uuid(&row.user_id)?),
            secret: EncryptedTotpSecret::new(row.secret),
            created_at: utc(row.created_at),
            confirmed_at: row.confirmed_at.map(utc),
            last_step: row.last_step,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = mfa_challenges)]
struct ChallengeRow {
    token_hash: String,
    user_id: String,
    access_ttl_secs: i64,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    failures: i32,
    credential_generation: i64,
}

impl From<&MfaChallenge> for ChallengeRow {
    fn from(challenge: &MfaChallenge) -> Self {
        Self {
            token_hash: challenge.token_hash.as_str().to_owned(),
            user_id: challenge.user_id.to_string(),
            access_ttl_secs: challenge.access_ttl_secs,
            created_at: naive(challenge.created_at),
            expires_at: naive(challenge.expires_at),
            failures: i32::try_from(challenge.failures).unwrap_or(i32::MAX),
            credential_generation: challenge.generation.0,
        }
    }
}

impl TryFrom<ChallengeRow> for MfaChallenge {
    type Error = StoreError;

    fn try_from(row: ChallengeRow) -> Result<Self, StoreError> {
        Ok(MfaChallenge {
            token_hash: MfaTokenHash::new(row.token_hash),
            user_id: UserId(uuid(&row.user_id)?),
            generation: CredentialGeneration(row.credential_generation),
            access_ttl_secs: row.access_ttl_secs,
            created_at: utc(row.created_at),
            expires_at: utc(row.expires_at),
            failures: u32::try_from(row.failures).map_err(|_| corrupt("failures"))?,
        })
    }
}

/// Takes the user's row lock; [`StoreError::NotFound`] for an unknown user.
fn lock_user(conn: &mut DbConnection, user: &str) -> Result<(), StoreError> {
    let locked = diesel::update(users::table.find(user))
        .set(users::mfa_enabled.eq(users::mfa_enabled))
        .execute(conn)
        .map_err(store_error)?;
    if locked == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn load_enrolment(
    conn: &mut DbConnection,
    user: &str,
) -> Result<Option<TotpEnrolment>, StoreError> {
    mfa_totp::table
        .find(user)
        .select(TotpRow::as_select())
        .first(conn)
        .optional()
        .map_err(store_error)?
        .map(TotpEnrolment::try_from)
        .transpose()
}

/// Sets the user's flag (and `updated_at`), and announces the change.
fn set_mfa_enabled(
    conn: &mut DbConnection,
    user: UserId,
    enabled: bool,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(users::table.find(user.to_string()))
        .set((
            users::mfa_enabled.eq(enabled),
            users::updated_at.eq(naive(at)),
        ))
        .execute(conn)
        .map_err(store_error)?;
    notify(conn, Invalidation::User(user))
}

impl MfaStore for DieselStore {
    fn totp_enrolment(&self, user: UserId) -> Result<Option<TotpEnrolment>, StoreError> {
        load_enrolment(&mut *self.conn()?, &user.to_string())
    }

    fn begin_totp_enrolment(
        &self,
        user: UserId,
        secret: &EncryptedTotpSecret,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let id = user.to_string();
        transaction(&mut *self.conn()?, |conn| {
            lock_user(conn, &id)?;
            if load_enrolment(conn, &id)?.is_some_and(|e| e.is_enabled()) {
                return Ok(false);
            }
            diesel::delete(mfa_totp::table.find(&id))
                .execute(conn)
                .map_err(store_error)?;
            diesel::insert_into(mfa_totp::table)
                .values(TotpRow {
                    user_id: id.clone(),
                    secret: secret.as_str().to_owned(),
                    created_at: naive(at),
                    confirmed_at: None,
                    last_step: None,
                })
                .execute(conn)
                .map_err(store_error)?;
            Ok(true)
        })
    }

    fn enable_totp(
        &self,
        user: UserId,
        secret: &EncryptedTotpSecret,
        step: i64,
        recovery_codes: &[RecoveryCodeHash],
        keep: SessionId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let id = user.to_string();
        transaction(&mut *self.conn()?, |conn| {
            lock_user(conn, &id)?;
            let enabled = diesel::update(
                mfa_totp::table
                    .find(&id)
                    .filter(mfa_totp::confirmed_at.is_null())
                    .filter(mfa_totp::secret.eq(secret.as_str())),
            )
            .set((
                mfa_totp::confirmed_at.eq(naive(at)),
                mfa_totp::last_step.eq(step),
            ))
            .execute(conn)
            .map_err(store_error)?;
            if enabled == 0 {
                return Ok(false);
            }
            diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(&id)))
                .execute(conn)
                .map_err(store_error)?;
            for code in recovery_codes {
                diesel::insert_into(mfa_recovery_codes::table)
                    .values((
                        mfa_recovery_codes::user_id.eq(&id),
                        mfa_recovery_codes::code_hash.eq(code.as_str()),
                        mfa_recovery_codes::used_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute(conn)
                    .map_err(store_error)?;
            }
            set_mfa_enabled(conn, user, true, at)?;
            // Logins in flight that checked only the password are refused from now on, and
            // the sessions opened without the second factor end, but the confirming one.
            credentials::next_generation(conn, user)?;
            credentials::end_sessions(conn, user, SessionRevocation::AllExcept(keep), at)?;
            diesel::update(
                sessions::table
                    .find(keep.to_string())
                    .filter(sessions::user_id.eq(&id)),
            )
            .set(sessions::mfa.eq(true))
            .execute(conn)
            .map_err(store_error)?;
            Ok(true)
        })
    }

    fn remove_totp(&self, user: UserId, at: DateTime<Utc>) -> Result<TotpRemoval, StoreError> {
        let id = user.to_string();
        transaction(&mut *self.conn()?, |conn| {
            // Deleting the user deletes all of this too, so an unknown user has nothing.
            match lock_user(conn, &id) {
                Err(StoreError::NotFound) => return Ok(TotpRemoval::Nothing),
                other => other?,
            }
            let removal = match load_enrolment(conn, &id)? {
                None => TotpRemoval::Nothing,
                Some(e) if e.is_enabled() => TotpRemoval::Enabled,
                Some(_) => TotpRemoval::Pending,
            };
            diesel::delete(mfa_totp::table.find(&id))
                .execute(conn)
                .map_err(store_error)?;
            diesel::delete(mfa_recovery_codes::table.filter(mfa_recovery_codes::user_id.eq(&id)))
                .execute(conn)
                .map_err(store_error)?;
            diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(&id)))
                .execute(conn)
                .map_err(store_error)?;
            if removal == TotpRemoval::Enabled {
                set_mfa_enabled(conn, user, false, at)?;
            }
            Ok(removal)
        })
    }

    fn use_totp_step(&self, user: UserId, step: i64) -> Result<bool, StoreError> {
        // One statement: of concurrent uses of one step, the second sees the first's write.
        let used = diesel::update(
            mfa_totp::table
                .find(user.to_string())
                .filter(mfa_totp::confirmed_at.is_not_null())
                .filter(
                    mfa_totp::last_step
                        .is_null()
                        .or(mfa_totp::last_step.lt(step)),
                ),
        )
        .set(mfa_totp::last_step.eq(step))
        .execute(&mut *self.conn()?)
        .map_err(store_error)?;
        Ok(used == 1)
    }

    fn use_recovery_code(
        &self,
        user: UserId,
        code: &RecoveryCodeHash,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let used = diesel::update(
            mfa_recovery_codes::table
                .find((user.to_string(), code.as_str()))
                .filter(mfa_recovery_codes::used_at.is_null()),
        )
        .set(mfa_recovery_codes::used_at.eq(naive(at)))
        .execute(&mut *self.conn()?)
        .map_err(store_error)?;
        Ok(used == 1)
    }

    fn recovery_codes_left(&self, user: UserId) -> Result<u32, StoreError> {
        let left: i64 = mfa_recovery_codes::table
            .filter(mfa_recovery_codes::user_id.eq(user.to_string()))
            .filter(mfa_recovery_codes::used_at.is_null())
            .count()
            .get_result(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(u32::try_from(left).unwrap_or(u32::MAX))
    }

    fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            credentials::hold_generation(conn, challenge.user_id, challenge.generation)?;
            diesel::delete(
                mfa_challenges::table
                    .filter(mfa_challenges::expires_at.lt(naive(challenge.created_at))),
            )
            .execute(conn)
            .map_err(store_error)?;
            diesel::insert_into(mfa_challenges::table)
                .values(ChallengeRow::from(challenge))
                .execute(conn)
                .map_err(store_error)?;
            Ok(())
        })
    }

    fn mfa_challenge(&self, token: &MfaTokenHash) -> Result<Option<MfaChallenge>, StoreError> {
        mfa_challenges::table
            .find(token.as_str())
            .select(ChallengeRow::as_select())
            .first(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?
            .map(MfaChallenge::try_from)
            .transpose()
    }

    fn fail_mfa_challenge(
        &self,
        token: &MfaTokenHash,
        max_failures: u32,
    ) -> Result<u32, StoreError> {
        let max = i32::try_from(max_failures).unwrap_or(i32::MAX);
        transaction(&mut *self.conn()?, |conn| {
            // Write first: concurrent failures serialize on the row.
            let counted = diesel::update(mfa_challenges::table.find(token.as_str()))
                .set(mfa_challenges::failures.eq(mfa_challenges::failures + 1))
                .execute(conn)
                .map_err(store_error)?;
            if counted == 0 {
                return Ok(0);
            }
            let failures: i32 = mfa_challenges::table
                .find(token.as_str())
                .select(mfa_challenges::failures)
                .first(conn)
                .map_err(store_error)?;
            if failures >= max {
                diesel::delete(mfa_challenges::table.find(token.as_str()))
                    .execute(conn)
                    .map_err(store_error)?;
            }
            Ok(u32::try_from(failures).unwrap_or_default())
        })
    }

    fn take_mfa_challenge(
        &self,
        token: &MfaTokenHash,
        at: DateTime<Utc>,
        max_failures: u32,
    ) -> Result<bool, StoreError> {
        let max = i32::try_from(max_failures).unwrap_or(i32::MAX);
        let taken = diesel::delete(
            mfa_challenges::table
                .find(token.as_str())
                .filter(mfa_challenges::expires_at.gt(naive(at)))
                .filter(mfa_challenges::failures.lt(max)),
        )
        .execute(&mut *self.conn()?)
        .map_err(store_error)?;
        Ok(taken == 1)
    }
}
