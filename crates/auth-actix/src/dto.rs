//! The request and response shapes of the HTTP contract, in one place. Requests are read with
//! serde (unknown fields ignored); responses are written with serde, field order as declared.
//! Only [`UserResponse`] is public: the others are the routes' business.
//!
//! Each derives `ToSchema` (or `IntoParams`), so the OpenAPI document describes exactly these
//! shapes; the constraints written on a field are the ones the server checks. Registration,
//! login and tokens are in [`credentials`]; the small answers of the meta routes in [`meta`].

use auth_domain::{ApiKey, AuditEvent, Role, Session, SessionId, User};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize};
#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

mod credentials;
mod integer;
mod meta;
mod mfa;
mod mfa_login;
mod recovery;

pub(crate) use credentials::{
    LoginBody, LogoutQuery, RefreshBody, RegisterBody, ScopeParam, TokenExpiry, TokenForm,
    TokenResponse,
};
pub(crate) use meta::{AdminWelcome, Health, HealthUnavailable, Liveness, ProtectedGreeting};
#[cfg(feature = "openapi")]
pub(crate) use meta::{GrantType, Jwks, RoleName};
pub(crate) use mfa::{
    CurrentPasswordBody, DisableTotpBody, RecoveryCodesResponse, TotpCodeBody, TotpSetupResponse,
};
pub(crate) use mfa_login::MfaLoginBody;
#[cfg(feature = "openapi")]
pub(crate) use mfa_login::MfaLoginRequest;
#[cfg(feature = "openapi")]
pub(crate) use recovery::ForgotPasswordRequest;
pub(crate) use recovery::{
    AcceptedResponse, ForgotPasswordBody, ResetPasswordBody, VerifyEmailBody,
};

// The patterns below are written out in each attribute (utoipa takes literals only):
// - usernames: what `Username::parse` accepts, 3 to 32 ASCII letters, digits, `_`, `.`, `-`;
// - emails: what `Email::parse` accepts, a dot-atom local part, `@`, dotted labels of at most
//   63 characters and a letters-only top-level domain (the local part's limit, 64 characters,
//   is beyond a pattern that generators can use: it is in the description);
// - passwords: no NUL (bcrypt would stop reading there).

/// RFC 3339 in UTC, to the second: how every time but the audit log's is shown.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A user as the API shows it. There is no field for the password hash, so none can leak.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = User, example = json!({
    "id": "0b9f4a52-3c1e-4c8e-9a51-6f0d2b7c1e44",
    "username": "alice",
    "email": "alice@example.com",
    "email_verified": false,
    "pending_email": null,
    "role": "user",
    "is_active": true,
    "mfa_enabled": false,
    "created_at": "2026-11-22T10:00:00Z",
    "updated_at": "2026-11-22T10:00:00Z"
})))]
pub struct UserResponse {
    /// The user id.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    pub id: String,
    /// The username as registered.
    pub username: String,
    /// The email, or null.
    pub email: Option<String>,
    /// Whether the user has shown they read `email` (by using a link sent to it, such as a
    /// password reset's); false for a new address.
    pub email_verified: bool,
    /// The address an email change waits to move to, until the link sent there is used
    /// (`POST /email/verify`); null when no change is pending.
    pub pending_email: Option<String>,
    /// `user` or `admin`.
    #[cfg_attr(feature = "openapi", schema(value_type = RoleName))]
    pub role: String,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Whether logins need a second factor (TOTP).
    pub mfa_enabled: bool,
    /// RFC 3339, UTC.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub created_at: String,
    /// RFC 3339, UTC.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub updated_at: String,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            email: user.email.as_ref().map(ToString::to_string),
            email_verified: user.email_verified,
            pending_email: user.pending_email.as_ref().map(ToString::to_string),
            role: user.role.to_string(),
            is_active: user.is_active,
            mfa_enabled: user.mfa_enabled,
            created_at: rfc3339(user.created_at),
            updated_at: rfc3339(user.updated_at),
        }
    }
}

/// One of the caller's sessions.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = Session, example = json!({
    "id": "5d2c8e8a-0f57-4a43-9b8e-2f1a6c3d7b90",
    "created_at": "2026-11-22T10:00:00Z",
    "last_used_at": "2026-11-22T10:05:00Z",
    "expires_at": "2026-12-06T10:05:00Z",
    "user_agent": "curl/8.5.0",
    "ip": "127.0.0.1",
    "current": true
})))]
pub(crate) struct SessionResponse {
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    id: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    created_at: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    last_used_at: String,
    /// When it ends unless refreshed (the idle timeout), or its absolute end if sooner.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    expires_at: String,
    user_agent: Option<String>,
    ip: Option<String>,
    /// Whether this is the session of the token that asks.
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

/// A field that was sent: distinguishes `"email": null` (remove it) from a missing `email`
/// (leave it). On a field that cannot be removed (`T` not an `Option`), `null` is a wrong type.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

/// `PUT`/`PATCH /profile`: only the fields sent change.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ProfileUpdate, example = json!({"email": "alice@example.org"})))]
pub(crate) struct ProfileBody {
    /// A new username (same rules as at registration); it cannot be removed (`null` is 422).
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^[A-Za-z0-9_.-]{3,32}$"))]
    pub username: Option<String>,
    /// A new email (at most 64 characters before the `@`); `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 254, pattern = r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"))]
    pub email: Option<Option<String>>,
    /// A new password (same rules as at registration); needs `current_password`. Ends every
    /// other session of the user and revokes all their API keys. It cannot be removed (`null`
    /// is 422).
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, min_length = 8, max_length = 72, pattern = r"^[^\u0000]*$"))]
    pub password: Option<String>,
    /// The current password, checked like a login; required with `password`, ignored without
    /// it.
    #[serde(default)]
    pub current_password: Option<String>,
}

/// An API key as its owner sees it, without the key itself.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = ApiKey, example = json!({
    "id": "8a4c2f3e-7b1d-4e6a-9c5f-0d2b8e7a1c34",
    "name": "reporting job",
    "prefix": "ak_3f9c1a2b",
    "created_at": "2026-11-22T10:00:00Z",
    "expires_at": "2027-02-20T10:00:00Z",
    "last_used_at": null,
    "revoked_at": null
})))]
pub(crate) struct ApiKeyResponse {
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    id: String,
    name: String,
    /// The visible part of the key, by which it is found (`ak_<8 hex>`).
    prefix: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    created_at: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    expires_at: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    last_used_at: Option<String>,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    revoked_at: Option<String>,
}

impl ApiKeyResponse {
    /// `key` as its owner sees it.
    pub fn new(key: &ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            created_at: rfc3339(key.created_at),
            expires_at: key.expires_at.map(rfc3339),
            last_used_at: key.last_used_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

/// A new API key: the record, and the key itself, shown this once.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NewApiKey))]
pub(crate) struct NewApiKeyResponse {
    #[serde(flatten)]
    pub record: ApiKeyResponse,
    /// The key (`ak_<8 hex>_<43 base64url>`), to send in the API-key header. Shown only here.
    #[cfg_attr(
        feature = "openapi",
        schema(example = "ak_3f9c1a2b_N2Q0ZTk1YjEtZDc4Mi00YjZkLWE0YzUtMWY3ZTg")
    )]
    pub key: String,
}

/// `POST /api-keys`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = NewApiKeyRequest, example = json!({
    "name": "reporting job",
    "expires_in_days": 90,
    "current_password": "correct horse battery"
})))]
pub(crate) struct NewKeyBody {
    /// 1 to 64 printable characters, not only spaces.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub name: String,
    /// Days until the key expires (1 to 3650); without it, the key does not expire.
    #[serde(default, deserialize_with = "integer::optional")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 3650))]
    pub expires_in_days: Option<i64>,
    /// Required: a stolen access token alone must not mint a lasting credential.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = String, max_length = 72, pattern = r"^[^\u0000]*$"))]
    pub current_password: Option<String>,
}

/// The query of `GET /admin/users`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub(crate) struct UsersQuery {
    /// Users per page.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200, default = 50))]
    pub limit: Option<u32>,
    /// Users to skip.
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64))]
    pub offset: Option<u32>,
    /// The start of the username or of the email, ASCII letters without regard to case
    /// (`ali` finds `alice` and `Alice.B@example.com`, not `malice`); at most 64 printable
    /// characters.
    #[cfg_attr(
        feature = "openapi",
        param(max_length = 64, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$")
    )]
    pub q: Option<String>,
    /// The `next` of the previous page (an opaque cursor); not with `offset`.
    #[cfg_attr(feature = "openapi", param(pattern = r"^u[0-9A-Fa-f]{48}$"))]
    pub after: Option<String>,
    /// `true` or `false`: whether to count every match into `total`. By default a page
    /// without `after` is counted (up to a cap), and a page with `after` is not.
    pub total: Option<bool>,
}

/// A page of `GET /admin/users`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "users": [{
        "id": "0b9f4a52-3c1e-4c8e-9a51-6f0d2b7c1e44",
        "username": "alice",
        "email": "alice@example.com",
        "role": "user",
        "is_active": true,
        "mfa_enabled": false,
        "created_at": "2026-11-22T10:00:00Z",
        "updated_at": "2026-11-22T10:00:00Z"
    }],
    "total": 1,
    "next": null
})))]
pub(crate) struct UsersPage {
    /// Oldest first.
    pub users: Vec<UserResponse>,
    /// Every match, or null when not counted.
    pub total: Option<u64>,
    /// The cursor of the next page, null on the last.
    pub next: Option<String>,
}

/// `PATCH /admin/users/{id}`: only the fields sent change.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = UserAdminUpdate, example = json!({"is_active": false})))]
pub(crate) struct UserPatch {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<RoleName>))]
    pub role: Option<Role>,
    /// `false` disables the user and ends every session of theirs.
    #[serde(default)]
    pub is_active: Option<bool>,
}

/// The query of `GET /admin/audit`.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub(crate) struct AuditParams {
    /// Only events whose actor or target is this user.
    pub user: Option<Uuid>,
    /// Only events at or after this time (RFC 3339; years 1 to 9999 in UTC).
    pub since: Option<DateTime<Utc>>,
    /// Only events at or before this time (RFC 3339; years 1 to 9999 in UTC).
    pub until: Option<DateTime<Utc>>,
    /// Events per page.
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200, default = 50))]
    pub limit: Option<u32>,
    /// Events to skip.
    #[cfg_attr(feature = "openapi", param(value_type = Option<u64>, minimum = 0, maximum = 4294967295_u64))]
    pub offset: Option<u32>,
    /// The `next` of the previous page (an opaque cursor); not with `offset`.
    #[cfg_attr(feature = "openapi", param(pattern = r"^a[0-9A-Fa-f]{48}$"))]
    pub after: Option<String>,
    /// `true` or `false`: whether to count every match into `total`. By default a page
    /// without `after` is counted (up to a cap), and a page with `after` is not.
    pub total: Option<bool>,
}

/// An audit event; its time to the microsecond, unlike every other time shown.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = AuditEvent, example = json!({
    "id": "3e0f6a1c-9b2d-4f7e-8a5c-1d4b7e2f9a60",
    "at": "2026-11-22T10:00:00.123456Z",
    "action": "login",
    "outcome": "success",
    "actor": "0b9f4a52-3c1e-4c8e-9a51-6f0d2b7c1e44",
    "target": "0b9f4a52-3c1e-4c8e-9a51-6f0d2b7c1e44",
    "ip": "127.0.0.1",
    "detail": "password"
})))]
pub(crate) struct AuditResponse {
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    id: String,
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    at: String,
    /// e.g. `login`, `register`, `api_key.created` (see the audit table in docs/api.md).
    action: String,
    /// `success` or `failure`.
    outcome: String,
    /// The user who acted, when known.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
    actor: Option<String>,
    /// The user acted on, when known.
    #[cfg_attr(feature = "openapi", schema(format = Uuid))]
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
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub(crate) struct AuditPage {
    /// Newest first.
    pub events: Vec<AuditResponse>,
    /// Every match, or null when not counted.
    pub total: Option<u64>,
    /// The cursor of the next page, null on the last.
    pub next: Option<String>,
}
