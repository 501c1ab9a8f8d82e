//! What the Token Status List check costs a verifier, and what a large list weighs.
//!
//! `cargo bench -p auth-core --bench status_list`
//!
//! - `verify`: `TokenVerifier::verify` of one access token without a status checker (a token
//!   without the `status` claim, and the same token with it), and with a checker whose list is
//!   cached (warm: no fetch happens while measuring), for HS256 and ES256. The ratios are the
//!   figure (goal: with the check ≥ 0.95 × without, in throughput).
//! - `list of 1,000,000`: encoding (zlib at the best level, base64url) and decoding a 1-bit
//!   list of 1,000,000 entries with 1 % revoked at random positions. The sizes (`lst`, and the
//!   whole signed Status List Token, which is what goes on the wire) are printed once.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use auth_core::{
    Algorithm, JwtKey, StatusChecker, StatusList, TokenKeys, TokenVerifier, generate_key_pair,
    status_list::{Bits, FetchError, FetchRequest, FetchResponse, StatusListFetcher},
};
use auth_domain::{NewUser, PasswordHash, Role, SessionId, TokenStatus, UserId, Username, now};
use chrono::TimeDelta;
use criterion::{Criterion, criterion_group, criterion_main};

const URI: &str = "https://auth.example.com/statuslists/1";
const ENTRIES: u64 = 1_000_000;

/// Serves one signed list from memory: the bench measures the check, not HTTP.
struct InMemory(String);

impl StatusListFetcher for InMemory {
    fn fetch(&self, _: &FetchRequest<'_>) -> Result<FetchResponse, FetchError> {
        Ok(FetchResponse::Fetched {
            body: self.0.clone(),
            etag: None,
        })
    }
}

/// 1 % of `ENTRIES` revoked at positions from a fixed-seed generator (splitmix64).
fn revoked_list() -> StatusList {
    let mut list = StatusList::new(Bits::One, ENTRIES);
    let mut state = 0x5EED_u64;
    let mut revoked = 0;
    while revoked < ENTRIES / 100 {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let idx = (z ^ (z >> 31)) % ENTRIES;
        if list.get(idx) == Some(StatusList::VALID) {
            list.set(idx, StatusList::INVALID).unwrap();
            revoked += 1;
        }
    }
    list
}

fn keys(algorithm: Algorithm) -> TokenKeys {
    let key = match algorithm {
        Algorithm::HS256 => JwtKey::hmac(algorithm, &[5u8; 32]).unwrap(),
        _ => {
            let pair = generate_key_pair(algorithm).unwrap();
            JwtKey::from_pem(algorithm, Some(pair.private_pem.as_bytes()), None).unwrap()
        }
    };
    TokenKeys::new(key, "bench", "bench").unwrap()
}

fn access_token(keys: &TokenKeys, status: Option<TokenStatus>) -> String {
    let user = NewUser {
        id: UserId::new(),
        username: Username::parse("alice").unwrap(),
        email: None,
        password_hash: PasswordHash::new("x"),
        role: Role::User,
        created_at: now(),
    }
    .into_user();
    let issuer = keys.issuer();
    let mut claims = issuer.claims(&user, SessionId::new(), TimeDelta::hours(1), now());
    claims.status = status;
    issuer.sign(&claims).unwrap()
}

fn verify(c: &mut Criterion) {
    let list = revoked_list();
    let valid_idx = (0..ENTRIES)
        .find(|&i| list.get(i) == Some(StatusList::VALID))
        .unwrap();
    for algorithm in [Algorithm::HS256, Algorithm::ES256] {
        let keys = keys(algorithm);
        let list_token = keys
            .issuer()
            .sign_status_list(&keys.issuer().status_list_claims(
                URI,
                &list,
                Duration::from_secs(300),
                now(),
            ))
            .unwrap();
        let checker = StatusChecker::builder()
            .allow_prefix("https://auth.example.com/statuslists/")
            .fetcher(InMemory(list_token))
            .build()
            .unwrap();
        let plain: TokenVerifier = keys.verifier();
        let checking = keys.verifier().with_status_checker(checker);
        // The same claims in both tokens: only the status check differs.
        let without = access_token(&keys, None);
        let with = access_token(&keys, Some(TokenStatus::list_entry(URI, valid_idx)));
        checking.prefetch_status_list(URI).unwrap();
        checking
            .verify_cached(&with)
            .expect("warm cache, valid entry");

        // Criterion measures one function after the other; on a shared machine the load can
        // change between them. This alternates the two in short batches and reports the median
        // of the per-round ratios, which such drift does not bias.
        let (ratio, base_ns, checked_ns) = interleaved(
            || plain.verify(black_box(&with)).unwrap(),
            || checking.verify(black_box(&with)).unwrap(),
        );
        let (ratio_bare, bare_ns, _) = interleaved(
            || plain.verify(black_box(&without)).unwrap(),
            || checking.verify(black_box(&with)).unwrap(),
        );
        println!(
            "{algorithm:?} interleaved medians: with the check {checked_ns:.0} ns, without it \
             {base_ns:.0} ns (same token) / {bare_ns:.0} ns (token without the claim); \
             throughput ratio {ratio:.3} (same token), {ratio_bare:.3} (against the token \
             without the claim)"
        );

        let mut group = c.benchmark_group(format!("verify {algorithm:?}"));
        group.bench_function("no checker, token without status claim", |b| {
            b.iter(|| plain.verify(black_box(&without)).unwrap())
        });
        group.bench_function("no checker, token with status claim", |b| {
            b.iter(|| plain.verify(black_box(&with)).unwrap())
        });
        group.bench_function("with status check, warm cache", |b| {
            b.iter(|| checking.verify(black_box(&with)).unwrap())
        });
        group.finish();
    }
}

/// Times `base` and `checked` in alternating batches of about 5 ms for about 4 s; returns the
/// median of the per-round ratios base time ÷ checked time (the throughput of `checked`
/// relative to `base`) and the median time of each, in ns.
fn interleaved<A, B>(base: impl Fn() -> A, checked: impl Fn() -> B) -> (f64, f64, f64) {
    let once = Instant::now();
    for _ in 0..100 {
        black_box(base());
    }
    let batch = (5_000_000 / (once.elapsed().as_nanos() as u64 / 100).max(1)).max(10);
    let time = |f: &dyn Fn()| {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        start.elapsed().as_nanos() as f64 / batch as f64
    };
    let (mut ratios, mut bases, mut checks) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..400 {
        let (b, c) = if round % 2 == 0 {
            let b = time(&|| drop(black_box(base())));
            (b, time(&|| drop(black_box(checked()))))
        } else {
            let c = time(&|| drop(black_box(checked())));
            (time(&|| drop(black_box(base()))), c)
        };
        ratios.push(b / c);
        bases.push(b);
        checks.push(c);
    }
    (median(ratios), median(bases), median(checks))
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn large_list(c: &mut Criterion) {
    let list = revoked_list();
    let lst = list.encode();
    let keys = keys(Algorithm::ES256);
    let token = keys
        .issuer()
        .sign_status_list(&keys.issuer().status_list_claims(
            URI,
            &list,
            Duration::from_secs(2),
            now(),
        ))
        .unwrap();
    println!(
        "list of {ENTRIES} entries, 1 bit, 1 % revoked: {} bytes uncompressed, {} bytes \
         compressed, lst {} bytes, signed Status List Token (ES256) {} bytes",
        list.as_bytes().len(),
        list.compress().len(),
        lst.len(),
        token.len()
    );
    let mut group = c.benchmark_group("list of 1,000,000, 1 % revoked");
    group.sample_size(20);
    group.bench_function("encode (zlib best + base64url)", |b| {
        b.iter(|| black_box(&list).encode())
    });
    group.bench_function("decode", |b| {
        b.iter(|| StatusList::decode(Bits::One, black_box(&lst), 16 << 20).unwrap())
    });
    group.bench_function("sign the Status List Token (ES256, encode included)", |b| {
        b.iter(|| {
            let issuer = keys.issuer();
            issuer
                .sign_status_list(&issuer.status_list_claims(
                    URI,
                    black_box(&list),
                    Duration::from_secs(2),
                    now(),
                ))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, verify, large_list);
criterion_main!(benches);
