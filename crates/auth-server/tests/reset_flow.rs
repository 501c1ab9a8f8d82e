//! The password reset end to end with the real binary on a random port and real parts around
//! it: the link travels in a real message (through lettre to a real SMTP server on loopback,
//! Python's aiosmtpd; or as an `.eml` file of the file transport), and a real browser (headless
//! Chromium, driven by `tests/browser/reset_password.py` through chromedriver) opens the link,
//! fills the page's form and submits it. Then the new password logs in over HTTP and the old
//! one does not. The same browser also verifies an address from a registration's
//! `email_verification` message (`tests/browser/verify_email.py`).
//!
//! - The SMTP test needs python3 with aiosmtpd: it runs with AUTH_TEST_REQUIRE_INTEROP set (see
//!   build.rs) and is reported ignored, with the reason, otherwise.
//! - The browser test needs Debian's `chromium` and `chromium-driver` and Python's `selenium`.
//!   Without them it says it is skipped and passes, unless AUTH_TEST_REQUIRE_BROWSER is set
//!   (CI sets it: .ci/run), when it fails instead.

mod support;

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::Process;

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const PASSWORD: &str = "correct horse battery";
const NEW_PASSWORD: &str = "a brand new horse battery";

/// The binary in `dir` with AUTH_ENV=test, the repository's config and `env`.
fn start(dir: &Path, env: &[(&str, &str)]) -> Process {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("AUTH_ENV", "test")
        .env(
            "AUTH_CONFIG_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config"),
        )
        .env("RUST_LOG", "info")
        .env_remove("AUTH__DATABASE__URL")
        .envs(env.iter().copied());
    let server = Process::start(&mut command);
    poll("/health", || {
        (call(&server, "GET", "/health", None).0 == 200).then_some(())
    });
    server
}

fn call(server: &Process, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}{path}", server.base);
    let mut response = match body {
        Some(body) => agent.post(&url).send_json(body),
        None if method == "GET" => agent.get(&url).call(),
        None => agent.post(&url).send_empty(),
    }
    .expect("request failed");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_json().unwrap_or(Value::Null),
    )
}

fn login(server: &Process, password: &str) -> (u16, Value) {
    call(
        server,
        "POST",
        "/login",
        Some(json!({"username": "alice", "password": password})),
    )
}

/// Registers alice with an address and asks for a reset link by address.
fn register_and_forget(server: &Process) {
    let (status, body) = call(
        server,
        "POST",
        "/register",
        Some(json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        server,
        "POST",
        "/password/forgot",
        Some(json!({"email": "alice@example.com"})),
    );
    assert_eq!(status, 202, "{body}");
}

/// The new password works, the old one does not.
fn assert_password_changed(server: &Process) {
    let (status, body) = login(server, NEW_PASSWORD);
    assert_eq!(status, 200, "{body}");
    let (status, body) = login(server, PASSWORD);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_credentials"))
    );
}

/// The reset link in `text`, whole (as a user would click it).
fn link_in(text: &str, base: &str) -> String {
    link_to(text, base, "/reset-password")
}

/// The link to `path` in `text`, whole.
fn link_to(text: &str, base: &str, path: &str) -> String {
    let prefix = format!("{base}{path}?token=");
    let start = text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no {prefix}… in {text}"));
    text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect()
}

fn token_of(link: &str) -> &str {
    let token = link.split_once("?token=").unwrap().1;
    assert_eq!(token.len(), 43, "{link}");
    token
}

/// Waits, 30 s at most, until `ready` gives a value.
fn poll<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `tests/support/smtp_sink.py` on a free port; killed when dropped.
struct Sink {
    child: Child,
    folder: tempfile::TempDir,
    port: u16,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Sink {
    fn start() -> Sink {
        let folder = tempfile::tempdir().unwrap();
        let mut child = Command::new("python3")
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/support/smtp_sink.py"
            ))
            .arg(folder.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .strip_prefix("listening ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink did not start (aiosmtpd?): {line:?}"));
        Sink {
            child,
            folder,
            port,
        }
    }

    fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.starts_with("message") && name.ends_with(".json")
            })
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
            .collect()
    }
}

#[test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "needs python3 with aiosmtpd: set AUTH_TEST_REQUIRE_INTEROP=1 to run"
)]
fn a_reset_link_delivered_over_smtp_sets_the_password() {
    let sink = Sink::start();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("smtp://127.0.0.1:{}", sink.port);
    let server = start(
        dir.path(),
        &[
            ("AUTH__MAIL__TRANSPORT", "smtp"),
            ("AUTH__MAIL__SMTP_URL", &url),
            ("AUTH__MAIL__FROM", "Example Auth <no-reply@example.com>"),
        ],
    );
    register_and_forget(&server);
    let message = poll("the reset message at the SMTP server", || {
        sink.messages().into_iter().find(|m| {
            m["headers"]["Subject"]
                .as_str()
                .is_some_and(|s| s.contains("password"))
        })
    });
    assert_eq!(message["rcpt_tos"], json!(["alice@example.com"]));
    assert_eq!(message["mail_from"], "no-reply@example.com");
    let text = message["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|part| part["content_type"] == "text/plain")
        .expect("a plain-text part")["text"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = link_in(&text, &server.base);
    let (status, body) = call(
        &server,
        "POST",
        "/password/reset",
        Some(json!({"token": token_of(&link), "new_password": NEW_PASSWORD})),
    );
    assert_eq!(status, 204, "{body}");
    assert_password_changed(&server);
    // And the notice of the change reached the (now verified) address.
    poll("the password_changed_notice", || {
        (sink.messages().len() >= 2).then_some(())
    });
    let log = server.log.lock().unwrap().join("\n");
    assert!(!log.contains(token_of(&link)), "the log contains the token");
}

/// Decodes a quoted-printable text (soft line breaks and `=XX`), as mail clients do.
fn unquote(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
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

/// The newest `.eml` file of `kind` in `outbox` (their names sort by time), once there is one.
fn newest_eml(outbox: &Path, kind: &str) -> String {
    let path = poll(&format!("a {kind} .eml in {}", outbox.display()), || {
        let mut files: Vec<PathBuf> = std::fs::read_dir(outbox)
            .ok()?
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.ends_with(".eml") && name.contains(kind)
            })
            .collect();
        files.sort();
        files.pop()
    });
    unquote(&std::fs::read_to_string(path).unwrap())
}

/// Whether the browser test can run here: chromium, chromedriver and selenium.
fn browser_missing() -> Option<String> {
    let found = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    let mut missing = Vec::new();
    if !found("chromium", "--version") {
        missing.push("chromium");
    }
    if !found("chromedriver", "--version") {
        missing.push("chromedriver (chromium-driver)");
    }
    if !found_selenium() {
        missing.push("python3 with selenium");
    }
    (!missing.is_empty()).then(|| missing.join(", "))
}

fn found_selenium() -> bool {
    Command::new("python3")
        .args(["-c", "import selenium"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Whether the browser tests should run; when they cannot, whether that is allowed (else it
/// panics: AUTH_TEST_REQUIRE_BROWSER is set).
fn browser_ready() -> bool {
    let Some(missing) = browser_missing() else {
        return true;
    };
    let required = std::env::var_os("AUTH_TEST_REQUIRE_BROWSER").is_some_and(|v| !v.is_empty());
    assert!(
        !required,
        "AUTH_TEST_REQUIRE_BROWSER is set but this machine lacks {missing}"
    );
    println!(
        "skipped: the browser test needs {missing} (set AUTH_TEST_REQUIRE_BROWSER=1 to require it)"
    );
    false
}

/// Where the screenshots go: AUTH_TEST_SCREENSHOTS, else a folder in `dir`.
fn screenshots(dir: &Path) -> PathBuf {
    let shots = std::env::var_os("AUTH_TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();
    shots
}

#[test]
fn a_user_verifies_the_address_in_a_real_browser_from_the_registration_message() {
    if !browser_ready() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let server = start(
        dir.path(),
        &[
            ("AUTH__MAIL__TRANSPORT", "file"),
            ("AUTH__MAIL__OUTBOX_DIR", outbox.to_str().unwrap()),
        ],
    );
    let (status, body) = call(
        &server,
        "POST",
        "/register",
        Some(json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"})),
    );
    assert_eq!(
        (status, &body["email_verified"]),
        (201, &json!(false)),
        "{body}"
    );
    let eml = newest_eml(&outbox, "email_verification");
    let link = link_to(&eml, &server.base, "/verify-email");
    let shots = screenshots(dir.path());

    let output = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/verify_email.py"
        ))
        .args([link.as_str(), "alice@example.com"])
        .arg(&shots)
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && said.trim_end().ends_with("ok"),
        "the browser run failed: {said}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for shot in ["verify.png", "verified.png"] {
        let png = std::fs::read(shots.join(shot)).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{shot} is not a PNG");
    }
    // The profile says so.
    let (status, body) = login(&server, PASSWORD);
    assert_eq!(status, 200, "{body}");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(&format!("{}/profile", server.base))
        .header(
            "authorization",
            &format!("Bearer {}", body["access_token"].as_str().unwrap()),
        )
        .call()
        .expect("request failed");
    assert_eq!(response.status().as_u16(), 200);
    let profile: Value = response.body_mut().read_json().unwrap();
    assert_eq!(profile["email_verified"], true, "{profile}");
    // The browser's GET did not use the token up; its POST did.
    let (status, body) = call(
        &server,
        "POST",
        "/email/verify",
        Some(json!({"token": token_of(&link)})),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_verification_token"))
    );
}

#[test]
fn a_user_resets_the_password_in_a_real_browser_from_the_link_in_the_message() {
    if let Some(missing) = browser_missing() {
        let required = std::env::var_os("AUTH_TEST_REQUIRE_BROWSER").is_some_and(|v| !v.is_empty());
        assert!(
            !required,
            "AUTH_TEST_REQUIRE_BROWSER is set but this machine lacks {missing}"
        );
        println!(
            "skipped: the browser test needs {missing} (set AUTH_TEST_REQUIRE_BROWSER=1 to require it)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let server = start(
        dir.path(),
        &[
            ("AUTH__MAIL__TRANSPORT", "file"),
            ("AUTH__MAIL__OUTBOX_DIR", outbox.to_str().unwrap()),
        ],
    );
    register_and_forget(&server);
    let eml = newest_eml(&outbox, "password_reset");
    let link = link_in(&eml, &server.base);
    // Where the screenshots go: AUTH_TEST_SCREENSHOTS, else a folder of the test's.
    let shots = std::env::var_os("AUTH_TEST_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().join("screenshots"));
    std::fs::create_dir_all(&shots).unwrap();

    let output = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/browser/reset_password.py"
        ))
        .args([link.as_str(), NEW_PASSWORD])
        .arg(&shots)
        .output()
        .expect("python3");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && said.trim_end().ends_with("ok"),
        "the browser run failed: {said}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for shot in ["form.png", "success.png"] {
        let png = std::fs::read(shots.join(shot)).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{shot} is not a PNG");
    }
    assert_password_changed(&server);
    // The browser's GET of the page did not use the token up; its POST did.
    let (status, body) = call(
        &server,
        "POST",
        "/password/reset",
        Some(json!({"token": token_of(&link), "new_password": "yet another horse battery"})),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_reset_token"))
    );
}
