//! The authentication model: identities, secrets, users, sessions, token claims, and the store
//! traits (ports) that persistence implements.
//!
//! No I/O and no framework. Values are parsed into domain types at the edge ("parse, don't
//! validate"): once a value has one of these types, it is valid.

mod api_key;
mod audit;
mod claims;
mod credentials;
mod identity;
mod imports;
mod invalidation;
mod mfa;
mod prune;
mod rate_limit;
mod recovery;
mod secret;
mod session;
mod status_entry;
mod store;
mod throttle;
mod user;

pub use api_key::{ApiKey, ApiKeyId, NewApiKey};
pub use audit::{AuditAction, AuditEvent, AuditQuery, Count, Cursor, UserQuery};
pub use claims::{ACCESS_TOKEN_TYPE, Claims, StatusListRef, TokenStatus};
pub use credentials::{CredentialGeneration, PasswordChange, PasswordChanged};
pub use identity::{
    Email, EmailError, Role, RoleError, SessionId, UserId, Username, UsernameError,
};
pub use imports::{ImportStore, UserImport};
pub use invalidation::Invalidation;
pub use mfa::{
    EncryptedTotpSecret, MfaChallenge, MfaStore, MfaTokenHash, RecoveryCodeHash, TotpEnrolment,
    TotpRemoval,
};
pub use prune::{PruneOutcome, PrunePolicy, PruneReport};
pub use rate_limit::{RateDecision, RateLimitStore, RateQuota, gcra_step};
pub use recovery::{
    EmailConfirmed, EmailToken, EmailTokenHash, Limit, MailLimits, NewEmailToken,
    PasswordResetChange, RecoveryStore, TokenPurpose,
};
pub use secret::{
    BCRYPT_MAX_PASSWORD_BYTES, NewPassword, Password, PasswordError, PasswordHash, RefreshTokenHash,
};
pub use session::{
    ClientInfo, NewSession, RefreshOutcome, RefreshRotation, Session, SessionRevocation,
};
pub use status_entry::{
    NewStatusEntry, RevokedStatusEntry, STATUS_ENTRY_GRACE, StatusEntry, StatusListStore,
    StatusScope, random_status_index,
};
pub use store::{
    ApiKeyStore, AuditStore, Conflict, LoginThrottleStore, PruneStore, SessionStore, Store,
    StoreError, UserStore,
};
pub use throttle::{AttemptVerdict, LockoutPolicy, LoginThrottle};
pub use user::{NewUser, User, UserChanges};

use chrono::{DateTime, SubsecRound, Utc};

/// The current time, truncated to whole microseconds.
///
/// Every store keeps microseconds (PostgreSQL cannot keep more), so times that the service
/// writes are truncated once here and compare equal after a round trip through any store.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
