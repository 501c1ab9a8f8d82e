//! [`AuthConfig`]: the service's lifetimes and limits, with documented defaults.

use auth_domain::LockoutPolicy;
use chrono::TimeDelta;

use crate::{cache::CacheConfig, hashing::HashPoolConfig, mfa::MfaConfig};

/// Lifetimes and limits of the service. Every default is documented on [`AuthConfig::default`].
#[derive(Clone, Debug)]
pub struct AuthConfig {
    /// Access-token lifetime when the client does not ask for one.
    pub access_ttl: TimeDelta,
    /// The shortest access-token lifetime a client may ask for.
    pub min_access_ttl: TimeDelta,
    /// The longest access-token lifetime a client may ask for.
    pub max_access_ttl: TimeDelta,
    /// The fewest characters a new password may have.
    pub password_min_length: usize,
    /// A session ends after this long without a refresh.
    pub session_idle_ttl: TimeDelta,
    /// A session ends this long after login, whatever the refreshes.
    pub session_max_lifetime: TimeDelta,
    /// How long after its rotation a refresh token may be presented again (so that two
    /// concurrent refreshes from one client both succeed) before reuse revokes the session.
    pub refresh_reuse_grace: TimeDelta,
    /// The least zxcvbn score (0–4) a new password needs; 0 disables the check.
    pub password_min_strength: u8,
    /// When failed password checks on one username from one client address lock that client
    /// out of the account (`security.max_failed_logins`).
    pub lockout: LockoutPolicy,
    /// When failed password checks on one username from all clients lock the account for
    /// everyone (`security.max_failed_logins_per_user`): a much higher limit, against guessing
    /// spread over many addresses.
    pub user_lockout: LockoutPolicy,
    /// The in-process credential cache (`cache.max_entries`, `cache.max_age_secs`).
    pub cache: CacheConfig,
    /// The password-hashing pool (`password.hash_threads`, `password.max_queued_hashes`).
    pub hashing: HashPoolConfig,
    /// The highest bcrypt cost a stored hash may have to be verified
    /// (`password.max_verify_cost`): a login against a costlier one fails as a wrong password
    /// does, in the same time, without running bcrypt on it, and an import refuses it. Hashes at
    /// the [`PasswordHasher`](crate::PasswordHasher)'s own cost are always verified.
    pub max_verify_cost: u32,
    /// The second factor (`mfa.issuer`, `mfa.encryption_key`).
    pub mfa: MfaConfig,
    /// Whether an account needs a verified address (`security.require_verified_email`):
    /// registration then needs an email, and a login (password, `/token`, API-key exchange) to
    /// an account whose address is not verified is refused with
    /// [`AuthError::EmailNotVerified`](crate::AuthError::EmailNotVerified), after the right
    /// password only.
    pub require_verified_email: bool,
}

impl Default for AuthConfig {
    /// 15-minute access tokens (clamped to 1 minute – 1 hour), passwords of 8 characters or
    /// more with a zxcvbn score of 3 or more, sessions idle for 14 days at most and 90 days in
    /// all, a 10-second reuse grace; a 30-second lock after 5 failed logins in a row from one
    /// client, doubling with each further failure up to an hour, forgotten after 15 quiet
    /// minutes; and the same lock after 50 failures from all clients, forgotten after a quiet
    /// hour; a credential cache of 100,000 entries trusted for 5 seconds at most; a hashing
    /// pool of one thread per core with 512 places in its queue; stored hashes verified up to
    /// bcrypt cost 14 (about four times a cost-12 verification); and the second factor of
    /// [`MfaConfig::default`] (no encryption key: TOTP cannot be enrolled until one is set);
    /// unverified addresses allowed.
    fn default() -> Self {
        Self {
            access_ttl: TimeDelta::minutes(15),
            min_access_ttl: TimeDelta::minutes(1),
            max_access_ttl: TimeDelta::hours(1),
            password_min_length: 8,
            session_idle_ttl: TimeDelta::days(14),
            session_max_lifetime: TimeDelta::days(90),
            refresh_reuse_grace: TimeDelta::seconds(10),
            password_min_strength: 3,
            lockout: LockoutPolicy {
                max_failures: 5,
                base_delay: TimeDelta::seconds(30),
                max_delay: TimeDelta::hours(1),
                decay: TimeDelta::minutes(15),
            },
            user_lockout: LockoutPolicy {
                max_failures: 50,
                base_delay: TimeDelta::seconds(30),
                max_delay: TimeDelta::hours(1),
                decay: TimeDelta::hours(1),
            },
            cache: CacheConfig::default(),
            hashing: HashPoolConfig::default(),
            max_verify_cost: 14,
            mfa: MfaConfig::default(),
            require_verified_email: false,
        }
    }
}
