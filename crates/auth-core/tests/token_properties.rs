//! Token and key parsing never panics on any input, and never accepts garbage.

use std::sync::Arc;

use auth_core::{Algorithm, JwtKey, RefreshToken, TokenVerifier};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use proptest::prelude::*;

fn verifier() -> TokenVerifier {
    let key = Arc::new(JwtKey::hmac(Algorithm::HS256, &[3u8; 32]).unwrap());
    TokenVerifier::new([key], "iss", "aud")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_are_never_valid_tokens(raw in any::<String>()) {
        prop_assert!(verifier().verify(&raw).is_err());
    }

    #[test]
    fn arbitrary_three_part_tokens_are_refused_without_panicking(
        header in proptest::collection::vec(any::<u8>(), 0..200),
        payload in proptest::collection::vec(any::<u8>(), 0..400),
        signature in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        );
        prop_assert!(verifier().verify(&token).is_err());
    }

    #[test]
    fn json_shaped_headers_are_refused_without_panicking(
        alg in "(none|HS256|RS256|ES512|EdDSA|x{0,5})",
        kid in proptest::option::of("[ -~]{0,40}"),
        typ in proptest::option::of("(at\\+jwt|JWT|[a-z]{0,6})"),
        body in "[ -~]{0,200}",
    ) {
        let header = serde_json::json!({"alg": alg, "kid": kid, "typ": typ});
        let token = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(body)
        );
        prop_assert!(verifier().verify(&token).is_err());
    }

    #[test]
    fn jwks_documents_of_any_shape_do_not_panic(raw in any::<String>()) {
        let _ = TokenVerifier::from_jwks(&raw, "iss", "aud");
    }

    #[test]
    fn refresh_token_digests_accept_any_input(raw in any::<String>()) {
        let digest = RefreshToken::from_client(raw.clone()).digest();
        prop_assert_eq!(digest.as_str().len(), 43);
    }
}
