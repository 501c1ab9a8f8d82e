//! Sessions: authenticating a bearer token against its live session, opening a session,
//! refresh-token rotation, listing and ending sessions, logout.

use std::{fmt, sync::Arc};

use auth_domain::{
    ApiKey, AuditAction, Claims, ClientInfo, Invalidation, NewSession, RefreshOutcome,
    RefreshRotation, Session, SessionId, SessionRevocation, User, now,
};
use chrono::TimeDelta;

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    observer::Outcome,
    service::{AuthService, Inner},
    token::RefreshToken,
};

/// The tokens handed to a client after login.
#[derive(Clone)]
pub struct TokenPair {
    /// The signed access token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
    /// The refresh token, where the flow grants one.
    pub refresh_token: Option<RefreshToken>,
    /// The access token's claims.
    pub claims: Claims,
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("expires_in", &self.expires_in)
            .field("claims", &self.claims)
            .finish_non_exhaustive()
    }
}

/// How a caller authenticated.
// One per request, moved once: boxing the session variant would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Credential {
    /// A bearer access token of a live session.
    Session {
        /// The session the token belongs to.
        session: Session,
        /// The verified claims.
        claims: Claims,
    },
    /// An API key. It acts as its owner, but cannot manage keys, sessions or the password.
    ApiKey(ApiKey),
}

/// An authenticated caller: the user as stored now (current role and state) and how they
/// authenticated.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user as stored now.
    pub user: User,
    /// The credential used.
    pub credential: Credential,
    /// Where the request came from (filled in by the HTTP adapter; empty otherwise).
    pub client: ClientInfo,
}

impl Principal {
    /// The session and claims of a caller who logged in; [`AuthError::SessionRequired`] for an
    /// API-key caller, and for a token obtained by exchanging an API key (it has the key's
    /// limits).
    pub fn session(&self) -> Result<(&Session, &Claims), AuthError> {
        match &self.credential {
            Credential::Session { session, claims } if session.api_key.is_none() => {
                Ok((session, claims))
            }
            _ => Err(AuthError::SessionRequired),
        }
    }
}

/// Which sessions a logout ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogoutScope {
    /// Only the current session.
    #[default]
    Local,
    /// Every other session of the user.
    Others,
    /// Every session of the user.
    Global,
}

impl AuthService {
    /// Verifies a bearer token, then finds its live session and active user: in the credential
    /// cache, or with one store call on a miss. `client` is where the request came from (the
    /// HTTP adapter resolves it).
    pub async fn authenticate(
        &self,
        token: &str,
        client: ClientInfo,
    ) -> Result<Principal, AuthError> {
        let claims = self.inner.verifier.verify(token)?;
        let session_id = claims.sid;
        let cached = match self.inner.cache.session(session_id) {
            Some(hit) => hit,
            None => {
                let read = self.inner.cache.begin_read();
                let found = self
                    .blocking(move |inner| Ok(inner.store.session_with_user(session_id)?))
                    .await?
                    .ok_or(AuthError::SessionEnded)?;
                let found = Arc::new(found);
                self.inner.cache.insert_session(read, Arc::clone(&found));
                found
            }
        };
        let (session, user) = (cached.0.clone(), cached.1.clone());
        if session.user_id != claims.sub || !session.is_live_at(now()) {
            return Err(AuthError::SessionEnded);
        }
        if !user.is_active {
            return Err(AuthError::UserInactive);
        }
        Ok(Principal {
            user,
            credential: Credential::Session { session, claims },
            client,
        })
    }

    /// Ends the caller's session, their other sessions, or all of them.
    pub async fn logout(&self, principal: &Principal, scope: LogoutScope) -> Result<(), AuthError> {
        let (user, session) = (principal.user.id, principal.session()?.0.id);
        let ip = principal.client.ip.clone();
        self.blocking(move |inner| {
            let at = now();
            let ended = match scope {
                LogoutScope::Local => {
                    inner.store.revoke_session(session, at)?;
                    inner.invalidate(Invalidation::Session(session));
                    1
                }
                LogoutScope::Others => {
                    let ended = inner.store.revoke_user_sessions(
                        user,
                        SessionRevocation::AllExcept(session),
                        at,
                    )?;
                    inner.invalidate(Invalidation::User(user));
                    ended
                }
                LogoutScope::Global => {
                    let ended =
                        inner
                            .store
                            .revoke_user_sessions(user, SessionRevocation::All, at)?;
                    inner.invalidate(Invalidation::User(user));
                    ended
                }
            };
            inner.record(
                audit::event(AuditAction::Logout, true)
                    .by(user)
                    .on(user)
                    .ip(ip)
                    .detail(format!("scope={scope:?}, ended={ended}").to_lowercase()),
            );
            Ok(())
        })
        .await
    }

    /// Exchanges a refresh token for a new access token and a new refresh token (rotation).
    ///
    /// Presenting a token that was rotated longer ago than the grace period is treated as theft:
    /// the whole session is revoked, its access tokens included, and the answer is
    /// [`AuthError::InvalidGrant`].
    pub async fn refresh(
        &self,
        presented: RefreshToken,
        client: ClientInfo,
    ) -> Result<TokenPair, AuthError> {
        // Ours are 43 characters; anything much longer is not ours and is not worth hashing.
        if presented.expose().len() > 256 {
            self.inner.observer().refresh(Outcome::Invalid);
            return Err(AuthError::InvalidGrant);
        }
        let ttl = self.inner.config.access_ttl;
        let result = self
            .blocking(move |inner| {
                let refused = |outcome| {
                    inner.observer().refresh(outcome);
                    Err(AuthError::InvalidGrant)
                };
                let replacement = RefreshToken::generate();
                let at = now();
                let outcome = inner.store.rotate_refresh_token(&RefreshRotation {
                    presented: presented.digest(),
                    replacement: replacement.digest(),
                    at,
                    reuse_grace: inner.config.refresh_reuse_grace,
                    idle_ttl: inner.config.session_idle_ttl,
                })?;
                let (session, user) = match outcome {
                    RefreshOutcome::Rotated { session, user } => (session, user),
                    RefreshOutcome::ReuseDetected { session, user } => {
                        inner.invalidate(Invalidation::Session(session));
                        tracing::warn!(user_id = %user, session_id = %session, "refresh token reuse detected; session revoked");
                        inner.record(
                            audit::event(AuditAction::Refresh, false)
                                .on(user)
                                .ip(client.ip)
                                .detail(format!("reuse_detected; session {session} revoked")),
                        );
                        return refused(Outcome::ReuseDetected);
                    }
                    RefreshOutcome::Invalid => {
                        inner.record(audit::event(AuditAction::Refresh, false).ip(client.ip).detail("invalid"));
                        return refused(Outcome::Invalid);
                    }
                };
                if !user.is_active {
                    inner.record(
                        audit::event(AuditAction::Refresh, false)
                            .on(user.id)
                            .ip(client.ip)
                            .detail("disabled"),
                    );
                    return refused(Outcome::Disabled);
                }
                let (access_token, claims) = match inner.sign_access_token(
                    &user,
                    session.id,
                    ttl,
                    at,
                    session.mfa,
                    client.origin.as_deref(),
                ) {
                    // The session ended or the user changed since the rotation.
                    Err(AuthError::InvalidCredentials) => return refused(Outcome::Invalid),
                    other => other?,
                };
                inner.record(audit::event(AuditAction::Refresh, true).by(user.id).on(user.id).ip(client.ip));
                inner.observer().refresh(Outcome::Success);
                Ok(TokenPair {
                    access_token,
                    expires_in: ttl.num_seconds(),
                    refresh_token: Some(replacement),
                    claims,
                })
            })
            .await;
        // Refusals were reported where they were decided; what is left is a failure.
        if let Err(AuthError::Unavailable(_) | AuthError::Internal(_)) = &result {
            self.inner.observer().refresh(Outcome::Error);
        }
        result
    }

    /// The caller's live sessions, newest first.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>, AuthError> {
        principal.session()?;
        let user = principal.user.id;
        let sessions = self
            .blocking(move |inner| Ok(inner.store.user_sessions(user)?))
            .await?;
        let at = now();
        Ok(sessions.into_iter().filter(|s| s.is_live_at(at)).collect())
    }

    /// Ends one of the caller's own sessions; another user's session is [`AuthError::NotFound`]
    /// (so that its existence is not revealed).
    pub async fn revoke_own_session(
        &self,
        principal: &Principal,
        session: SessionId,
    ) -> Result<(), AuthError> {
        principal.session()?;
        let user = principal.user.id;
        let ip = principal.client.ip.clone();
        self.blocking(move |inner| match inner.store.session_with_user(session)? {
            Some((found, _)) if found.user_id == user && found.revoked_at.is_none() => {
                inner.store.revoke_session(session, now())?;
                inner.invalidate(Invalidation::Session(session));
                inner.record(
                    audit::event(AuditAction::SessionRevoked, true)
                        .by(user)
                        .on(user)
                        .ip(ip)
                        .detail(format!("session {session}")),
                );
                Ok(())
            }
            _ => Err(AuthError::NotFound),
        })
        .await
    }
}

impl Inner {
    /// Opens a session and signs its first access token. A login's session gets a refresh token
    /// and the configured lifetimes; an API-key exchange's session (`via_api_key`) has none,
    /// ends with its access token, and keeps the key's limits.
    ///
    /// `user` is the user as the credential check read it: the store opens the session only
    /// while the user's credential generation is still that one (and the key still live), and
    /// [`AuthError::InvalidCredentials`] says it is not.
    pub(crate) fn open_session(
        &self,
        user: &User,
        client: ClientInfo,
        ttl: TimeDelta,
        via_api_key: Option<&ApiKey>,
    ) -> Result<TokenPair, AuthError> {
        self.open_session_as(user, client, ttl, via_api_key, false)
    }

    /// [`Self::open_session`] for a login that passed a second factor (`mfa`) or not: the
    /// session remembers it, and its access tokens say so in `amr`.
    pub(crate) fn open_session_as(
        &self,
        user: &User,
        client: ClientInfo,
        ttl: TimeDelta,
        via_api_key: Option<&ApiKey>,
        mfa: bool,
    ) -> Result<TokenPair, AuthError> {
        let at = now();
        // Where the tokens' status lists are published; not part of the session's record.
        let mut client = client;
        let origin = client.origin.take();
        let refresh = via_api_key.is_none().then(RefreshToken::generate);
        let (idle, lifetime) = match via_api_key {
            None => (
                self.config.session_idle_ttl,
                self.config.session_max_lifetime,
            ),
            // Ends with its access token, and never outlives the key.
            Some(key) => {
                let end = key.expires_at.map_or(ttl, |end| (end - at).min(ttl));
                (end, end)
            }
        };
        let session = self.store.create_session(NewSession {
            session: Session {
                id: SessionId::new(),
                user_id: user.id,
                created_at: at,
                last_used_at: at,
                idle_expires_at: at + idle,
                expires_at: at + lifetime,
                revoked_at: None,
                client,
                api_key: via_api_key.map(|key| key.id),
                mfa,
            },
            refresh_token_hash: refresh.as_ref().map(RefreshToken::digest),
            // Stored only if the check that read `user` still holds.
            generation: user.credential_generation,
        })?;
        let (access_token, claims) =
            self.sign_access_token(user, session.id, ttl, at, mfa, origin.as_deref())?;
        Ok(TokenPair {
            access_token,
            expires_in: ttl.num_seconds(),
            refresh_token: refresh,
            claims,
        })
    }
}
