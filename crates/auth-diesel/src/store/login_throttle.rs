//! [`LoginThrottleStore`] for [`DieselStore`].

use auth_domain::{
    AttemptVerdict, Conflict, LockoutPolicy, LoginThrottle, LoginThrottleStore, StoreError,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::{DieselStore, store_error, transaction};
use crate::{connection::DbConnection, rows::naive, schema::login_throttles};

impl LoginThrottleStore for DieselStore {
    fn take_login_attempt(
        &self,
        username: &str,
        policy: &LockoutPolicy,
        at: DateTime<Utc>,
    ) -> Result<AttemptVerdict, StoreError> {
        // Two first attempts on one name can both find no row and both insert, or one can
        // find the row only after its update looked; the loser of either race retries, and
        // then finds the row.
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

    fn login_throttle(&self, key: &str) -> Result<Option<LoginThrottle>, StoreError> {
        let row = login_throttles::table
            .find(key)
            .select((
                login_throttles::failures,
                login_throttles::locked_until,
                login_throttles::updated_at,
            ))
            .first::<(i32, Option<NaiveDateTime>, NaiveDateTime)>(&mut *self.conn()?)
            .optional()
            .map_err(store_error)?;
        Ok(
            row.map(|(failures, locked_until, updated_at)| LoginThrottle {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                locked_until: locked_until.map(|t| t.and_utc()),
                last_failure_at: Some(updated_at.and_utc()),
            }),
        )
    }

    fn clear_login_failures(&self, username: &str) -> Result<(), StoreError> {
        diesel::delete(login_throttles::table.find(username))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(())
    }

    fn withdraw_login_attempt(&self, key: &str, counted: &LoginThrottle) -> Result<(), StoreError> {
        transaction(&mut *self.conn()?, |conn| {
            diesel::update(
                login_throttles::table
                    .find(key)
                    .filter(login_throttles::failures.gt(0)),
            )
            .set(login_throttles::failures.eq(login_throttles::failures - 1))
            .execute(conn)
            .map_err(store_error)?;
            // Only the lock this attempt set: one that a failure since has set is another time.
            if let Some(until) = counted.locked_until {
                diesel::update(
                    login_throttles::table
                        .find(key)
                        .filter(login_throttles::locked_until.eq(naive(until))),
                )
                .set(login_throttles::locked_until.eq(None::<NaiveDateTime>))
                .execute(conn)
                .map_err(store_error)?;
            }
            Ok(())
        })
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
            // A count that has been quiet for the decay period starts again (only when not
            // locked). A write first, so concurrent attempts serialize on the row.
            let quiet_since = at.checked_sub_signed(policy.decay).map(naive);
            if let Some(quiet_since) = quiet_since {
                diesel::update(
                    login_throttles::table
                        .find(username)
                        .filter(login_throttles::updated_at.le(quiet_since))
                        .filter(
                            login_throttles::locked_until
                                .is_null()
                                .or(login_throttles::locked_until.le(at_naive)),
                        ),
                )
                .set((
                    login_throttles::failures.eq(0),
                    login_throttles::locked_until.eq(None::<NaiveDateTime>),
                ))
                .execute(conn)
                .map_err(store_error)?;
            }
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
                .select((
                    login_throttles::failures,
                    login_throttles::locked_until,
                    login_throttles::updated_at,
                ))
                .first::<(i32, Option<NaiveDateTime>, NaiveDateTime)>(conn)
                .optional()
                .map_err(store_error)?;
            let failures = match (counted, row) {
                // Not locked, yet not counted: a concurrent first attempt inserted the row
                // after the update looked (PostgreSQL's READ COMMITTED). Count it again.
                (0, Some((_, locked_until, _)))
                    if locked_until.is_none_or(|until| until <= at_naive) =>
                {
                    return Err(StoreError::Conflict(Conflict::Username));
                }
                (0, Some((failures, locked_until, last_failure_at))) => {
                    return Ok(AttemptVerdict::Locked(LoginThrottle {
                        failures: u32::try_from(failures).unwrap_or(u32::MAX),
                        locked_until: locked_until.map(|t| t.and_utc()),
                        last_failure_at: Some(last_failure_at.and_utc()),
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
                (_, Some((failures, _, _))) => u32::try_from(failures).unwrap_or(u32::MAX),
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
                last_failure_at: Some(at),
            }))
        })
    }
}
