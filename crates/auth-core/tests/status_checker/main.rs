//! A `TokenVerifier` with a `StatusChecker` against a real HTTP server on loopback that
//! publishes signed Status List Tokens: first fetch, background refresh with ETags, the
//! allow-list, every way a list token can be wrong, and staleness (fail-closed and fail-open).
//! Waiting is by polling with a deadline, never by sleeping a fixed time.

mod server;

use std::{
    sync::Mutex,
    thread,
    time::{Duration, Instant},
};

use auth_core::{
    Algorithm, JwtKey, StatusChecker, StatusList, TokenError, TokenKeys, TokenVerifier,
    status_list::{Bits, StatusCheckerBuilder},
};
use auth_domain::{NewUser, PasswordHash, Role, SessionId, TokenStatus, UserId, Username, now};
use chrono::TimeDelta;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::json;
use server::ListServer;

const PATH: &str = "/statuslists/1";
const REVOKED: u64 = 3;
const VALID: u64 = 2;

struct Publisher {
    server: ListServer,
    keys: TokenKeys,
    list: Mutex<StatusList>,
}

fn keys(secret: &[u8]) -> TokenKeys {
    TokenKeys::new(
        JwtKey::hmac(Algorithm::HS256, secret).unwrap(),
        "iss-test",
        "aud-test",
    )
    .unwrap()
}

impl Publisher {
    /// A server publishing list 1 (1 bit, 1024 entries, entry 3 revoked), signed with our key.
    fn start() -> Self {
        let mut list = StatusList::new(Bits::One, 1024);
        list.set(REVOKED, StatusList::INVALID).unwrap();
        let publisher = Self {
            server: ListServer::start(),
            keys: keys(&[7; 32]),
            list: Mutex::new(list),
        };
        publisher.republish();
        publisher
    }

    fn uri(&self) -> String {
        self.server.url(PATH)
    }

    /// Signs the current list (ttl 1 s) and publishes it.
    fn republish(&self) {
        let claims = self.keys.issuer().status_list_claims(
            self.uri(),
            &self.list.lock().unwrap(),
            Duration::from_secs(1),
            now(),
        );
        let token = self.keys.issuer().sign_status_list(&claims).unwrap();
        self.server.publish(PATH, token);
    }

    fn set(&self, idx: u64, value: u8) {
        self.list.lock().unwrap().set(idx, value).unwrap();
        self.republish();
    }

    /// An access token of ours referencing entry `idx` of the list at `uri`.
    fn token_at(&self, uri: &str, idx: u64) -> String {
        let issuer = self.keys.issuer();
        let user = NewUser {
            id: UserId::new(),
            username: Username::parse("alice").unwrap(),
            email: None,
            password_hash: PasswordHash::new("x"),
            role: Role::User,
            created_at: now(),
        }
        .into_user();
        let mut claims = issuer.claims(&user, SessionId::new(), TimeDelta::minutes(5), now());
        claims.status = Some(TokenStatus::list_entry(uri, idx));
        issuer.sign(&claims).unwrap()
    }

    fn token(&self, idx: u64) -> String {
        self.token_at(&self.uri(), idx)
    }

    fn token_without_status(&self) -> String {
        let user = NewUser {
            id: UserId::new(),
            username: Username::parse("bob").unwrap(),
            email: None,
            password_hash: PasswordHash::new("x"),
            role: Role::User,
            created_at: now(),
        }
        .into_user();
        let (token, _) = self
            .keys
            .issuer()
            .issue(&user, SessionId::new(), TimeDelta::minutes(5), now())
            .unwrap();
        token
    }

    /// A checker that trusts this server's lists and refreshes every 200 ms (the lists ask
    /// for 1 s; the ceiling makes the tests quicker).
    fn checker(&self) -> StatusCheckerBuilder {
        StatusChecker::builder()
            .allow_prefix(self.server.url("/statuslists/"))
            .ttl_floor(Duration::from_millis(50))
            .ttl_ceiling(Duration::from_millis(200))
    }

    fn verifier(&self, checker: StatusCheckerBuilder) -> TokenVerifier {
        self.keys
            .verifier()
            .with_status_checker(checker.build().unwrap())
    }

    fn hits_with_status(&self, status: u16) -> usize {
        self.server
            .hits()
            .iter()
            .filter(|hit| hit.status == status)
            .count()
    }
}

/// Polls `probe` until it gives a value, for at most 20 s.
fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_valid_entry_is_accepted_and_a_revoked_one_refused() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    let claims = verifier.verify(&publisher.token(VALID)).unwrap();
    assert_eq!(claims.status.unwrap().status_list.idx, VALID);
    let refused = verifier.verify(&publisher.token(REVOKED)).unwrap_err();
    assert_eq!(refused, TokenError::Revoked);
    assert_eq!(refused.to_string(), "The token has been revoked");
    // One fetch served both, with the draft's Accept header.
    let hits = publisher.server.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].path, PATH);
    assert_eq!(
        hits[0].accept.as_deref(),
        Some("application/statuslist+jwt")
    );
    // Beyond the end of the list: no statement can be made, refused.
    assert_eq!(
        verifier.verify(&publisher.token(1024)),
        Err(TokenError::StatusRejected)
    );
    let health = verifier.status_lists();
    assert_eq!(health.len(), 1);
    assert!(health[0].fresh && health[0].entries == 1024 && health[0].last_error.is_none());
}

#[test]
fn suspended_and_application_specific_entries_of_a_two_bit_list_are_refused() {
    let publisher = Publisher::start();
    let mut list = StatusList::new(Bits::Two, 64);
    list.set(1, StatusList::SUSPENDED).unwrap();
    list.set(2, StatusList::APPLICATION_SPECIFIC).unwrap();
    *publisher.list.lock().unwrap() = list;
    publisher.republish();
    let verifier = publisher.verifier(publisher.checker());
    verifier.verify(&publisher.token(0)).unwrap();
    assert_eq!(
        verifier.verify(&publisher.token(1)),
        Err(TokenError::Suspended)
    );
    assert_eq!(
        verifier.verify(&publisher.token(2)),
        Err(TokenError::StatusRejected)
    );
}

#[test]
fn a_token_without_status_is_refused_unless_the_checker_allows_it() {
    let publisher = Publisher::start();
    let token = publisher.token_without_status();
    publisher.keys.verifier().verify(&token).unwrap();
    let strict = publisher.verifier(publisher.checker());
    assert_eq!(strict.verify(&token), Err(TokenError::Claims));
    assert_eq!(strict.verify_cached(&token), Err(TokenError::Claims));
    let lenient = publisher.verifier(publisher.checker().allow_missing_status());
    lenient.verify(&token).unwrap();
    // ...and still checks the tokens that have one.
    assert_eq!(
        lenient.verify(&publisher.token(REVOKED)),
        Err(TokenError::Revoked)
    );
    assert!(publisher.server.hits().len() == 1);
}

#[test]
fn a_list_outside_the_allow_list_is_never_fetched() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    let base = publisher.server.url("");
    for uri in [
        format!("{base}/other/1"),
        format!("{base}/statuslists/../admin"),
        format!("{base}/statuslists/%2e%2e/admin"),
        format!("{base}/statuslists/1#x"),
        format!("{base}0/statuslists/1"),
        format!("{}/statuslists/1", base.replace("127.0.0.1", "localhost")),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "file:///etc/passwd".to_owned(),
    ] {
        let token = publisher.token_at(&uri, VALID);
        assert_eq!(
            verifier.verify(&token),
            Err(TokenError::UntrustedStatusList),
            "{uri}"
        );
        assert_eq!(
            verifier.prefetch_status_list(&uri),
            Err(TokenError::UntrustedStatusList)
        );
    }
    assert!(verifier.status_lists().is_empty());
    assert!(
        publisher.server.hits().is_empty(),
        "{:?}",
        publisher.server.hits()
    );
}

#[test]
fn a_prefix_without_a_slash_matches_only_at_a_path_boundary() {
    let publisher = Publisher::start();
    let base = publisher.server.url("");
    let verifier = publisher.verifier(
        StatusChecker::builder()
            .allow_prefix(base.clone())
            .ttl_floor(Duration::from_millis(50))
            .ttl_ceiling(Duration::from_millis(200)),
    );
    verifier.verify(&publisher.token(VALID)).unwrap();
    let port_suffix = publisher.token_at(&format!("{base}1{PATH}"), VALID);
    assert_eq!(
        verifier.verify(&port_suffix),
        Err(TokenError::UntrustedStatusList)
    );
    let userinfo = publisher.token_at(&format!("{base}@evil.example{PATH}"), VALID);
    assert_eq!(
        verifier.verify(&userinfo),
        Err(TokenError::UntrustedStatusList)
    );
}

/// A verifier whose list at `PATH` is `token`; what it answers for a valid entry.
fn verdict_for_list(publisher: &Publisher, token: String) -> (TokenError, String) {
    publisher.server.publish(PATH, token);
    let verifier = publisher.verifier(publisher.checker());
    let error = verifier.verify(&publisher.token(VALID)).unwrap_err();
    let health = verifier.status_lists();
    (error, health[0].last_error.clone().unwrap_or_default())
}

fn hand_signed(
    publisher: &Publisher,
    edit: impl FnOnce(&mut Header, &mut serde_json::Value),
) -> String {
    let claims = publisher.keys.issuer().status_list_claims(
        publisher.uri(),
        &publisher.list.lock().unwrap(),
        Duration::from_secs(1),
        now(),
    );
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("statuslist+jwt".into());
    header.kid = Some(publisher.keys.signing_key().kid().to_owned());
    let mut raw = serde_json::to_value(&claims).unwrap();
    edit(&mut header, &mut raw);
    jsonwebtoken::encode(&header, &raw, &EncodingKey::from_secret(&[7; 32])).unwrap()
}

#[test]
fn a_list_token_that_does_not_verify_is_not_used_and_tokens_are_refused() {
    let publisher = Publisher::start();
    let other = keys(&[8; 32]);
    let other_claims = other.issuer().status_list_claims(
        publisher.uri(),
        &StatusList::new(Bits::One, 1024),
        Duration::from_secs(1),
        now(),
    );
    let cases = [
        (
            "sub of another list",
            hand_signed(&publisher, |_, c| {
                c["sub"] = json!(publisher.server.url("/statuslists/2"))
            }),
            "sub",
        ),
        (
            "typ JWT",
            hand_signed(&publisher, |h, _| h.typ = Some("JWT".into())),
            "typ",
        ),
        (
            "expired",
            hand_signed(&publisher, |_, c| c["exp"] = json!(now().timestamp() - 60)),
            "expired",
        ),
        (
            "signed by another key",
            other.issuer().sign_status_list(&other_claims).unwrap(),
            "unknown key",
        ),
        ("an access token", publisher.token(VALID), "typ"),
        ("not a JWT", "<html>oops</html>".to_owned(), "malformed"),
    ];
    for (case, token, reason) in cases {
        let (error, last_error) = verdict_for_list(&publisher, token);
        assert!(
            matches!(error, TokenError::StatusUnavailable { retry_after } if retry_after >= 1),
            "{case}: {error:?}"
        );
        assert!(last_error.contains(reason), "{case}: {last_error}");
    }
}

#[test]
fn a_response_that_is_not_a_status_list_token_is_refused() {
    let publisher = Publisher::start();
    let good = hand_signed(&publisher, |_, _| {});
    publisher.server.publish_as(PATH, good, "application/json");
    let verifier = publisher.verifier(publisher.checker());
    assert!(matches!(
        verifier.verify(&publisher.token(VALID)),
        Err(TokenError::StatusUnavailable { .. })
    ));
    assert!(
        verifier.status_lists()[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("Content-Type")
    );
    // An unknown list: 404.
    let missing = publisher.token_at(&publisher.server.url("/statuslists/404"), VALID);
    assert!(matches!(
        verifier.verify(&missing),
        Err(TokenError::StatusUnavailable { .. })
    ));
}

#[test]
fn refreshes_send_the_etag_and_a_304_keeps_the_cached_list() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    verifier.verify(&publisher.token(VALID)).unwrap();
    eventually("three 304 answers to refreshes", || {
        (publisher.hits_with_status(304) >= 3).then_some(())
    });
    let hits = publisher.server.hits();
    assert_eq!(publisher.hits_with_status(200), 1, "{hits:?}");
    assert!(
        hits.iter()
            .skip(1)
            .all(|hit| hit.if_none_match.as_deref() == Some("\"v1\"")),
        "{hits:?}"
    );
    verifier.verify_cached(&publisher.token(VALID)).unwrap();
    assert_eq!(
        verifier.verify_cached(&publisher.token(REVOKED)),
        Err(TokenError::Revoked)
    );
    assert!(verifier.status_lists()[0].fresh);
}

#[test]
fn a_newly_revoked_entry_is_refused_after_the_next_refresh_without_a_request_waiting() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    let token = publisher.token(VALID);
    verifier.verify(&token).unwrap();
    publisher.set(VALID, StatusList::INVALID);
    let revoked_at = Instant::now();
    let took = eventually("the revocation to reach the verifier", || {
        match verifier.verify_cached(&token) {
            Ok(_) => None,
            Err(TokenError::Revoked) => Some(revoked_at.elapsed()),
            Err(other) => panic!("only the cache is read: {other:?}"),
        }
    });
    println!("revocation seen after {took:?} (refresh interval 200 ms)");
    assert_eq!(publisher.hits_with_status(200), 2);
}

#[test]
fn verify_cached_never_fetches_and_the_refresh_thread_fetches_a_new_list() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    let token = publisher.token(VALID);
    assert_eq!(
        verifier.verify_cached(&token),
        Err(TokenError::StatusNotCached)
    );
    // No request waits: the refresh thread fetches it.
    eventually("the list fetched in the background", || {
        verifier.verify_cached(&token).ok()
    });
    assert_eq!(publisher.hits_with_status(200), 1);
}

#[test]
fn concurrent_first_sights_of_a_list_fetch_it_once() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    let token = publisher.token(VALID);
    thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| verifier.clone().verify(&token).unwrap());
        }
    });
    assert_eq!(publisher.server.hits().len(), 1);
}

#[test]
fn an_older_list_does_not_replace_a_newer_one() {
    let publisher = Publisher::start();
    let old = hand_signed(&publisher, |_, c| c["iat"] = json!(now().timestamp() - 30));
    publisher.set(VALID, StatusList::INVALID);
    let verifier = publisher.verifier(publisher.checker());
    let token = publisher.token(VALID);
    assert_eq!(verifier.verify(&token), Err(TokenError::Revoked));
    publisher.server.publish(PATH, old);
    eventually("the replayed list to be refused", || {
        verifier.status_lists()[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("before the cached one"))
            .then_some(())
    });
    assert_eq!(verifier.verify(&token), Err(TokenError::Revoked));
}

#[test]
fn fail_closed_refuses_after_max_stale_and_recovers_when_the_publisher_is_back() {
    let mut publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker().max_stale(Duration::from_millis(600)));
    let token = publisher.token(VALID);
    verifier.verify(&token).unwrap();
    publisher.server.stop();
    let retry_after = eventually("the list to go stale", || {
        match verifier.verify_cached(&token) {
            Ok(_) => None,
            Err(TokenError::StatusUnavailable { retry_after }) => Some(retry_after),
            Err(other) => panic!("{other:?}"),
        }
    });
    assert!(retry_after >= 1);
    let health = &verifier.status_lists()[0];
    assert!(!health.fresh && health.last_error.is_some(), "{health:?}");
    // A known revocation is still a revocation.
    assert_eq!(
        verifier.verify_cached(&publisher.token(REVOKED)),
        Err(TokenError::Revoked)
    );
    publisher.server.restart();
    eventually("the list to be fresh again", || {
        verifier.verify_cached(&token).ok()
    });
    assert!(verifier.status_lists()[0].fresh);
}

#[test]
fn fail_open_accepts_unchecked_while_stale_but_still_refuses_known_revocations() {
    let mut publisher = Publisher::start();
    let verifier = publisher.verifier(
        publisher
            .checker()
            .max_stale(Duration::from_millis(600))
            .fail_open(),
    );
    let token = publisher.token(VALID);
    verifier.verify(&token).unwrap();
    publisher.server.stop();
    eventually("the list to go stale", || {
        (!verifier.status_lists()[0].fresh).then_some(())
    });
    verifier.verify_cached(&token).unwrap();
    assert_eq!(
        verifier.verify_cached(&publisher.token(REVOKED)),
        Err(TokenError::Revoked)
    );
    // A list that could never be fetched: accepted too.
    let unseen = publisher.token_at(&publisher.server.url("/statuslists/9"), 0);
    verifier.verify(&unseen).unwrap();
}

#[test]
fn fail_closed_refuses_tokens_of_a_list_that_was_never_fetched() {
    let mut publisher = Publisher::start();
    publisher.server.stop();
    let verifier = publisher.verifier(publisher.checker());
    let token = publisher.token(VALID);
    assert!(matches!(
        verifier.verify(&token),
        Err(TokenError::StatusUnavailable { .. })
    ));
    assert!(matches!(
        verifier.prefetch_status_list(&publisher.uri()),
        Err(TokenError::StatusUnavailable { .. })
    ));
    publisher.server.restart();
    eventually("the first successful fetch", || {
        verifier.verify_cached(&token).ok()
    });
    verifier.prefetch_status_list(&publisher.uri()).unwrap();
}

#[test]
fn the_checker_configuration_is_checked_when_built() {
    use auth_core::status_list::StatusCheckerError;
    assert_eq!(
        StatusChecker::builder().build().unwrap_err(),
        StatusCheckerError::NoPrefix
    );
    for bad in [
        "auth.example.com/statuslists",
        "ftp://x/",
        "https://",
        "https://u@h/",
        "https:///x",
    ] {
        assert_eq!(
            StatusChecker::builder()
                .allow_prefix(bad)
                .build()
                .unwrap_err(),
            StatusCheckerError::BadPrefix(bad.into()),
            "{bad}"
        );
    }
    assert_eq!(
        StatusChecker::builder()
            .allow_prefix("https://auth.example.com/")
            .ttl_floor(Duration::from_secs(10))
            .ttl_ceiling(Duration::from_secs(5))
            .build()
            .unwrap_err(),
        StatusCheckerError::TtlBounds
    );
}

#[test]
fn dropping_the_verifier_ends_the_refresh_thread() {
    let publisher = Publisher::start();
    let verifier = publisher.verifier(publisher.checker());
    verifier.verify(&publisher.token(VALID)).unwrap();
    let clone = verifier.clone();
    drop(verifier);
    eventually("refreshes by the clone", || {
        (publisher.server.hits().len() >= 2).then_some(())
    });
    drop(clone);
    // Once the thread has noticed, no request comes any more: wait for a quiet second
    // after the count stops changing.
    let mut last = (publisher.server.hits().len(), Instant::now());
    eventually("the refreshes to stop", || {
        let count = publisher.server.hits().len();
        if count != last.0 {
            last = (count, Instant::now());
        }
        (last.1.elapsed() > Duration::from_secs(1)).then_some(())
    });
}

mod logs {
    use std::{
        io::Write,
        sync::{Arc, Mutex, OnceLock},
    };

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Every log line of this test binary at debug level (other tests' lines included: each
    /// test's lists have their own port, so lines are told apart by URL).
    fn captured() -> &'static Captured {
        static CAPTURED: OnceLock<Captured> = OnceLock::new();
        CAPTURED.get_or_init(|| {
            let captured = Captured::default();
            let writer = captured.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::DEBUG)
                .with_ansi(false)
                .with_writer(move || writer.clone())
                .init();
            captured
        })
    }

    fn lines_about(uri: &str, text: &str) -> usize {
        let bytes = captured().0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .filter(|line| line.contains(uri) && line.contains(text))
            .count()
    }

    #[test]
    fn state_changes_are_logged_once_each_and_never_carry_tokens() {
        captured();
        let mut publisher = Publisher::start();
        let uri = publisher.uri();
        let verifier =
            publisher.verifier(publisher.checker().max_stale(Duration::from_millis(400)));
        let token = publisher.token(VALID);
        verifier.verify(&token).unwrap();
        publisher.server.stop();
        eventually("stale, then more failed refreshes", || {
            (lines_about(&uri, "is stale") == 1
                && lines_about(&uri, "status list fetch failed") >= 8)
                .then_some(())
        });
        assert_eq!(lines_about(&uri, "is stale"), 1);
        assert_eq!(
            lines_about(&uri, "refusing the tokens it covers (fail-closed)"),
            1
        );
        publisher.server.restart();
        eventually("fresh again", || {
            (lines_about(&uri, "fresh again") == 1).then_some(())
        });
        eventually("a few more refreshes", || {
            (publisher.hits_with_status(304) >= 3).then_some(())
        });
        assert_eq!(lines_about(&uri, "fresh again"), 1);
        assert_eq!(lines_about(&uri, "is stale"), 1);
        let all = String::from_utf8(captured().0.lock().unwrap().clone()).unwrap();
        let signature = token.rsplit('.').next().unwrap();
        assert!(!all.contains(signature), "a token reached the logs");
    }
}
