//! Every signing algorithm through the real app: tokens verify with another JWT implementation
//! (PyJWT) using only the published JWKS, and with auth-core's TokenVerifier alone.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use actix_web::test::TestRequest;
use auth_core::{Algorithm, TokenVerifier, generate_key_pair};
use serde_json::{Value, json};

use crate::helpers::{TestApp, owner_only};

const SECRET: &str = "test-secret-that-is-long-enough-for-hs256!";

/// An app signing with `algorithm`, a logged-in user's token, and the JWKS the app publishes.
async fn sign_with(algorithm: Algorithm, dir: &std::path::Path) -> (TestApp, Value, Value) {
    let name = format!("{algorithm:?}");
    let mut settings = vec![("jwt.algorithm".to_owned(), name.clone())];
    match algorithm {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            settings.push(("jwt.secret".into(), format!("{SECRET}{SECRET}")));
        }
        _ => {
            let pair = generate_key_pair(algorithm).unwrap();
            let path = dir.join(format!("{name}.pem"));
            std::fs::write(&path, pair.private_pem).unwrap();
            owner_only(&path);
            settings.push((
                "jwt.private_key_file".into(),
                path.to_string_lossy().into_owned(),
            ));
        }
    }
    let settings: Vec<(&str, &str)> = settings
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let app = TestApp::sqlite().with_settings(&settings);
    let user = app.register("alice").await.body;
    let token = app.login("alice").await;
    let jwks = app
        .send(TestRequest::get().uri("/.well-known/jwks.json"))
        .await
        .body;
    let case = json!({
        "alg": name, "token": token["access_token"], "issuer": "auth-server",
        "audience": "auth-server", "sub": user["id"],
    });
    (app, case, jwks)
}

const ALL: [Algorithm; 12] = auth_core::SUPPORTED_ALGORITHMS;

fn is_hmac(algorithm: Algorithm) -> bool {
    matches!(
        algorithm,
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512
    )
}

#[actix_web::test]
async fn another_service_verifies_our_tokens_with_auth_core_alone() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ALL {
        let (app, case, jwks) = sign_with(algorithm, dir.path()).await;
        let token = case["token"].as_str().unwrap();
        // The app itself accepts it.
        assert_eq!(
            app.get("/profile", token).await.status,
            200,
            "{algorithm:?}"
        );
        if is_hmac(algorithm) {
            assert_eq!(jwks, json!({"keys": []}), "an HMAC secret was published");
            continue;
        }
        // "Another service": only the JWKS document, no secret, no store, no runtime needed.
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{jwks}");
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(keys[0]["kid"].as_str(), header.kid.as_deref());
        let verifier =
            TokenVerifier::from_jwks(&jwks.to_string(), "auth-server", "auth-server").unwrap();
        let claims = verifier.verify(token).unwrap();
        assert_eq!(
            claims.sub.to_string(),
            case["sub"].as_str().unwrap(),
            "{algorithm:?}"
        );
    }
}

#[actix_web::test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "PyJWT interop: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with PyJWT[crypto])"
)]
async fn pyjwt_verifies_our_tokens_for_every_algorithm_using_only_the_jwks() {
    require_pyjwt();
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for algorithm in ALL {
        let (_app, mut case, jwks) = sign_with(algorithm, dir.path()).await;
        if is_hmac(algorithm) {
            case["secret"] = json!(format!("{SECRET}{SECRET}"));
        } else {
            case["jwks"] = jwks;
        }
        cases.push(case);
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/verify_with_pyjwt.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Value::Array(cases).to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let results: Value = serde_json::from_slice(&output.stdout).unwrap();
    for algorithm in ALL {
        assert_eq!(results[format!("{algorithm:?}")], "ok", "{results}");
    }
}

/// Fails unless python3 with PyJWT and cryptography is here: the interop test runs only when
/// asked for (AUTH_TEST_REQUIRE_INTEROP, see build.rs), and then it must not pass without PyJWT.
fn require_pyjwt() {
    let found = Command::new("python3")
        .args(["-c", "import jwt, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the PyJWT interop test needs python3 with PyJWT[crypto]: \
         `python3 -m pip install 'PyJWT[crypto]'`"
    );
}
