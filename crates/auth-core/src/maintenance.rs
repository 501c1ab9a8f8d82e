//! Maintenance: pruning what is past its use (`auth-server prune`, and the server on a
//! schedule).

use auth_domain::{PruneOutcome, PrunePolicy, now};
use chrono::TimeDelta;

use crate::{error::AuthError, service::AuthService};

/// How long what is past its use is kept before [`AuthService::prune`] removes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Ended sessions (revoked or expired) are kept this long, for investigations, then
    /// removed with their refresh tokens.
    pub ended_sessions: TimeDelta,
    /// Audit events are kept this long; `None` keeps them for ever.
    pub audit_events: Option<TimeDelta>,
    /// The most rows one delete statement removes.
    pub batch_size: u32,
}

impl Default for Retention {
    /// Ended sessions for 30 days, audit events for 365 days, 1000 rows per statement.
    fn default() -> Self {
        Self {
            ended_sessions: TimeDelta::days(30),
            audit_events: Some(TimeDelta::days(365)),
            batch_size: 1000,
        }
    }
}

/// Cache-invalidation announcements older than this have been read by every process (they
/// poll every 20 ms).
const READ_ANNOUNCEMENTS: TimeDelta = TimeDelta::hours(1);

/// The per-account mail limits count the requests of the last hour; older records count
/// nothing.
const MAIL_REQUEST_WINDOW: TimeDelta = TimeDelta::hours(1);

impl AuthService {
    /// Removes what is past its use as of now: sessions that ended more than
    /// `retention.ended_sessions` ago with their refresh tokens, login-throttle rows quiet for
    /// longer than the lockout policies' decay windows (and no longer locked), audit events
    /// older than `retention.audit_events`, read cache-invalidation announcements, expired
    /// email tokens, and mail requests older than the mail limits'
    /// hour. Runs on
    /// the blocking pool; logs what it removed. [`PruneOutcome::Busy`] when another process is
    /// pruning the same database.
    pub async fn prune(&self, retention: Retention) -> Result<PruneOutcome, AuthError> {
        let outcome = self
            .blocking(move |inner| {
                let at = now();
                let config = &inner.config;
                let decay = config.lockout.decay.max(config.user_lockout.decay);
                let policy = PrunePolicy {
                    sessions_ended_before: at - retention.ended_sessions,
                    throttles_quiet_since: at - decay,
                    audit_before: retention.audit_events.map(|keep| at - keep),
                    invalidations_before: at - READ_ANNOUNCEMENTS,
                    expired_before: at,
                    mail_requests_before: at - MAIL_REQUEST_WINDOW,
                    batch_size: retention.batch_size.max(1),
                };
                Ok(inner.store.prune(&policy)?)
            })
            .await?;
        match &outcome {
            PruneOutcome::Pruned(report) => tracing::info!(
                sessions = report.sessions,
                refresh_tokens = report.refresh_tokens,
                login_throttles = report.login_throttles,
                audit_events = report.audit_events,
                cache_invalidations = report.cache_invalidations,
                email_tokens = report.email_tokens,
                mail_requests = report.mail_requests,
                "pruned {} rows",
                report.total()
            ),
            PruneOutcome::Busy => {
                tracing::info!("another process is pruning this database; skipped")
            }
        }
        Ok(outcome)
    }
}
