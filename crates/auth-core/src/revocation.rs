//! Token revocation (RFC 7009): the holder of an access or refresh token ends its session.

use auth_domain::{
    AuditAction, ClientInfo, Invalidation, RefreshOutcome, RefreshRotation, SessionId, UserId, now,
};

use crate::{
    audit::{self, EventBuilder},
    error::AuthError,
    service::{AuthService, Inner},
    token::RefreshToken,
};

/// Longer than any token of ours; not worth hashing or parsing.
const MAX_PRESENTED_BYTES: usize = crate::MAX_TOKEN_BYTES;

impl AuthService {
    /// Ends the session of `token`, an access token (a JWT) or a refresh token presented by its
    /// holder; returns whether a live session was ended. Anything else (garbage, an expired or
    /// foreign token, a session already ended) ends nothing and is not an error: RFC 7009 §2.2
    /// answers every such request with 200. Only a store failure is an error.
    ///
    /// An access token must verify (signature, `exp`, ...) to count. A refresh token is
    /// exchanged as at `/refresh` and its session ended at once; one rotated longer ago than the
    /// grace period ends its session as reuse detection always does. Either way every token of
    /// the session, access and refresh, stops working at once (the credential cache is told).
    pub async fn revoke_token(&self, token: &str, client: ClientInfo) -> Result<bool, AuthError> {
        if token.is_empty() || token.len() > MAX_PRESENTED_BYTES {
            return Ok(false);
        }
        if token.contains('.') {
            let Ok(claims) = self.inner.verifier.verify(token) else {
                return Ok(false);
            };
            let (user, session) = (claims.sub, claims.sid);
            return self
                .blocking(move |inner| {
                    let Some((found, _)) = inner.store.session_with_user(session)? else {
                        return Ok(false);
                    };
                    if found.user_id != user || !found.is_live_at(now()) {
                        return Ok(false);
                    }
                    inner.store.revoke_session(session, now())?;
                    inner.revoked(user, session, client.ip, "access token");
                    Ok(true)
                })
                .await;
        }
        let presented = RefreshToken::from_client(token);
        self.blocking(move |inner| {
            let at = now();
            let outcome = inner.store.rotate_refresh_token(&RefreshRotation {
                presented: presented.digest(),
                replacement: RefreshToken::generate().digest(),
                at,
                reuse_grace: inner.config.refresh_reuse_grace,
                idle_ttl: inner.config.session_idle_ttl,
            })?;
            match outcome {
                RefreshOutcome::Rotated { session, user } => {
                    inner.store.revoke_session(session.id, at)?;
                    inner.revoked(user.id, session.id, client.ip, "refresh token");
                    Ok(true)
                }
                // The store has revoked the session already.
                RefreshOutcome::ReuseDetected { session, user } => {
                    inner.revoked(user, session, client.ip, "rotated refresh token");
                    Ok(true)
                }
                RefreshOutcome::Invalid => Ok(false),
            }
        })
        .await
    }
}

impl Inner {
    /// After a revocation the store made: forgets the session's cached credentials and records
    /// `session.revoked`.
    fn revoked(&self, user: UserId, session: SessionId, ip: Option<String>, presented: &str) {
        self.invalidate(Invalidation::Session(session));
        self.record(
            audit::event(AuditAction::SessionRevoked, true)
                .by(user)
                .on(user)
                .ip(ip)
                .detail(format!(
                    "session {session}; POST /revoke with its {presented}"
                )),
        );
    }
}
