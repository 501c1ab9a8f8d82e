//! Logging: `tracing`, filtered by `RUST_LOG` (default `info`), as text or as one JSON object
//! per line (`log.format`). Lines of libraries that log through the `log` crate (actix's start-up
//! and shutdown lines, among them) go the same way.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt::MakeWriter};

pub use crate::settings::LogFormat;

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTo {
    /// The server logs to standard output.
    Stdout,
    /// One-shot commands log to standard error, so standard output carries only their result.
    Stderr,
}

/// Installs the global subscriber. Call once, before anything logs.
///
/// With [`LogFormat::Json`] every line is one JSON object: `timestamp`, `level`, `target`,
/// the event's fields (`message` among them) at the top level, and `span` with the request's
/// `request_id` for what is logged while serving a request.
pub fn init(to: LogTo, format: LogFormat) {
    match to {
        LogTo::Stdout => install(std::io::stdout, std::io::stdout().is_terminal(), format),
        LogTo::Stderr => install(std::io::stderr, std::io::stderr().is_terminal(), format),
    }
}

fn install<W>(writer: W, terminal: bool, format: LogFormat)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => builder.with_ansi(terminal).init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}
