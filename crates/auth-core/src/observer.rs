//! What the service reports as it happens, for metrics: a tiny trait, so that auth-core needs no
//! metrics library and an embedder can count with whatever it uses.
//!
//! Outcomes are reported where they are decided (reuse detection, for one, is known only
//! inside a refresh), so a metric never has to guess them from HTTP statuses.

use std::fmt;

/// How a login (`POST /login`, the password grant of `POST /token`) or a refresh ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// Tokens were issued.
    Success,
    /// Wrong username or password (or one that cannot be a password).
    Failure,
    /// The right password, but the account is disabled (a refresh: the user is disabled).
    Disabled,
    /// Refused by the lockout after failed logins.
    Locked,
    /// Refused by the per-IP rate limit (reported by the HTTP adapter, which applies it).
    RateLimited,
    /// Refused at once because the hashing queue is full (load shedding).
    Overloaded,
    /// A refresh token that is unknown, or whose session has ended.
    Invalid,
    /// A refresh token presented again after its rotation: the session was revoked.
    ReuseDetected,
    /// The store failed, or another error.
    Error,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 9] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Disabled,
        Outcome::Locked,
        Outcome::RateLimited,
        Outcome::Overloaded,
        Outcome::Invalid,
        Outcome::ReuseDetected,
        Outcome::Error,
    ];

    /// The label value, e.g. `reuse_detected`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Disabled => "disabled",
            Outcome::Locked => "locked",
            Outcome::RateLimited => "rate_limited",
            Outcome::Overloaded => "overloaded",
            Outcome::Invalid => "invalid",
            Outcome::ReuseDetected => "reuse_detected",
            Outcome::Error => "error",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Receives what the service reports (set with
/// [`AuthService::observe_with`](crate::AuthService::observe_with)). Calls come from any thread,
/// often a blocking or hashing one, and must return quickly. Every method does nothing unless
/// overridden.
pub trait Observer: Send + Sync {
    /// A login ended with `outcome`.
    fn login(&self, outcome: Outcome) {
        let _ = outcome;
    }

    /// A refresh-token exchange ended with `outcome`.
    fn refresh(&self, outcome: Outcome) {
        let _ = outcome;
    }

    /// An operation failed because the store was unavailable.
    fn store_unavailable(&self) {}
}

/// The observer of a service that has none.
pub(crate) struct Unobserved;

impl Observer for Unobserved {}
