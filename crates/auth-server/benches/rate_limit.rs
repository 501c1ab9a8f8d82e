//! The cost of `security.rate_limit_store = "database"` per login: the same successful
//! `POST /login` through the whole app (extractors, limiter, service, store) on one PostgreSQL
//! database, with the limit kept in memory and in the database, alternated in rounds; prints
//! each case's median time and the median of the per-round ratios (database ÷ memory), which
//! load drifting during the run cannot bias. Also the limiter's one statement alone.
//!
//! `AUTH_TEST_DATABASE_URL=postgres://… cargo bench -p auth-core -p auth-actix -p auth-server --bench rate_limit`
//! (`-- ROUNDS COST`: 30 rounds at bcrypt cost 4 by default).

use std::{num::NonZeroU32, time::Instant};

use actix_web::{App, test};
use auth_actix::AuthState;
use auth_diesel::testing::TestDatabase;
use auth_domain::RateQuota;
use auth_server::{
    settings::{AppEnv, Settings},
    startup,
};
use serde_json::json;

const SECRET: &str = "a benchmark secret that is long enough for HS256";
const PASSWORD: &str = "correct horse battery";
/// Logins per case and round.
const BATCH: u32 = 10;

fn state(database: &TestDatabase, dir: &std::path::Path, store: &str, cost: &str) -> AuthState {
    let mfa_key = dir.join("mfa-key");
    let settings = Settings::load(
        AppEnv::Test,
        &[
            ("database.url", database.url()),
            ("jwt.secret", SECRET),
            ("mfa.encryption_key_file", &mfa_key.to_string_lossy()),
            ("password.bcrypt_cost", cost),
            // High enough never to refuse: every login is counted, none is turned away.
            ("security.rate_limit_per_minute", "100000000"),
            ("security.rate_limit_store", store),
        ],
    )
    .unwrap();
    startup::build_state(&settings, AppEnv::Test).unwrap()
}

/// The mean time of one successful login over a batch of [`BATCH`], from 200 addresses.
macro_rules! batch {
    ($app:expr) => {{
        let started = Instant::now();
        for n in 0..BATCH {
            let login = test::TestRequest::post()
                .uri("/login")
                .peer_addr(format!("198.51.100.{}:4000", n % 200 + 1).parse().unwrap())
                .set_json(json!({"username": "bench", "password": PASSWORD}))
                .to_request();
            let response = test::call_service($app, login).await;
            assert_eq!(response.status(), 200);
        }
        started.elapsed() / BATCH
    }};
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let cost = args.next().unwrap_or_else(|| "4".to_owned());
    let database = TestDatabase::postgres()
        .expect("set AUTH_TEST_DATABASE_URL to a PostgreSQL server to run this benchmark");
    let dir = tempfile::tempdir().unwrap();
    let memory = state(&database, dir.path(), "memory", &cost);
    let shared = state(&database, dir.path(), "database", &cost);
    actix_web::rt::System::new().block_on(async move {
        let service = shared.service.clone();
        let memory = test::init_service(App::new().configure(auth_actix::configure(memory))).await;
        let shared = test::init_service(App::new().configure(auth_actix::configure(shared))).await;
        let register = test::TestRequest::post()
            .uri("/register")
            .peer_addr("198.51.100.250:4000".parse().unwrap())
            .set_json(json!({"username": "bench", "password": PASSWORD}))
            .to_request();
        assert_eq!(test::call_service(&memory, register).await.status(), 201);
        // Warm both (connections, caches).
        let _ = batch!(&memory);
        let _ = batch!(&shared);

        let (mut in_memory, mut in_database, mut ratios) = (vec![], vec![], vec![]);
        for round in 0..rounds {
            let (m, d) = if round % 2 == 0 {
                let m = batch!(&memory);
                (m, batch!(&shared))
            } else {
                let d = batch!(&shared);
                (batch!(&memory), d)
            };
            in_memory.push(m.as_secs_f64() * 1e3);
            in_database.push(d.as_secs_f64() * 1e3);
            ratios.push(d.as_secs_f64() / m.as_secs_f64());
        }

        // The statement alone, through the service's blocking hop.
        let quota = RateQuota::per_minute(NonZeroU32::new(100_000_000).unwrap());
        let mut statement = Vec::new();
        for n in 0..rounds * 20 {
            let started = Instant::now();
            service
                .take_rate_token(format!("203.0.113.{}", n % 250), quota)
                .await
                .unwrap();
            statement.push(started.elapsed().as_secs_f64() * 1e3);
        }

        println!("bcrypt cost {cost}, {rounds} rounds of {BATCH} logins per case (medians)");
        println!("login, limit in memory:   {:.3} ms", median(&mut in_memory));
        println!(
            "login, limit in database: {:.3} ms",
            median(&mut in_database)
        );
        println!("ratio database / memory:  {:.3}", median(&mut ratios));
        println!("take_rate_token alone:    {:.3} ms", median(&mut statement));
    });
}
