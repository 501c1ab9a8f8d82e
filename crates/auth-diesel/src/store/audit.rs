//! [`AuditStore`] for [`DieselStore`].

use auth_domain::{AuditEvent, AuditQuery, AuditStore, StoreError};
use diesel::prelude::*;

use super::{DieselStore, store_error};
use crate::{
    rows::{AuditRow, naive},
    schema::audit_events,
};

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
