//! PostgreSQL: one `LISTEN` connection per process, watched. A connection whose backend stopped
//! without closing (a frozen server, a peer gone behind a firewall) answers nothing and reports
//! no error, and a query on it waits for ever: so the connection is read on a thread of its own,
//! which proves it alive by a `SELECT 1` every second, and the listener gives it up when no proof
//! came for [`QUIET_LIMIT`]. TCP keepalives let the kernel end such a connection too.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
    time::{Duration, Instant},
};

use auth_domain::Invalidation;
use diesel::{Connection, PgConnection, RunQueryDsl};

use super::Heard;
use crate::store::INVALIDATION_CHANNEL;

/// The `application_name` of every listener connection (in `pg_stat_activity`), unless the
/// database URL sets one.
pub const LISTENER_APPLICATION_NAME: &str = "auth-listener";

/// libpq parameters the listener's connection gets unless the URL sets them: its name, a
/// bounded connection attempt, and keepalives and a user timeout with which the kernel ends a
/// connection whose peer is gone within about 15 s.
const PARAMETERS: &[(&str, &str)] = &[
    ("application_name", LISTENER_APPLICATION_NAME),
    ("connect_timeout", "5"),
    ("keepalives", "1"),
    ("keepalives_idle", "5"),
    ("keepalives_interval", "2"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "15000"),
];

// How often pending notifications are read, and how often the connection is proved alive.
const POLL: Duration = Duration::from_millis(10);
const CHECK: Duration = Duration::from_secs(1);
/// With no sign of life (a notification, or an answered `SELECT 1`) for this long, the
/// connection is given up: a check is due every [`CHECK`], and takes milliseconds.
pub(super) const QUIET_LIMIT: Duration = Duration::from_secs(3);
// How often the watching thread looks at the clock and at `stop`.
const WATCH: Duration = Duration::from_millis(20);

/// What the connection's thread tells the listener.
enum Event {
    Heard(Heard),
    Alive,
    Ended(Result<(), String>),
}

/// `url` with [`PARAMETERS`] added where it does not set them.
pub(super) fn listener_url(url: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let set: Vec<&str> = query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .collect();
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(str::to_owned)
        .collect();
    for (key, value) in PARAMETERS {
        if !set.contains(key) {
            pairs.push(format!("{key}={value}"));
        }
    }
    format!("{base}?{}", pairs.join("&"))
}

/// Listens until the connection fails or goes quiet (an error) or `stop` is set (`Ok`).
pub(super) fn listen_once(
    url: &str,
    on: &impl Fn(Heard),
    stop: &AtomicBool,
) -> Result<(), Box<dyn std::error::Error>> {
    let (events, heard) = mpsc::channel();
    // Set when this connection is given up or the store stops.
    let leave = Arc::new(AtomicBool::new(false));
    let reader = thread::Builder::new()
        .name("auth-listen-pg".into())
        .spawn({
            let url = listener_url(url);
            let leave = Arc::clone(&leave);
            move || {
                let ended = read(&url, &events, &leave).map_err(|e| e.to_string());
                let _ = events.send(Event::Ended(ended));
            }
        })?;
    let mut alive = Instant::now();
    loop {
        if stop.load(Ordering::Acquire) {
            leave.store(true, Ordering::Release);
            // It ends within a poll unless a query of its is stuck: then it is left behind.
            let waiting = Instant::now();
            while !reader.is_finished() && waiting.elapsed() < QUIET_LIMIT {
                thread::sleep(POLL);
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
            return Ok(());
        }
        match heard.recv_timeout(WATCH) {
            Ok(Event::Heard(what)) => {
                alive = Instant::now();
                on(what);
            }
            Ok(Event::Alive) => alive = Instant::now(),
            Ok(Event::Ended(ended)) => {
                let _ = reader.join();
                return Ok(ended?);
            }
            Err(mpsc::RecvTimeoutError::Timeout) if alive.elapsed() >= QUIET_LIMIT => {
                // The thread is left to end by itself (when the backend answers again, or the
                // kernel ends the connection); whatever it hears now reaches no one.
                leave.store(true, Ordering::Release);
                return Err(format!(
                    "the connection stopped answering (no answer for {} s)",
                    QUIET_LIMIT.as_secs()
                )
                .into());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err("the listening thread ended".into());
            }
        }
    }
}

/// The connection's thread: connects, listens, forwards what it hears, and proves the
/// connection alive every [`CHECK`], until an error or `leave`.
fn read(
    url: &str,
    events: &mpsc::Sender<Event>,
    leave: &AtomicBool,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut conn = PgConnection::establish(url).map_err(|e| format!("cannot connect: {e}"))?;
    diesel::sql_query(format!("LISTEN {INVALIDATION_CHANNEL}")).execute(&mut conn)?;
    // A send fails once the listener gave this connection up: then it just ends.
    if events.send(Event::Heard(Heard::Connected)).is_err() {
        return Ok(());
    }
    let mut checked = Instant::now();
    while !leave.load(Ordering::Acquire) {
        for notification in conn.notifications_iter() {
            // A payload we cannot read may name anything: forget everything.
            let what = Invalidation::parse(&notification?.payload).unwrap_or(Invalidation::All);
            if events.send(Event::Heard(Heard::Invalidated(what))).is_err() {
                return Ok(());
            }
        }
        if checked.elapsed() >= CHECK {
            // Only a query proves the backend alive; on a connection whose backend stopped
            // it never returns, and the listener gives up after QUIET_LIMIT.
            diesel::sql_query("SELECT 1").execute(&mut conn)?;
            if events.send(Event::Alive).is_err() {
                return Ok(());
            }
            checked = Instant::now();
        }
        thread::sleep(POLL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::listener_url;

    #[test]
    fn the_listener_url_gets_keepalives_and_a_name_but_keeps_what_the_url_sets() {
        let url = listener_url("postgres://u@h/db");
        assert!(url.starts_with("postgres://u@h/db?application_name=auth-listener&"));
        assert!(url.contains("&keepalives=1&keepalives_idle=5&"), "{url}");
        let url = listener_url("postgres://u@h/db?sslmode=require&keepalives_idle=30");
        assert!(url.starts_with("postgres://u@h/db?sslmode=require&keepalives_idle=30&"));
        assert_eq!(url.matches("keepalives_idle").count(), 1, "{url}");
        assert!(url.contains("connect_timeout=5"), "{url}");
    }
}
