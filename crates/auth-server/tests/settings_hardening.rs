//! The real binary against hostile or mistaken settings: values taken verbatim from the
//! environment, mistyped numbers refused by name, guessable HMAC secrets refused in production,
//! database and SMTP passwords never printed, private SQLite files, and the mail settings
//! production refuses.

use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex, mpsc},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const PASSWORD: &str = "correct horse battery";

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// The binary in `dir` with `AUTH_ENV=env`, `vars`, and no `AUTH__` variable of ours leaking in.
fn command(program: &str, dir: &Path, env: &str, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AUTH__") {
            command.env_remove(key);
        }
    }
    command
        .current_dir(dir)
        .env("AUTH_ENV", env)
        .env("AUTH_CONFIG_DIR", config_dir())
        .env("RUST_LOG", "info")
        .env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .env("AUTH__SERVER__PORT", "0")
        .env("AUTH__SERVER__HOST", "127.0.0.1")
        .envs(vars.iter().copied());
    command
}

/// What a run printed: both streams, as they arrive.
#[derive(Clone, Default)]
struct Printed(Arc<Mutex<String>>);

impl Printed {
    fn collect(&self, stream: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
        let printed = self.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let mut all = printed.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        })
    }

    fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

/// The running server; killed when dropped.
struct Server {
    child: Child,
    base: String,
    printed: Printed,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start auth-server");
        let printed = Printed::default();
        printed.collect(child.stderr.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let (address_tx, address_rx) = mpsc::channel();
        let lines = printed.0.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = address_tx.send(rest.split_whitespace().next().unwrap().to_owned());
                }
                lines.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let base = match address_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => panic!("the server did not start:\n{}", printed.text()),
        };
        let server = Server {
            child,
            base,
            printed,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server.get("/health") != 200 {
            assert!(Instant::now() < deadline, "/health never answered 200");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn get(&self, path: &str) -> u16 {
        Self::agent()
            .get(format!("{}{path}", self.base))
            .call()
            .map_or(0, |r| r.status().as_u16())
    }

    fn post(&self, path: &str, forwarded_for: Option<&str>, body: Value) -> (u16, Value) {
        let mut request = Self::agent().post(format!("{}{path}", self.base));
        if let Some(client) = forwarded_for {
            request = request.header("X-Forwarded-For", client);
        }
        let mut response = request.send_json(body).expect("request failed");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }
}

/// Runs `command`, which must exit on its own (not start serving); returns its status and
/// everything it printed.
fn run_to_exit(mut command: Command) -> (ExitStatus, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start auth-server");
    let printed = Printed::default();
    let readers = [
        printed.collect(child.stdout.take().unwrap()),
        printed.collect(child.stderr.take().unwrap()),
    ];
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if printed.text().contains("listening on") || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("it started instead of refusing:\n{}", printed.text());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for reader in readers {
        reader.join().unwrap();
    }
    (status, printed.text())
}

/// Starting with `vars` fails, printing `needles` and never a panic.
fn assert_refused(dir: &Path, env: &str, vars: &[(&str, &str)], needles: &[&str]) -> String {
    let (status, printed) = run_to_exit(command(BIN, dir, env, vars));
    assert!(!status.success(), "{vars:?} was accepted:\n{printed}");
    assert!(
        !printed.contains("panicked"),
        "{vars:?} panicked:\n{printed}"
    );
    for needle in needles {
        assert!(
            printed.contains(needle),
            "{vars:?}: no {needle:?} in:\n{printed}"
        );
    }
    printed
}

/// A config folder in `dir` whose `{env}.toml` is ours plus `fragment` (`[table]\nkey = ...`).
fn config_with(dir: &Path, env: &str, fragment: &str) -> PathBuf {
    let folder = dir.join("config");
    std::fs::create_dir_all(&folder).unwrap();
    let base = std::fs::read_to_string(config_dir().join(format!("{env}.toml"))).unwrap();
    let (header, body) = fragment.split_once('\n').unwrap();
    let overlay = if base.lines().any(|line| line == header) {
        base.replacen(header, &format!("{header}\n{body}"), 1)
    } else {
        format!("{base}\n{fragment}\n")
    };
    std::fs::write(folder.join(format!("{env}.toml")), overlay).unwrap();
    folder
}

fn register_and_login(server: &Server) -> String {
    let user = json!({"username": "alice", "password": PASSWORD});
    let (status, body) = server.post("/register", None, user.clone());
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.post("/login", None, user);
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

// Finding 7: environment values of string settings are used verbatim.

#[test]
fn all_digit_and_number_like_environment_values_are_used_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    // 38 digits: `try_parsing` made this the float 9.8765432109876543e37, about 53 bits.
    let secret = "98765432109876543210987654321098765432";
    let vars = [
        ("AUTH__JWT__SECRET", secret),
        ("AUTH__JWT__ISSUER", "007"),
        ("AUTH__JWT__AUDIENCE", "1e3"),
    ];
    let server = Server::start(command(BIN, dir.path(), "test", &vars));
    let token = register_and_login(&server);
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_issuer(&["007"]);
    validation.set_audience(&["1e3"]);
    let key = jsonwebtoken::DecodingKey::from_secret(secret.as_bytes());
    let verified = jsonwebtoken::decode::<Value>(&token, &key, &validation);
    assert!(
        verified.is_ok(),
        "not signed with the digits as given: {verified:?}"
    );
    assert!(
        !server.printed.text().contains(secret),
        "the secret was logged"
    );
}

// Finding 8: mistyped numbers and booleans are refused, by name, without a panic.

#[test]
fn mistyped_or_out_of_range_numbers_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("PASSWORD__MIN_STRENGTH", "false", "from 0 to 4"),
        ("PASSWORD__MIN_STRENGTH", "true", "from 0 to 4"),
        ("PASSWORD__MIN_STRENGTH", "5", "from 0 to 4"),
        (
            "SECURITY__RATE_LIMIT_PER_MINUTE",
            "1.5",
            "expected an integer",
        ),
        ("SERVER__WORKERS", "0", "from 1 to 1024"),
        ("SERVER__WORKERS", "two", "from 1 to 1024"),
        ("SERVER__PORT", "70000", "from 0 to 65535"),
        ("SERVER__MAX_BODY_BYTES", "0", "expected an integer from 1"),
        ("DATABASE__POOL_SIZE", "0", "from 1 to 1024"),
        ("PASSWORD__BCRYPT_COST", "3", "from 4 to 31"),
        ("PASSWORD__BCRYPT_COST", "12.0", "from 4 to 31"),
        ("PASSWORD__MIN_LENGTH", "0", "from 1 to 72"),
        ("JWT__ACCESS_TTL_SECS", "1e3", "expected an integer"),
        ("JWT__LEEWAY_SECS", "-1", "from 0 to 3600"),
        // Beyond what chrono's TimeDelta holds: used to panic.
        (
            "SESSION__IDLE_TTL_SECS",
            "99999999999999999",
            "from 1 to 315360000",
        ),
        (
            "SESSION__REFRESH_REUSE_GRACE_SECS",
            "true",
            "from 0 to 3600",
        ),
        ("SECURITY__LOCKOUT_SECS", "false", "expected an integer"),
        (
            "SECURITY__MAX_FAILED_LOGINS",
            "0",
            "expected an integer from 1",
        ),
    ];
    for (name, value, expected) in cases {
        let variable = format!("AUTH__{name}");
        let setting = name.to_ascii_lowercase().replace("__", ".");
        assert_refused(
            dir.path(),
            "test",
            &[(&variable, value)],
            &[&setting, &variable, expected, &format!("{value:?}")],
        );
    }
}

#[test]
fn mistyped_values_in_a_config_file_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    for (fragment, needles) in [
        (
            "[jwt]\nkeys = [{ algorithm = \"ES256\", public_key_file = \"k.pem\", verify_only = \"yes\" }]",
            &["jwt.keys[0].verify_only", "expected true or false"][..],
        ),
        (
            "[security]\nrate_limit_per_minute = 1.5",
            &["security.rate_limit_per_minute", "1.5"],
        ),
        (
            "[password]\nmin_strength = false",
            &["password.min_strength", "the boolean false"],
        ),
    ] {
        let mut command = command(BIN, dir.path(), "test", &[]);
        command.env("AUTH_CONFIG_DIR", config_with(dir.path(), "test", fragment));
        let (status, printed) = run_to_exit(command);
        assert!(!status.success(), "{fragment} accepted:\n{printed}");
        for needle in needles {
            assert!(printed.contains(needle), "no {needle:?} in:\n{printed}");
        }
    }
}

#[test]
fn lists_still_come_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let vars = [
        ("AUTH__SERVER__TRUSTED_PROXIES", "10.9.9.9, 127.0.0.1"),
        ("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "1"),
    ];
    let server = Server::start(command(BIN, dir.path(), "test", &vars));
    let register = |client: &str, name: &str| {
        let user = json!({"username": name, "password": PASSWORD});
        server.post("/register", Some(client), user).0
    };
    // 127.0.0.1 is a trusted proxy, so each forwarded client has its own bucket of one.
    assert_eq!(register("203.0.113.5", "first"), 201);
    assert_eq!(register("203.0.113.6", "second"), 201);
    assert_eq!(register("203.0.113.5", "third"), 429);
}

// Finding 9: guessable HMAC secrets are refused in production.

/// 64 random hexadecimal digits, for `mfa.encryption_key`.
const MFA_KEY: &str = "e1b09429bfe68a517615193ebe5fbafae566d1315180b57b25b02db707b649de";

fn production(dir: &Path, secret: &str) -> Command {
    command(
        BIN,
        dir,
        "production",
        &[
            ("AUTH__DATABASE__URL", "sqlite://data/prod.db"),
            ("AUTH__JWT__SECRET", secret),
            ("AUTH__MFA__ENCRYPTION_KEY", MFA_KEY),
        ],
    )
}

/// Production needs `mfa.encryption_key` (it seals the TOTP secrets in the database): missing,
/// malformed or guessable, the server does not start, and the message names the setting but
/// never repeats the value. Nothing is generated in its place.
#[test]
fn production_needs_a_strong_mfa_encryption_key() {
    let dir = tempfile::tempdir().unwrap();
    let secret = generated_secret();
    let mut missing = production(dir.path(), &secret);
    missing.env_remove("AUTH__MFA__ENCRYPTION_KEY");
    let (status, printed) = run_to_exit(missing);
    assert!(!status.success(), "{printed}");
    assert!(
        printed
            .contains("mfa.encryption_key (AUTH__MFA__ENCRYPTION_KEY) is required in production"),
        "{printed}"
    );
    for (key, why) in [
        (
            "not-hex-at-all-but-a-secret",
            "expected 64 hexadecimal digits",
        ),
        (&*"0".repeat(64), "is too guessable"),
    ] {
        let mut command = production(dir.path(), &secret);
        command.env("AUTH__MFA__ENCRYPTION_KEY", key);
        let (status, printed) = run_to_exit(command);
        assert!(!status.success(), "{key}: {printed}");
        assert!(printed.contains("mfa.encryption_key"), "{printed}");
        assert!(printed.contains(why), "{printed}");
        assert!(!printed.contains(key), "the key was printed:\n{printed}");
    }
    assert!(!dir.path().join("data/mfa-key").exists());
}

#[test]
fn production_refuses_guessable_hmac_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let strong = generated_secret();
    for weak in ["a".repeat(32), "changeme".repeat(4), "0123456789".repeat(4)] {
        let (status, printed) = run_to_exit(production(dir.path(), &weak));
        assert!(!status.success(), "{weak} accepted:\n{printed}");
        assert!(printed.contains("jwt.secret is too guessable"), "{printed}");
        assert!(printed.contains("at least 128"), "{printed}");
        assert!(
            !printed.contains(&weak),
            "the secret was printed:\n{printed}"
        );
    }
    // A weak verify-only key would forge tokens as well as the signing key.
    let weak = "changeme".repeat(4);
    let fragment = format!("[jwt]\nkeys = [{{ algorithm = \"HS256\", secret = \"{weak}\" }}]");
    let mut command = production(dir.path(), &strong);
    command.env(
        "AUTH_CONFIG_DIR",
        config_with(dir.path(), "production", &fragment),
    );
    let (status, printed) = run_to_exit(command);
    assert!(!status.success(), "{printed}");
    assert!(
        printed.contains("jwt.keys[0].secret is too guessable"),
        "{printed}"
    );
    assert!(!printed.contains(&weak), "{printed}");
}

fn generated_secret() -> String {
    let output = Command::new(BIN).arg("gen-secret").output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn production_accepts_a_generated_secret_and_64_random_hex_digits() {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    for secret in [generated_secret(), hex] {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(production(dir.path(), &secret));
        assert_eq!(server.get("/health"), 200);
        assert!(!server.printed.text().contains(&secret));
    }
}

// Finding 10: no error path prints a database password.

#[test]
fn database_passwords_never_appear_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Each URL, with the pieces of its password that must never be printed. Nothing listens
    // on port 1; the others are malformed.
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "postgres://postgres:TopS3cr%ZZetPW@127.0.0.1:1/auth",
            &["TopS3cr", "ZZetPW"],
            "postgres://postgres:***@127.0.0.1:1/auth",
        ),
        (
            "postgres://postgres:Br4cketPW@[::1/auth",
            &["Br4cketPW"],
            "postgres://postgres:***@[::1/auth",
        ),
        (
            "postgres://postgres:Sp4cePW@bad host[/auth",
            &["Sp4cePW"],
            "postgres://postgres:***@bad host[/auth",
        ),
        (
            "postgres://postgres:Sl4shy/S3cretPW@127.0.0.1:1/auth",
            &["Sl4shy", "S3cretPW"],
            "postgres://postgres:***@127.0.0.1:1/auth",
        ),
        (
            "postgresql://postgres:Ampers4t@S3cretPW@127.0.0.1:1/auth",
            &["Ampers4t", "S3cretPW"],
            "postgresql://postgres:***@127.0.0.1:1/auth",
        ),
        (
            "postgres://postgres@127.0.0.1:1/auth?password=Qu3ryS3cretPW",
            &["Qu3ryS3cretPW"],
            "postgres://postgres@127.0.0.1:1/auth?password=***",
        ),
        (
            "postgres://postgres:Cl0sedP0rtPW@127.0.0.1:1/auth",
            &["Cl0sedP0rtPW"],
            "postgres://postgres:***@127.0.0.1:1/auth",
        ),
    ];
    for (url, pieces, redacted) in cases {
        for subcommand in ["serve", "migrate"] {
            let mut command = command(BIN, dir.path(), "test", &[("AUTH__DATABASE__URL", url)]);
            command.arg(subcommand);
            let (status, printed) = run_to_exit(command);
            assert!(!status.success(), "{subcommand} {redacted}: {printed}");
            for piece in *pieces {
                assert!(
                    !printed.contains(piece),
                    "{subcommand} printed {piece}:\n{printed}"
                );
            }
            assert!(printed.contains("PostgreSQL"), "{printed}");
            assert!(
                printed.contains(redacted),
                "{subcommand}: no {redacted} in:\n{printed}"
            );
        }
    }
}

// Finding 11: the SQLite files and the data folder are for the server's user only.

#[cfg(unix)]
#[test]
fn sqlite_files_and_data_folders_are_private_under_umask_022() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mut command = command("sh", dir.path(), "test", &[]);
    command.args(["-c", "umask 022; exec \"$0\" \"$@\"", BIN, "serve"]);
    let server = Server::start(command);
    register_and_login(&server);
    let mode = |path: &str| {
        let metadata =
            std::fs::metadata(dir.path().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        metadata.permissions().mode() & 0o777
    };
    for folder in ["data", "data/test"] {
        assert_eq!(mode(folder), 0o700, "{folder}: {:o}", mode(folder));
    }
    for file in [
        "data/test/auth.db",
        "data/test/auth.db-wal",
        "data/test/auth.db-shm",
        "data/test/jwt-secret",
    ] {
        assert_eq!(mode(file), 0o600, "{file}: {:o}", mode(file));
    }
}

// Mail: production refuses what would leak links, and the SMTP password is never printed.

const FROM: (&str, &str) = ("AUTH__MAIL__FROM", "Example <no-reply@example.com>");
const SMTP: (&str, &str) = ("AUTH__MAIL__TRANSPORT", "smtp");

#[test]
fn production_refuses_the_file_transport_clear_smtp_and_smtp_without_a_sender() {
    let dir = tempfile::tempdir().unwrap();
    let secret = generated_secret();
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: &[(Vars, &[&str])] = &[
        (
            &[("AUTH__MAIL__TRANSPORT", "file")],
            &[
                "invalid setting mail.transport (AUTH__MAIL__TRANSPORT)",
                "refused in production",
            ],
        ),
        (
            &[
                SMTP,
                FROM,
                (
                    "AUTH__MAIL__SMTP_URL",
                    "smtp://mailer:Cl3arS3cret@mail.example.com:587",
                ),
            ],
            &[
                "invalid setting mail.smtp_url (AUTH__MAIL__SMTP_URL)",
                "tls=required",
                "smtp://mailer:***@mail.example.com:587",
            ],
        ),
        (
            &[
                SMTP,
                FROM,
                (
                    "AUTH__MAIL__SMTP_URL",
                    "smtp://mailer:Cl3arS3cret@mail.example.com:587?tls=opportunistic",
                ),
            ],
            &[
                "invalid setting mail.smtp_url (AUTH__MAIL__SMTP_URL)",
                "smtp://mailer:***@mail.example.com:587?tls=opportunistic",
            ],
        ),
        (
            &[
                SMTP,
                (
                    "AUTH__MAIL__SMTP_URL",
                    "smtp://mailer:Cl3arS3cret@mail.example.com:587?tls=required",
                ),
            ],
            &["mail.from (AUTH__MAIL__FROM) is required with mail.transport = \"smtp\""],
        ),
    ];
    for (vars, needles) in cases {
        let mut command = production(dir.path(), &secret);
        command.envs(vars.iter().copied());
        let (status, printed) = run_to_exit(command);
        assert!(!status.success(), "{vars:?} was accepted:\n{printed}");
        assert!(!printed.contains("panicked"), "{printed}");
        for needle in *needles {
            assert!(
                printed.contains(needle),
                "{vars:?}: no {needle:?} in:\n{printed}"
            );
        }
        assert!(!printed.contains("Cl3arS3cret"), "{printed}");
    }
    assert!(!dir.path().join("data/outbox").exists());
}

#[test]
fn production_starts_with_mail_off_by_default_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(production(dir.path(), &generated_secret()));
    let printed = server.printed.text();
    assert_eq!(
        printed
            .matches("mail.transport is \"none\": the email features")
            .count(),
        1,
        "{printed}"
    );
    assert!(!dir.path().join("data/outbox").exists());
    // A relay on this host may take mail in clear; a remote one over TLS only.
    for url in [
        "smtp://127.0.0.1:2525",
        "smtp://mailer:L00pS3cret@mail.example.com:587?tls=required",
    ] {
        let mut command = production(dir.path(), &generated_secret());
        command.envs([SMTP, FROM, ("AUTH__MAIL__SMTP_URL", url)]);
        let server = Server::start(command);
        let printed = server.printed.text();
        assert!(
            printed.contains("mail is sent through smtp://"),
            "{printed}"
        );
        // Neither mail.link_base nor server.public_url: links would point at the listener.
        assert!(printed.contains("set mail.link_base"), "{printed}");
        assert!(!printed.contains("L00pS3cret"), "{printed}");
    }
}

#[test]
fn smtp_passwords_never_appear_in_errors_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    // Each URL, with the pieces of its password that must never be printed, and how it is
    // shown instead (if at all).
    let cases: &[(&str, &[&str], Option<&str>)] = &[
        (
            "smtp://mailer:Sl4sh/S3cretPW@mail.example.com:587?tls=required",
            &["Sl4sh", "S3cretPW"],
            Some("smtp://mailer:***@mail.example.com:587?tls=required"),
        ),
        (
            "smtp://mailer:Typ0S3cretPW@mail.example.com:587?tsl=required",
            &["Typ0S3cretPW"],
            Some("smtp://mailer:***@mail.example.com:587?tsl=required"),
        ),
        (
            "smtp://mailer:B4dEsc%zzS3cretPW@mail.example.com",
            &["B4dEsc", "zzS3cretPW"],
            Some("smtp://mailer:***@mail.example.com"),
        ),
        (
            "smtp://mailer:Sp4ce S3cretPW@mail.example.com",
            &["Sp4ce", "S3cretPW"],
            Some("smtp://mailer:***@mail.example.com"),
        ),
        (
            "smtp://mailer:P0rtS3cretPW@mail.example.com:99999",
            &["P0rtS3cretPW"],
            Some("smtp://mailer:***@mail.example.com:99999"),
        ),
        ("N0tAUrlS3cretPW", &["N0tAUrlS3cretPW"], None),
    ];
    for (url, pieces, shown) in cases {
        let vars = [SMTP, FROM, ("AUTH__MAIL__SMTP_URL", url)];
        let (status, printed) = run_to_exit(command(BIN, dir.path(), "test", &vars));
        assert!(!status.success(), "{url} was accepted:\n{printed}");
        assert!(
            printed.contains("mail.smtp_url (AUTH__MAIL__SMTP_URL)"),
            "{printed}"
        );
        for piece in *pieces {
            assert!(!printed.contains(piece), "{piece} printed:\n{printed}");
        }
        if let Some(shown) = shown {
            assert!(printed.contains(shown), "no {shown} in:\n{printed}");
        }
    }
    // Accepted: the start-up line says where mail goes, without the password.
    let vars = [
        SMTP,
        FROM,
        (
            "AUTH__MAIL__SMTP_URL",
            "smtp://mailer:G00dS3cretPW@127.0.0.1:2525?tls=required",
        ),
    ];
    let server = Server::start(command(BIN, dir.path(), "test", &vars));
    let printed = server.printed.text();
    assert!(
        printed.contains("mail is sent through smtp://mailer:***@127.0.0.1:2525?tls=required"),
        "{printed}"
    );
    assert!(!printed.contains("G00dS3cretPW"), "{printed}");
}

#[test]
fn a_mail_template_that_cannot_be_used_stops_the_start_naming_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("mail-templates");
    std::fs::create_dir(&templates).unwrap();
    let broken = templates.join("password_reset.html");
    std::fs::write(
        &broken,
        "{% extends \"layout.html\" %}{% block content %}{{ link }",
    )
    .unwrap();
    let folder = templates.display().to_string();
    let printed = assert_refused(
        dir.path(),
        "test",
        &[("AUTH__MAIL__TEMPLATES_DIR", &folder)],
        &[&format!(
            "mail.templates_dir: {}: syntax error",
            broken.display()
        )],
    );
    assert!(printed.contains("line 1"), "{printed}");
    std::fs::write(&broken, "{{ no_such_value }}").unwrap();
    assert_refused(
        dir.path(),
        "test",
        &[("AUTH__MAIL__TEMPLATES_DIR", &folder)],
        &[&broken.display().to_string(), "undefined"],
    );
    let missing = dir.path().join("no-such-folder").display().to_string();
    assert_refused(
        dir.path(),
        "test",
        &[("AUTH__MAIL__TEMPLATES_DIR", &missing)],
        &[
            "invalid setting mail.templates_dir (AUTH__MAIL__TEMPLATES_DIR)",
            "is not a folder",
        ],
    );
}

// Second review, item 12: a secret file that others may read is refused at start, by name.

#[cfg(unix)]
#[test]
fn secret_and_key_files_open_to_others_are_refused_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let secret = generated_secret();
    let keys = dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    let jwt_secret = keys.join("jwt-secret");
    let mfa_key = keys.join("mfa-key");
    let mfa_hex = "0123456789abcdef".repeat(4);
    std::fs::write(&jwt_secret, &secret).unwrap();
    std::fs::write(&mfa_key, &mfa_hex).unwrap();
    let private = keys.join("es256.private.pem");
    let pair = auth_core::generate_key_pair(auth_core::Algorithm::ES256).unwrap();
    std::fs::write(&private, &pair.private_pem).unwrap();
    let chmod = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let jwt_file = jwt_secret.to_str().unwrap();
    let mfa_file = mfa_key.to_str().unwrap();
    let private_file = private.to_str().unwrap();
    let hs256 = [
        ("AUTH__JWT__SECRET_FILE", jwt_file),
        ("AUTH__MFA__ENCRYPTION_KEY_FILE", mfa_file),
    ];
    let es256 = [
        ("AUTH__JWT__ALGORITHM", "ES256"),
        ("AUTH__JWT__PRIVATE_KEY_FILE", private_file),
        ("AUTH__MFA__ENCRYPTION_KEY_FILE", mfa_file),
    ];
    chmod(&mfa_key, 0o600);
    chmod(&private, 0o600);
    for (file, mode, vars) in [
        (&jwt_secret, 0o644, &hs256[..]),
        (&jwt_secret, 0o640, &hs256[..]),
        (&jwt_secret, 0o602, &hs256[..]),
        (&private, 0o644, &es256[..]),
    ] {
        chmod(file, mode);
        let shown = file.to_str().unwrap();
        let printed = assert_refused(
            dir.path(),
            "test",
            vars,
            &[shown, &format!("chmod 600 {shown}")],
        );
        for contents in [secret.as_str(), mfa_hex.as_str(), pair.private_pem.trim()] {
            assert!(!printed.contains(contents), "{printed}");
        }
        chmod(file, 0o600);
    }
    chmod(&mfa_key, 0o644);
    let printed = assert_refused(dir.path(), "test", &hs256, &[mfa_file, "chmod 600"]);
    assert!(!printed.contains(&mfa_hex), "{printed}");
    chmod(&mfa_key, 0o600);
    // Owner-only files start, with either signing key.
    for vars in [&hs256[..], &es256[..]] {
        let server = Server::start(command(BIN, dir.path(), "test", vars));
        assert_eq!(server.get("/health"), 200);
    }
}
