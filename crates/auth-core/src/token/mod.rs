//! Access tokens (signed JWTs) and refresh tokens (opaque random strings, stored as digests).
//!
//! [`TokenKeys`] is built once from the signing key, any verify-only keys, `iss`, `aud` and the
//! clock leeway, and makes both sides: the [`TokenIssuer`] that signs with the signing key and
//! the [`TokenVerifier`] that accepts it and the verify-only keys. A service that only verifies
//! our tokens builds a [`TokenVerifier`] from our JWKS instead ([`TokenVerifier::from_jwks`]).

mod key;
mod refresh;

use std::{collections::HashMap, sync::Arc};

use auth_domain::{ACCESS_TOKEN_TYPE, Claims, SessionId, User};
use chrono::{DateTime, TimeDelta, Utc};
use jsonwebtoken::{
    Header, Validation,
    errors::ErrorKind,
    jwk::{Jwk, JwkSet},
};

pub use jsonwebtoken::Algorithm;
pub use key::{JwtKey, KeyError, SUPPORTED_ALGORITHMS, min_hmac_secret_len};
pub use refresh::RefreshToken;
#[cfg(feature = "service")]
pub(crate) use refresh::{random_secret, secret_digest};

/// The longest bearer token we look at; anything longer is refused before parsing.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a token was refused. The messages are safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not a well-formed JWT, or too long.
    #[error("The token is malformed")]
    Malformed,
    /// The header names a key we do not have, or none.
    #[error("The token was signed with an unknown key")]
    UnknownKey,
    /// The header's algorithm is not the key's.
    #[error("The token's algorithm is not accepted")]
    Algorithm,
    /// The header carries `jku`, `jwk`, `x5u`, `x5c` or `crit`, which we never honour.
    #[error("The token header carries a parameter that is not accepted")]
    ForbiddenHeader,
    /// `typ` is not `at+jwt`.
    #[error("The token is not an access token")]
    WrongType,
    /// The signature does not verify.
    #[error("The token signature is invalid")]
    Signature,
    /// `exp` has passed (beyond the leeway).
    #[error("The token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("The token is not valid yet")]
    NotYetValid,
    /// `iss` is not ours.
    #[error("The token issuer is not accepted")]
    Issuer,
    /// `aud` is not ours.
    #[error("The token audience is not accepted")]
    Audience,
    /// A required claim is missing or has the wrong type.
    #[error("The token is missing a required claim")]
    Claims,
}

impl From<jsonwebtoken::errors::Error> for TokenError {
    fn from(e: jsonwebtoken::errors::Error) -> Self {
        match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::ImmatureSignature => TokenError::NotYetValid,
            ErrorKind::InvalidIssuer => TokenError::Issuer,
            ErrorKind::InvalidAudience => TokenError::Audience,
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => TokenError::Algorithm,
            ErrorKind::MissingRequiredClaim(_)
            | ErrorKind::InvalidClaimFormat(_)
            | ErrorKind::Json(_) => TokenError::Claims,
            _ => TokenError::Malformed,
        }
    }
}

/// The keys of one issuer, built once for both sides: the signing key, the keys that only
/// verify (older keys during a rotation), `iss`, `aud` and the clock leeway.
///
/// [`TokenKeys::issuer`] signs with the signing key; [`TokenKeys::verifier`] accepts the
/// signing key and every verify-only key. Since both come from one value, a verifier that does
/// not accept the tokens its issuer signs cannot be built by mistake.
#[derive(Clone, Debug)]
pub struct TokenKeys {
    signing: Arc<JwtKey>,
    verify_only: Vec<Arc<JwtKey>>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
}

impl TokenKeys {
    /// The default clock leeway for `exp` and `nbf`, in seconds.
    pub const DEFAULT_LEEWAY_SECS: u64 = 5;

    /// Keys that sign with `signing` (which must hold a private key or an HMAC secret) and
    /// stamp `iss` and `aud`; the leeway is [`Self::DEFAULT_LEEWAY_SECS`].
    pub fn new(
        signing: JwtKey,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, KeyError> {
        if !signing.can_sign() {
            return Err(KeyError::NoKeyMaterial);
        }
        Ok(Self {
            signing: Arc::new(signing),
            verify_only: Vec::new(),
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
        })
    }

    /// Also accepts tokens signed by `keys` (never signs with them): the keys being rotated
    /// out. A key with the signing key's `kid` is ignored.
    pub fn with_verify_only(mut self, keys: impl IntoIterator<Item = JwtKey>) -> Self {
        let signing = self.signing.kid.clone();
        self.verify_only.extend(
            keys.into_iter()
                .filter(|key| key.kid != signing)
                .map(|key| Arc::new(key.verify_only())),
        );
        self
    }

    /// Sets the clock leeway for `exp` and `nbf`.
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    /// The signing key.
    pub fn signing_key(&self) -> &JwtKey {
        &self.signing
    }

    /// The issuer that signs with the signing key.
    pub fn issuer(&self) -> TokenIssuer {
        TokenIssuer {
            key: Arc::clone(&self.signing),
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
        }
    }

    /// The verifier that accepts the signing key and every verify-only key.
    pub fn verifier(&self) -> TokenVerifier {
        TokenVerifier::from_arcs(
            std::iter::once(Arc::clone(&self.signing)).chain(self.verify_only.iter().cloned()),
            self.issuer.clone(),
            self.audience.clone(),
        )
        .with_leeway(self.leeway_secs)
    }
}

/// Signs access tokens with one key. Made by [`TokenKeys::issuer`].
#[derive(Clone, Debug)]
pub struct TokenIssuer {
    key: Arc<JwtKey>,
    issuer: String,
    audience: String,
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
            amr,
            status: None,
        };
        let mut header = Header::new(self.key.algorithm);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.key.kid.clone());
        let encoding = self
            .key
            .encoding
            .as_ref()
            .ok_or_else(|| jsonwebtoken::errors::Error::from(ErrorKind::InvalidKeyFormat))?;
        let token = jsonwebtoken::encode(&header, &claims, encoding)?;
        Ok((token, claims))
    }
}

/// Verifies access tokens: signature, pinned algorithm per `kid`, `typ`, `iss`, `aud`, `exp`,
/// `nbf` with an explicit leeway, and the claims' types (`sub` a user id, `sid` a session id,
/// `role` a role). No I/O and no runtime: embedders may use it alone.
///
/// Made by [`TokenKeys::verifier`] next to an issuer, or, in a service that only verifies our
/// tokens, by [`TokenVerifier::from_jwks`] or [`TokenVerifier::new`] with public keys.
#[derive(Clone, Debug)]
pub struct TokenVerifier {
    keys: HashMap<String, Arc<JwtKey>>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
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

    fn from_arcs(
        keys: impl IntoIterator<Item = Arc<JwtKey>>,
        issuer: String,
        audience: String,
    ) -> Self {
        Self {
            keys: keys.into_iter().map(|k| (k.kid.clone(), k)).collect(),
            issuer,
            audience,
            leeway_secs: TokenKeys::DEFAULT_LEEWAY_SECS,
        }
    }

    /// Sets the clock leeway.
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    /// Checks a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        // A header jsonwebtoken cannot parse (including `alg: none`) is simply malformed.
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
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
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(TokenError::WrongType);
        }
        let mut validation = Validation::new(key.algorithm);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        Ok(jsonwebtoken::decode::<Claims>(token, &key.decoding, &validation)?.claims)
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
