//! The request and response shapes of the HTTP contract, in one place. Requests are read with
//! serde (unknown fields ignored); responses are written with serde, field order as declared.
//! Only [`UserResponse`] is public: the others are the routes' business.

use auth_core::TokenPair;
use auth_domain::{ApiKey, AuditEvent, Role, Session, SessionId, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

/// RFC 3339 in UTC, to the second: how every time but the audit log's is shown.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A user as the API shows it. There is no field for the password hash, so none can leak.
#[derive(Debug, Serialize)]
pub struct UserResponse {
    /// The user id.
    pub id: String,
    /// The username as registered.
    pub username: String,
    /// The email, or null.
    pub email: Option<String>,
    /// `user` or `admin`.
    pub role: String,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Whether logins need a second factor (TOTP).
    pub mfa_enabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            email: user.email.as_ref().map(ToString::to_string),
            role: user.role.to_string(),
            is_active: user.is_active,
            mfa_enabled: user.mfa_enabled,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// `TokenResponse` of the contract (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
}

impl<'a> From<&'a TokenPair> for TokenResponse<'a> {
    fn from(pair: &'a TokenPair) -> Self {
        Self {
            access_token: &pair.access_token,
            token_type: "bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token.as_ref().map(|t| t.expose()),
        }
    }
}

/// `POST /register`.
#[derive(Deserialize)]
pub(crate) struct RegisterBody {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /login`.
#[derive(Deserialize)]
pub(crate) struct LoginBody {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// The OAuth2 token request (RFC 6749 §4.3). Every field is optional here so that a missing one
/// is answered with `invalid_request` naming it, as §5.2 asks.
#[derive(Deserialize)]
pub(crate) struct TokenForm {
    pub grant_type: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    #[allow(dead_code)] // accepted and ignored: scopes are not used
    pub scope: Option<String>,
}

/// `POST /refresh`.
#[derive(Deserialize)]
pub(crate) struct RefreshBody {
    pub refresh_token: String,
}

/// `GET /token_expiry`.
#[derive(Serialize)]
pub(crate) struct TokenExpiry {
    pub expire_time: String,
    pub expires_in: i64,
    pub issued_at: String,
}

/// `?scope=` of `POST /logout`.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ScopeParam {
    Local,
    Others,
    Global,
}

/// The query of `POST /logout`.
#[derive(Deserialize)]
pub(crate) struct LogoutQuery {
    #[serde(default)]
    pub scope: Option<ScopeParam>,
}

/// One of the caller's sessions.
#[derive(Serialize)]
pub(crate) struct SessionResponse {
    id: String,
    created_at: String,
    last_used_at: String,
    expires_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
    current: bool,
}

impl SessionResponse {
    /// `session` as shown to its owner, who calls with the session `current`.
    pub fn new(session: &Session, current: SessionId) -> Self {
        Self {
            id: session.id.to_string(),
            created_at: rfc3339(session.created_at),
            last_used_at: rfc3339(session.last_used_at),
            expires_at: rfc3339(session.ends_at()),
            user_agent: session.client.user_agent.clone(),
            ip: session.client.ip.clone(),
            current: session.id == current,
        }
    }
}

/// Distinguishes `"email": null` (remove it) from a missing `email` (leave it).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `PUT`/`PATCH /profile`.
#[derive(Deserialize)]
pub(crate) struct ProfileBody {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub current_password: Option<String>,
}

/// An API key as its owner sees it; `key` (the secret) only in the answer that creates it.
#[derive(Serialize)]
pub(crate) struct ApiKeyResponse {
    id: String,
    name: String,
    prefix: String,
    created_at: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
}

impl ApiKeyResponse {
    /// `key`, with its `secret` when it was just created.
    pub fn new(key: &ApiKey, secret: Option<String>) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            created_at: rfc3339(key.created_at),
            expires_at: key.expires_at.map(rfc3339),
            last_used_at: key.last_used_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
            key: secret,
        }
    }
}

/// `POST /api-keys`.
#[derive(Deserialize)]
pub(crate) struct NewKeyBody {
    pub name: String,
    #[serde(default)]
    pub expires_in_days: Option<i64>,
    /// Required: a stolen access token alone must not mint a lasting credential.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// The query of `GET /admin/users`.
#[derive(Deserialize)]
pub(crate) struct UsersQuery {
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    pub q: Option<String>,
}

/// A page of `GET /admin/users`.
#[derive(Serialize)]
pub(crate) struct UsersPage {
    pub users: Vec<UserResponse>,
    pub total: u64,
}

/// `PATCH /admin/users/{id}`.
#[derive(Deserialize)]
pub(crate) struct UserPatch {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// The query of `GET /admin/audit`.
#[derive(Deserialize)]
pub(crate) struct AuditParams {
    pub user: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

/// An audit event; its time to the microsecond, unlike every other time shown.
#[derive(Serialize)]
pub(crate) struct AuditResponse {
    id: String,
    at: String,
    action: String,
    outcome: String,
    actor: Option<String>,
    target: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
}

impl From<&AuditEvent> for AuditResponse {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            at: event.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            action: event.action.clone(),
            outcome: event.outcome.clone(),
            actor: event.actor.map(|u| u.to_string()),
            target: event.target.map(|u| u.to_string()),
            ip: event.ip.clone(),
            detail: event.detail.clone(),
        }
    }
}

/// A page of `GET /admin/audit`.
#[derive(Serialize)]
pub(crate) struct AuditPage {
    pub events: Vec<AuditResponse>,
    pub total: u64,
}

/// `POST /mfa/totp` and `DELETE /mfa/totp`: the caller's current password.
#[derive(Deserialize)]
pub(crate) struct CurrentPasswordBody {
    #[serde(default)]
    pub current_password: Option<String>,
}

/// `POST /mfa/totp`'s answer, shown once: the secret and the URI that enrols an app.
#[derive(Serialize)]
pub(crate) struct TotpSetupResponse<'a> {
    pub secret: &'a str,
    pub otpauth_uri: &'a str,
}

/// `POST /mfa/totp/confirm`.
#[derive(Deserialize)]
pub(crate) struct TotpCodeBody {
    pub code: String,
}

/// `POST /mfa/totp/confirm`'s answer, shown once.
#[derive(Serialize)]
pub(crate) struct RecoveryCodesResponse<'a> {
    pub recovery_codes: &'a [String],
}

/// `POST /login/mfa`: the `mfa_token` of a `403 mfa_required` with a TOTP code or a recovery
/// code (exactly one of the two).
#[derive(Deserialize)]
pub(crate) struct MfaLoginBody {
    pub mfa_token: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub recovery_code: Option<String>,
}
