//! Asymmetric keys, JWKS, and key rotation, with TokenVerifier alone (no store, no runtime).

use std::sync::Arc;

use auth_core::{
    Algorithm, JwtKey, KeyError, TokenError, TokenKeys, TokenVerifier, generate_key_pair,
};
use auth_domain::{NewUser, PasswordHash, Role, SessionId, User, UserId, Username, now};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::TimeDelta;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

fn asymmetric() -> impl Iterator<Item = Algorithm> {
    auth_core::SUPPORTED_ALGORITHMS
        .into_iter()
        .filter(|a| auth_core::min_hmac_secret_len(*a).is_none())
}

fn user() -> User {
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

fn sign(key: &Arc<JwtKey>) -> String {
    TokenKeys::new(JwtKey::clone(key), "iss", "aud")
        .unwrap()
        .issuer()
        .issue(&user(), SessionId::new(), TimeDelta::minutes(5), now())
        .unwrap()
        .0
}

fn verifier(keys: impl IntoIterator<Item = Arc<JwtKey>>) -> TokenVerifier {
    TokenVerifier::new(keys, "iss", "aud")
}

#[test]
fn every_asymmetric_algorithm_verifies_from_the_pair_the_public_pem_or_the_jwks() {
    for algorithm in asymmetric() {
        let pair = generate_key_pair(algorithm).unwrap();
        let key = Arc::new(
            JwtKey::from_pem(
                algorithm,
                Some(pair.private_pem.as_bytes()),
                Some(pair.public_pem.as_bytes()),
            )
            .unwrap(),
        );
        let token = sign(&key);
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (algorithm, Some(key.kid()))
        );

        let public_only =
            JwtKey::from_pem(algorithm, None, Some(pair.public_pem.as_bytes())).unwrap();
        assert_eq!(public_only.kid(), key.kid(), "{algorithm:?}: kid differs");
        assert!(!public_only.can_sign());
        verifier([Arc::new(public_only)]).verify(&token).unwrap();

        let private_only =
            JwtKey::from_pem(algorithm, Some(pair.private_pem.as_bytes()), None).unwrap();
        assert_eq!(private_only.kid(), key.kid());

        let jwks = verifier([key.clone()]).jwks().to_string();
        let from_jwks = TokenVerifier::from_jwks(&jwks, "iss", "aud").unwrap();
        assert_eq!(from_jwks.kids(), [key.kid()]);
        from_jwks.verify(&token).unwrap();
    }
}

#[test]
fn jwks_publishes_public_members_only() {
    for algorithm in [
        Algorithm::RS256,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ] {
        let pair = generate_key_pair(algorithm).unwrap();
        let key =
            Arc::new(JwtKey::from_pem(algorithm, Some(pair.private_pem.as_bytes()), None).unwrap());
        let jwks = verifier([key.clone()]).jwks();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kid"], key.kid());
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], json!(format!("{algorithm:?}")));
        let members: Vec<&str> = match algorithm {
            Algorithm::RS256 => vec!["kty", "n", "e"],
            Algorithm::EdDSA => vec!["kty", "crv", "x"],
            _ => vec!["kty", "crv", "x", "y"],
        };
        for member in members {
            assert!(
                jwk[member].is_string(),
                "{algorithm:?} lacks {member}: {jwk}"
            );
        }
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(
                jwk.get(private).is_none(),
                "{algorithm:?} publishes {private}"
            );
        }
    }
}

#[test]
fn hmac_keys_are_never_published() {
    let key = Arc::new(JwtKey::hmac(Algorithm::HS256, &[9u8; 32]).unwrap());
    assert_eq!(verifier([key]).jwks(), json!({"keys": []}));
}

#[test]
fn rotation_keeps_old_tokens_valid_until_the_old_key_is_removed() {
    let old_pair = generate_key_pair(Algorithm::ES256).unwrap();
    let old = Arc::new(
        JwtKey::from_pem(
            Algorithm::ES256,
            Some(old_pair.private_pem.as_bytes()),
            None,
        )
        .unwrap(),
    );
    let new_secret = [4u8; 64];
    let new = Arc::new(JwtKey::hmac(Algorithm::HS512, &new_secret).unwrap());
    let old_token = sign(&old);
    let new_token = sign(&new);

    let old_verify_only = Arc::new(
        JwtKey::from_pem(
            Algorithm::ES256,
            Some(old_pair.private_pem.as_bytes()),
            None,
        )
        .unwrap()
        .verify_only(),
    );
    let during = verifier([new.clone(), old_verify_only.clone()]);
    during.verify(&old_token).unwrap();
    during.verify(&new_token).unwrap();
    // The retired key still verifies but can no longer sign.
    assert!(TokenKeys::new(JwtKey::clone(&old_verify_only), "iss", "aud").is_err());

    let after = verifier([new]);
    assert_eq!(
        after.verify(&old_token).unwrap_err(),
        TokenError::UnknownKey
    );
    after.verify(&new_token).unwrap();
}

#[test]
fn an_hmac_token_keyed_with_our_public_key_is_refused() {
    let pair = generate_key_pair(Algorithm::RS256).unwrap();
    let key = Arc::new(
        JwtKey::from_pem(Algorithm::RS256, None, Some(pair.public_pem.as_bytes())).unwrap(),
    );
    let claims = jsonwebtoken::decode::<Value>(
        &sign(&Arc::new(
            JwtKey::from_pem(Algorithm::RS256, Some(pair.private_pem.as_bytes()), None).unwrap(),
        )),
        &jsonwebtoken::DecodingKey::from_rsa_pem(pair.public_pem.as_bytes()).unwrap(),
        &{
            let mut v = jsonwebtoken::Validation::new(Algorithm::RS256);
            v.set_audience(&["aud"]);
            v
        },
    )
    .unwrap()
    .claims;
    for kid in [Some(key.kid().to_owned()), None] {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some("at+jwt".into());
        header.kid = kid.clone();
        let forged = jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(pair.public_pem.as_bytes()),
        )
        .unwrap();
        let err = verifier([key.clone()]).verify(&forged).unwrap_err();
        let expected = if kid.is_some() {
            TokenError::Algorithm
        } else {
            TokenError::UnknownKey
        };
        assert_eq!(err, expected);
    }
}

#[test]
fn unsuitable_or_mismatched_keys_are_refused() {
    let p256 = generate_key_pair(Algorithm::ES256).unwrap();
    let p384 = generate_key_pair(Algorithm::ES384).unwrap();
    assert!(matches!(
        JwtKey::from_pem(Algorithm::ES384, Some(p256.private_pem.as_bytes()), None),
        Err(KeyError::Unsuitable { .. } | KeyError::InvalidPem { .. })
    ));
    assert!(matches!(
        JwtKey::from_pem(
            Algorithm::ES256,
            Some(p256.private_pem.as_bytes()),
            Some(p384.public_pem.as_bytes())
        ),
        Err(KeyError::Mismatch | KeyError::InvalidPem { .. } | KeyError::Unsuitable { .. })
    ));
    let other = generate_key_pair(Algorithm::ES256).unwrap();
    assert!(matches!(
        JwtKey::from_pem(
            Algorithm::ES256,
            Some(p256.private_pem.as_bytes()),
            Some(other.public_pem.as_bytes())
        ),
        Err(KeyError::Mismatch)
    ));
    assert!(matches!(
        JwtKey::from_pem(Algorithm::HS256, None, None),
        Err(KeyError::NotAsymmetric(_))
    ));
    assert!(matches!(
        JwtKey::from_pem(Algorithm::RS256, None, None),
        Err(KeyError::NoKeyMaterial)
    ));
    assert!(matches!(
        JwtKey::from_pem(Algorithm::RS256, Some(b"not a pem"), None),
        Err(KeyError::InvalidPem {
            which: "private",
            ..
        })
    ));
}

#[test]
fn jwks_documents_must_pin_public_keys() {
    let small_modulus = URL_SAFE_NO_PAD.encode([0xC5u8; 128]);
    let cases = [
        json!({"keys": [{"kty": "oct", "alg": "HS256", "k": "c2VjcmV0"}]}),
        json!({"keys": [{"kty": "RSA", "n": small_modulus, "e": "AQAB"}]}),
        json!({"keys": [{"kty": "RSA", "alg": "RS256", "n": small_modulus, "e": "AQAB"}]}),
        json!({"keys": "nope"}),
    ];
    for jwks in cases {
        assert!(
            TokenVerifier::from_jwks(&jwks.to_string(), "iss", "aud").is_err(),
            "{jwks}"
        );
    }
}

#[test]
fn generated_private_keys_never_show_in_debug() {
    let pair = generate_key_pair(Algorithm::EdDSA).unwrap();
    let shown = format!("{pair:?}");
    assert!(
        !shown.contains("PRIVATE KEY") && shown.contains("PUBLIC KEY"),
        "{shown}"
    );
}
