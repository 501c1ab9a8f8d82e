//! [`RateLimitStore`] for [`DieselStore`]: one upsert per request, which moves the key's GCRA
//! time on when the budget allows and otherwise leaves the row alone and returns nothing.

use auth_domain::{RateDecision, RateLimitStore, RateQuota, StoreError};
use chrono::{DateTime, TimeDelta, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Text},
};

use super::{DieselStore, store_error};
use crate::connection::DbConnection;

/// `$1` the key, `$2` now (µs), `$3` the interval (µs), `$4` the tolerance (µs): a new key, or one
/// whose time is at most now + tolerance, passes and its time becomes max(time, now) + interval;
/// otherwise the `WHERE` of `DO UPDATE` leaves the row as it is, and `RETURNING` yields no row.
/// Written as PostgreSQL has it; SQLite reads `$n` as `?n`.
const TAKE: &str = "INSERT INTO rate_limits (client_key, tat_micros) VALUES ($1, $2 + $3) \
     ON CONFLICT (client_key) DO UPDATE SET tat_micros = \
     CASE WHEN rate_limits.tat_micros > $2 THEN rate_limits.tat_micros ELSE $2 END + $3 \
     WHERE rate_limits.tat_micros <= $2 + $4 \
     RETURNING tat_micros";

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)] // only whether a row came back matters
    tat_micros: i64,
}

impl RateLimitStore for DieselStore {
    fn take_rate_token(
        &self,
        key: &str,
        quota: &RateQuota,
        at: DateTime<Utc>,
    ) -> Result<RateDecision, StoreError> {
        let (now, interval) = (at.timestamp_micros(), quota.interval_micros());
        let tolerance = quota.tolerance_micros();
        let mut conn = self.conn()?;
        let taken = match &mut *conn {
            #[cfg(feature = "postgres")]
            DbConnection::Postgres(pg) => diesel::sql_query(TAKE)
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(interval)
                .bind::<BigInt, _>(tolerance)
                .get_results::<Taken>(pg),
            #[cfg(feature = "sqlite")]
            DbConnection::Sqlite(lite) => diesel::sql_query(TAKE.replace('$', "?"))
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(interval)
                .bind::<BigInt, _>(tolerance)
                .get_results::<Taken>(lite),
        }
        .map_err(store_error)?;
        Ok(if taken.is_empty() {
            // The row was left as it was: its time is within one interval past the tolerance,
            // so one interval is the longest wait (the exact one would take a second statement).
            RateDecision::Refused {
                retry_after: TimeDelta::microseconds(interval),
            }
        } else {
            RateDecision::Allowed
        })
    }
}
