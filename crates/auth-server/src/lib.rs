//! The bundled authentication server: settings, CLI, telemetry and wiring of the auth crates.
#![forbid(unsafe_code)]

pub mod cli;
pub mod import;
mod keyfile;
pub mod keys;
pub mod mail;
pub mod prune;
pub mod settings;
pub mod startup;
pub mod telemetry;
