//! Access tokens (signed JWTs) and refresh tokens (opaque random strings, stored as digests).
//!
//! [`TokenKeys`] is built once from the signing key, any verify-only keys, `iss`, `aud` and the
//! clock leeway, and makes both sides: the [`TokenIssuer`] that signs with the signing key and
//! the [`TokenVerifier`] that accepts it and the verify-only keys. A service that only verifies
//! our tokens builds a [`TokenVerifier`] from our JWKS instead ([`TokenVerifier::from_jwks`]).

mod issuer;
mod key;
mod refresh;
mod verifier;

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;

pub use issuer::TokenIssuer;
pub use jsonwebtoken::Algorithm;
pub use key::{JwtKey, KeyError, SUPPORTED_ALGORITHMS, min_hmac_secret_len};
pub use refresh::RefreshToken;
#[cfg(feature = "service")]
pub(crate) use refresh::{random_secret, secret_digest};
pub use verifier::TokenVerifier;

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
    /// A required claim is missing or has the wrong type (with a status checker that
    /// requires it, a missing `status` claim too).
    #[error("The token is missing a required claim")]
    Claims,
    /// The token's entry in its Status List is INVALID: its session ended, or a claim it
    /// carries stopped being true.
    #[error("The token has been revoked")]
    Revoked,
    /// The token's entry in its Status List is SUSPENDED.
    #[error("The token is suspended")]
    Suspended,
    /// The token's entry in its Status List is neither VALID, INVALID nor SUSPENDED, or lies
    /// beyond the end of a current list: no statement can be made, so it is refused.
    #[error("The token's status is not valid")]
    StatusRejected,
    /// The token references a Status List outside the URL prefixes the verifier trusts; the
    /// list was not fetched.
    #[error("The token's status list is not trusted")]
    UntrustedStatusList,
    /// The token's Status List could not be fetched or refreshed for longer than the
    /// verifier allows (fail-closed): try again after `retry_after` seconds.
    #[error("The token's status cannot be checked right now; try again in {retry_after} seconds")]
    StatusUnavailable {
        /// Seconds until the verifier tries to fetch the list again.
        retry_after: u64,
    },
    /// Only from `TokenVerifier::verify_cached`: the token references a Status List this
    /// verifier has not fetched yet. Call `TokenVerifier::verify` on a blocking thread.
    #[error("The token's status list has not been fetched yet")]
    StatusNotCached,
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
