//! [`AuditStore`] for [`DieselStore`].

use auth_domain::{AuditEvent, AuditQuery, AuditStore, Count, StoreError};
use diesel::{dsl::sql, prelude::*, sql_types::Integer};

use super::{DieselStore, store_error};
use crate::{
    connection::DbConnection,
    rows::{AuditRow, naive},
    schema::audit_events,
};

/// How many events `select` finds, as `count` says.
fn count_events(
    conn: &mut DbConnection,
    select: audit_events::BoxedQuery<'static, <DbConnection as Connection>::Backend>,
    count: Count,
) -> Result<Option<u64>, StoreError> {
    Ok(match count {
        Count::Skip => None,
        Count::All => {
            let all: i64 = select.count().get_result(conn).map_err(store_error)?;
            Some(u64::try_from(all).unwrap_or_default())
        }
        Count::UpTo(most) => {
            // Reading at most `most` rows is what makes this cheap: no COUNT stops early.
            let rows: Vec<i32> = select
                .select(sql::<Integer>("1"))
                .limit(i64::try_from(most).unwrap_or(i64::MAX))
                .load(conn)
                .map_err(store_error)?;
            Some(rows.len() as u64)
        }
    })
}

impl AuditStore for DieselStore {
    fn record(&self, event: &AuditEvent) -> Result<(), StoreError> {
        diesel::insert_into(audit_events::table)
            .values(AuditRow::from(event))
            .execute(&mut *self.conn()?)
            .map_err(store_error)?;
        Ok(())
    }

    fn audit_events(
        &self,
        query: &AuditQuery,
    ) -> Result<(Vec<AuditEvent>, Option<u64>), StoreError> {
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
        let total = count_events(&mut conn, filtered(), query.count)?;
        let mut page = filtered();
        if let Some(after) = query.after {
            // `at <= t` bounds the index range; the rest skips the ties already shown.
            let at = naive(after.at);
            page = page.filter(audit_events::at.le(at)).filter(
                audit_events::at
                    .lt(at)
                    .or(audit_events::id.lt(after.id.to_string())),
            );
        }
        let events = page
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .limit(i64::from(query.limit))
            .offset(i64::from(query.offset))
            .select(AuditRow::as_select())
            .load(&mut *conn)
            .map_err(store_error)?
            .into_iter()
            .map(AuditEvent::try_from)
            .collect::<Result<_, _>>()?;
        Ok((events, total))
    }
}
