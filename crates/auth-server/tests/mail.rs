//! Mail delivery with real parts: messages go through lettre to a real SMTP server on loopback
//! (Python's aiosmtpd, `tests/support/smtp_sink.py`, which parses what it receives with
//! Python's email package), or into real `.eml` files; a stalled peer is a real TCP listener
//! that never answers. Nothing is mocked.
//!
//! The SMTP tests need python3 with aiosmtpd (and, for STARTTLS, cryptography, which
//! `PyJWT[crypto]` brings); they run only with AUTH_TEST_REQUIRE_INTEROP set (see build.rs) and
//! are reported ignored, with the reason, otherwise. The file-transport and queue tests always
//! run.

use std::{
    io::{BufRead, BufReader, Write as _},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use auth_core::{
    EmailChangedNotice, Mail, MailKind, MailTemplates, Mailer, Message, MfaChange,
    MfaChangedNotice, PasswordReset,
};
use auth_domain::Email;
use auth_server::{
    mail::{DeliveryConfig, MailCounter, MailOutcome, Outbox, Transport, load_templates},
    settings::SmtpUrl,
};
use serde_json::Value;

const TOKEN: &str = "k3QxZ9vLrT2mWq8sYb4nHc6dJf0pGa1eUo5iKz7yXw_";
const FROM: &str = "Example Auth <no-reply@example.com>";
const EVIL: &str = "<script>alert(1)</script>";

fn email(raw: &str) -> Email {
    Email::parse(raw).unwrap()
}

fn reset_link() -> String {
    format!("https://auth.example.com/reset-password?token={TOKEN}")
}

/// A password-reset message for `to`, for a user called `username`.
fn reset(to: &str, username: &str) -> Message {
    MailTemplates::new()
        .render(
            &email(to),
            &Mail::PasswordReset(PasswordReset {
                username: username.into(),
                link: reset_link(),
                expires_in: Duration::from_secs(1800),
            }),
        )
        .unwrap()
}

fn notice(to: &str) -> Message {
    MailTemplates::new()
        .render(
            &email(to),
            &Mail::MfaChangedNotice(MfaChangedNotice {
                username: "alice".into(),
                change: MfaChange::Enabled,
                when: chrono::Utc::now(),
                ip: None,
            }),
        )
        .unwrap()
}

fn changed_notice(to: &str) -> Message {
    MailTemplates::new()
        .render(
            &email(to),
            &Mail::EmailChangedNotice(EmailChangedNotice {
                username: "carol".into(),
                old_email: email(to),
                new_email: Some(email("carol@example.com")),
                when: chrono::Utc::now(),
                ip: None,
            }),
        )
        .unwrap()
}

/// The next connection to `listener`, within 60 s.
fn accept(listener: &TcpListener) -> std::net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    poll("a connection", || {
        listener.accept().ok().map(|(stream, _)| stream)
    })
}

/// Quick retries, so that a test that waits for one waits little.
fn quick() -> DeliveryConfig {
    DeliveryConfig {
        first_retry: Duration::from_millis(200),
        max_retry: Duration::from_secs(1),
        ..DeliveryConfig::default()
    }
}

fn counter() -> MailCounter {
    MailCounter::register(&auth_actix::Metrics::new())
}

/// Waits, 60 s at most, until `ready` gives a value.
fn poll<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What the code under test logs, captured from the thread that starts the outbox (its
/// delivery thread logs with the same subscriber).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    /// Captures this thread's log (and that of the threads it starts) until the guard drops.
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let buffer = self.0.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || LogWriter(buffer.clone()))
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// Neither the token nor a recipient's local part was ever logged.
    fn assert_discreet(&self, local_parts: &[&str]) {
        let text = self.text();
        assert!(!text.contains(TOKEN), "the token was logged:\n{text}");
        for local in local_parts {
            assert!(
                !text.contains(&format!("{local}@")),
                "{local} logged:\n{text}"
            );
        }
    }
}

// The SMTP server.

/// Fails unless python3 with aiosmtpd is here: the SMTP tests run only when asked for
/// (AUTH_TEST_REQUIRE_INTEROP, see build.rs), and then they must not pass without it.
fn require_aiosmtpd() {
    require_python_module("aiosmtpd", "aiosmtpd==1.4.6");
}

fn require_python_module(module: &str, package: &str) {
    let found = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "the SMTP tests need python3 with {module}: `python3 -m pip install '{package}'`"
    );
}

/// `tests/support/smtp_sink.py`: aiosmtpd on 127.0.0.1, writing what it receives into a
/// folder. Killed when dropped.
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
    /// Starts it on `port` (0: a free one) with `options`, and waits until it listens.
    fn start(port: u16, options: &[&str]) -> Sink {
        require_aiosmtpd();
        let folder = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(folder.path())
            .args(["--port", &port.to_string()])
            .args(options)
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
            .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
        Sink {
            child,
            folder,
            port,
        }
    }

    fn url(&self, query: &str) -> SmtpUrl {
        SmtpUrl::parse(&format!("smtp://127.0.0.1:{}{query}", self.port)).unwrap()
    }

    /// The records it wrote whose names start with `prefix` (`message` or `rejected`).
    fn records(&self, prefix: &str) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                let name = path.file_name().unwrap().to_string_lossy();
                name.starts_with(prefix) && name.ends_with(".json")
            })
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|path| serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap())
            .collect()
    }

    fn wait_for_messages(&self, count: usize) -> Vec<Value> {
        poll(&format!("{count} message(s) at the SMTP server"), || {
            let messages = self.records("message");
            (messages.len() >= count).then_some(messages)
        })
    }
}

fn smtp_outbox(url: SmtpUrl, config: DeliveryConfig, counter: &MailCounter) -> Outbox {
    Outbox::start(
        Transport::smtp(url, FROM.parse().unwrap()),
        config,
        counter.clone(),
    )
    .unwrap()
}

fn wait_for_count(counter: &MailCounter, kind: MailKind, outcome: MailOutcome, count: u64) {
    poll(&format!("{kind} {outcome} = {count}"), || {
        (counter.get(kind, outcome) >= count).then_some(())
    });
    assert_eq!(counter.get(kind, outcome), count, "{kind} {outcome}");
}

#[test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "SMTP delivery: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with aiosmtpd)"
)]
fn a_message_arrives_over_smtp_with_its_subject_both_parts_and_the_right_sender() {
    let sink = Sink::start(0, &[]);
    let log = Log::default();
    let _capture = log.capture();
    let counter = counter();
    let outbox = smtp_outbox(sink.url(""), quick(), &counter);
    outbox.send(reset("alice.smith@example.org", EVIL));

    let message = sink.wait_for_messages(1).remove(0);
    assert_eq!(message["mail_from"], "no-reply@example.com");
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["alice.smith@example.org"])
    );
    let headers = &message["headers"];
    assert_eq!(headers["From"], FROM);
    assert_eq!(headers["To"], "alice.smith@example.org");
    assert_eq!(headers["Subject"], "Reset your password");
    assert_eq!(headers["Auto-Submitted"], "auto-generated");
    let id = headers["Message-ID"].as_str().unwrap();
    assert!(id.starts_with('<') && id.ends_with("@example.com>"), "{id}");
    assert!(headers["Date"].is_string());
    assert_eq!(message["content_type"], "multipart/alternative");
    let parts = message["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2, "{parts:?}");
    assert_eq!(parts[0]["content_type"], "text/plain");
    assert_eq!(parts[1]["content_type"], "text/html");
    let text = parts[0]["text"].as_str().unwrap();
    let html = parts[1]["text"].as_str().unwrap();
    assert!(
        text.contains(&reset_link()) && text.contains(EVIL),
        "{text}"
    );
    assert!(
        html.contains(&format!("href=\"{}\"", reset_link())),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );

    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Sent, 1);
    outbox.shutdown();
    let logged = log.text();
    assert!(
        logged.contains("mail sent") && logged.contains("domain=\"example.org\""),
        "{logged}"
    );
    log.assert_discreet(&["alice.smith"]);
}

#[test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "SMTP delivery: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with aiosmtpd)"
)]
fn delivery_retries_until_a_late_smtp_server_takes_the_message() {
    // A port that nothing serves yet: the first attempt connects, and the peer hangs up.
    let early = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = early.local_addr().unwrap().port();
    let log = Log::default();
    let _capture = log.capture();
    let counter = counter();
    let config = DeliveryConfig {
        max_attempts: 30,
        ..quick()
    };
    let url = SmtpUrl::parse(&format!("smtp://127.0.0.1:{port}")).unwrap();
    let outbox = smtp_outbox(url, config, &counter);
    outbox.send(reset("alice@example.org", "alice"));
    drop(accept(&early));
    drop(early);
    poll("a failed attempt in the log", || {
        log.text()
            .contains("mail delivery failed, retrying")
            .then_some(())
    });
    assert_eq!(counter.get(MailKind::PasswordReset, MailOutcome::Sent), 0);

    let sink = Sink::start(port, &[]);
    let message = sink.wait_for_messages(1).remove(0);
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["alice@example.org"])
    );
    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Sent, 1);
    assert_eq!(counter.get(MailKind::PasswordReset, MailOutcome::Failed), 0);
    outbox.shutdown();
    log.assert_discreet(&["alice"]);
}

#[test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "SMTP delivery: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with aiosmtpd)"
)]
fn a_permanent_refusal_is_not_retried_and_is_logged_by_domain_only() {
    let sink = Sink::start(0, &["--reject-domain", "example.net"]);
    let log = Log::default();
    let _capture = log.capture();
    let counter = counter();
    let outbox = smtp_outbox(sink.url(""), quick(), &counter);
    outbox.send(reset("bob.jones@example.net", "bob"));
    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Failed, 1);
    // Settled after its only attempt: the server saw the recipient once.
    assert_eq!(sink.records("rejected").len(), 1);
    assert!(sink.records("message").is_empty());
    outbox.shutdown();
    let logged = log.text();
    assert!(
        logged.contains("mail not delivered")
            && logged.contains("reply 550")
            && logged.contains("domain=\"example.net\"")
            && logged.contains("attempts=1"),
        "{logged}"
    );
    log.assert_discreet(&["bob.jones"]);
}

#[test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "SMTP delivery: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with aiosmtpd)"
)]
fn tls_required_never_sends_in_clear_to_a_server_without_starttls() {
    let sink = Sink::start(0, &[]);
    let counter = counter();
    let config = DeliveryConfig {
        max_attempts: 2,
        ..quick()
    };
    let outbox = smtp_outbox(sink.url("?tls=required"), config, &counter);
    outbox.send(reset("alice@example.org", "alice"));
    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Failed, 1);
    assert!(sink.records("message").is_empty());
    outbox.shutdown();
}

/// The environment variable that hands the STARTTLS test's port to its child process.
const STARTTLS_PORT: &str = "AUTH_TEST_STARTTLS_PORT";

#[test]
#[cfg_attr(
    not(auth_interop_tests),
    ignore = "SMTP delivery: set AUTH_TEST_REQUIRE_INTEROP=1 (needs python3 with aiosmtpd and \
              cryptography)"
)]
fn tls_required_delivers_over_starttls_to_a_server_the_system_roots_trust() {
    // The server's certificate is signed by a CA made for the test; the client trusts it
    // the way it trusts any CA: through the system's roots, here `SSL_CERT_FILE` (which a
    // test cannot set in its own process), so a child process sends.
    require_python_module("cryptography", "cryptography");
    let tls = tempfile::tempdir().unwrap();
    let tls_dir = tls.path().display().to_string();
    let sink = Sink::start(0, &["--starttls", &tls_dir]);
    let ca = tls.path().join("ca.pem");
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "starttls_child_sends_one_message",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", &ca)
        .env(STARTTLS_PORT, sink.port.to_string())
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&child.stdout).into_owned()
        + &String::from_utf8_lossy(&child.stderr);
    assert!(child.status.success(), "{printed}");
    assert!(printed.contains("1 passed"), "{printed}");
    let message = sink.wait_for_messages(1).remove(0);
    assert_eq!(message["tls"], true, "{message}");
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["alice@example.org"])
    );

    // Without that CA among the roots, the certificate is refused and nothing is sent.
    let counter = counter();
    let config = DeliveryConfig {
        max_attempts: 2,
        ..quick()
    };
    let url = SmtpUrl::parse(&format!("smtp://localhost:{}?tls=required", sink.port)).unwrap();
    let outbox = smtp_outbox(url, config, &counter);
    outbox.send(reset("alice@example.org", "alice"));
    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Failed, 1);
    outbox.shutdown();
    assert_eq!(sink.records("message").len(), 1);
}

#[test]
#[ignore = "run by tls_required_delivers_over_starttls_to_a_server_the_system_roots_trust, in a \
            child process that trusts the test's CA"]
fn starttls_child_sends_one_message() {
    let port = std::env::var(STARTTLS_PORT).expect("run by the STARTTLS test");
    let counter = counter();
    let url = SmtpUrl::parse(&format!("smtp://localhost:{port}?tls=required")).unwrap();
    let outbox = smtp_outbox(url, quick(), &counter);
    outbox.send(reset("alice@example.org", "alice"));
    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Sent, 1);
    outbox.shutdown();
}

// The file transport, the queue and the templates folder: no SMTP server needed.

/// Decodes a quoted-printable body (soft line breaks and `=XX`).
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
    String::from_utf8(out).unwrap()
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_file_transport_writes_private_eml_files_and_logs_only_their_names() {
    let dir = tempfile::tempdir().unwrap();
    let outbox_dir = dir.path().join("data/outbox");
    let log = Log::default();
    let _capture = log.capture();
    let counter = counter();
    let outbox = Outbox::start(
        Transport::file(&outbox_dir, FROM.parse().unwrap()),
        quick(),
        counter.clone(),
    )
    .unwrap();
    outbox.send(reset("alice.smith@example.org", EVIL));
    outbox.send(notice("alice.smith@example.org"));
    let files = poll("two .eml files", || {
        let files = eml_files(&outbox_dir);
        (files.len() == 2).then_some(files)
    });
    wait_for_count(&counter, MailKind::PasswordReset, MailOutcome::Sent, 1);
    wait_for_count(&counter, MailKind::MfaChangedNotice, MailOutcome::Sent, 1);
    outbox.shutdown();

    #[cfg(unix)]
    {
        assert_eq!(mode(&outbox_dir), 0o700);
        for file in &files {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
    }
    let reset_file = files
        .iter()
        .find(|f| f.to_string_lossy().contains("-password_reset-"))
        .unwrap();
    let eml = std::fs::read_to_string(reset_file).unwrap();
    for header in [
        "From: \"Example Auth\" <no-reply@example.com>\r\n",
        "To: alice.smith@example.org\r\n",
        "Subject: Reset your password\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "Content-Type: multipart/alternative;",
    ] {
        assert!(eml.contains(header), "{header:?} not in:\n{eml}");
    }
    let body = unquote(&eml);
    assert!(body.contains(&reset_link()), "{body}");
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{body}"
    );

    let logged = log.text();
    for file in &files {
        let line = format!("mail written to {}", file.display());
        assert_eq!(logged.matches(&line).count(), 1, "{line:?} in:\n{logged}");
    }
    log.assert_discreet(&["alice.smith"]);
}

#[test]
fn shutdown_delivers_what_is_queued() {
    let dir = tempfile::tempdir().unwrap();
    let counter = counter();
    let config = DeliveryConfig {
        concurrency: 1,
        ..quick()
    };
    let outbox = Outbox::start(
        Transport::file(dir.path(), FROM.parse().unwrap()),
        config,
        counter.clone(),
    )
    .unwrap();
    for _ in 0..25 {
        outbox.send(notice("alice@example.org"));
    }
    outbox.shutdown();
    assert_eq!(eml_files(dir.path()).len(), 25);
    assert_eq!(
        counter.get(MailKind::MfaChangedNotice, MailOutcome::Sent),
        25
    );
    // After shutdown, a message is dropped and counted; the caller is unaffected.
    outbox.send(notice("alice@example.org"));
    assert_eq!(
        counter.get(MailKind::MfaChangedNotice, MailOutcome::Dropped),
        1
    );
}

#[test]
fn a_full_queue_drops_and_counts_and_shutdown_gives_up_after_its_drain_time() {
    // A peer that accepts connections and never says a word: a stalled SMTP server.
    let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = SmtpUrl::parse(&format!(
        "smtp://127.0.0.1:{}",
        stalled.local_addr().unwrap().port()
    ))
    .unwrap();
    let log = Log::default();
    let _capture = log.capture();
    let counter = counter();
    let config = DeliveryConfig {
        capacity: 1,
        concurrency: 1,
        drain_timeout: Duration::from_millis(500),
        ..quick()
    };
    let outbox = smtp_outbox(url, config, &counter);
    outbox.send(reset("alice@example.org", "alice"));
    // Being delivered (its connection is here), so it no longer takes the queue's one place.
    let _connection = accept(&stalled);
    outbox.send(notice("alice@example.org"));
    outbox.send(changed_notice("carol@example.org"));
    assert_eq!(
        counter.get(MailKind::EmailChangedNotice, MailOutcome::Dropped),
        1
    );
    assert_eq!(
        counter.get(MailKind::MfaChangedNotice, MailOutcome::Dropped),
        0
    );
    assert!(
        log.text()
            .contains("mail queue full (1 messages): message dropped")
    );

    // The one being delivered and the one queued never went out: both are counted dropped.
    outbox.shutdown();
    assert_eq!(
        counter.get(MailKind::PasswordReset, MailOutcome::Dropped),
        1
    );
    assert_eq!(
        counter.get(MailKind::MfaChangedNotice, MailOutcome::Dropped),
        1
    );
    for kind in MailKind::ALL {
        assert_eq!(counter.get(kind, MailOutcome::Sent), 0);
    }
    assert!(
        log.text()
            .contains("mail delivery stopped with 2 message(s) undelivered"),
        "{}",
        log.text()
    );
    log.assert_discreet(&["alice", "carol"]);
}

#[test]
fn a_templates_folder_overrides_the_files_it_has_and_keeps_the_defaults_of_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let mut file = std::fs::File::create(dir.path().join(name)).unwrap();
        file.write_all(text.as_bytes()).unwrap();
    };
    write("password_reset.subject", "Your {{ username }} reset link");
    write(
        "layout.html",
        "<div class=\"acme\">{% block content %}{% endblock %}</div>",
    );
    write("pasword_reset.txt", "a typo: not a template's name");
    write("README.md", "notes");
    let log = Log::default();
    let _capture = log.capture();
    let templates = load_templates(Some(dir.path())).unwrap();
    let message = templates
        .render(
            &email("alice@example.org"),
            &Mail::PasswordReset(PasswordReset {
                username: EVIL.into(),
                link: reset_link(),
                expires_in: Duration::from_secs(1800),
            }),
        )
        .unwrap();
    assert_eq!(message.subject(), format!("Your {EVIL} reset link"));
    assert!(message.html().starts_with("<div class=\"acme\">"));
    assert!(
        message.html().contains("&lt;script&gt;"),
        "{}",
        message.html()
    );
    assert!(
        message
            .text()
            .contains("Someone asked to reset the password")
    );
    let logged = log.text();
    assert!(
        logged.contains("pasword_reset.txt is not a template's name") && !logged.contains("README"),
        "{logged}"
    );

    write(
        "email_change.html",
        "{% extends \"layout.html\" %}{% block content %}{{ link }",
    );
    let err = format!("{:#}", load_templates(Some(dir.path())).unwrap_err());
    let file = dir.path().join("email_change.html");
    assert!(
        err.starts_with(&format!(
            "mail.templates_dir: {}: syntax error",
            file.display()
        )),
        "{err}"
    );
    let missing = dir.path().join("nowhere");
    let err = format!("{:#}", load_templates(Some(&missing)).unwrap_err());
    assert!(
        err.contains("mail.templates_dir (AUTH__MAIL__TEMPLATES_DIR)") && err.contains("nowhere"),
        "{err}"
    );
}
