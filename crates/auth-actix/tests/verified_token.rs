//! An embedder's route guarded by a `TokenVerifier` alone: no store, no `AuthService`, none of
//! our routes. Answers as the contract's own extractors do.

use std::sync::Arc;

use actix_web::{
    App, HttpResponse,
    http::{StatusCode, header},
    test::{self, TestRequest},
    web,
};
use auth_actix::{AuthState, ErrorCode, HttpSettings, VerifiedToken, bearer_token};
use auth_core::{
    Algorithm, AuthConfig, AuthService, JwtKey, MemoryStore, PasswordHasher, TokenKeys,
    TokenVerifier,
};
use auth_domain::{NewUser, PasswordHash, Role, SessionId, UserId, Username, now};
use chrono::TimeDelta;
use serde_json::{Value, json};

const ISSUER: &str = "auth-server";
const AUDIENCE: &str = "auth-server";

fn key(secret: &[u8]) -> Arc<JwtKey> {
    Arc::new(JwtKey::hmac(Algorithm::HS256, secret).unwrap())
}

fn our_key() -> Arc<JwtKey> {
    key(b"0123456789abcdef0123456789abcdef")
}

/// A token for a fresh user, signed by `key`, issued `age` ago and valid for `ttl`.
fn token_from(key: Arc<JwtKey>, age: TimeDelta, ttl: TimeDelta) -> (String, UserId) {
    let user = NewUser {
        id: UserId::new(),
        username: Username::parse("alice").unwrap(),
        email: None,
        password_hash: PasswordHash::new("never used"),
        role: Role::User,
        created_at: now(),
    }
    .into_user();
    let (token, _) = TokenKeys::new(JwtKey::clone(&key), ISSUER, AUDIENCE)
        .unwrap()
        .issuer()
        .issue(&user, SessionId::new(), ttl, now() - age)
        .unwrap();
    (token, user.id)
}

fn token() -> (String, UserId) {
    token_from(our_key(), TimeDelta::zero(), TimeDelta::minutes(15))
}

/// The embedder's handler: whoever the token says.
async fn mine(VerifiedToken(claims): VerifiedToken) -> HttpResponse {
    HttpResponse::Ok().json(json!({"sub": claims.sub, "username": claims.username}))
}

struct Reply {
    status: StatusCode,
    www_authenticate: Option<String>,
    body: Value,
}

/// Calls `GET /mine` on an app that has only the verifier (or nothing, with `None`).
async fn call(verifier: Option<TokenVerifier>, authorization: Option<&str>) -> Reply {
    let mut app = App::new();
    if let Some(verifier) = verifier {
        app = app.app_data(web::Data::new(verifier));
    }
    let app = test::init_service(app.route("/mine", web::get().to(mine))).await;
    let mut request = TestRequest::get().uri("/mine");
    if let Some(value) = authorization {
        request = request.insert_header((header::AUTHORIZATION, value));
    }
    let response = test::call_service(&app, request.to_request()).await;
    let status = response.status();
    let www_authenticate = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned());
    let body = serde_json::from_slice(&test::read_body(response).await).unwrap();
    Reply {
        status,
        www_authenticate,
        body,
    }
}

fn verifier() -> TokenVerifier {
    TokenVerifier::new([our_key()], ISSUER, AUDIENCE)
}

#[track_caller]
fn assert_error(reply: &Reply, status: u16, code: ErrorCode) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.body["error"], code.as_str(), "{}", reply.body);
    assert!(reply.body["detail"].is_string(), "{}", reply.body);
}

#[actix_web::test]
async fn a_valid_token_reaches_the_handler_with_its_claims() {
    let (token, user) = token();
    let reply = call(Some(verifier()), Some(&format!("Bearer {token}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body,
        json!({"sub": user.to_string(), "username": "alice"})
    );
    // The scheme is case-insensitive (RFC 7235 §2.1).
    let reply = call(Some(verifier()), Some(&format!("bearer {token}"))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[actix_web::test]
async fn no_bearer_token_is_401_not_authenticated() {
    for authorization in [None, Some("Basic YWxpY2U6c2VjcmV0"), Some("Bearer")] {
        let reply = call(Some(verifier()), authorization).await;
        assert_error(&reply, 401, ErrorCode::NotAuthenticated);
        assert_eq!(reply.www_authenticate.as_deref(), Some("Bearer"));
    }
}

#[actix_web::test]
async fn a_bad_token_is_401_invalid_token_with_the_reason() {
    let (foreign, _) = token_from(
        key(b"another-secret-of-thirty-two-bytes!!"),
        TimeDelta::zero(),
        TimeDelta::minutes(15),
    );
    let (expired, _) = token_from(our_key(), TimeDelta::hours(1), TimeDelta::minutes(15));
    let (token, _) = token();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);
    let cases = [
        ("not-a-jwt".to_owned(), "The token is malformed"),
        (foreign, "The token was signed with an unknown key"),
        (expired, "The token has expired"),
        (tampered, "The token signature is invalid"),
    ];
    for (token, reason) in cases {
        let reply = call(Some(verifier()), Some(&format!("Bearer {token}"))).await;
        assert_error(&reply, 401, ErrorCode::InvalidToken);
        assert_eq!(reply.body["detail"], reason);
        assert_eq!(
            reply.www_authenticate.as_deref(),
            Some(&*format!(
                "Bearer error=\"invalid_token\", error_description=\"{reason}\""
            ))
        );
    }
}

#[actix_web::test]
async fn without_a_verifier_the_route_is_a_500_not_an_open_door() {
    let (token, _) = token();
    let reply = call(None, Some(&format!("Bearer {token}"))).await;
    assert_error(&reply, 500, ErrorCode::InternalError);
}

#[actix_web::test]
async fn beside_the_whole_api_the_services_verifier_is_used() {
    let service = AuthService::new(
        Arc::new(MemoryStore::new()),
        PasswordHasher::new(4).unwrap(),
        &TokenKeys::new(JwtKey::clone(&our_key()), ISSUER, AUDIENCE).unwrap(),
        AuthConfig::default(),
    );
    let state = AuthState::new(service, HttpSettings::default());
    let app = test::init_service(
        App::new()
            .configure(auth_actix::configure(state))
            .route("/mine", web::get().to(mine)),
    )
    .await;
    let (token, user) = token();
    let request = TestRequest::get()
        .uri("/mine")
        .insert_header((header::AUTHORIZATION, format!("Bearer {token}")));
    let body: Value = test::call_and_read_body_json(&app, request.to_request()).await;
    assert_eq!(body["sub"], user.to_string());
    let response = test::call_service(&app, TestRequest::get().uri("/mine").to_request()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn bearer_token_reads_only_the_bearer_scheme() {
    let read = |value: Option<&str>| {
        let mut request = TestRequest::get();
        if let Some(value) = value {
            request = request.insert_header((header::AUTHORIZATION, value));
        }
        let request = request.to_http_request();
        bearer_token(&request)
            .map(|token| token.map(ToOwned::to_owned))
            .map_err(|e| e.code())
    };
    assert_eq!(read(None), Ok(None));
    assert_eq!(read(Some("Basic abc")), Ok(None));
    assert_eq!(read(Some("Bearer abc")), Ok(Some("abc".into())));
    assert_eq!(read(Some("  BEARER   abc  ")), Ok(Some("abc".into())));
    assert_eq!(
        read(Some(&format!("Bearer {}", "a".repeat(9000)))),
        Err(ErrorCode::InvalidToken)
    );
}
