//! Database rows and their conversion to and from domain types. Private to the crate.

use auth_domain::{
    ApiKey, ApiKeyId, AuditEvent, ClientInfo, CredentialGeneration, Email, PasswordHash, Role,
    Session, SessionId, StoreError, User, UserChanges, UserId, Username,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{api_keys, audit_events, refresh_tokens, sessions, users};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: String,
    username: String,
    username_normalized: String,
    email: Option<String>,
    email_normalized: Option<String>,
    password_hash: String,
    role: String,
    is_active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    mfa_enabled: bool,
    credential_generation: i64,
    email_verified: bool,
    pending_email: Option<String>,
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChangeset {
    username: Option<String>,
    username_normalized: Option<String>,
    email: Option<Option<String>>,
    email_normalized: Option<Option<String>>,
    role: Option<String>,
    is_active: Option<bool>,
    updated_at: NaiveDateTime,
    pending_email: Option<Option<String>>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub(crate) struct SessionRow {
    id: String,
    user_id: String,
    created_at: NaiveDateTime,
    last_used_at: NaiveDateTime,
    idle_expires_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    user_agent: Option<String>,
    ip: Option<String>,
    api_key_id: Option<String>,
    mfa: bool,
}

#[derive(Insertable)]
#[diesel(table_name = refresh_tokens)]
pub(crate) struct RefreshTokenRow {
    pub(crate) token_hash: String,
    pub(crate) session_id: String,
    pub(crate) issued_at: NaiveDateTime,
    pub(crate) superseded_at: Option<NaiveDateTime>,
}

pub(crate) fn naive(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc()
}

pub(crate) fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::unavailable(format!("corrupt row: invalid {what}"))
}

pub(crate) fn uuid(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw).map_err(|_| corrupt("id"))
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            username: user.username.to_string(),
            username_normalized: user.username.normalized(),
            email: user.email.as_ref().map(ToString::to_string),
            email_normalized: user.email.as_ref().map(Email::normalized),
            password_hash: user.password_hash.expose().to_owned(),
            role: user.role.as_str().to_owned(),
            is_active: user.is_active,
            created_at: naive(user.created_at),
            updated_at: naive(user.updated_at),
            mfa_enabled: user.mfa_enabled,
            credential_generation: user.credential_generation.0,
            email_verified: user.email_verified,
            pending_email: user.pending_email.as_ref().map(ToString::to_string),
        }
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId(uuid(&row.id)?),
            username: Username::parse(&row.username).map_err(|_| corrupt("username"))?,
            email: row
                .email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|_| corrupt("email"))?,
            email_verified: row.email_verified,
            pending_email: row
                .pending_email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(|_| corrupt("pending email"))?,
            password_hash: PasswordHash::new(row.password_hash),
            role: Role::parse(&row.role).map_err(|_| corrupt("role"))?,
            is_active: row.is_active,
            mfa_enabled: row.mfa_enabled,
            credential_generation: CredentialGeneration(row.credential_generation),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

impl From<&UserChanges> for UserChangeset {
    fn from(changes: &UserChanges) -> Self {
        Self {
            username: changes.username.as_ref().map(ToString::to_string),
            username_normalized: changes.username.as_ref().map(Username::normalized),
            email: changes
                .email
                .as_ref()
                .map(|e| e.as_ref().map(ToString::to_string)),
            email_normalized: changes
                .email
                .as_ref()
                .map(|e| e.as_ref().map(Email::normalized)),
            role: changes.role.map(|r| r.as_str().to_owned()),
            is_active: changes.is_active,
            updated_at: naive(changes.updated_at),
            // Any change of the address drops a pending one.
            pending_email: changes.email.as_ref().map(|_| None),
        }
    }
}

impl From<&Session> for SessionRow {
    fn from(session: &Session) -> Self {
        Self {
            id: session.id.to_string(),
            user_id: session.user_id.to_string(),
            created_at: naive(session.created_at),
            last_used_at: naive(session.last_used_at),
            idle_expires_at: naive(session.idle_expires_at),
            expires_at: naive(session.expires_at),
            revoked_at: session.revoked_at.map(naive),
            user_agent: session.client.user_agent.clone(),
            ip: session.client.ip.clone(),
            api_key_id: session.api_key.map(|k| k.to_string()),
            mfa: session.mfa,
        }
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId(uuid(&row.id)?),
            user_id: UserId(uuid(&row.user_id)?),
            created_at: utc(row.created_at),
            last_used_at: utc(row.last_used_at),
            idle_expires_at: utc(row.idle_expires_at),
            expires_at: utc(row.expires_at),
            revoked_at: row.revoked_at.map(utc),
            client: ClientInfo {
                ip: row.ip,
                user_agent: row.user_agent,
                origin: None,
            },
            api_key: row
                .api_key_id
                .as_deref()
                .map(uuid)
                .transpose()?
                .map(ApiKeyId),
            mfa: row.mfa,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub(crate) struct ApiKeyRow {
    id: String,
    user_id: String,
    name: String,
    prefix: String,
    pub(crate) key_hash: String,
    created_at: NaiveDateTime,
    expires_at: Option<NaiveDateTime>,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    pub(crate) fn new(key: &ApiKey, key_hash: String) -> Self {
        Self {
            id: key.id.to_string(),
            user_id: key.user_id.to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            key_hash,
            created_at: naive(key.created_at),
            expires_at: key.expires_at.map(naive),
            last_used_at: key.last_used_at.map(naive),
            revoked_at: key.revoked_at.map(naive),
        }
    }
}

impl TryFrom<&ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: &ApiKeyRow) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: ApiKeyId(uuid(&row.id)?),
            user_id: UserId(uuid(&row.user_id)?),
            name: row.name.clone(),
            prefix: row.prefix.clone(),
            created_at: utc(row.created_at),
            expires_at: row.expires_at.map(utc),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
pub(crate) struct AuditRow {
    id: String,
    at: NaiveDateTime,
    action: String,
    outcome: String,
    actor_id: Option<String>,
    target_id: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
}

impl From<&AuditEvent> for AuditRow {
    fn from(event: &AuditEvent) -> Self {
        Self {
            id: event.id.to_string(),
            at: naive(event.at),
            action: event.action.clone(),
            outcome: event.outcome.clone(),
            actor_id: event.actor.map(|u| u.to_string()),
            target_id: event.target.map(|u| u.to_string()),
            ip: event.ip.clone(),
            detail: event.detail.clone(),
        }
    }
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let user = |id: Option<String>| id.as_deref().map(uuid).transpose().map(|u| u.map(UserId));
        Ok(AuditEvent {
            id: uuid(&row.id)?,
            at: utc(row.at),
            action: row.action,
            outcome: row.outcome,
            actor: user(row.actor_id)?,
            target: user(row.target_id)?,
            ip: row.ip,
            detail: row.detail,
        })
    }
}
