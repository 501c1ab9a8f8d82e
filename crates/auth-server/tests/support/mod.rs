//! What the tests that run the real binary share: starting it on a free port, learning where it
//! listens from what it prints, keeping what it prints, and killing it when the test ends.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, OnceLock, mpsc},
    time::Duration,
};

/// A server process started by [`Process::start`]; killed (SIGKILL) when dropped.
pub struct Process {
    pub child: Child,
    /// `http://ADDRESS:PORT`, as it said it listens.
    pub base: String,
    /// Every line it wrote to stdout so far.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `command` on a free port (`AUTH__SERVER__PORT=0`, unless `command` names a port)
    /// and waits, 60 s at most, for it to print where it listens (in text or JSON logs). Its
    /// stderr is left as `command` has it.
    pub fn start(command: &mut Command) -> Process {
        if !command
            .get_envs()
            .any(|(name, value)| name == "AUTH__SERVER__PORT" && value.is_some())
        {
            command.env("AUTH__SERVER__PORT", "0");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("cannot start auth-server");
        let stdout = child.stdout.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let address = rest.split(|c: char| c == '"' || c.is_whitespace()).next();
                    let _ = address_tx.send(address.unwrap_or_default().to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let base = address_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server never said where it listens: {log:?}"));
        Process { child, base, log }
    }
}

/// The embedded verifier of examples/axum-resource-server, another process that verifies our
/// tokens with `TokenVerifier` and a `StatusChecker`: its binary, built (once per test run) by
/// the cargo that runs the tests, into the same target directory.
#[allow(dead_code)]
pub fn verifier_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let status = Command::new(env!("CARGO"))
                .current_dir(&root)
                .args(["build", "--quiet", "-p", "axum-resource-server"])
                .status()
                .expect("cannot run cargo");
            assert!(status.success(), "cannot build axum-resource-server");
            // target/debug/deps/<this test> -> target/debug/axum-resource-server
            let exe = std::env::current_exe().unwrap();
            let bin = exe
                .parent()
                .and_then(|deps| deps.parent())
                .unwrap()
                .join(format!(
                    "axum-resource-server{}",
                    std::env::consts::EXE_SUFFIX
                ));
            assert!(bin.exists(), "no verifier binary at {}", bin.display());
            bin
        })
        .clone()
}

/// Starts the verifier (`verifier_binary`) with `env` (AUTH_URL and the keys at least).
#[allow(dead_code)]
pub fn start_verifier(env: &[(&str, &str)]) -> Process {
    let mut command = Command::new(verifier_binary());
    command.envs(env.iter().copied()).env("BIND", "127.0.0.1:0");
    Process::start(&mut command)
}

/// `GET {verifier}/items` with `token`: the status and the body.
#[allow(dead_code)]
pub fn verifier_items(verifier: &Process, token: &str) -> (u16, String, Option<String>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(format!("{}/items", verifier.base))
        .header("Authorization", format!("Bearer {token}"))
        .call()
        .expect("the verifier did not answer");
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (response.status().as_u16(), body, retry_after)
}

/// Polls the verifier with `token` until it refuses it as revoked, for at most `bound`;
/// prints and returns how long it took since `since`.
#[allow(dead_code)]
#[track_caller]
pub fn until_revoked(
    verifier: &Process,
    token: &str,
    what: &str,
    since: std::time::Instant,
    bound: Duration,
) -> Duration {
    loop {
        let (status, body, _) = verifier_items(verifier, token);
        if status == 401 {
            assert!(
                body.contains("revoked"),
                "{what}: refused for another reason: {body}"
            );
            break;
        }
        assert_eq!(status, 200, "{what}: {body}");
        assert!(
            since.elapsed() < bound,
            "{what}: the verifier still accepts the token {:?} after",
            since.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = since.elapsed();
    println!("{what}: the verifier in another process refused the token after {took:?}");
    took
}
