//! Login latency for an unknown user, a wrong password and a success, at bcrypt cost 10, on
//! the in-memory store. The first two must cost the same (no account enumeration by timing):
//! compare their times in the report. `cargo bench -p auth-core --bench login`

use std::sync::Arc;

use auth_core::{
    Algorithm, AuthConfig, AuthService, JwtKey, LoginAttempt, MemoryStore, PasswordHasher,
    Registration, TokenKeys,
};
use auth_domain::{ClientInfo, LockoutPolicy, Password};
use chrono::TimeDelta;
use criterion::{Criterion, criterion_group, criterion_main};

const PASSWORD: &str = "correct horse battery";

const NEVER: LockoutPolicy = LockoutPolicy {
    max_failures: u32::MAX,
    base_delay: TimeDelta::seconds(1),
    max_delay: TimeDelta::seconds(1),
    decay: TimeDelta::seconds(1),
};

fn service_at(store: Arc<MemoryStore>, cost: u32) -> AuthService {
    let key = JwtKey::hmac(Algorithm::HS256, &[5u8; 32]).unwrap();
    let config = AuthConfig {
        // Repeated failures must keep running bcrypt, not hit the lock.
        lockout: NEVER,
        user_lockout: NEVER,
        ..AuthConfig::default()
    };
    AuthService::new(
        store,
        PasswordHasher::new(cost).unwrap(),
        &TokenKeys::new(key, "bench", "bench").unwrap(),
        config,
    )
}

fn login(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let store = Arc::new(MemoryStore::new());
    let service = service_at(store.clone(), 10);
    let register = |service: &AuthService, username: &str| {
        runtime
            .block_on(service.register(
                Registration {
                    username: username.into(),
                    password: Password::new(PASSWORD),
                    email: None,
                },
                ClientInfo::default(),
            ))
            .unwrap();
    };
    register(&service, "alice");
    // A user whose hash was made before the cost was raised (not yet upgraded).
    register(&service_at(store, 4), "stale");
    let mut group = c.benchmark_group("login at bcrypt cost 10");
    group.sample_size(30);
    for (case, username, password) in [
        ("unknown user", "nobody", PASSWORD),
        ("wrong password", "alice", "not the password"),
        ("success", "alice", PASSWORD),
        (
            "wrong password, stale cost-4 hash",
            "stale",
            "not the password",
        ),
    ] {
        group.bench_function(case, |b| {
            b.to_async(&runtime).iter(|| async {
                let _ = service
                    .login(
                        LoginAttempt {
                            username: username.into(),
                            password: Password::new(password),
                            expires_in: None,
                        },
                        ClientInfo::default(),
                    )
                    .await;
            });
        });
    }
    group.finish();
}

criterion_group!(benches, login);
criterion_main!(benches);
