//! [`TokenIssuer`]: signs access tokens and Status List Tokens with the signing key.

use std::sync::Arc;

use auth_domain::{ACCESS_TOKEN_TYPE, Claims, SessionId, User};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{Header, errors::ErrorKind};
use serde::Serialize;

use super::JwtKey;
use crate::status_list::{STATUS_LIST_TOKEN_TYPE, StatusList, StatusListClaims};

/// Signs access tokens (and the Status List Tokens that publish their status) with one key.
/// Made by [`TokenKeys::issuer`](super::TokenKeys::issuer).
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    pub(super) key: Arc<JwtKey>,
    pub(super) issuer: String,
    pub(super) audience: String,
}

impl TokenIssuer {
    /// Signs an access token for `user` in `session`, valid from `now` for `ttl`.
    pub fn issue(
        &self,
        user: &User,
        session: SessionId,
        ttl: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        self.issue_with_amr(user, session, ttl, now, None)
    }

    /// [`Self::issue`] with the `amr` claim (RFC 8176 method names, e.g. `["pwd", "otp"]`);
    /// `None` leaves the claim out, so the token is exactly what [`Self::issue`] signs.
    pub fn issue_with_amr(
        &self,
        user: &User,
        session: SessionId,
        ttl: TimeDelta,
        now: DateTime<Utc>,
        amr: Option<Vec<String>>,
    ) -> Result<(String, Claims), jsonwebtoken::errors::Error> {
        let claims = Claims {
            amr,
            ..self.claims(user, session, ttl, now)
        };
        Ok((self.sign(&claims)?, claims))
    }

    /// The claims [`Self::issue`] would sign: `iss` and `aud` of this issuer, a fresh `jti`,
    /// and neither `amr` nor `status`. Add those, then [`Self::sign`].
    pub fn claims(
        &self,
        user: &User,
        session: SessionId,
        ttl: TimeDelta,
        now: DateTime<Utc>,
    ) -> Claims {
        Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user.id,
            username: user.username.to_string(),
            role: user.role,
            sid: session,
            jti: uuid::Uuid::new_v4().to_string(),
            iat: now.timestamp(),
            nbf: now.timestamp(),
            exp: (now + ttl).timestamp(),
            amr: None,
            status: None,
        }
    }

    /// The `kid` of the signing key.
    pub fn kid(&self) -> &str {
        &self.key.kid
    }

    /// Signs `claims` as an access token (`typ: at+jwt`, this key's `kid`), as they are.
    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_typed(ACCESS_TOKEN_TYPE, claims)
    }

    /// The claims of a Status List Token publishing `list` at `uri`: `sub` = `uri`, this
    /// issuer's `iss`, `iat` = `now`, `ttl` (how long verifiers may cache it, whole seconds, at
    /// least 1), and `exp` = `now` + [`StatusListClaims::DEFAULT_VALIDITY`]. Adjust the public
    /// fields if needed, then [`Self::sign_status_list`].
    pub fn status_list_claims(
        &self,
        uri: impl Into<String>,
        list: &StatusList,
        ttl: std::time::Duration,
        now: DateTime<Utc>,
    ) -> StatusListClaims {
        StatusListClaims {
            sub: uri.into(),
            iss: self.issuer.clone(),
            iat: now.timestamp(),
            exp: (now + StatusListClaims::DEFAULT_VALIDITY).timestamp(),
            ttl: Some(ttl.as_secs().max(1)),
            status_list: list.to_encoded(),
        }
    }

    /// Signs a Status List Token (`typ: statuslist+jwt`, this key's `kid`): the same key and
    /// algorithm as access tokens, so a verifier checks it with the keys it already has.
    pub fn sign_status_list(
        &self,
        claims: &StatusListClaims,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        self.sign_typed(STATUS_LIST_TOKEN_TYPE, claims)
    }

    fn sign_typed(
        &self,
        typ: &str,
        claims: &impl Serialize,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(self.key.algorithm);
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.key.kid.clone());
        let encoding = self
            .key
            .encoding
            .as_ref()
            .ok_or_else(|| jsonwebtoken::errors::Error::from(ErrorKind::InvalidKeyFormat))?;
        jsonwebtoken::encode(&header, claims, encoding)
    }
}
