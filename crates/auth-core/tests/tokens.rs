//! TokenVerifier alone (no store, no runtime): what it accepts and every forgery it refuses.

use std::sync::Arc;

use auth_core::{Algorithm, JwtKey, TokenError, TokenKeys, TokenVerifier};
use auth_domain::{NewUser, PasswordHash, Role, SessionId, UserId, Username, now};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use jsonwebtoken::{EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn key() -> Arc<JwtKey> {
    Arc::new(JwtKey::hmac(Algorithm::HS256, SECRET).unwrap())
}

fn verifier() -> TokenVerifier {
    TokenVerifier::new([key()], "iss-test", "aud-test")
}

fn valid_claims() -> Value {
    let now = now().timestamp();
    json!({
        "iss": "iss-test", "aud": "aud-test", "sub": UserId::new().to_string(),
        "username": "alice", "role": "user", "sid": SessionId::new().to_string(),
        "jti": "j1", "iat": now, "nbf": now, "exp": now + 600,
    })
}

fn header() -> Header {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key().kid().to_owned());
    header
}

fn sign(header: &Header, claims: &Value) -> String {
    jsonwebtoken::encode(header, claims, &EncodingKey::from_secret(SECRET)).unwrap()
}

fn with(claims: Value, field: &str, value: Value) -> Value {
    let mut claims = claims;
    claims[field] = value;
    claims
}

fn refused(token: &str) -> TokenError {
    verifier().verify(token).expect_err("token must be refused")
}

#[test]
fn issued_tokens_verify_and_carry_the_user_id_as_subject() {
    let user = NewUser {
        id: UserId::new(),
        username: Username::parse("alice").unwrap(),
        email: None,
        password_hash: PasswordHash::new("x"),
        role: Role::Admin,
        created_at: now(),
    }
    .into_user();
    let issuer = TokenKeys::new(JwtKey::clone(&key()), "iss-test", "aud-test")
        .unwrap()
        .issuer();
    let sid = SessionId::new();
    let (token, claims) = issuer
        .issue(&user, sid, TimeDelta::minutes(15), now())
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.kid.as_deref(), Some(key().kid()));
    let verified = verifier().verify(&token).unwrap();
    assert_eq!(verified, claims);
    assert_eq!(verified.sub, user.id);
    assert_eq!(verified.sid, sid);
    assert_eq!(
        (verified.username.as_str(), verified.role.as_str()),
        ("alice", "admin")
    );
}

#[test]
fn hand_signed_valid_token_verifies() {
    verifier()
        .verify(&sign(&header(), &valid_claims()))
        .unwrap();
}

#[test]
fn alg_none_is_refused() {
    let head = URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "at+jwt", "kid": key().kid()}).to_string());
    let body = URL_SAFE_NO_PAD.encode(valid_claims().to_string());
    for token in [format!("{head}.{body}."), format!("{head}.{body}")] {
        assert_eq!(refused(&token), TokenError::Malformed);
    }
}

#[test]
fn another_hmac_algorithm_under_our_kid_is_refused() {
    let mut h = header();
    h.alg = Algorithm::HS384;
    let token = jsonwebtoken::encode(
        &h,
        &valid_claims(),
        &EncodingKey::from_secret(&[SECRET, SECRET].concat()),
    )
    .unwrap();
    assert_eq!(refused(&token), TokenError::Algorithm);
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let mut h = header();
    h.kid = Some("someone-elses-key".into());
    assert_eq!(refused(&sign(&h, &valid_claims())), TokenError::UnknownKey);
    h.kid = None;
    assert_eq!(refused(&sign(&h, &valid_claims())), TokenError::UnknownKey);
}

#[test]
fn key_location_headers_are_refused_even_when_the_signature_is_good() {
    let mut jku = header();
    jku.jku = Some("https://attacker.example/jwks.json".into());
    let mut x5u = header();
    x5u.x5u = Some("https://attacker.example/cert.pem".into());
    let mut jwk = header();
    jwk.jwk = Some(serde_json::from_value::<Jwk>(json!({"kty": "oct", "k": "c2VjcmV0"})).unwrap());
    for h in [jku, x5u, jwk] {
        assert_eq!(
            refused(&sign(&h, &valid_claims())),
            TokenError::ForbiddenHeader
        );
    }
}

#[test]
fn a_token_of_another_type_is_refused() {
    for typ in [Some("JWT"), None] {
        let mut h = header();
        h.typ = typ.map(Into::into);
        assert_eq!(refused(&sign(&h, &valid_claims())), TokenError::WrongType);
    }
}

#[test]
fn expiry_and_not_before_are_checked_with_a_small_leeway() {
    let now = now().timestamp();
    let within_leeway = with(valid_claims(), "exp", json!(now - 2));
    verifier().verify(&sign(&header(), &within_leeway)).unwrap();
    let expired = with(valid_claims(), "exp", json!(now - 30));
    assert_eq!(refused(&sign(&header(), &expired)), TokenError::Expired);
    let early = with(valid_claims(), "nbf", json!(now + 60));
    assert_eq!(refused(&sign(&header(), &early)), TokenError::NotYetValid);
}

#[test]
fn wrong_issuer_or_audience_is_refused() {
    let iss = with(valid_claims(), "iss", json!("someone-else"));
    assert_eq!(refused(&sign(&header(), &iss)), TokenError::Issuer);
    let aud = with(valid_claims(), "aud", json!("another-api"));
    assert_eq!(refused(&sign(&header(), &aud)), TokenError::Audience);
}

#[test]
fn every_required_claim_must_be_present() {
    for claim in [
        "iss", "aud", "sub", "exp", "nbf", "iat", "sid", "jti", "username", "role",
    ] {
        let mut claims = valid_claims();
        claims.as_object_mut().unwrap().remove(claim);
        let err = verifier().verify(&sign(&header(), &claims));
        assert!(err.is_err(), "a token without {claim} was accepted");
    }
}

#[test]
fn a_tampered_payload_is_refused() {
    let token = sign(&header(), &valid_claims());
    let parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(with(valid_claims(), "role", json!("admin")).to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert_eq!(refused(&tampered), TokenError::Signature);
}

#[test]
fn a_token_signed_with_another_secret_is_refused() {
    let token = jsonwebtoken::encode(
        &header(),
        &valid_claims(),
        &EncodingKey::from_secret(b"another secret of the right length!!"),
    )
    .unwrap();
    assert_eq!(refused(&token), TokenError::Signature);
}

#[test]
fn garbage_and_oversized_tokens_are_malformed() {
    for token in ["", "abc", "a.b.c", "....", "Bearer x"] {
        assert!(verifier().verify(token).is_err(), "{token:?}");
    }
    let huge = format!("{}.{}.x", "a".repeat(9000), "b");
    assert_eq!(refused(&huge), TokenError::Malformed);
}

#[test]
fn a_verifier_with_other_issuer_settings_refuses_our_tokens() {
    let token = sign(&header(), &valid_claims());
    let other = TokenVerifier::new([key()], "iss-test", "other-audience");
    assert_eq!(other.verify(&token).unwrap_err(), TokenError::Audience);
}
