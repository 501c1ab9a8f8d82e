use chrono::{DateTime, TimeDelta, Utc};

use crate::{ApiKeyId, CredentialGeneration, RefreshTokenHash, SessionId, User, UserId};

/// Where a request came from, as recorded on a session.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client IP (the socket peer, or the forwarded address from a trusted proxy).
    pub ip: Option<String>,
    /// The `User-Agent` header, truncated to a bounded length.
    pub user_agent: Option<String>,
    /// The absolute URL the request came to (`server.public_url` or the request's origin),
    /// without a trailing slash: the access tokens issued for it carry a `status` claim with a
    /// list under `{origin}/statuslists/`. `None`: no `status` claim. Not stored with sessions.
    pub origin: Option<String>,
}

/// A login session: what an access token's `sid` names and a refresh token renews.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The session id.
    pub id: SessionId,
    /// Whose session it is.
    pub user_id: UserId,
    /// When the user logged in.
    pub created_at: DateTime<Utc>,
    /// When the session was last renewed.
    pub last_used_at: DateTime<Utc>,
    /// The idle deadline: without a refresh before then, the session ends.
    pub idle_expires_at: DateTime<Utc>,
    /// The absolute deadline, whatever the refreshes.
    pub expires_at: DateTime<Utc>,
    /// When and why the session was ended early, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The client that opened it.
    pub client: ClientInfo,
    /// The API key it was opened with, for a session from an API-key exchange: it has the
    /// key's limits and ends when the key is revoked.
    pub api_key: Option<ApiKeyId>,
    /// Whether the login that opened it passed a second factor: its access tokens, refreshed
    /// ones included, say so (`amr: ["pwd", "otp"]`).
    pub mfa: bool,
}

impl Session {
    /// Whether the session can still authenticate requests at `now`.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.idle_expires_at && now < self.expires_at
    }

    /// The earlier of the idle and absolute deadlines.
    pub fn ends_at(&self) -> DateTime<Utc> {
        self.idle_expires_at.min(self.expires_at)
    }
}

/// A session about to be opened, with the digest of its first refresh token.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// The session as it will be stored.
    pub session: Session,
    /// The digest of the refresh token handed to the client; `None` for a session that cannot
    /// be refreshed (one opened with an API key).
    pub refresh_token_hash: Option<RefreshTokenHash>,
    /// The user's credential generation that the check opening it saw (the password's, the
    /// `mfa_token`'s, the API key owner's): the session is stored only while it is still the
    /// user's ([`CredentialGeneration`]).
    pub generation: CredentialGeneration,
}

/// Which of a user's sessions to revoke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionRevocation {
    /// Every session of the user.
    All,
    /// Every session of the user but this one.
    AllExcept(SessionId),
}

/// A request to exchange a refresh token for a new one (see
/// [`SessionStore::rotate_refresh_token`](crate::SessionStore::rotate_refresh_token)).
#[derive(Clone, Debug)]
pub struct RefreshRotation {
    /// The digest of the token the client presented.
    pub presented: RefreshTokenHash,
    /// The digest of the token that replaces it.
    pub replacement: RefreshTokenHash,
    /// The time of the exchange.
    pub at: DateTime<Utc>,
    /// How long after its rotation a token may still be presented (concurrent refreshes).
    pub reuse_grace: TimeDelta,
    /// The session's new idle deadline is `at + idle_ttl`.
    pub idle_ttl: TimeDelta,
}

/// What a refresh-token rotation did.
// Returned once per refresh and consumed at once: boxing the large variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The replacement is stored; the session (renewed) and its user are returned.
    Rotated {
        /// The session, with its new `last_used_at` and idle deadline.
        session: Session,
        /// The session's user as stored now.
        user: User,
    },
    /// A token rotated longer ago than the grace period was presented again: the session has
    /// been revoked, every token of it included.
    ReuseDetected {
        /// The revoked session.
        session: SessionId,
        /// Its user.
        user: UserId,
    },
    /// Unknown token, or its session has ended. Nothing changed.
    Invalid,
}
