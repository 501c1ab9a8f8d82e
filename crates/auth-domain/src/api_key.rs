use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{CredentialGeneration, UserId};

/// An API key's identifier (not the key itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyId(pub Uuid);

impl ApiKeyId {
    /// A new random id.
    pub fn new() -> Self {
        Self(Uuid::new_v4())
    }
}

impl Default for ApiKeyId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for ApiKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An API key as stored: everything but the key, of which only a digest is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    /// Its id.
    pub id: ApiKeyId,
    /// Whose key it is; it acts as this user, with the user's current role.
    pub user_id: UserId,
    /// A name its owner chose.
    pub name: String,
    /// The visible start of the key, used to find it (unique).
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// Whether the key works at `now`.
    pub fn is_live_at(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|end| now < end)
    }
}

/// A key about to be stored, with the digest of the secret key.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    /// The key's record.
    pub key: ApiKey,
    /// The SHA-256 digest of the whole key (base64url).
    pub key_hash: String,
    /// The owner's credential generation that the current password was checked at: the key is
    /// stored only while it is still the owner's ([`CredentialGeneration`]).
    pub generation: CredentialGeneration,
}
