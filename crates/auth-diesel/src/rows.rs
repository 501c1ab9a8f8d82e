//! Database rows and their conversion to and from domain types. Private to the crate.

use auth_domain::{
    ClientInfo, Email, PasswordHash, Role, Session, SessionId, StoreError, User, UserChanges,
    UserId, Username,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::schema::{refresh_tokens, sessions, users};

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
}

#[derive(AsChangeset)]
#[diesel(table_name = users)]
pub(crate) struct UserChangeset {
    username: Option<String>,
    username_normalized: Option<String>,
    email: Option<Option<String>>,
    email_normalized: Option<Option<String>>,
    password_hash: Option<String>,
    role: Option<String>,
    is_active: Option<bool>,
    updated_at: NaiveDateTime,
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

fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Unavailable(format!("corrupt row: invalid {what}"))
}

fn uuid(raw: &str) -> Result<Uuid, StoreError> {
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
            password_hash: PasswordHash::new(row.password_hash),
            role: Role::parse(&row.role).map_err(|_| corrupt("role"))?,
            is_active: row.is_active,
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
            password_hash: changes
                .password_hash
                .as_ref()
                .map(|h| h.expose().to_owned()),
            role: changes.role.map(|r| r.as_str().to_owned()),
            is_active: changes.is_active,
            updated_at: naive(changes.updated_at),
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
            },
        })
    }
}
