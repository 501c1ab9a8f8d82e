//! Forged and misused tokens against an RS256 server: each is a 401 `invalid_token`.

use actix_web::test::TestRequest;
use auth_core::{Algorithm, generate_key_pair};
use auth_domain::now;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header, jwk::Jwk};
use serde_json::{Value, json};

use crate::helpers::{TestApp, bearer};

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn with(claims: &Value, field: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[field] = value;
    claims
}

#[actix_web::test]
async fn forged_and_misused_tokens_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ours = generate_key_pair(Algorithm::RS256).unwrap();
    let key_file = dir.path().join("rs256.pem");
    std::fs::write(&key_file, &ours.private_pem).unwrap();
    crate::helpers::owner_only(&key_file);
    let app = TestApp::sqlite().with_settings(&[
        ("jwt.algorithm", "RS256"),
        ("jwt.private_key_file", &key_file.to_string_lossy()),
    ]);
    app.register("alice").await;
    let login = app.login("alice").await;
    let real = login["access_token"].as_str().unwrap().to_owned();
    let claims = payload(&real);
    let kid = jsonwebtoken::decode_header(&real).unwrap().kid.unwrap();

    let our_key = EncodingKey::from_rsa_pem(ours.private_pem.as_bytes()).unwrap();
    let header = || {
        let mut h = Header::new(Algorithm::RS256);
        h.typ = Some("at+jwt".into());
        h.kid = Some(kid.clone());
        h
    };
    let sign = |h: &Header, c: &Value| jsonwebtoken::encode(h, c, &our_key).unwrap();

    // Control: the harness signs tokens the server accepts, so each refusal below is caused by
    // the one thing the case changes.
    assert_eq!(
        app.get("/profile", &sign(&header(), &claims)).await.status,
        200
    );

    let now = now().timestamp();
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let hmac_with_public_key = {
        let mut h = header();
        h.alg = Algorithm::HS256;
        jsonwebtoken::encode(
            &h,
            &claims,
            &EncodingKey::from_secret(ours.public_pem.as_bytes()),
        )
        .unwrap()
    };
    let attacker = generate_key_pair(Algorithm::RS256).unwrap();
    let attacker_key = EncodingKey::from_rsa_pem(attacker.private_pem.as_bytes()).unwrap();
    let unknown_kid = {
        let mut h = header();
        h.kid = Some("attacker-key".into());
        jsonwebtoken::encode(&h, &claims, &attacker_key).unwrap()
    };
    let our_kid_their_key = jsonwebtoken::encode(&header(), &claims, &attacker_key).unwrap();
    let with_header = |edit: &dyn Fn(&mut Header)| {
        let mut h = header();
        edit(&mut h);
        sign(&h, &claims)
    };
    let attacker_jwk: Jwk = serde_json::from_value(
        auth_core::JwtKey::from_pem(
            Algorithm::RS256,
            Some(attacker.private_pem.as_bytes()),
            None,
        )
        .unwrap()
        .public_jwk()
        .map(|jwk| serde_json::to_value(jwk).unwrap())
        .unwrap(),
    )
    .unwrap();
    let tampered = {
        let parts: Vec<&str> = real.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(with(&claims, "role", json!("admin")).to_string());
        format!("{}.{forged}.{}", parts[0], parts[2])
    };
    let mut missing_sid = claims.clone();
    missing_sid.as_object_mut().unwrap().remove("sid");

    let cases: Vec<(&str, String)> = vec![
        ("alg none", none),
        ("HS256 keyed with our public key PEM", hmac_with_public_key),
        ("unknown kid", unknown_kid),
        ("our kid, another key", our_kid_their_key),
        (
            "jku header",
            with_header(&|h| h.jku = Some("https://attacker.example/jwks".into())),
        ),
        (
            "x5u header",
            with_header(&|h| h.x5u = Some("https://attacker.example/cert".into())),
        ),
        (
            "embedded jwk header",
            with_header(&|h| h.jwk = Some(attacker_jwk.clone())),
        ),
        ("typ JWT", with_header(&|h| h.typ = Some("JWT".into()))),
        (
            "expired past leeway",
            sign(&header(), &with(&claims, "exp", json!(now - 60))),
        ),
        (
            "not valid yet",
            sign(&header(), &with(&claims, "nbf", json!(now + 60))),
        ),
        (
            "wrong issuer",
            sign(&header(), &with(&claims, "iss", json!("evil"))),
        ),
        (
            "wrong audience",
            sign(&header(), &with(&claims, "aud", json!("other-api"))),
        ),
        ("missing sid", sign(&header(), &missing_sid)),
        (
            "sid of no session",
            sign(
                &header(),
                &with(&claims, "sid", json!(uuid::Uuid::new_v4().to_string())),
            ),
        ),
        ("tampered payload", tampered),
        (
            "refresh token as bearer",
            login["refresh_token"].as_str().unwrap().to_owned(),
        ),
    ];
    for (case, token) in &cases {
        let reply = app.get("/profile", token).await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text);
        assert_eq!(reply.body["error"], "invalid_token", "{case}");
        let challenge = reply.header("www-authenticate").unwrap_or_default();
        assert!(
            challenge.starts_with("Bearer error=\"invalid_token\""),
            "{case}: {challenge}"
        );
    }

    // A token whose session was revoked, otherwise perfect.
    let reply = app
        .send(
            TestRequest::post()
                .uri("/logout")
                .insert_header(bearer(&real)),
        )
        .await;
    assert_eq!(reply.status, 204);
    app.get("/profile", &sign(&header(), &claims))
        .await
        .assert(401, "invalid_token");
}
