//! Operating the real binary: JSON logs with request ids, metrics and probes, pruning (the
//! command and the schedule), an outage logged once, and settings and command-line errors
//! that say what to do.

mod support;

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use auth_diesel::{DieselStore, testing::TestDatabase};
use auth_domain::{
    AuditEvent, AuditStore, LockoutPolicy, LoginThrottleStore, NewSession, NewUser, PasswordHash,
    RefreshTokenHash, Role, Session, SessionId, SessionStore, UserId, UserStore, Username, now,
};
use chrono::TimeDelta;
use serde_json::{Value, json};
use support::Process;

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const PASSWORD: &str = "correct horse battery";

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// The binary run in `dir` with AUTH_ENV=test, the repository's config/ and `env`.
fn command(dir: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("AUTH_ENV", "test")
        .env("AUTH_CONFIG_DIR", config_dir())
        .env("RUST_LOG", "info")
        .env_remove("AUTH__DATABASE__URL")
        .env_remove("RUST_BACKTRACE")
        .envs(env.iter().copied());
    command
}

fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    command(dir, env)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The server, stopped (SIGKILL) when dropped; keeps every line it wrote to stdout.
struct Server {
    process: Process,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let server = Server {
            process: Process::start(&mut command(dir, env)),
        };
        server.wait_until_status("/health/ready", 200);
        server
    }

    /// The first line containing `needle`, once it has been written (10 s at most).
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(line) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "never logged {needle:?}:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn lines(&self) -> Vec<String> {
        self.process.log.lock().unwrap().clone()
    }

    fn wait_until_status(&self, path: &str, status: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.get(path).0 != status {
            assert!(Instant::now() < deadline, "{path} never answered {status}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn get(&self, path: &str) -> (u16, String) {
        match Self::agent()
            .get(format!("{}{path}", self.process.base))
            .call()
        {
            Ok(mut response) => (
                response.status().as_u16(),
                response.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    fn post(&self, path: &str, request_id: &str, body: Value) -> (u16, Value) {
        let mut response = Self::agent()
            .post(format!("{}{path}", self.process.base))
            .header("X-Request-Id", request_id)
            .send_json(body)
            .unwrap();
        assert_eq!(response.headers().get("x-request-id").unwrap(), request_id);
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    /// SIGTERM, then everything it wrote until it exited.
    fn terminate(mut self) -> Vec<String> {
        let killed = Command::new("kill")
            .args(["-TERM", &self.process.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = self.process.child.wait().unwrap();
        assert!(status.success(), "{status}");
        // The reader thread ends at end of file: wait for the last line.
        self.wait_for("\"stopped\"");
        self.lines()
    }
}

fn json_lines(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            assert!(value.is_object(), "{line}");
            value
        })
        .collect()
}

#[test]
fn with_json_logs_every_line_is_json_and_carries_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            ("AUTH__LOG__FORMAT", "json"),
            ("AUTH__METRICS__ENABLED", "true"),
        ],
    );
    let (status, _) = server.post(
        "/register",
        "reg-1",
        json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!(status, 201);
    let (status, _) = server.post(
        "/login",
        "login-1",
        json!({"username": "alice", "password": PASSWORD}),
    );
    assert_eq!(status, 200);
    assert_eq!(server.get("/health/live").0, 200);
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("auth_logins_total{outcome=\"success\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auth_store_connections_in_use"),
        "{metrics}"
    );

    let lines = server.terminate();
    let events = json_lines(&lines);
    for line in &lines {
        assert!(!line.contains("Some(") && !line.contains("None"), "{line}");
    }
    let with = |key: &str, value: &str| {
        events
            .iter()
            .filter(|e| e[key] == value)
            .cloned()
            .collect::<Vec<_>>()
    };
    // Start-up: the overlay file that was read, and where it listens.
    let loaded = &with(
        "message",
        &format!(
            "settings loaded (overlay file: {})",
            config_dir().join("test.toml").display()
        ),
    );
    assert_eq!(loaded.len(), 1, "{lines:#?}");
    // The request lines: route, client, status, latency in ms with at most three decimals.
    let requests = with("message", "request");
    let login = requests
        .iter()
        .find(|e| e["route"] == "/login")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(login["span"]["request_id"], "login-1", "{login}");
    assert_eq!(
        (&login["method"], &login["status"]),
        (&json!("POST"), &json!(200))
    );
    assert_eq!(login["client_ip"], "127.0.0.1", "{login}");
    let latency = login["latency_ms"].as_f64().unwrap();
    assert_eq!((latency * 1000.0).round() / 1000.0, latency, "{login}");
    // The audit events, written on the hashing threads, carry the request's id and client IP.
    let audit: Vec<_> = events.iter().filter(|e| e["target"] == "audit").collect();
    for (action, id) in [("register", "reg-1"), ("login", "login-1")] {
        let event = audit
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("no {action} event in {lines:#?}"));
        assert_eq!(event["span"]["request_id"], id, "{event}");
        assert_eq!(event["ip"], "127.0.0.1", "{event}");
        assert_eq!(event["outcome"], "success", "{event}");
    }
    // Shutdown is logged too, as JSON.
    assert!(
        events.iter().any(|e| e["message"] == "stopped"),
        "{lines:#?}"
    );
}

/// Outside production, mail goes to the outbox folder: the server says so and where links point,
/// creates the folder for its user only, counts messages in `/metrics` from the start (every
/// kind and outcome at 0), and still stops cleanly, draining the queue first.
#[test]
fn mail_delivery_is_announced_counted_and_stopped_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[("AUTH__METRICS__ENABLED", "true")]);
    server.wait_for("mail is written to data/test/outbox (mail.transport = \"file\")");
    let links = server.wait_for("links in messages point at ");
    assert!(
        links.contains(&format!(
            "links in messages point at {} ",
            server.process.base
        )),
        "{links}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let outbox = std::fs::metadata(dir.path().join("data/test/outbox")).unwrap();
        assert_eq!(outbox.permissions().mode() & 0o777, 0o700);
    }
    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    for kind in auth_core::MailKind::ALL {
        for outcome in ["sent", "failed", "dropped"] {
            let series = format!("auth_mail_sent_total{{kind=\"{kind}\",outcome=\"{outcome}\"}} 0");
            assert!(metrics.contains(&series), "no {series} in:\n{metrics}");
        }
    }
    // SIGTERM: it stops cleanly (exit status 0), the queue drained, and says so.
    let mut server = server;
    let killed = Command::new("kill")
        .args(["-TERM", &server.process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.process.child.wait().unwrap();
    assert!(status.success(), "{status}");
    server.wait_for("auth_server: stopped");
}

#[test]
fn an_auth_config_dir_that_does_not_exist_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-config");
    let missing = missing.to_str().unwrap();
    let output = run(dir.path(), &[("AUTH_CONFIG_DIR", missing)], &["migrate"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(missing) && stderr.contains("not a folder"),
        "{stderr}"
    );

    // A folder without the overlay file is fine, and the log says none was read.
    let empty = tempfile::tempdir().unwrap();
    let output = run(
        dir.path(),
        &[("AUTH_CONFIG_DIR", empty.path().to_str().unwrap())],
        &["migrate"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("overlay file: none"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn command_line_errors_show_causes_and_never_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    let backtrace = [("RUST_BACKTRACE", "1")];
    let bad_setting = run(
        dir.path(),
        &[backtrace[0], ("AUTH__SERVER__WORKERS", "0")],
        &["migrate"],
    );
    assert_eq!(bad_setting.status.code(), Some(1));
    let stderr = text(&bad_setting.stderr);
    assert!(
        stderr.starts_with("error: invalid setting server.workers"),
        "{stderr}"
    );
    let bad_url = run(
        dir.path(),
        &[backtrace[0], ("AUTH__DATABASE__URL", "mysql://db/auth")],
        &["users", "list"],
    );
    assert_eq!(bad_url.status.code(), Some(1));
    let stderr = text(&bad_url.stderr);
    assert!(
        stderr.contains("error: cannot open the database\n  caused by: unsupported database URL"),
        "{stderr}"
    );
    for stderr in [text(&bad_setting.stderr), stderr] {
        assert!(!stderr.to_lowercase().contains("backtrace"), "{stderr}");
        assert!(!stderr.contains(".rs:"), "{stderr}");
    }
}

#[test]
fn help_says_where_settings_come_from() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(dir.path(), &[], &["--help"]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for needle in [
        "config/default.toml",
        "AUTH_ENV",
        "AUTH_CONFIG_DIR",
        "AUTH__SECTION__KEY",
        "docs/operations.md",
        "prune",
    ] {
        assert!(help.contains(needle), "{needle} not in:\n{help}");
    }
}

#[test]
fn create_admin_says_where_the_password_comes_from_and_asks_in_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let nothing = run(dir.path(), &[], &["create-admin", "--username", "root"]);
    assert_eq!(nothing.status.code(), Some(1));
    let stderr = text(&nothing.stderr);
    assert!(
        stderr.contains("no password on standard input") && stderr.contains("printf"),
        "{stderr}"
    );

    // In a terminal (script(1) gives it one), it asks twice.
    let mut child = Command::new("script")
        .args([
            "-qec",
            &format!("{BIN} create-admin --username root"),
            "/dev/null",
        ])
        .current_dir(dir.path())
        .env("AUTH_ENV", "test")
        .env("AUTH_CONFIG_DIR", config_dir())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("script(1), from util-linux, runs the command in a terminal");
    let screen = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let shown = screen.clone();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buffer) {
            if n == 0 {
                break;
            }
            shown
                .lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    for prompt in [
        "Password for the new admin root: ",
        "The same password again: ",
    ] {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !screen.lock().unwrap().contains(prompt) {
            assert!(
                Instant::now() < deadline,
                "no prompt: {}",
                screen.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        write!(stdin, "admin passphrase 42\r").unwrap();
        stdin.flush().unwrap();
    }
    assert!(
        child.wait().unwrap().success(),
        "{}",
        screen.lock().unwrap()
    );
    let listed = text(&run(dir.path(), &[], &["users", "list"]).stdout);
    assert!(
        listed.contains("root") && listed.contains("admin"),
        "{listed}"
    );
}

#[test]
fn a_key_file_of_another_kind_is_named_and_said_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let made = run(
        dir.path(),
        &[],
        &[
            "gen-key",
            "--algorithm",
            "ES256",
            "--out-dir",
            keys.to_str().unwrap(),
        ],
    );
    assert!(made.status.success(), "{}", text(&made.stderr));
    let private = std::fs::read_dir(&keys)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(".private.pem"))
        .unwrap();
    let output = run(
        dir.path(),
        &[
            ("AUTH__JWT__ALGORITHM", "RS256"),
            ("AUTH__JWT__PRIVATE_KEY_FILE", private.to_str().unwrap()),
        ],
        &["users", "list"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "jwt.private_key_file {} holds an EC P-256 key (for ES256), not a key for RS256",
            private.display()
        )),
        "{stderr}"
    );
}

#[test]
fn users_list_is_aligned_in_columns() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["bob", "a_rather_long_username"] {
        let mut child = command(dir.path(), &[])
            .args(["create-admin", "--username", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "admin passphrase 42").unwrap();
        assert!(child.wait().unwrap().success());
    }
    let listed = text(&run(dir.path(), &[], &["users", "list"]).stdout);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    for column in ["role", "active", "created", "email"] {
        let at = lines[0].find(column).unwrap();
        for line in &lines[1..] {
            assert!(
                &line[at - 2..at] == "  " && !line[at..].starts_with(' '),
                "{column} misaligned:\n{listed}"
            );
        }
    }
}

/// A user with an ended session 40 days old, an audit event 400 days old, and a login-throttle
/// row quiet for two days, in the SQLite file at `url`; plus a live session.
fn backlog(url: &str) {
    let store = DieselStore::connect(url, 1).unwrap();
    let at = now();
    let user = store
        .create_user(NewUser {
            id: UserId::new(),
            username: Username::parse("alice").unwrap(),
            email: None,
            password_hash: PasswordHash::new("$2b$04$not-a-real-hash"),
            role: Role::User,
            created_at: at - TimeDelta::days(100),
        })
        .unwrap();
    let session = |created: chrono::DateTime<chrono::Utc>| NewSession {
        session: Session {
            id: SessionId::new(),
            user_id: user.id,
            created_at: created,
            last_used_at: created,
            idle_expires_at: created + TimeDelta::days(14),
            expires_at: created + TimeDelta::days(90),
            revoked_at: None,
            client: Default::default(),
            api_key: None,
            mfa: false,
        },
        refresh_token_hash: Some(RefreshTokenHash::new(format!(
            "digest-{}",
            SessionId::new()
        ))),
        generation: user.credential_generation,
    };
    let old = store
        .create_session(session(at - TimeDelta::days(41)))
        .unwrap();
    store
        .revoke_session(old.id, at - TimeDelta::days(40))
        .unwrap();
    store.create_session(session(at)).unwrap();
    store
        .record(&AuditEvent {
            id: uuid::Uuid::new_v4(),
            at: at - TimeDelta::days(400),
            action: "login".into(),
            outcome: "success".into(),
            actor: None,
            target: None,
            ip: None,
            detail: None,
        })
        .unwrap();
    let policy = LockoutPolicy {
        max_failures: 5,
        base_delay: TimeDelta::seconds(30),
        max_delay: TimeDelta::seconds(3600),
        decay: TimeDelta::minutes(15),
    };
    store
        .take_login_attempt("alice|192.0.2.1", &policy, at - TimeDelta::days(2))
        .unwrap();
}

#[test]
fn prune_prints_what_it_removed_from_each_table() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::sqlite();
    backlog(database.url());
    let env = [("AUTH__DATABASE__URL", database.url())];
    let output = run(dir.path(), &env, &["prune"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let said = text(&output.stdout);
    for (table, removed) in [
        ("sessions", 1),
        ("refresh_tokens", 1),
        ("login_throttles", 1),
        ("audit_events", 1),
    ] {
        assert!(
            said.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == [table, &removed.to_string()]),
            "{table} {removed} not in:\n{said}"
        );
    }
    let again = text(&run(dir.path(), &env, &["prune"]).stdout);
    assert!(again.lines().skip(1).all(|l| l.ends_with(" 0")), "{again}");
}

#[test]
fn the_server_prunes_on_a_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::sqlite();
    backlog(database.url());
    let server = Server::start(
        dir.path(),
        &[
            ("AUTH__DATABASE__URL", database.url()),
            ("AUTH__MAINTENANCE__PRUNE_INTERVAL_SECS", "3600"),
        ],
    );
    // The first turn is at start.
    let line = server.wait_for("pruned ");
    assert!(
        line.contains("sessions=1") && line.contains("audit_events=1"),
        "{line}"
    );
}

/// Needs a PostgreSQL server whose connections can be refused.
#[test]
#[cfg_attr(
    not(auth_pg_tests),
    ignore = "PostgreSQL: set AUTH_TEST_DATABASE_URL to run"
)]
fn a_store_outage_is_logged_once_when_it_starts_and_once_when_it_ends() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::postgres().expect("AUTH_TEST_DATABASE_URL is set");
    let server = Server::start(
        dir.path(),
        &[
            ("AUTH__DATABASE__URL", database.url()),
            ("AUTH__LOG__FORMAT", "json"),
        ],
    );
    database.set_reachable(false);
    for _ in 0..3 {
        assert_eq!(server.get("/health/ready").0, 503);
        assert_eq!(server.get("/health/live").0, 200);
    }
    database.set_reachable(true);
    server.wait_until_status("/health/ready", 200);
    let back = server.wait_for("available again");
    let lines = server.lines();
    let count = |needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(count("the database is unavailable"), 1, "{lines:#?}");
    assert_eq!(count("available again"), 1, "{lines:#?}");
    let back: Value = serde_json::from_str(&back).unwrap();
    assert!(back["outage_secs"].as_f64().unwrap() > 0.0, "{back}");
    // Nothing else about it: no line per failed probe or connection attempt.
    assert_eq!(count("health check failed"), 0, "{lines:#?}");
    assert_eq!(count("\"level\":\"ERROR\""), 1, "{lines:#?}");
}
