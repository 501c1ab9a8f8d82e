//! [`TokenVerifier`]: checks access tokens, and with a status checker (feature `status-list`)
//! their status in the Status Lists they reference.

use std::{collections::HashMap, sync::Arc};

use auth_domain::{ACCESS_TOKEN_TYPE, Claims};
use jsonwebtoken::{
    Header, Validation,
    jwk::{Jwk, JwkSet},
};

use super::{Algorithm, JwtKey, KeyError, MAX_TOKEN_BYTES, TokenError, TokenKeys};
#[cfg(feature = "status-list")]
use crate::status_list::{ListHealth, StatusCache, StatusChecker};

/// Verifies access tokens: signature, pinned algorithm per `kid`, `typ`, `iss`, `aud`, `exp`,
/// `nbf` with an explicit leeway, and the claims' types (`sub` a user id, `sid` a session id,
/// `role` a role). No I/O and no runtime: embedders may use it alone.
///
/// Made by [`TokenKeys::verifier`] next to an issuer, or, in a service that only verifies our
/// tokens, by [`TokenVerifier::from_jwks`] or [`TokenVerifier::new`] with public keys.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    pub(crate) keys: HashMap<String, Arc<JwtKey>>,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) leeway_secs: u64,
    #[cfg(feature = "status-list")]
    status: Option<Arc<StatusCache>>,
}

impl TokenVerifier {
    /// A verifier that accepts tokens signed by any of `keys` for `issuer` and `audience`, for a
    /// service that verifies tokens another process issues. (Next to an issuer, use
    /// [`TokenKeys::verifier`].) The leeway is [`TokenKeys::DEFAULT_LEEWAY_SECS`].
    pub fn new<K: Into<Arc<JwtKey>>>(
        keys: impl IntoIterator<Item = K>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self::from_arcs(
            keys.into_iter().map(Into::into),
            issuer.into(),
            audience.into(),
        )
    }

    pub(super) fn from_arcs(
        keys: impl IntoIterator<Item = Arc<JwtKey>>,
        issuer: String,
        audience: String,
    ) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
            issuer,
            audience,
            leeway_secs: TokenKeys::DEFAULT_LEEWAY_SECS,
            #[cfg(feature = "status-list")]
            status: None,
        }
    }

    /// Sets the clock leeway (for access tokens and Status List Tokens alike).
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        #[cfg(feature = "status-list")]
        if let Some(status) = self.status.take() {
            // The lists are checked with the verifier's settings: rebuild around the new ones.
            return self.with_status_checker(status.checker());
        }
        self
    }

    /// Checks a token and returns its claims.
    ///
    /// With a status checker (feature `status-list`, `TokenVerifier::with_status_checker`), also
    /// refuses a token whose status is not VALID. The lists come from the cache, which a
    /// background thread refreshes; only the first token that references a list not seen
    /// before waits here while it is fetched (at most the fetch timeout, once per list). From
    /// async code, call `TokenVerifier::verify_cached` and, when it answers
    /// [`TokenError::StatusNotCached`], call this one on a blocking thread.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.verify_signed(token)?;
        #[cfg(feature = "status-list")]
        if let Some(status) = &self.status {
            status.check(claims.status.as_ref(), true)?;
        }
        Ok(claims)
    }

    /// The signature and claims of an access token, without its status.
    fn verify_signed(&self, token: &str) -> Result<Claims, TokenError> {
        let key = self.key_for(token, ACCESS_TOKEN_TYPE, MAX_TOKEN_BYTES)?;
        let mut validation = self.validation(key);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Ok(jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)?.claims)
    }

    /// The key that must have signed `token`, after the header checks every token of ours
    /// passes: no key-location or `crit` parameter, a known `kid`, that key's algorithm
    /// (pinned), and the `typ` given.
    pub(crate) fn key_for(
        &self,
        token: &str,
        typ: &str,
        max_len: usize,
    ) -> Result<&JwtKey, TokenError> {
        if token.len() > max_len {
            return Err(TokenError::Malformed);
        }
        // A header jsonwebtoken cannot parse (including `alg: none`) is simply malformed.
        let header: Header =
            jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
            || header.crit.is_some()
        {
            return Err(TokenError::ForbiddenHeader);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(TokenError::UnknownKey)?;
        if header.alg != key.algorithm {
            return Err(TokenError::Algorithm);
        }
        if header.typ.as_deref() != Some(typ) {
            return Err(TokenError::WrongType);
        }
        Ok(key)
    }

    /// The validation of `exp`, `nbf` and `iss` with this verifier's leeway, for `key`.
    pub(crate) fn validation(&self, key: &JwtKey) -> Validation {
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation
    }

    /// A verifier for the keys of a JSON Web Key Set, e.g. our `/.well-known/jwks.json`, for a
    /// service that verifies our tokens with no secret at all. Every key must name its `alg`.
    pub fn from_jwks(
        jwks: &str,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, KeyError> {
        let set: JwkSet = serde_json::from_str(jwks).map_err(|e| KeyError::Jwk(e.to_string()))?;
        let keys = set
            .keys
            .iter()
            .map(JwtKey::from_jwk)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(keys, issuer, audience))
    }

    /// The JSON Web Key Set of the public keys that verify (RFC 7517), sorted by `kid`. HMAC
    /// keys are secret and never published, so a verifier with only HMAC keys publishes an
    /// empty set.
    pub fn jwks(&self) -> serde_json::Value {
        let mut keys: Vec<Jwk> = self.keys.values().filter_map(|k| k.public_jwk()).collect();
        keys.sort_by(|a, b| a.common.key_id.cmp(&b.common.key_id));
        serde_json::json!({ "keys": keys })
    }

    /// The `kid`s this verifier accepts.
    pub fn kids(&self) -> Vec<&str> {
        let mut kids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        kids
    }

    /// The `iss` this verifier requires.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` this verifier requires.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The algorithms of the keys this verifier accepts, each once, sorted by name.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut algorithms: Vec<Algorithm> = self.keys.values().map(|k| k.algorithm).collect();
        algorithms.sort_by_key(|a| format!("{a:?}"));
        algorithms.dedup();
        algorithms
    }
}

#[cfg(feature = "status-list")]
impl TokenVerifier {
    /// Also checks the status of every token in the Status List it references (feature
    /// `status-list`): a token whose entry is not VALID is refused ([`TokenError::Revoked`]
    /// for INVALID), and by default so is a token without a `status` claim. The lists are
    /// verified with this verifier's keys, `iss` and leeway. Clones of the verifier share the
    /// lists and their refresh thread, which ends with the last clone.
    ///
    /// ```no_run
    /// use auth_core::{StatusChecker, TokenVerifier};
    /// # fn demo(jwks: &str) -> Result<(), Box<dyn std::error::Error>> {
    /// let verifier = TokenVerifier::from_jwks(jwks, "auth-server", "auth-server")?
    ///     .with_status_checker(
    ///         StatusChecker::builder()
    ///             .allow_prefix("https://auth.example.com/statuslists/")
    ///             .build()?,
    ///     );
    /// # let _ = verifier; Ok(()) }
    /// ```
    pub fn with_status_checker(mut self, checker: StatusChecker) -> Self {
        self.status = None;
        let lists = self.clone();
        self.status = Some(Arc::new(StatusCache::new(checker, lists)));
        self
    }

    /// [`Self::verify`] that never does I/O: when the token references a list this verifier
    /// has not fetched yet, it answers [`TokenError::StatusNotCached`] (the refresh thread
    /// starts fetching it); call [`Self::verify`] on a blocking thread then (e.g. actix-web's
    /// `web::block`, tokio's `spawn_blocking`). Without a status checker it is [`Self::verify`].
    pub fn verify_cached(&self, token: &str) -> Result<Claims, TokenError> {
        let claims = self.verify_signed(token)?;
        if let Some(status) = &self.status {
            status.check(claims.status.as_ref(), false)?;
        }
        Ok(claims)
    }

    /// Fetches the list at `uri` unless it is cached (blocking), e.g. at start-up so that no
    /// request waits for it; `Ok` when tokens it covers can be checked. Without a status
    /// checker, `Ok` at once.
    pub fn prefetch_status_list(&self, uri: &str) -> Result<(), TokenError> {
        match &self.status {
            Some(status) => status.prefetch(uri),
            None => Ok(()),
        }
    }

    /// The lists this verifier has seen and whether each is fresh (for a health check or
    /// metrics), sorted by URL; empty without a status checker.
    pub fn status_lists(&self) -> Vec<ListHealth> {
        self.status
            .as_ref()
            .map(|status| status.health())
            .unwrap_or_default()
    }
}
