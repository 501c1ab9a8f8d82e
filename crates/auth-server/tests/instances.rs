//! Several real server processes over one PostgreSQL database: what one instance changes holds
//! on the others by their next request, although each caches credentials in memory.
//!
//! The cache is set to trust entries for 30 s here (`cache.max_age_secs`), so that these tests
//! prove the invalidation (PostgreSQL NOTIFY/LISTEN), not the expiry. Each change is made on one
//! instance after another instance has cached the credential; the other is then polled (at
//! most 1 s) and the time it took is printed.
//!
//! PostgreSQL only: ignored unless AUTH_TEST_DATABASE_URL was set at build time (build.rs).

mod support;

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
    sync::Barrier,
    time::{Duration, Instant},
};

use auth_diesel::testing::TestDatabase;
use serde_json::{Value, json};
use support::Process;

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "a shared secret that every instance signs and verifies with";

/// A running instance; killed when dropped.
struct Instance {
    process: Process,
    agent: ureq::Agent,
}

fn command(dir: &Path, url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("AUTH_ENV", "test")
        .env(
            "AUTH_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("RUST_LOG", "info")
        .env("AUTH__DATABASE__URL", url)
        .env("AUTH__JWT__SECRET", SECRET)
        .env("AUTH__CACHE__MAX_AGE_SECS", "30")
        .env("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "0");
    command
}

impl Instance {
    fn start(dir: &Path, url: &str, env: &[(&str, &str)]) -> Instance {
        let process = Process::start(command(dir, url).envs(env.iter().copied()));
        let instance = Instance {
            process,
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
        };
        // Ready when it serves and its listener hears the database (the cache is on).
        instance.wait_for(|| instance.call("GET", "/health", None, None).0 == 200);
        instance.wait_for(|| {
            instance
                .process
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains("credential cache on"))
        });
        instance
    }

    fn wait_for(&self, ready: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "{} never got ready",
                self.process.base
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.process.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some((name, value)) = auth {
            request = request.header(name, value);
        }
        let result = match body {
            Some(body) => self.agent.run(
                request
                    .header("content-type", "application/json")
                    .body(body.to_string())
                    .unwrap(),
            ),
            None => self.agent.run(request.body(()).unwrap()),
        };
        let mut response = result.expect("request failed");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    fn get(&self, path: &str, token: &str) -> u16 {
        let bearer = format!("Bearer {token}");
        self.call("GET", path, Some(("Authorization", &bearer)), None)
            .0
    }

    fn send(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let bearer = format!("Bearer {token}");
        self.call(method, path, Some(("Authorization", &bearer)), body)
    }

    fn register(&self, username: &str) -> u16 {
        self.call(
            "POST",
            "/register",
            None,
            Some(json!({"username": username, "password": PASSWORD})),
        )
        .0
    }

    fn login(&self, username: &str, password: &str) -> (u16, Value) {
        self.call(
            "POST",
            "/login",
            None,
            Some(json!({"username": username, "password": password})),
        )
    }

    fn token(&self, username: &str) -> Value {
        let (status, body) = self.login(username, PASSWORD);
        assert_eq!(status, 200, "{body}");
        body
    }
}

fn access(tokens: &Value) -> String {
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// Two (or more) instances over one fresh PostgreSQL database.
struct Cluster {
    instances: Vec<Instance>,
    dir: tempfile::TempDir,
    database: TestDatabase,
}

impl Cluster {
    fn start(n: usize) -> Cluster {
        Self::start_with(n, &[])
    }

    fn start_with(n: usize, env: &[(&str, &str)]) -> Cluster {
        let database = TestDatabase::postgres()
            .expect("AUTH_TEST_DATABASE_URL must name a PostgreSQL server for these tests");
        let dir = tempfile::tempdir().unwrap();
        let instances = (0..n)
            .map(|_| Instance::start(dir.path(), database.url(), env))
            .collect();
        Cluster {
            instances,
            dir,
            database,
        }
    }

    fn admin(&self, username: &str) -> String {
        let mut child = command(self.dir.path(), self.database.url())
            .args(["create-admin", "--username", username])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        assert!(child.wait().unwrap().success());
        access(&self.instances[0].token(username))
    }
}

/// Polls `check` until it holds (at most 1 s); prints how long it took.
#[track_caller]
fn holds_within_a_second(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: still not seen after 1 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("{what}: seen after {:?}", started.elapsed());
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_token_from_one_instance_works_on_another_and_sessions_end_everywhere() {
    let cluster = Cluster::start(3);
    let [a, b, c] = &cluster.instances[..] else {
        unreachable!()
    };
    assert_eq!(a.register("alice"), 201);
    let first = access(&a.token("alice"));
    let second = b.token("alice");
    let third = access(&c.token("alice"));
    for instance in [a, b, c] {
        assert_eq!(instance.get("/profile", &first), 200);
    }

    // Logout on A: B and C, which cached the session, refuse it at once.
    assert_eq!(a.send("POST", "/logout", &first, None).0, 204);
    holds_within_a_second("logout on A, seen on B", || {
        b.get("/profile", &first) == 401
    });
    holds_within_a_second("logout on A, seen on C", || {
        c.get("/profile", &first) == 401
    });

    // Ending one session by id on B: A refuses it.
    let second_access = access(&second);
    assert_eq!(a.get("/profile", &second_access), 200);
    let (_, sessions) = b.send("GET", "/sessions", &second_access, None);
    let id = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        b.send("DELETE", &format!("/sessions/{id}"), &third, None).0,
        204
    );
    holds_within_a_second("session revoked on B, seen on A", || {
        a.get("/profile", &second_access) == 401
    });

    // A password change on C ends the other sessions: A and B see it.
    let fresh = access(&a.token("alice"));
    assert_eq!(b.get("/profile", &fresh), 200);
    let (status, _) = c.send(
        "PATCH",
        "/profile",
        &third,
        Some(json!({"password": "a brand new passphrase", "current_password": PASSWORD})),
    );
    assert_eq!(status, 200);
    holds_within_a_second("password change on C, seen on B", || {
        b.get("/profile", &fresh) == 401
    });
    assert_eq!(a.get("/profile", &fresh), 401);
    assert_eq!(c.get("/profile", &third), 200);
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn disabling_demoting_and_revoking_keys_on_one_instance_hold_on_another() {
    let cluster = Cluster::start(2);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    let root = cluster.admin("root");
    let deputy = cluster.admin("deputy");
    assert_eq!(a.register("alice"), 201);
    let alice = access(&a.token("alice"));

    // Demotion on A: B stops treating the deputy as an admin.
    assert_eq!(b.get("/admin", &deputy), 200);
    let (_, found) = a.send("GET", "/admin/users?q=deputy", &root, None);
    let deputy_id = found["users"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = a.send(
        "PATCH",
        &format!("/admin/users/{deputy_id}"),
        &root,
        Some(json!({"role": "user"})),
    );
    assert_eq!(status, 200);
    holds_within_a_second("demotion on A, seen on B", || {
        b.get("/admin", &deputy) == 403
    });

    // An API key revoked on A dies on B.
    let (status, created) = b.send(
        "POST",
        "/api-keys",
        &alice,
        Some(json!({"name": "job", "current_password": PASSWORD})),
    );
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let with_key = |instance: &Instance| {
        instance
            .call("GET", "/profile", Some(("X-API-Key", &key)), None)
            .0
    };
    assert_eq!(with_key(b), 200);
    let key_id = created["id"].as_str().unwrap();
    assert_eq!(
        a.send("DELETE", &format!("/api-keys/{key_id}"), &alice, None)
            .0,
        204
    );
    holds_within_a_second("API key revoked on A, seen on B", || with_key(b) == 401);

    // Disabling on A: B refuses the user's token.
    assert_eq!(b.get("/profile", &alice), 200);
    let (_, found) = a.send("GET", "/admin/users?q=alice", &root, None);
    let alice_id = found["users"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = a.send(
        "PATCH",
        &format!("/admin/users/{alice_id}"),
        &root,
        Some(json!({"is_active": false})),
    );
    assert_eq!(status, 200);
    holds_within_a_second("disable on A, seen on B", || {
        b.get("/profile", &alice) == 401
    });
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn refresh_reuse_detected_on_one_instance_ends_the_session_on_another() {
    // No grace period: a second use of a rotated token is reuse at once.
    let cluster = Cluster::start_with(2, &[("AUTH__SESSION__REFRESH_REUSE_GRACE_SECS", "0")]);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    assert_eq!(a.register("alice"), 201);
    let tokens = a.token("alice");
    let stolen = tokens["refresh_token"].clone();
    let refresh = |instance: &Instance| {
        instance.call(
            "POST",
            "/refresh",
            None,
            Some(json!({"refresh_token": stolen})),
        )
    };
    let (status, rotated) = refresh(a);
    assert_eq!(status, 200);
    let current = access(&rotated);
    assert_eq!(a.get("/profile", &current), 200);
    assert_eq!(refresh(b).0, 401);
    holds_within_a_second("reuse detected on B, seen on A", || {
        a.get("/profile", &current) == 401
    });
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn one_username_registered_on_two_instances_at_once_is_one_user_and_lockout_is_shared() {
    let cluster = Cluster::start(2);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    for round in 0..5 {
        let name = format!("racer{round}");
        let barrier = Barrier::new(2);
        let statuses: Vec<u16> = std::thread::scope(|scope| {
            let handles: Vec<_> = [a, b]
                .into_iter()
                .map(|instance| {
                    let (barrier, name) = (&barrier, &name);
                    scope.spawn(move || {
                        barrier.wait();
                        instance.register(name)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [201, 409], "round {round}: {statuses:?}");
    }

    // Failures on A and on B add up: 3 + 2 wrong guesses from one client lock it out of the
    // account on both.
    assert_eq!(a.register("bob"), 201);
    for instance in [a, a, a, b, b] {
        assert_eq!(instance.login("bob", "not the password").0, 401);
    }
    for instance in [a, b] {
        let (status, body) = instance.login("bob", PASSWORD);
        assert_eq!(status, 429, "{body}");
    }
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_password_change_on_one_instance_ends_what_checks_in_flight_on_another_produced() {
    const LOGINS: usize = 12;
    const KEYS: usize = 6;
    // The change waits for this many of B's answers, so that the rest are in flight on B when
    // it commits on A.
    const BEFORE_THE_CHANGE: usize = 3;
    // Many hashing threads, and no lockout in the way of the attempts.
    let cluster = Cluster::start_with(
        2,
        &[
            ("AUTH__PASSWORD__HASH_THREADS", "8"),
            ("AUTH__SECURITY__MAX_FAILED_LOGINS", "1000"),
        ],
    );
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    assert_eq!(a.register("alice"), 201);
    let owner = access(&a.token("alice"));
    // The attacker's stolen session and the old password, used on B.
    let stolen = access(&b.token("alice"));
    assert_eq!(a.get("/profile", &owner), 200);
    assert_eq!(b.get("/profile", &stolen), 200);

    let barrier = Barrier::new(LOGINS + KEYS);
    let (answered, answers) = std::sync::mpsc::channel();
    let (changed, logins, keys) = std::thread::scope(|scope| {
        let logins: Vec<_> = (0..LOGINS)
            .map(|_| {
                let (barrier, answered) = (&barrier, answered.clone());
                scope.spawn(move || {
                    barrier.wait();
                    let reply = b.login("alice", PASSWORD);
                    let _ = answered.send(());
                    reply
                })
            })
            .collect();
        let keys: Vec<_> = (0..KEYS)
            .map(|n| {
                let (barrier, stolen, answered) = (&barrier, &stolen, answered.clone());
                scope.spawn(move || {
                    barrier.wait();
                    let reply = b.send(
                        "POST",
                        "/api-keys",
                        stolen,
                        Some(json!({"name": format!("k{n}"), "current_password": PASSWORD})),
                    );
                    let _ = answered.send(());
                    reply
                })
            })
            .collect();
        let (owner, a) = (&owner, a);
        let change = scope.spawn(move || {
            for _ in 0..BEFORE_THE_CHANGE {
                answers.recv().unwrap();
            }
            a.send(
                "PATCH",
                "/profile",
                owner,
                Some(json!({"password": "a brand new passphrase", "current_password": PASSWORD})),
            )
        });
        let join = |handles: Vec<std::thread::ScopedJoinHandle<'_, (u16, Value)>>| {
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        };
        (change.join().unwrap(), join(logins), join(keys))
    });
    assert_eq!(changed.0, 200, "{}", changed.1);

    let sessions: Vec<String> = logins
        .iter()
        .filter(|(status, _)| *status == 200)
        .map(|(_, body)| access(body))
        .collect();
    let created: Vec<String> = keys
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body["key"].as_str().unwrap().to_owned())
        .collect();
    println!(
        "{} of {LOGINS} logins and {} of {KEYS} key creations on B got through",
        sessions.len(),
        created.len()
    );
    for (status, body) in logins.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(*status, 401, "{body}");
    }
    for (status, body) in keys.iter().filter(|(status, _)| *status != 201) {
        assert!([401, 403].contains(status), "{status} {body}");
    }
    for token in &sessions {
        for (name, instance) in [("A", a), ("B", b)] {
            holds_within_a_second(&format!("a session from B, refused on {name}"), || {
                instance.get("/profile", token) == 401
            });
        }
    }
    for key in &created {
        for (name, instance) in [("A", a), ("B", b)] {
            holds_within_a_second(&format!("a key from B, refused on {name}"), || {
                instance
                    .call("GET", "/profile", Some(("X-API-Key", key)), None)
                    .0
                    == 401
            });
        }
    }
    assert_eq!(a.get("/profile", &owner), 200);
}

/// The code of a base32 TOTP secret for the current 30-second step plus `offset` steps.
fn totp_code(secret: &str, offset: i64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    totp.generate(u64::try_from(now + offset * 30).unwrap())
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_second_factor_turned_on_or_a_user_disabled_on_one_instance_ends_credentials_on_another() {
    let cluster = Cluster::start(2);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    let root = cluster.admin("root");
    assert_eq!(a.register("alice"), 201);
    let confirming = access(&a.token("alice"));
    let elsewhere = access(&b.token("alice"));
    let (status, created) = a.send(
        "POST",
        "/api-keys",
        &confirming,
        Some(json!({"name": "job", "current_password": PASSWORD})),
    );
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    let with_key = |instance: &Instance| {
        instance
            .call("GET", "/profile", Some(("X-API-Key", &key)), None)
            .0
    };
    // Cached on B.
    assert_eq!(b.get("/profile", &elsewhere), 200);
    assert_eq!(with_key(b), 200);

    // The second factor turned on at A ends the session cached on B; the key stays.
    let (status, started) = a.send(
        "POST",
        "/mfa/totp",
        &confirming,
        Some(json!({"current_password": PASSWORD})),
    );
    assert_eq!(status, 201, "{started}");
    let secret = started["secret"].as_str().unwrap();
    let (status, confirmed) = a.send(
        "POST",
        "/mfa/totp/confirm",
        &confirming,
        Some(json!({"code": totp_code(secret, 0)})),
    );
    assert_eq!(status, 200, "{confirmed}");
    holds_within_a_second("second factor on at A, other session refused on B", || {
        b.get("/profile", &elsewhere) == 401
    });
    assert_eq!(b.get("/profile", &confirming), 200);
    assert_eq!(with_key(b), 200);

    // Disabling at A revokes the key cached on B, for good.
    let (_, found) = a.send("GET", "/admin/users?q=alice", &root, None);
    let alice = found["users"][0]["id"].as_str().unwrap().to_owned();
    for active in [false, true] {
        let (status, body) = a.send(
            "PATCH",
            &format!("/admin/users/{alice}"),
            &root,
            Some(json!({"is_active": active})),
        );
        assert_eq!(status, 200, "{body}");
    }
    holds_within_a_second("disabled at A, key refused on B", || with_key(b) == 401);
    assert_eq!(with_key(a), 401);
    assert_eq!(b.get("/profile", &confirming), 401);
}

/// Resumes a stopped PostgreSQL backend when dropped, whatever happened in between.
struct Stopped(i32);

impl Stopped {
    fn stop(pid: i32) -> Stopped {
        let stopped = Stopped(pid);
        let status = Command::new("kill")
            .args(["-STOP", &pid.to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "cannot stop backend {pid}");
        stopped
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// The backend pids of the invalidation listeners on `database` (by their application name).
fn listener_backends(database: &TestDatabase) -> Vec<i32> {
    use diesel::{Connection, PgConnection, RunQueryDsl};
    #[derive(diesel::QueryableByName)]
    struct Backend {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let mut conn = PgConnection::establish(database.url()).unwrap();
    diesel::sql_query(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = $1 ORDER BY pid",
    )
    .bind::<diesel::sql_types::Text, _>(auth_diesel::LISTENER_APPLICATION_NAME)
    .load::<Backend>(&mut conn)
    .unwrap()
    .into_iter()
    .map(|b| b.pid)
    .collect()
}

/// Second review, finding 8: a LISTEN connection whose backend stopped without closing (here
/// frozen with SIGSTOP: the kernel still acknowledges everything, so neither TCP nor a query
/// ever fails) was never noticed, and the instance trusted a revoked session it had cached
/// until `cache.max_age_secs`. Now the listener's health check has a deadline: when it passes
/// the cache is suspended and the listener reconnects.
#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_listener_whose_backend_stopped_answering_is_noticed_and_replaced() {
    // Cached credentials are trusted for two minutes: only the listener ends them sooner.
    let env = [("AUTH__CACHE__MAX_AGE_SECS", "120")];
    let mut cluster = Cluster::start_with(1, &env);
    let frozen_listener = match listener_backends(&cluster.database)[..] {
        [pid] => pid,
        ref other => panic!("expected one listener, found {other:?}"),
    };
    let other = Instance::start(cluster.dir.path(), cluster.database.url(), &env);
    cluster.instances.push(other);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    assert_eq!(a.register("alice"), 201);
    let first = access(&a.token("alice"));
    assert_eq!(a.get("/profile", &first), 200);

    // A's listener backend freezes; B ends the session A has cached.
    let stopped = Stopped::stop(frozen_listener);
    assert_eq!(b.send("POST", "/logout", &first, None).0, 204);
    let started = Instant::now();
    while a.get("/profile", &first) != 401 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "A still accepts a session B ended, 15 s after"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "logout on B, seen on A despite its frozen listener after {:?}",
        started.elapsed()
    );

    // A listens again on a new connection (the frozen backend still frozen): B's next change
    // reaches it at once.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !listener_backends(&cluster.database)
        .iter()
        .filter(|pid| **pid != frozen_listener)
        .count()
        .eq(&2)
    {
        assert!(Instant::now() < deadline, "A never listened again");
        std::thread::sleep(Duration::from_millis(50));
    }
    a.wait_for(|| {
        a.process
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains("credential cache on"))
            .count()
            >= 2
    });
    let second = access(&a.token("alice"));
    assert_eq!(a.get("/profile", &second), 200);
    assert_eq!(b.send("POST", "/logout", &second, None).0, 204);
    holds_within_a_second("logout on B, seen on A's new listener", || {
        a.get("/profile", &second) == 401
    });
    assert!(
        a.process
            .log
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains("stopped answering")),
        "the loss is logged"
    );
    drop(stopped);
}

/// The bit of `token` in the status list that `instance` serves now (the unsigned JSON form,
/// fetched from this instance whatever host the token's `uri` names).
fn status_bit(instance: &Instance, token: &str) -> u8 {
    use auth_core::status_list::{Bits, StatusList};
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let entry = &claims["status"]["status_list"];
    let uri = entry["uri"].as_str().unwrap();
    let path = &uri[uri.find("/statuslists/").unwrap()..];
    let (status, body) = instance.call(
        "GET",
        path,
        Some(("Accept", "application/statuslist+json")),
        None,
    );
    assert_eq!(status, 200, "{body}");
    let list = StatusList::decode(
        Bits::One,
        body["status_list"]["lst"].as_str().unwrap(),
        1 << 24,
    )
    .unwrap();
    list.get(entry["idx"].as_u64().unwrap()).unwrap()
}

/// Issue 20 across instances: a logout on A shows in the status list B serves within the
/// list's `ttl` (2 s), through the store and the NOTIFY path, although B built its copy before.
#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_logout_on_one_instance_shows_in_the_status_list_another_serves() {
    let cluster = Cluster::start(2);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    assert_eq!(a.register("alice"), 201);
    assert_eq!(a.register("bob"), 201);
    let token = access(&a.token("alice"));
    let bystander = access(&b.token("bob"));
    assert_eq!(status_bit(b, &token), 0);
    assert_eq!(status_bit(a, &bystander), 0);

    assert_eq!(a.send("POST", "/logout", &token, None).0, 204);
    let started = Instant::now();
    while status_bit(b, &token) != 1 {
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "logout on A: not in B's list after the 2 s ttl"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "logout on A: in the list B serves after {:?}",
        started.elapsed()
    );
    assert_eq!(status_bit(b, &bystander), 0);
    assert_eq!(status_bit(a, &token), 1);
}

/// A login from this test's address on `instance`: the status, `Retry-After`, and the body.
fn limited_login(instance: &Instance, n: usize) -> (u16, Option<u64>, Value) {
    let body = json!({"username": format!("nobody{n}"), "password": PASSWORD}).to_string();
    let request = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/login", instance.process.base))
        .header("content-type", "application/json")
        .body(body)
        .unwrap();
    let mut response = instance.agent.run(request).expect("request failed");
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().parse().unwrap());
    let status = response.status().as_u16();
    (
        status,
        retry_after,
        response.body_mut().read_json().unwrap_or(Value::Null),
    )
}

/// Spends the address's budget of 4 a minute across two instances, alternating; returns how
/// many logins in all got through (401: no such user) before both instances answered 429.
fn logins_through(cluster: &Cluster) -> usize {
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    let mut through = 0;
    for n in 0..12 {
        let instance = if n % 2 == 0 { a } else { b };
        let (status, retry_after, body) = limited_login(instance, n);
        match status {
            401 => through += 1,
            429 => {
                assert_eq!(body["error"], "too_many_requests", "{body}");
                let detail = body["detail"].as_str().unwrap();
                assert!(
                    detail.starts_with("Too many requests from this address"),
                    "{body}"
                );
                let retry_after = retry_after.expect("a 429 without Retry-After");
                assert!((1..=15).contains(&retry_after), "Retry-After {retry_after}");
            }
            other => panic!("{other}: {body}"),
        }
    }
    through
}

#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn the_per_ip_limit_holds_across_instances_with_the_database_store() {
    let limit = [("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "4")];
    let shared = Cluster::start_with(
        2,
        &[limit[0], ("AUTH__SECURITY__RATE_LIMIT_STORE", "database")],
    );
    // 4 in all, spread over both instances; then both refuse, whichever is asked.
    assert_eq!(logins_through(&shared), 4);
    for instance in &shared.instances {
        assert_eq!(limited_login(instance, 99).0, 429);
    }
    drop(shared);

    // The same with each instance counting by itself: each lets its own 4 through.
    let apart = Cluster::start_with(
        2,
        &[limit[0], ("AUTH__SECURITY__RATE_LIMIT_STORE", "memory")],
    );
    assert_eq!(logins_through(&apart), 8);
}

/// Issue 20 across instances: tokens issued by A name B's lists (A's `server.public_url` is
/// B's address, as a load balancer's would be), a verifier in another process
/// (examples/axum-resource-server, HS256 with the shared secret) fetches them from B, and a
/// logout on A reaches it within the list's `ttl` (2 s) + 1 s.
#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_logout_on_one_instance_reaches_a_verifier_that_fetches_from_another() {
    use support::{start_verifier, until_revoked, verifier_items};

    let database = TestDatabase::postgres()
        .expect("AUTH_TEST_DATABASE_URL must name a PostgreSQL server for these tests");
    let dir = tempfile::tempdir().unwrap();
    let b = Instance::start(dir.path(), database.url(), &[]);
    let a = Instance::start(
        dir.path(),
        database.url(),
        &[("AUTH__SERVER__PUBLIC_URL", &b.process.base)],
    );
    assert_eq!(a.register("alice"), 201);
    assert_eq!(a.register("bob"), 201);
    let token = access(&a.token("alice"));
    let bystander = access(&a.token("bob"));
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let uri = claims["status"]["status_list"]["uri"].as_str().unwrap();
    assert!(
        uri.starts_with(&format!("{}/statuslists/", b.process.base)),
        "{uri}"
    );

    let verifier = start_verifier(&[
        ("AUTH_URL", &b.process.base),
        ("AUTH_HMAC_SECRET", SECRET),
        ("AUTH_ISSUER", claims["iss"].as_str().unwrap()),
        ("AUTH_AUDIENCE", claims["aud"].as_str().unwrap()),
    ]);
    let (status, body, _) = verifier_items(&verifier, &token);
    assert_eq!(status, 200, "{body}");

    assert_eq!(a.send("POST", "/logout", &token, None).0, 204);
    until_revoked(
        &verifier,
        &token,
        "logout on A, list fetched from B",
        Instant::now(),
        Duration::from_secs(3),
    );
    let (status, body, _) = verifier_items(&verifier, &bystander);
    assert_eq!(status, 200, "another user's token stays accepted: {body}");
}

/// Issue 19 across instances: what each instance's file transport wrote (they share the
/// folder, `data/test/outbox` of the cluster's directory): the decoded `.eml` files of `kind`
/// to `to`, oldest first.
fn messages(cluster: &Cluster, kind: &str, to: &str) -> Vec<String> {
    let outbox = cluster.dir.path().join("data/test/outbox");
    let mut files: Vec<_> = std::fs::read_dir(&outbox)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|path| {
        let name = path.file_name().unwrap().to_string_lossy();
        name.ends_with(".eml") && name.contains(kind)
    });
    files.sort();
    files
        .iter()
        .map(|path| unquote(&std::fs::read_to_string(path).unwrap()))
        .filter(|text| text.contains(&format!("To: {to}")))
        .collect()
}

/// Decodes a quoted-printable text (soft line breaks and `=XX`), as mail clients do.
fn unquote(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(byte) = joined
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Waits (10 s at most) for the first reset message to `to` and returns its token.
fn reset_token(cluster: &Cluster, to: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(text) = messages(cluster, "password_reset", to).pop() {
            let start = text.find("/reset-password?token=").unwrap() + 22;
            return text[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
        assert!(Instant::now() < deadline, "no reset message to {to}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn register_with_email(instance: &Instance, username: &str) {
    let (status, body) = instance.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": username, "password": PASSWORD,
                    "email": format!("{username}@example.com")})),
    );
    assert_eq!(status, 201, "{body}");
}

fn forgot(instance: &Instance, email: &str) {
    let (status, body) = instance.call(
        "POST",
        "/password/forgot",
        None,
        Some(json!({"email": email})),
    );
    assert_eq!(status, 202, "{body}");
}

/// A reset on A ends, at once, the sessions B has cached, and the new password works on B.
#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_reset_on_one_instance_ends_the_sessions_another_has_cached() {
    let cluster = Cluster::start(2);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    register_with_email(a, "alice");
    let on_b = access(&b.token("alice"));
    let on_a = access(&a.token("alice"));
    assert_eq!(b.get("/profile", &on_b), 200);
    assert_eq!(b.get("/profile", &on_a), 200);

    forgot(a, "alice@example.com");
    let token = reset_token(&cluster, "alice@example.com");
    let new_password = "a brand new horse battery";
    let (status, body) = a.call(
        "POST",
        "/password/reset",
        None,
        Some(json!({"token": token, "new_password": new_password})),
    );
    assert_eq!(status, 204, "{body}");
    holds_within_a_second("reset on A, B refuses the session it cached", || {
        b.get("/profile", &on_b) == 401
    });
    holds_within_a_second("reset on A, B refuses A's session", || {
        b.get("/profile", &on_a) == 401
    });
    assert_eq!(b.login("alice", PASSWORD).0, 401);
    assert_eq!(b.login("alice", new_password).0, 200);
}

/// The per-account limits are kept in the store: a reset asked for on A and then on B within
/// `mail.min_interval_secs` sends one message, not two.
#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn the_per_account_mail_limits_hold_across_instances() {
    let cluster = Cluster::start(2);
    let [a, b] = &cluster.instances[..] else {
        unreachable!()
    };
    register_with_email(a, "alice");
    register_with_email(b, "bob");
    forgot(a, "alice@example.com");
    forgot(b, "alice@example.com");
    forgot(b, "alice@example.com");
    // Bob's message, asked for on B after alice's, is out after them: by then any message of
    // B's to alice would be too.
    forgot(b, "bob@example.com");
    reset_token(&cluster, "bob@example.com");
    let token = reset_token(&cluster, "alice@example.com");
    assert_eq!(
        messages(&cluster, "password_reset", "alice@example.com").len(),
        1,
        "the limit did not hold across instances"
    );
    // And no newer link was issued without a message: it would have voided this one.
    let (status, body) = b.call(
        "POST",
        "/password/reset",
        None,
        Some(json!({"token": token, "new_password": "a brand new horse battery"})),
    );
    assert_eq!(status, 204, "{body}");
}
