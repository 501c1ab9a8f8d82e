//! The small fixed answers (the admin greeting, the protected route, health) and the shapes that
//! exist only to be described: the JWKS, which auth-core builds as JSON, and the string enums of
//! the wire whose Rust types live in crates that know nothing of OpenAPI.

use serde::Serialize;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::error::ErrorCode;

/// A role as the wire spells it (`auth_domain::Role`).
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[cfg_attr(feature = "openapi", schema(as = Role))]
#[allow(dead_code)] // described only: the routes parse and print `auth_domain::Role`
pub(crate) enum RoleName {
    /// An ordinary user.
    #[cfg_attr(feature = "openapi", schema(rename = "user"))]
    User,
    /// An administrator.
    #[cfg_attr(feature = "openapi", schema(rename = "admin"))]
    Admin,
}

/// The grants `POST /token` supports. The server reads any string, so that another grant is
/// answered with RFC 6749's `unsupported_grant_type`.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[cfg_attr(feature = "openapi", schema(example = "password"))]
#[allow(dead_code)] // described only: `TokenForm` keeps the raw string
pub(crate) enum GrantType {
    /// `username` and `password` (RFC 6749 §4.3).
    #[cfg_attr(feature = "openapi", schema(rename = "password"))]
    Password,
    /// `refresh_token` (RFC 6749 §6).
    #[cfg_attr(feature = "openapi", schema(rename = "refresh_token"))]
    RefreshToken,
}

/// `GET /admin`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"msg": "welcome admin"})))]
pub(crate) struct AdminWelcome {
    /// Always `welcome admin`.
    pub msg: &'static str,
}

/// `GET /protected`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"message": "This is a protected route", "username": "alice"})))]
pub(crate) struct ProtectedGreeting<'a> {
    /// Always `This is a protected route`.
    pub message: &'static str,
    /// The caller's username.
    pub username: &'a str,
}

/// `GET /health` when the store answers.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "ok", "database": "ok"})))]
pub(crate) struct Health {
    /// `ok`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^ok$"))]
    pub status: &'static str,
    /// `ok`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^ok$"))]
    pub database: &'static str,
}

/// `GET /health/live`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"status": "ok"})))]
pub(crate) struct Liveness {
    /// `ok`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^ok$"))]
    pub status: &'static str,
}

/// `GET /health` when the store does not answer: the error body's fields too.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "status": "unavailable",
    "database": "unavailable",
    "error": "service_unavailable",
    "detail": "The database cannot be reached"
})))]
pub(crate) struct HealthUnavailable {
    /// `unavailable`.
    pub status: &'static str,
    /// `unavailable`.
    pub database: &'static str,
    /// `service_unavailable`.
    pub error: ErrorCode,
    /// What failed, for people; never the cause (the log has it).
    pub detail: &'static str,
}

/// `GET /.well-known/jwks.json`: the public keys that verify our tokens (RFC 7517).
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[cfg_attr(feature = "openapi", schema(example = json!({"keys": [{
    "kty": "EC", "kid": "es256-1", "use": "sig", "alg": "ES256", "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
}]})))]
#[allow(dead_code)] // described only: auth-core writes the document
pub(crate) struct Jwks {
    /// Every asymmetric key that verifies; empty when only HMAC keys are configured.
    keys: Vec<Jwk>,
}

/// One public key of the JWKS.
#[cfg(feature = "openapi")]
#[derive(ToSchema)]
#[allow(dead_code)] // described only
pub(crate) struct Jwk {
    /// `RSA`, `EC` or `OKP`.
    kty: String,
    /// The key id that tokens name in their header.
    kid: String,
    /// `sig`.
    #[cfg_attr(feature = "openapi", schema(rename = "use"))]
    use_: Option<String>,
    /// The key's one algorithm.
    alg: Option<String>,
    /// RSA modulus (base64url).
    n: Option<String>,
    /// RSA exponent (base64url).
    e: Option<String>,
    /// Curve: `P-256`, `P-384` or `Ed25519`.
    crv: Option<String>,
    /// Curve point x (base64url).
    x: Option<String>,
    /// Curve point y (base64url).
    y: Option<String>,
}
