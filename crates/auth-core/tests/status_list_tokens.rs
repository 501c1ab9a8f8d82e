//! The `status` claim of access tokens, and Status List Tokens signed by `TokenIssuer` and
//! checked by `TokenVerifier` with the same keys (no fetching here: see `status_checker`).

use std::time::Duration;

use auth_core::{
    Algorithm, JwtKey, StatusList, TokenError, TokenKeys,
    status_list::{Bits, StatusListError, StatusListTokenError},
};
use auth_domain::{NewUser, PasswordHash, Role, SessionId, TokenStatus, UserId, Username, now};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
const URI: &str = "https://auth.example.com/statuslists/7";

fn keys() -> TokenKeys {
    TokenKeys::new(
        JwtKey::hmac(Algorithm::HS256, SECRET).unwrap(),
        "iss-test",
        "aud-test",
    )
    .unwrap()
}

fn user() -> auth_domain::User {
    NewUser {
        id: UserId::new(),
        username: Username::parse("alice").unwrap(),
        email: None,
        password_hash: PasswordHash::new("x"),
        role: Role::User,
        created_at: now(),
    }
    .into_user()
}

fn payload(token: &str) -> Value {
    let body = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap()
}

fn header_of(token: &str) -> Header {
    jsonwebtoken::decode_header(token).unwrap()
}

#[test]
fn the_status_claim_has_the_drafts_shape_and_round_trips() {
    let issuer = keys().issuer();
    let mut claims = issuer.claims(&user(), SessionId::new(), TimeDelta::minutes(5), now());
    claims.status = Some(TokenStatus::list_entry(URI, 1993));
    let token = issuer.sign(&claims).unwrap();
    assert_eq!(
        payload(&token)["status"],
        json!({"status_list": {"idx": 1993, "uri": URI}})
    );
    let verified = keys().verifier().verify(&token).unwrap();
    assert_eq!(verified, claims);
    let entry = &verified.status.unwrap().status_list;
    assert_eq!((entry.idx, entry.uri.as_str()), (1993, URI));
}

#[test]
fn tokens_without_a_status_claim_verify_as_before_and_do_not_carry_one() {
    let (token, claims) = keys()
        .issuer()
        .issue(&user(), SessionId::new(), TimeDelta::minutes(5), now())
        .unwrap();
    assert!(payload(&token).get("status").is_none());
    assert_eq!(claims.status, None);
    assert_eq!(keys().verifier().verify(&token).unwrap(), claims);
}

#[test]
fn a_malformed_status_claim_is_refused() {
    let issuer = keys().issuer();
    let claims = issuer.claims(&user(), SessionId::new(), TimeDelta::minutes(5), now());
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(keys().signing_key().kid().to_owned());
    for status in [
        json!({}),
        json!({"status_list": {"idx": -1, "uri": URI}}),
        json!({"status_list": {"idx": 1.5, "uri": URI}}),
        json!({"status_list": {"uri": URI}}),
        json!({"status_list": {"idx": 1}}),
        json!("revoked"),
    ] {
        let mut raw = serde_json::to_value(&claims).unwrap();
        raw["status"] = status.clone();
        let token = jsonwebtoken::encode(&header, &raw, &EncodingKey::from_secret(SECRET)).unwrap();
        assert_eq!(
            keys().verifier().verify(&token),
            Err(TokenError::Claims),
            "{status}"
        );
    }
}

fn list() -> StatusList {
    let mut list = StatusList::new(Bits::One, 1 << 10);
    list.set(3, StatusList::INVALID).unwrap();
    list
}

#[test]
fn a_status_list_token_is_signed_like_an_access_token_and_carries_the_drafts_claims() {
    let keys = keys();
    let at = now();
    let claims = keys
        .issuer()
        .status_list_claims(URI, &list(), Duration::from_secs(2), at);
    let token = keys.issuer().sign_status_list(&claims).unwrap();
    let header = header_of(&token);
    assert_eq!(header.typ.as_deref(), Some("statuslist+jwt"));
    assert_eq!(header.kid.as_deref(), Some(keys.signing_key().kid()));
    assert_eq!(header.alg, Algorithm::HS256);
    let body = payload(&token);
    assert_eq!(body["sub"], URI);
    assert_eq!(body["iss"], "iss-test");
    assert_eq!(body["iat"], at.timestamp());
    assert_eq!(body["exp"], (at + TimeDelta::hours(1)).timestamp());
    assert_eq!(body["ttl"], 2);
    assert_eq!(body["status_list"]["bits"], 1);
    assert_eq!(body["status_list"]["lst"], list().encode());
    assert!(body.get("aud").is_none());

    let verified = keys.verifier().verify_status_list(&token, URI).unwrap();
    assert_eq!(verified, claims);
    let decoded = verified.status_list.decode(1 << 20).unwrap();
    assert_eq!(decoded.get(3), Some(StatusList::INVALID));
    assert_eq!(decoded.get(2), Some(StatusList::VALID));
}

fn signed_list(edit: impl FnOnce(&mut Header, &mut Value), secret: &[u8]) -> String {
    let keys = keys();
    let claims = keys
        .issuer()
        .status_list_claims(URI, &list(), Duration::from_secs(2), now());
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("statuslist+jwt".into());
    header.kid = Some(keys.signing_key().kid().to_owned());
    let mut raw = serde_json::to_value(&claims).unwrap();
    edit(&mut header, &mut raw);
    jsonwebtoken::encode(&header, &raw, &EncodingKey::from_secret(secret)).unwrap()
}

fn refused(token: &str) -> StatusListTokenError {
    keys()
        .verifier()
        .verify_status_list(token, URI)
        .expect_err("the status list token must be refused")
}

#[test]
fn a_status_list_token_is_refused_for_each_broken_rule() {
    let ok = signed_list(|_, _| {}, SECRET);
    keys().verifier().verify_status_list(&ok, URI).unwrap();
    let other_secret = b"another secret of the right length!!";
    let now = now().timestamp();
    let cases: Vec<(&str, String, StatusListTokenError)> = vec![
        (
            "sub of another list",
            signed_list(|_, c| c["sub"] = json!(format!("{URI}0")), SECRET),
            StatusListTokenError::Subject,
        ),
        (
            "typ of an access token",
            signed_list(|h, _| h.typ = Some("at+jwt".into()), SECRET),
            StatusListTokenError::WrongType,
        ),
        (
            "no typ",
            signed_list(|h, _| h.typ = None, SECRET),
            StatusListTokenError::WrongType,
        ),
        (
            "expired",
            signed_list(|_, c| c["exp"] = json!(now - 60), SECRET),
            StatusListTokenError::Token(TokenError::Expired),
        ),
        (
            "no exp",
            signed_list(
                |_, c| drop(c.as_object_mut().unwrap().remove("exp")),
                SECRET,
            ),
            StatusListTokenError::Token(TokenError::Claims),
        ),
        (
            "no iat",
            signed_list(
                |_, c| drop(c.as_object_mut().unwrap().remove("iat")),
                SECRET,
            ),
            StatusListTokenError::Token(TokenError::Claims),
        ),
        (
            "another issuer",
            signed_list(|_, c| c["iss"] = json!("someone-else"), SECRET),
            StatusListTokenError::Token(TokenError::Issuer),
        ),
        (
            "signed by another secret under our kid",
            signed_list(|_, _| {}, other_secret),
            StatusListTokenError::Token(TokenError::Signature),
        ),
        (
            "an unknown kid",
            signed_list(|h, _| h.kid = Some("someone-elses".into()), SECRET),
            StatusListTokenError::Token(TokenError::UnknownKey),
        ),
        (
            "a key location header",
            signed_list(
                |h, _| h.jku = Some("https://evil.example/jwks".into()),
                SECRET,
            ),
            StatusListTokenError::Token(TokenError::ForbiddenHeader),
        ),
        (
            "ttl 0",
            signed_list(|_, c| c["ttl"] = json!(0), SECRET),
            StatusListTokenError::Ttl,
        ),
        (
            "bits 3",
            signed_list(|_, c| c["status_list"]["bits"] = json!(3), SECRET),
            StatusListTokenError::List(StatusListError::Bits(3)),
        ),
    ];
    for (case, token, error) in cases {
        assert_eq!(refused(&token), error, "{case}");
    }
    // Another algorithm under our kid.
    let mut h = Header::new(Algorithm::HS384);
    h.typ = Some("statuslist+jwt".into());
    h.kid = Some(keys().signing_key().kid().to_owned());
    let claims = payload(&ok);
    let token = jsonwebtoken::encode(
        &h,
        &claims,
        &EncodingKey::from_secret(&[SECRET; 2].concat()),
    )
    .unwrap();
    assert_eq!(
        refused(&token),
        StatusListTokenError::Token(TokenError::Algorithm)
    );
    // An access token is not a list, whatever its claims.
    let (access, _) = keys()
        .issuer()
        .issue(
            &user(),
            SessionId::new(),
            TimeDelta::minutes(5),
            auth_domain::now(),
        )
        .unwrap();
    assert_eq!(refused(&access), StatusListTokenError::WrongType);
    // And a list is not an access token.
    assert_eq!(keys().verifier().verify(&ok), Err(TokenError::WrongType));
}

#[test]
fn lists_signed_with_an_asymmetric_key_verify_with_the_published_jwks() {
    let pair = auth_core::generate_key_pair(Algorithm::ES256).unwrap();
    let keys = TokenKeys::new(
        JwtKey::from_pem(Algorithm::ES256, Some(pair.private_pem.as_bytes()), None).unwrap(),
        "iss-test",
        "aud-test",
    )
    .unwrap();
    let claims = keys
        .issuer()
        .status_list_claims(URI, &list(), Duration::from_secs(2), now());
    let token = keys.issuer().sign_status_list(&claims).unwrap();
    let jwks = keys.verifier().jwks().to_string();
    let verifier = auth_core::TokenVerifier::from_jwks(&jwks, "iss-test", "aud-test").unwrap();
    assert_eq!(verifier.verify_status_list(&token, URI).unwrap(), claims);
}
