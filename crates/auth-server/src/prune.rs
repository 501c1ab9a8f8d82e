//! Pruning what is past its use: `auth-server prune` once, and the server on a schedule
//! (`maintenance.prune_interval_secs`). With several instances on PostgreSQL only one prunes at
//! a time; the others skip their turn.

use std::time::Duration;

use auth_core::{AuthError, AuthService, Retention};
use auth_domain::{PruneOutcome, PruneReport};
use chrono::TimeDelta;

use crate::settings::Settings;

/// The retention the settings give: `maintenance.session_retention_days` and
/// `audit.retention_days` (0 keeps the audit log whole).
pub fn retention(settings: &Settings) -> Retention {
    let audit_days = settings.audit.retention_days;
    Retention {
        ended_sessions: TimeDelta::days(settings.maintenance.session_retention_days),
        audit_events: (audit_days > 0).then(|| TimeDelta::days(audit_days)),
        ..Retention::default()
    }
}

/// What `auth-server prune` prints: each table and the rows removed from it, aligned.
pub fn report_table(report: &PruneReport) -> String {
    let width = report
        .tables()
        .iter()
        .map(|(table, _)| table.len())
        .max()
        .unwrap_or(0);
    let mut text = String::from("removed rows:\n");
    for (table, removed) in report.tables() {
        text.push_str(&format!("  {table:<width$}  {removed}\n"));
    }
    text
}

/// Prunes once (the `prune` command): the report to print, or a note that another process is
/// pruning.
pub async fn prune_once(service: &AuthService, settings: &Settings) -> Result<String, AuthError> {
    Ok(match service.prune(retention(settings)).await? {
        PruneOutcome::Pruned(report) => report_table(&report),
        PruneOutcome::Busy => {
            "another process is pruning this database now; nothing was done\n".to_owned()
        }
    })
}

/// Prunes now and then every `maintenance.prune_interval_secs` (never when it is 0), on the
/// current actix runtime, for as long as it runs. A failed prune is logged and tried again at
/// the next turn.
pub fn schedule(service: AuthService, settings: &Settings) {
    let every = settings.maintenance.prune_interval_secs;
    if every == 0 {
        tracing::info!("scheduled pruning is off (maintenance.prune_interval_secs = 0)");
        return;
    }
    let retention = retention(settings);
    actix_web::rt::spawn(async move {
        loop {
            match service.prune(retention).await {
                Ok(_) => {}
                // The store logs an outage itself, once.
                Err(AuthError::Unavailable(e)) if e.is_outage() => {}
                Err(e) => {
                    tracing::warn!(error = %auth_core::cause_chain(&e), "scheduled prune failed")
                }
            }
            actix_web::rt::time::sleep(Duration::from_secs(every)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_table_aligned() {
        let report = PruneReport {
            sessions: 3,
            refresh_tokens: 12,
            login_throttles: 0,
            audit_events: 1000,
            cache_invalidations: 7,
            email_tokens: 2,
            mail_requests: 5,
        };
        assert_eq!(
            report_table(&report),
            "removed rows:\n  sessions             3\n  refresh_tokens       12\n  \
             login_throttles      0\n  audit_events         1000\n  cache_invalidations  7\n  \
             email_tokens         2\n  mail_requests        5\n"
        );
    }
}
