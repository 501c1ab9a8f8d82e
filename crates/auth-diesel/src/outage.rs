//! Store outages, logged once when they start and once when they end (with their length),
//! instead of once per failed checkout or reconnection attempt.

use std::{
    fmt,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use diesel::r2d2::{self, HandleError};

/// Whether the database answers, as seen by checkouts and the pool's own connection attempts.
#[derive(Debug, Default)]
pub(crate) struct OutageWatch {
    down: AtomicBool,
    since: Mutex<Option<Instant>>,
}

impl OutageWatch {
    /// A connection could not be had: logs the start of an outage, once.
    pub(crate) fn failed(&self, cause: &dyn fmt::Display) {
        if self.down.swap(true, Ordering::AcqRel) {
            return;
        }
        *self.lock() = Some(Instant::now());
        tracing::error!(
            error = %cause,
            "the database is unavailable; requests that need it answer 503 until it is back \
             (logged again then)"
        );
    }

    /// A connection was had: logs the end of an outage, once, with its length.
    pub(crate) fn succeeded(&self) {
        if !self.down.load(Ordering::Acquire) || !self.down.swap(false, Ordering::AcqRel) {
            return;
        }
        let lasted = self.lock().take().map(|since| since.elapsed());
        let secs = lasted.map_or(0.0, |d| (d.as_secs_f64() * 1000.0).round() / 1000.0);
        tracing::info!(
            outage_secs = secs,
            "the database is available again after {secs} s"
        );
    }

    /// Whether the last attempt to get a connection succeeded.
    pub(crate) fn is_up(&self) -> bool {
        !self.down.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.since.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The pool's error handler: r2d2's default logs every failed connection attempt (many a
/// second while the database is down); this one reports them to the [`OutageWatch`].
#[derive(Debug)]
pub(crate) struct ReportOutages(pub(crate) Arc<OutageWatch>);

impl HandleError<r2d2::Error> for ReportOutages {
    fn handle_error(&self, error: r2d2::Error) {
        self.0.failed(&error);
    }
}
