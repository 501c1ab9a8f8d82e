//! API keys: `ak_<prefix>_<secret>`, 256 random bits, stored as a SHA-256 digest and found by
//! their visible prefix. A key acts as its owner (current role and state) but cannot create
//! keys, change the password or manage sessions.

use std::{sync::Arc, time::Duration};

use auth_domain::{
    ApiKey, ApiKeyId, AuditAction, ClientInfo, Conflict, Invalidation, NewApiKey, Password,
    StoreError, now,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{
    audit::{self, EventBuilder},
    error::{AuthError, changed_since_check},
    service::AuthService,
    sessions::{Credential, Principal, TokenPair},
};

/// What every API key starts with.
pub const API_KEY_PREFIX: &str = "ak_";
const PREFIX_HEX_LEN: usize = 8;
const MAX_NAME_CHARS: usize = 64;
const MAX_EXPIRY_DAYS: i64 = 3650;
// A use updates `last_used_at` (a write) at most this often.
const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);
// A known key is refused (wrong secret, revoked, owner disabled) in the audit log at most this
// often for each reason, so that a flood of wrong secrets is not a flood of audit rows.
const RECORD_REFUSALS_EVERY: Duration = Duration::from_secs(60);
// Keys whose refusals are remembered; beyond them the oldest are forgotten (and may be
// recorded again).
const MAX_REMEMBERED_REFUSALS: u64 = 10_000;

/// The refusals of known keys recorded in the audit log within the last minute, per key and
/// reason, in this process.
pub(crate) struct KeyRefusals(moka::sync::Cache<(ApiKeyId, &'static str), ()>);

impl KeyRefusals {
    pub(crate) fn new() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(MAX_REMEMBERED_REFUSALS)
                .time_to_live(RECORD_REFUSALS_EVERY)
                .build(),
        )
    }

    /// Whether this is the first refusal of `key` for `why` within the last minute (counting
    /// it, atomically: of concurrent refusals, one is first).
    fn first_in_a_while(&self, key: ApiKeyId, why: &'static str) -> bool {
        self.0.entry((key, why)).or_insert(()).is_fresh()
    }
}

fn digest(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(key.as_bytes()))
}

/// Compares two digests in time independent of where they differ.
fn same_digest(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn random_key() -> (String, String) {
    let mut bytes = [0u8; 4 + 32];
    getrandom::fill(&mut bytes).expect("the operating system has no randomness");
    let prefix: String = bytes[..4].iter().map(|b| format!("{b:02x}")).collect();
    let key = format!(
        "{API_KEY_PREFIX}{prefix}_{}",
        URL_SAFE_NO_PAD.encode(&bytes[4..])
    );
    (prefix, key)
}

/// The prefix of a well-formed key, or `None`.
fn prefix_of(presented: &str) -> Option<&str> {
    let rest = presented.strip_prefix(API_KEY_PREFIX)?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == PREFIX_HEX_LEN
        && prefix.bytes().all(|b| b.is_ascii_hexdigit())
        && (40..=64).contains(&secret.len());
    well_formed.then_some(prefix)
}

impl AuthService {
    /// Creates an API key for the caller, who must hold a bearer session (a key cannot create
    /// keys) and confirm it with their current password, checked like a login (a wrong one
    /// counts toward the lockout): a stolen access token alone must not become a credential
    /// that outlives the session. Returns the key's record and the key itself, which is shown
    /// only this once.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        name: &str,
        expires_in_days: Option<i64>,
        current_password: Option<Password>,
    ) -> Result<(ApiKey, String), AuthError> {
        principal.session()?;
        let name = name.trim().to_owned();
        if name.is_empty()
            || name.chars().count() > MAX_NAME_CHARS
            || name.chars().any(char::is_control)
        {
            return Err(AuthError::InvalidInput(format!(
                "name must be 1 to {MAX_NAME_CHARS} printable characters"
            )));
        }
        if expires_in_days.is_some_and(|days| !(1..=MAX_EXPIRY_DAYS).contains(&days)) {
            return Err(AuthError::InvalidInput(format!(
                "expires_in_days must be between 1 and {MAX_EXPIRY_DAYS}"
            )));
        }
        let current_password = current_password.ok_or(AuthError::CurrentPasswordRequired)?;
        let (owner, client) = (principal.user.clone(), principal.client.clone());
        let (user, ip) = (owner.id, client.ip.clone());
        self.hashing(move |inner| {
            // Checked against the owner as the credential cache had them: the key is stored
            // only if that is still the owner's credential generation.
            inner.check_current_password(
                &owner,
                &current_password,
                &client,
                AuditAction::ApiKeyCreated,
            )?;
            // A clash of 32-bit prefixes is rare; try again with a new key.
            for _ in 0..5 {
                let (prefix, key) = random_key();
                let at = now();
                let record = ApiKey {
                    id: ApiKeyId::new(),
                    user_id: user,
                    name: name.clone(),
                    prefix,
                    created_at: at,
                    expires_at: expires_in_days.map(|days| at + TimeDelta::days(days)),
                    last_used_at: None,
                    revoked_at: None,
                };
                match inner.store.create_api_key(NewApiKey {
                    key: record,
                    key_hash: digest(&key),
                    generation: owner.credential_generation,
                }) {
                    Ok(created) => {
                        inner.record(
                            audit::event(AuditAction::ApiKeyCreated, true)
                                .by(user)
                                .on(user)
                                .ip(ip)
                                .detail(format!("key {} ({})", created.id, created.prefix)),
                        );
                        return Ok((created, key));
                    }
                    Err(StoreError::Conflict(Conflict::KeyPrefix)) => continue,
                    // The password changed since the check: it is not the current password.
                    Err(StoreError::CredentialsChanged) => {
                        inner.record(
                            audit::event(AuditAction::ApiKeyCreated, false)
                                .by(user)
                                .on(user)
                                .ip(ip)
                                .detail("credentials_changed"),
                        );
                        return Err(AuthError::InvalidCurrentPassword);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Err(AuthError::internal("no free API key prefix after 5 tries"))
        })
        .await
    }

    /// The caller's keys (live ones and revoked or expired ones, newest first).
    pub async fn api_keys(&self, principal: &Principal) -> Result<Vec<ApiKey>, AuthError> {
        principal.session()?;
        let user = principal.user.id;
        self.blocking(move |inner| Ok(inner.store.user_api_keys(user)?))
            .await
    }

    /// Revokes one of the caller's keys; another user's key is [`AuthError::NotFound`].
    pub async fn revoke_api_key(
        &self,
        principal: &Principal,
        id: ApiKeyId,
    ) -> Result<(), AuthError> {
        principal.session()?;
        let (user, ip) = (principal.user.id, principal.client.ip.clone());
        self.blocking(move |inner| {
            inner.store.revoke_api_key(user, id, now())?;
            inner.invalidate(Invalidation::ApiKey(id));
            inner.record(
                audit::event(AuditAction::ApiKeyRevoked, true)
                    .by(user)
                    .on(user)
                    .ip(ip)
                    .detail(format!("key {id}")),
            );
            Ok(())
        })
        .await
    }

    /// Authenticates a request by API key: the key must be known, live (not revoked, not
    /// expired), and its user active. The key is found in the credential cache, or with one
    /// store call on a miss. Records the use at most once a minute, and a refusal of a known
    /// key at most once a minute for each key and reason (in this process).
    pub async fn authenticate_api_key(
        &self,
        presented: &str,
        client: ClientInfo,
    ) -> Result<Principal, AuthError> {
        let prefix = prefix_of(presented)
            .ok_or(AuthError::InvalidApiKey)?
            .to_owned();
        let presented_digest = digest(presented);
        let cache = &self.inner.cache;
        let entry = match cache.api_key(&prefix) {
            Some(hit) => hit,
            None => {
                let read = cache.begin_read();
                let found = self
                    .blocking(move |inner| Ok(inner.store.api_key_by_prefix(&prefix)?))
                    .await?
                    .ok_or(AuthError::InvalidApiKey)?;
                let found = Arc::new(found);
                cache.insert_api_key(read, Arc::clone(&found));
                found
            }
        };
        let (key, stored_digest, user) = (entry.0.clone(), &entry.1, entry.2.clone());
        let at = now();
        let refusal = if !same_digest(&presented_digest, stored_digest) {
            Some("wrong secret")
        } else if !key.is_live_at(at) {
            Some("revoked or expired")
        } else if !user.is_active {
            Some("user disabled")
        } else {
            None
        };
        let record = match refusal {
            Some(why) => self.inner.key_refusals.first_in_a_while(key.id, why),
            None => key.last_used_at.is_none_or(|last| at - last >= TOUCH_EVERY),
        };
        if record {
            let (key, ip) = (key.clone(), client.ip.clone());
            let user_id = user.id;
            self.blocking(move |inner| {
                let event = match refusal {
                    Some(why) => audit::event(AuditAction::ApiKeyUsed, false)
                        .detail(format!("key {}: {why}", key.id)),
                    None => {
                        inner.store.touch_api_key(key.id, at)?;
                        // The cached copy's last use is stale now.
                        inner.invalidate(Invalidation::ApiKey(key.id));
                        audit::event(AuditAction::ApiKeyUsed, true)
                            .by(user_id)
                            .detail(format!("key {}", key.id))
                    }
                };
                inner.record(event.on(user_id).ip(ip));
                Ok(())
            })
            .await?;
        }
        if refusal.is_some() {
            return Err(AuthError::InvalidApiKey);
        }
        Ok(Principal {
            user,
            credential: Credential::ApiKey(key),
            client,
        })
    }

    /// Exchanges an API-key caller for an access token (no refresh token): a session that ends
    /// with the token.
    pub async fn exchange_api_key(&self, principal: &Principal) -> Result<TokenPair, AuthError> {
        let Credential::ApiKey(key) = &principal.credential else {
            return Err(AuthError::InvalidApiKey);
        };
        let (user, key, client) = (
            principal.user.clone(),
            key.clone(),
            principal.client.clone(),
        );
        if self.config().require_verified_email && !user.email_verified {
            return Err(AuthError::EmailNotVerified);
        }
        let key_id = key.id;
        let ttl = self.config().access_ttl;
        self.blocking(move |inner| {
            let ip = client.ip.clone();
            // Refused if the key was revoked, or its owner's credentials changed, since the key
            // was checked.
            let pair = inner
                .open_session(&user, client, ttl, Some(&key))
                .map_err(|e| changed_since_check(e, AuthError::InvalidApiKey))?;
            inner.record(
                audit::event(AuditAction::Login, true)
                    .by(user.id)
                    .on(user.id)
                    .ip(ip)
                    .detail(format!("api_key {key_id}")),
            );
            Ok(pair)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_256_random_bits_and_a_visible_prefix() {
        let (prefix, key) = random_key();
        assert_eq!(prefix_of(&key), Some(prefix.as_str()));
        let secret = &key[API_KEY_PREFIX.len() + PREFIX_HEX_LEN + 1..];
        assert_eq!(URL_SAFE_NO_PAD.decode(secret).unwrap().len(), 32);
        assert_ne!(random_key().1, key);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for bad in [
            "",
            "ak_",
            "ak_zzzzzzzz_x",
            "ak_0011223_abc",
            "sk_00112233_",
            "ak_00112233",
        ] {
            assert_eq!(prefix_of(bad), None, "{bad:?}");
        }
        let long = format!("ak_00112233_{}", "a".repeat(500));
        assert_eq!(prefix_of(&long), None);
    }

    #[test]
    fn digests_compare_exactly() {
        assert!(same_digest(&digest("a"), &digest("a")));
        assert!(!same_digest(&digest("a"), &digest("b")));
        assert!(!same_digest("abc", "ab"));
    }
}
