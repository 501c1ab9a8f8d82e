//! Logging: `tracing`, filtered by `RUST_LOG` (default `info`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Where log lines go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTo {
    /// The server logs to standard output.
    Stdout,
    /// One-shot commands log to standard error, so standard output carries only their result.
    Stderr,
}

/// Installs the global subscriber. Call once, first thing.
pub fn init(to: LogTo) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match to {
        LogTo::Stdout => builder.with_ansi(std::io::stdout().is_terminal()).init(),
        LogTo::Stderr => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init(),
    }
}
