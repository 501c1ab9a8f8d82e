//! The real binary on a random port, walked through the README's flow over real HTTP.

mod support;

use std::{
    io::Write,
    ops::{Deref, DerefMut},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::Process;

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const PASSWORD: &str = "correct horse battery";
const ADMIN_PASSWORD: &str = "admin passphrase 42";

fn config_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config")
}

/// A command for the binary, as an operator would run it in `dir` with AUTH_ENV=test.
fn command(dir: &Path) -> Command {
    command_with_config(dir, &config_dir())
}

fn command_with_config(dir: &Path, config: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env("AUTH_ENV", "test")
        .env("AUTH_CONFIG_DIR", config)
        .env("RUST_LOG", "info")
        .env_remove("AUTH__DATABASE__URL");
    command
}

/// The running server; killed when dropped. Keeps everything it logged.
struct Server(Process);

impl Deref for Server {
    type Target = Process;

    fn deref(&self) -> &Process {
        &self.0
    }
}

impl DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Process {
        &mut self.0
    }
}

impl Server {
    fn start(dir: &Path) -> Server {
        Self::start_with_config(dir, &config_dir())
    }

    fn start_with_config(dir: &Path, config: &Path) -> Server {
        Self::start_with_env(dir, config, &[])
    }

    fn start_with_env(dir: &Path, config: &Path, env: &[(&str, &str)]) -> Server {
        let mut command = command_with_config(dir, config);
        command.envs(env.iter().copied());
        let server = Server(Process::start(&mut command));
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = try_call(&self.agent(), "GET", &self.url("/health"), None, None) {
                return;
            }
            assert!(Instant::now() < deadline, "/health never answered 200");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything logged so far, once a line containing `needle` has been logged.
    fn log_once_it_contains(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log.lock().unwrap().join("\n");
            if log.contains(needle) {
                return log;
            }
            assert!(Instant::now() < deadline, "never logged {needle:?}:\n{log}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn agent(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into()
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        try_call(&self.agent(), method, &self.url(path), token, body).expect("request failed")
    }

    fn form(&self, fields: &[(&str, &str)]) -> (u16, Value) {
        let mut response = self
            .agent()
            .post(self.url("/token"))
            .send_form(fields.iter().copied())
            .expect("request failed");
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }
}

fn try_call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, Value), ureq::Error> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut response = match (method, body) {
        ("GET", _) => {
            let mut request = agent.get(url);
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            request.call()?
        }
        (method, body) => {
            let mut request = match method {
                "POST" => agent.post(url),
                "PUT" => agent.put(url),
                other => panic!("unsupported method {other}"),
            };
            if let Some(auth) = &auth {
                request = request.header("Authorization", auth);
            }
            match body {
                Some(body) => request.send_json(body)?,
                None => request.send_empty()?,
            }
        }
    };
    let status = response.status().as_u16();
    Ok((
        status,
        response.body_mut().read_json().unwrap_or(Value::Null),
    ))
}

/// Polls `check` until it holds, for at most a second; prints how long it took.
#[track_caller]
fn within_a_second(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{what}: not seen after 1 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!("{what}: seen after {:?}", started.elapsed());
}

fn create_admin(dir: &Path, username: &str, password: &str) -> String {
    let mut child = command(dir)
        .args(["create-admin", "--username", username])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The token of the link in the newest password-reset `.eml` in `outbox` (their names sort by
/// time), once the delivery task has written one; the text is quoted-printable, as the README
/// decodes it (soft line breaks joined, `=3D` back to `=`).
fn newest_reset_token(outbox: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let path = loop {
        let mut files: Vec<PathBuf> = std::fs::read_dir(outbox)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.retain(|p| {
            p.to_string_lossy().ends_with(".eml")
                && p.to_string_lossy().contains("-password_reset-")
        });
        files.sort();
        if let Some(newest) = files.pop() {
            break newest;
        }
        assert!(
            Instant::now() < deadline,
            "no reset message in {}",
            outbox.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = std::fs::read_to_string(path)
        .unwrap()
        .replace("=\r\n", "")
        .replace("=3D", "=");
    let start = text.find("reset-password?token=").expect("a reset link") + 21;
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[test]
fn readme_walkthrough_against_the_real_binary() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());

    let (status, user) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"})),
    );
    assert_eq!(status, 201, "{user}");

    let (status, login) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": "alice", "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{login}");
    let token = login["access_token"].as_str().unwrap().to_owned();

    let (status, form) = server.form(&[("username", "alice"), ("password", PASSWORD)]);
    assert_eq!((status, form["token_type"].as_str()), (200, Some("bearer")));

    let (status, me) = server.call("GET", "/users/me", Some(&token), None);
    assert_eq!((status, &me["id"]), (200, &user["id"]));

    let (status, renamed) = server.call(
        "PUT",
        "/profile",
        Some(&token),
        Some(json!({"email": "alice@example.org", "current_password": PASSWORD})),
    );
    // Mail is on (the file transport): the new address waits for its link.
    assert_eq!(
        (
            status,
            renamed["email"].as_str(),
            renamed["pending_email"].as_str()
        ),
        (200, Some("alice@example.com"), Some("alice@example.org"))
    );

    let (status, expiry) = server.call("GET", "/token_expiry", Some(&token), None);
    assert_eq!(status, 200);
    assert!(expiry["expires_in"].as_i64().unwrap() > 0);

    let (status, _) = server.call("GET", "/admin", Some(&token), None);
    assert_eq!(status, 403);

    let said = create_admin(dir.path(), "root", ADMIN_PASSWORD);
    assert!(said.contains("created admin root"), "{said}");
    let promote = command(dir.path())
        .args(["users", "promote", "alice"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&promote.stdout);
    assert!(promote.status.success(), "{said}");
    assert!(said.contains("alice is now an admin"), "{said}");

    let (status, admin_login) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": "root", "password": ADMIN_PASSWORD})),
    );
    assert_eq!(status, 200);
    let admin_token = admin_login["access_token"].as_str().unwrap().to_owned();
    let (status, welcome) = server.call("GET", "/admin", Some(&admin_token), None);
    assert_eq!((status, welcome), (200, json!({"msg": "welcome admin"})));
    // alice was promoted (by another process) while logged in: her existing token now reaches
    // /admin, as soon as the server has heard of the change.
    within_a_second("the CLI's promotion, seen by the server", || {
        server.call("GET", "/admin", Some(&token), None).0 == 200
    });

    // Forgot a password: the link arrives as the newest .eml of the file transport's outbox.
    let (status, bob) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "bob", "password": PASSWORD, "email": "bob@example.com"})),
    );
    assert_eq!(status, 201, "{bob}");
    let (status, answer) = server.call(
        "POST",
        "/password/forgot",
        None,
        Some(json!({"email": "bob@example.com"})),
    );
    assert_eq!(status, 202, "{answer}");
    let reset_token = newest_reset_token(&dir.path().join("data/test/outbox"));
    let (status, _) = server.call(
        "POST",
        "/password/reset",
        None,
        Some(json!({"token": reset_token, "new_password": "a brand new horse battery"})),
    );
    assert_eq!(status, 204);
    let (status, relogin) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": "bob", "password": "a brand new horse battery"})),
    );
    assert_eq!(
        (status, relogin["token_type"].as_str()),
        (200, Some("bearer"))
    );

    let (status, _) = server.call("POST", "/logout", Some(&token), None);
    assert_eq!(status, 204);
    let (status, after) = server.call("GET", "/users/me", Some(&token), None);
    assert_eq!(
        (status, after["error"].as_str()),
        (401, Some("invalid_token"))
    );

    // The server logged every request, and never a secret.
    let log = server.log_once_it_contains("path=/users/me status=401");
    let refresh = login["refresh_token"].as_str().unwrap();
    for secret in [
        PASSWORD,
        ADMIN_PASSWORD,
        token.as_str(),
        refresh,
        reset_token.as_str(),
        "$2b$",
    ] {
        assert!(!log.contains(secret), "the log contains a secret");
    }
    // Both generated secrets: the JWT secret and the key that seals TOTP secrets.
    for file in ["data/test/jwt-secret", "data/test/mfa-key"] {
        let secret = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!log.contains(secret.trim()), "the log contains {file}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
}

#[test]
fn production_refuses_to_start_without_a_strong_secret() {
    let dir = tempfile::tempdir().unwrap();
    let run = |secret: Option<&str>| {
        let mut command = command(dir.path());
        command
            .env("AUTH_ENV", "production")
            .env("AUTH__SERVER__PORT", "0")
            .env("AUTH__DATABASE__URL", "sqlite://data/prod.db");
        match secret {
            Some(secret) => command.env("AUTH__JWT__SECRET", secret),
            None => command.env_remove("AUTH__JWT__SECRET"),
        };
        let output = command.output().unwrap();
        assert!(
            !output.status.success(),
            "production started with secret {secret:?}"
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let missing = run(None);
    assert!(
        missing.contains("jwt.secret is required in production"),
        "{missing}"
    );
    let short = run(Some("too-short-secret"));
    assert!(short.contains("too short"), "{short}");
    assert!(
        !short.contains("too-short-secret"),
        "the error printed the secret"
    );
    assert!(!dir.path().join("data/jwt-secret").exists());
}

#[test]
fn gen_secret_prints_a_fresh_strong_secret() {
    let run = || {
        let output = Command::new(BIN).arg("gen-secret").output().unwrap();
        assert!(output.status.success());
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let (a, b) = (run(), run());
    assert_ne!(a, b);
    assert!(a.len() >= 64, "{a}");
}

#[test]
fn migrate_applies_the_schema_once() {
    let dir = tempfile::tempdir().unwrap();
    let migrate = || {
        let output = command(dir.path()).arg("migrate").output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let migrations = std::fs::read_dir(config_dir().join("../migrations"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().join("up.sql").exists())
        .count();
    assert!(migrations >= 2);
    let first = migrate();
    assert!(
        first.contains(&format!("{migrations} migration(s) applied")),
        "{first}"
    );
    assert!(migrate().contains("0 migration(s) applied"));
    assert!(dir.path().join("data/test/auth.db").exists());
}

/// Runs `gen-key` and returns the private and public key paths it printed.
fn gen_key(dir: &Path, algorithm: &str) -> (PathBuf, PathBuf) {
    let output = command(dir)
        .args(["gen-key", "--algorithm", algorithm, "--out-dir", "keys"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let path_after = |label: &str| {
        let line = stdout.lines().find(|l| l.starts_with(label)).unwrap();
        dir.join(line.rsplit(' ').next().unwrap())
    };
    (path_after("private key"), path_after("public key"))
}

/// A config folder whose test.toml is ours plus `jwt` (a TOML fragment).
fn config_with_jwt(dir: &Path, name: &str, jwt: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    let base = std::fs::read_to_string(config_dir().join("test.toml")).unwrap();
    std::fs::write(folder.join("test.toml"), format!("{base}\n{jwt}\n")).unwrap();
    folder
}

fn login(server: &Server) -> String {
    let (status, body) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": "alice", "password": PASSWORD})),
    );
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[test]
fn signing_key_rotation_logs_nobody_out() {
    let dir = tempfile::tempdir().unwrap();
    let (es_private, es_public) = gen_key(dir.path(), "ES256");
    let (rs_private, _) = gen_key(dir.path(), "RS256");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&es_private).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // 1. Signing with ES256.
    let v1 = config_with_jwt(
        dir.path(),
        "v1",
        &format!("algorithm = \"ES256\"\nprivate_key_file = {:?}", es_private),
    );
    let server = Server::start_with_config(dir.path(), &v1);
    let (status, _) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "alice", "password": PASSWORD})),
    );
    assert_eq!(status, 201);
    let old = login(&server);
    let (_, jwks) = server.call("GET", "/.well-known/jwks.json", None, None);
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"].as_str(), Some(kid_of(&old).as_str()));
    // Another service verifies with the JWKS alone, or with the public PEM alone.
    let verifier =
        auth_core::TokenVerifier::from_jwks(&jwks.to_string(), "auth-server", "auth-server")
            .unwrap();
    verifier.verify(&old).unwrap();
    let public = std::fs::read(&es_public).unwrap();
    let key =
        auth_core::JwtKey::from_pem(auth_core::Algorithm::ES256, None, Some(&public)).unwrap();
    auth_core::TokenVerifier::new([key], "auth-server", "auth-server")
        .verify(&old)
        .unwrap();
    drop(server);

    // 2. RS256 signs; the ES256 key only verifies: old tokens keep working.
    let v2 = config_with_jwt(
        dir.path(),
        "v2",
        &format!(
            "algorithm = \"RS256\"\nprivate_key_file = {:?}\n\n[[jwt.keys]]\nalgorithm = \"ES256\"\npublic_key_file = {:?}",
            rs_private, es_public
        ),
    );
    let server = Server::start_with_config(dir.path(), &v2);
    assert_eq!(server.call("GET", "/users/me", Some(&old), None).0, 200);
    let new = login(&server);
    assert_ne!(kid_of(&new), kid_of(&old));
    assert_eq!(
        jsonwebtoken::decode_header(&new).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );
    let (_, jwks) = server.call("GET", "/.well-known/jwks.json", None, None);
    let mut kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    kids.sort_unstable();
    let mut expected = [kid_of(&old), kid_of(&new)];
    expected.sort_unstable();
    assert_eq!(kids, expected);
    drop(server);

    // 3. The old key is retired: its tokens stop working, the new ones do not.
    let v3 = config_with_jwt(
        dir.path(),
        "v3",
        &format!("algorithm = \"RS256\"\nprivate_key_file = {:?}", rs_private),
    );
    let server = Server::start_with_config(dir.path(), &v3);
    let (status, body) = server.call("GET", "/users/me", Some(&old), None);
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert_eq!(server.call("GET", "/users/me", Some(&new), None).0, 200);
}

#[test]
fn gen_key_refuses_hmac_and_unknown_algorithms() {
    let dir = tempfile::tempdir().unwrap();
    for (algorithm, says) in [("HS256", "gen-secret"), ("ES512", "unsupported")] {
        let output = command(dir.path())
            .args(["gen-key", "--algorithm", algorithm])
            .output()
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{algorithm}: {stderr}");
    }
}

#[test]
fn operators_list_and_disable_users_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, _) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "alice", "password": PASSWORD, "email": "alice@example.com"})),
    );
    assert_eq!(status, 201);
    let token = login(&server);
    create_admin(dir.path(), "root", ADMIN_PASSWORD);

    let run = |args: &[&str]| command(dir.path()).args(args).output().unwrap();
    let list = run(&["users", "list"]);
    assert!(list.status.success());
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(
        listed.contains("alice") && listed.contains("alice@example.com"),
        "{listed}"
    );
    assert!(
        listed.contains("root") && listed.contains("admin"),
        "{listed}"
    );
    assert!(!listed.contains("$2b$"));

    // The server caches alice's session now...
    assert_eq!(server.call("GET", "/users/me", Some(&token), None).0, 200);
    let disable = run(&["users", "disable", "alice"]);
    assert!(
        disable.status.success(),
        "{}",
        String::from_utf8_lossy(&disable.stderr)
    );
    // ...and the CLI is another process: the running server hears of the change through the
    // database (its poll of `cache_invalidations`) and refuses alice within a second.
    within_a_second("the CLI's disable, seen by the server", || {
        let (status, body) = server.call("GET", "/users/me", Some(&token), None);
        (status, body["error"].as_str()) == (401, Some("invalid_token"))
    });
    let listed = String::from_utf8(run(&["users", "list"]).stdout).unwrap();
    let alice_line = listed.lines().find(|l| l.contains(" alice ")).unwrap();
    assert!(alice_line.contains(" no "), "{alice_line}");

    let last = run(&["users", "disable", "root"]);
    assert!(!last.status.success());
    assert!(String::from_utf8_lossy(&last.stderr).contains("last active admin"));
    let unknown = run(&["users", "disable", "nobody"]);
    assert!(!unknown.status.success());
}

// Second review, item 3: create-admin never promotes an account someone else registered;
// promoting is `users promote`, which shows the account first.
#[test]
fn create_admin_refuses_a_taken_name_and_users_promote_shows_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    let (status, squatter) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "ops", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{squatter}");
    let squatter_token = login_as(&server, "ops", PASSWORD);

    for name in ["ops", "OPS"] {
        let mut child = command(dir.path())
            .args(["create-admin", "--username", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{ADMIN_PASSWORD}").unwrap();
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("is taken") && stderr.contains("users promote"),
            "{stderr}"
        );
        assert!(!String::from_utf8_lossy(&output.stdout).contains("admin"));
    }
    // The squatter's password does not reach the admin API, and the operator's was not set.
    login_as(&server, "ops", PASSWORD);
    assert_eq!(
        server.call("GET", "/admin", Some(&squatter_token), None).0,
        403
    );
    let (status, _) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": "ops", "password": ADMIN_PASSWORD})),
    );
    assert_eq!(status, 401);

    let run = |args: &[&str]| command(dir.path()).args(args).output().unwrap();
    let unknown = run(&["users", "promote", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no user \"nobody\""));

    let promote = run(&["users", "promote", "ops"]);
    let said = String::from_utf8_lossy(&promote.stdout).into_owned();
    assert!(promote.status.success(), "{said}");
    let id = squatter["id"].as_str().unwrap();
    let created = &squatter["created_at"].as_str().unwrap()[..10];
    assert!(said.contains("ops is now an admin"), "{said}");
    assert!(said.contains(&format!("id:         {id}")), "{said}");
    assert!(said.contains(&format!("created:    {created}")), "{said}");
    let last_login = said.lines().find(|l| l.contains("last login:")).unwrap();
    assert!(!last_login.contains("none"), "{said}");
    within_a_second("the CLI's promotion, seen by the server", || {
        server.call("GET", "/admin", Some(&squatter_token), None).0 == 200
    });
    let again = run(&["users", "promote", "ops"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("already an admin"));
}

fn login_as(server: &Server, username: &str, password: &str) -> String {
    let (status, body) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": username, "password": password})),
    );
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

fn register(agent: &ureq::Agent, base: &str, username: &str) -> Result<u16, ureq::Error> {
    let response = agent
        .post(format!("{base}/register"))
        .send_json(json!({"username": username, "password": PASSWORD}))?;
    Ok(response.status().as_u16())
}

fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn listed_usernames(dir: &Path) -> Vec<String> {
    let output = command(dir).args(["users", "list"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| line.split_whitespace().nth(1).unwrap().to_owned())
        .collect()
}

#[test]
fn two_hundred_concurrent_registrations_on_sqlite_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let no_limit = [("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "0")];
    let server = Server::start_with_env(dir.path(), &config_dir(), &no_limit);
    const DISTINCT: usize = 200;
    const SAME: usize = 20;
    let barrier = std::sync::Barrier::new(DISTINCT + SAME);
    let statuses: Vec<(bool, u16)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..DISTINCT + SAME)
            .map(|i| {
                let (barrier, base) = (&barrier, server.base.clone());
                scope.spawn(move || {
                    let agent = new_agent();
                    let name = if i < DISTINCT {
                        format!("user-{i:03}")
                    } else {
                        "samename".into()
                    };
                    barrier.wait();
                    (
                        i < DISTINCT,
                        register(&agent, &base, &name).expect("request failed"),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let distinct_created = statuses.iter().filter(|(d, s)| *d && *s == 201).count();
    assert_eq!(distinct_created, DISTINCT, "{statuses:?}");
    let same: Vec<u16> = statuses
        .iter()
        .filter(|(d, _)| !d)
        .map(|(_, s)| *s)
        .collect();
    assert_eq!(same.iter().filter(|s| **s == 201).count(), 1, "{same:?}");
    assert_eq!(
        same.iter().filter(|s| **s == 409).count(),
        SAME - 1,
        "{same:?}"
    );
    let log = server.log_once_it_contains("path=/register");
    assert!(
        !log.contains("database is locked"),
        "SQLite lock errors in the log"
    );
    assert!(!log.contains("status=5"), "a 5xx in the log");
    drop(server);
    assert_eq!(listed_usernames(dir.path()).len(), DISTINCT + 1);
}

#[test]
fn kill_9_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let no_limit = [("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "0")];
    let mut server = Server::start_with_env(dir.path(), &config_dir(), &no_limit);
    let acknowledged = Mutex::new(Vec::<String>::new());
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for writer in 0..8 {
            let (acknowledged, stop, base) = (&acknowledged, &stop, server.base.clone());
            scope.spawn(move || {
                let agent = new_agent();
                for i in 0.. {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let name = format!("w{writer}-{i:05}");
                    match register(&agent, &base, &name) {
                        Ok(201) => acknowledged.lock().unwrap().push(name),
                        Ok(status) => panic!("{name}: {status}"),
                        Err(_) => break, // the server is gone
                    }
                }
            });
        }
        // Kill the server mid-stream, once plenty of writes have been acknowledged.
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().unwrap().len() < 150 {
            assert!(Instant::now() < deadline, "writes too slow");
            std::thread::sleep(Duration::from_millis(10));
        }
        server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        server.child.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    let stored = listed_usernames(dir.path());
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|name| !stored.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged writes lost: {missing:?}",
        missing.len()
    );

    // And the restarted server serves them.
    let server = Server::start_with_env(dir.path(), &config_dir(), &no_limit);
    let last = acknowledged.last().unwrap();
    let (status, _) = server.call(
        "POST",
        "/login",
        None,
        Some(json!({"username": last, "password": PASSWORD})),
    );
    assert_eq!(status, 200);
}

#[test]
fn the_binary_describes_itself_serves_swagger_ui_offline_and_answers_listed_origins() {
    let dir = tempfile::tempdir().unwrap();
    // A list setting from the environment, comma-separated, as operators set it.
    let server = Server::start_with_env(
        dir.path(),
        &config_dir(),
        &[(
            "AUTH__SERVER__CORS_ALLOWED_ORIGINS",
            "https://app.example.com,http://localhost:5173",
        )],
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let text = |path: &str| {
        let mut response = agent.get(server.url(path)).call().unwrap();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (status, content_type, body)
    };

    let (status, content_type, document) = text("/openapi.json");
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let document: Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/token"]["post"].is_object());

    let response = agent.get(server.url("/docs")).call().unwrap();
    assert_eq!(response.status().as_u16(), 308);
    assert_eq!(response.headers().get("location").unwrap(), "/docs/");
    let (status, content_type, page) = text("/docs/");
    assert_eq!((status, content_type.as_str()), (200, "text/html"));
    for cdn in ["unpkg", "jsdelivr", "cdnjs", "http://", "https://"] {
        assert!(!page.contains(cdn), "{cdn} in {page}");
    }
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-initializer.js",
    ] {
        assert!(page.contains(asset), "{asset} not in {page}");
        let (status, _, body) = text(&format!("/docs/{asset}"));
        assert_eq!(status, 200, "{asset}");
        assert!(body.len() > 100, "{asset}");
    }

    // HEAD wherever GET is served, as uptime checks send it: the same status and length,
    // no body.
    for path in ["/health", "/health/live", "/openapi.json", "/docs/"] {
        let mut get = agent.get(server.url(path)).call().unwrap();
        let length = get.body_mut().read_to_vec().unwrap().len();
        let mut head = agent.head(server.url(path)).call().unwrap();
        assert_eq!(head.status().as_u16(), 200, "HEAD {path}");
        assert_eq!(
            head.headers().get("content-length").unwrap(),
            &length.to_string(),
            "HEAD {path}"
        );
        assert!(
            head.body_mut().read_to_vec().unwrap().is_empty(),
            "HEAD {path}"
        );
    }

    let preflight = |origin: &str| {
        agent
            .options(server.url("/users/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "GET")
            .header("Access-Control-Request-Headers", "authorization")
            .call()
            .unwrap()
    };
    let response = preflight("http://localhost:5173");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("access-control-allow-origin")
            .unwrap(),
        "http://localhost:5173"
    );
    let response = preflight("https://elsewhere.example");
    assert_eq!(response.status().as_u16(), 405);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// Second review, finding 5: announcement ids restarted at 1 once a prune had emptied
/// `cache_invalidations`, below what the running server had read, so the server never heard
/// the next change and trusted a disabled user's cached session until `cache.max_age_secs`.
#[test]
fn a_change_after_a_prune_emptied_the_announcements_still_reaches_the_server() {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    let dir = tempfile::tempdir().unwrap();
    // Cached sessions are trusted for a minute: only the announcement can end one sooner.
    let server = Server::start_with_env(
        dir.path(),
        &config_dir(),
        &[
            ("AUTH__CACHE__MAX_AGE_SECS", "60"),
            ("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "0"),
        ],
    );
    for name in ["alice", "bob"] {
        let body = json!({"username": name, "password": PASSWORD});
        assert_eq!(server.call("POST", "/register", None, Some(body)).0, 201);
    }
    let token_of = |name: &str| {
        let body = json!({"username": name, "password": PASSWORD});
        let (status, tokens) = server.call("POST", "/login", None, Some(body));
        assert_eq!(status, 200, "{tokens}");
        tokens["access_token"].as_str().unwrap().to_owned()
    };
    // Announcements the server reads: a few logouts, then the CLI disabling bob, which the
    // server is seen to hear (so it has read every id so far).
    for _ in 0..5 {
        let token = token_of("alice");
        assert_eq!(server.call("POST", "/logout", Some(&token), None).0, 204);
    }
    let bob = token_of("bob");
    assert_eq!(server.call("GET", "/users/me", Some(&bob), None).0, 200);
    let run = |args: &[&str]| {
        let output = command(dir.path()).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    run(&["users", "disable", "bob"]);
    within_a_second("bob's disabling, seen by the server", || {
        server.call("GET", "/users/me", Some(&bob), None).0 == 401
    });

    // Every announcement is older than the hour a prune keeps them (as on a server that has
    // run a while): the prune removes them all.
    let url = format!(
        "sqlite://{}",
        dir.path().join("data/test/auth.db").display()
    );
    let mut db = SqliteConnection::establish(&url).unwrap();
    let aged = diesel::sql_query("UPDATE cache_invalidations SET at = '2000-01-01 00:00:00'")
        .execute(&mut db)
        .unwrap();
    assert!(aged >= 6, "{aged} announcements");
    let pruned = run(&["prune"]);
    assert!(pruned.contains("cache_invalidations"), "{pruned}");
    let left = diesel::sql_query("SELECT COUNT(*) AS n FROM cache_invalidations")
        .get_result::<Count>(&mut db)
        .unwrap();
    assert_eq!(left.n, 0, "{pruned}");
    drop(db);

    // The next change: alice, cached now, is disabled from the command line.
    let alice = token_of("alice");
    assert_eq!(server.call("GET", "/users/me", Some(&alice), None).0, 200);
    run(&["users", "disable", "alice"]);
    within_a_second(
        "alice's disabling after the prune, seen by the server",
        || server.call("GET", "/users/me", Some(&alice), None).0 == 401,
    );
}

/// Issue 20 end to end: a verifier embedded in another program (here the test process), with
/// a `StatusChecker` fetching over real HTTP, accepts a live token and, after a logout at the
/// server, refuses it within the list's `ttl` + 1 s.
#[test]
fn a_logout_reaches_an_embedded_verifier_within_ttl() {
    use auth_core::{StatusChecker, TokenError, TokenVerifier};

    let dir = tempfile::tempdir().unwrap();
    let (private, _) = gen_key(dir.path(), "ES256");
    let config = config_with_jwt(
        dir.path(),
        "es",
        &format!("algorithm = \"ES256\"\nprivate_key_file = {private:?}"),
    );
    let server = Server::start_with_config(dir.path(), &config);
    let (status, _) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "alice", "password": PASSWORD})),
    );
    assert_eq!(status, 201);
    let token = login(&server);
    let bystander = login(&server);
    let (_, jwks) = server.call("GET", "/.well-known/jwks.json", None, None);
    let (_, metadata) = server.call("GET", "/.well-known/oauth-authorization-server", None, None);
    let issuer = metadata["issuer"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let audience = claims["aud"].as_str().unwrap();
    let verifier = TokenVerifier::from_jwks(&jwks.to_string(), issuer, audience)
        .unwrap()
        .with_status_checker(
            StatusChecker::builder()
                .allow_prefix(server.url("/statuslists/"))
                .build()
                .unwrap(),
        );
    verifier.verify(&token).expect("a live token is accepted");
    verifier.verify(&bystander).unwrap();

    let (status, _) = server.call("POST", "/logout", Some(&token), None);
    assert!(status == 200 || status == 204, "{status}");
    let started = Instant::now();
    let ttl = Duration::from_secs(2);
    loop {
        match verifier.verify(&token) {
            Err(TokenError::Revoked) => break,
            Ok(_) => {}
            Err(other) => panic!("refused for another reason: {other:?}"),
        }
        assert!(
            started.elapsed() < ttl + Duration::from_secs(1),
            "still accepted {:?} after the logout",
            started.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "the embedded verifier refused the token {:?} after the logout",
        started.elapsed()
    );
    verifier
        .verify(&bystander)
        .expect("another session's token stays valid");
}

/// `METHOD url` with a bearer token (or none) and a JSON or form body: the status and the body.
fn send_raw(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<(&str, String)>,
) -> (u16, Value) {
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(server.url(path));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let result = match body {
        Some((content_type, body)) => server.agent().run(
            request
                .header("content-type", content_type)
                .body(body)
                .unwrap(),
        ),
        None => server.agent().run(request.body(()).unwrap()),
    };
    let mut response = result.expect("request failed");
    (
        response.status().as_u16(),
        response.body_mut().read_json().unwrap_or(Value::Null),
    )
}

fn json_body(value: Value) -> Option<(&'static str, String)> {
    Some(("application/json", value.to_string()))
}

/// Issue 20, the exactness runs: the real server, and a real embedded verifier in another
/// process (examples/axum-resource-server: `TokenVerifier` from the JWKS, with a
/// `StatusChecker`). After each way a token stops being good at the server (logout, password
/// change, disable and role change by an admin, RFC 7009 `/revoke`), the verifier refuses it
/// within the list's `ttl` (2 s) + 1 s; the time each took is printed. Another user's token
/// stays accepted throughout.
#[test]
fn an_embedded_verifier_in_another_process_refuses_revoked_tokens_within_ttl() {
    use support::{start_verifier, until_revoked, verifier_items};

    let dir = tempfile::tempdir().unwrap();
    let (private, _) = gen_key(dir.path(), "ES256");
    let config = config_with_jwt(
        dir.path(),
        "es",
        &format!("algorithm = \"ES256\"\nprivate_key_file = {private:?}"),
    );
    create_admin(dir.path(), "root", ADMIN_PASSWORD);
    let server = Server::start_with_config(dir.path(), &config);
    let log_in = |username: &str, password: &str| {
        let (status, body) = send_raw(
            &server,
            "POST",
            "/login",
            None,
            json_body(json!({"username": username, "password": password})),
        );
        assert_eq!(status, 200, "{body}");
        body
    };
    for name in ["alice", "bob", "carol", "dave"] {
        let (status, body) = server.call(
            "POST",
            "/register",
            None,
            Some(json!({"username": name, "password": PASSWORD})),
        );
        assert_eq!(status, 201, "{body}");
    }
    let admin = log_in("root", ADMIN_PASSWORD)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id_of = |name: &str| {
        let (_, users) = server.call("GET", &format!("/admin/users?q={name}"), Some(&admin), None);
        users["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|user| user["username"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (_, metadata) = server.call("GET", "/.well-known/oauth-authorization-server", None, None);
    let verifier = start_verifier(&[
        ("AUTH_URL", &server.base),
        ("AUTH_ISSUER", metadata["issuer"].as_str().unwrap()),
    ]);
    let bystander = log_in("dave", PASSWORD)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bound = Duration::from_secs(3);
    let access = |body: &Value| body["access_token"].as_str().unwrap().to_owned();

    type Action<'a> = Box<dyn Fn(&Value) + 'a>;
    let actions: Vec<(&str, &str, Action)> = vec![
        (
            "logout",
            "alice",
            Box::new(|login: &Value| {
                let (status, body) =
                    send_raw(&server, "POST", "/logout", Some(&access(login)), None);
                assert_eq!(status, 204, "{body}");
            }),
        ),
        (
            "password change",
            "bob",
            Box::new(|_: &Value| {
                // From another session of bob's: it ends every other session.
                let other = access(&log_in("bob", PASSWORD));
                let (status, body) = send_raw(
                    &server,
                    "PATCH",
                    "/profile",
                    Some(&other),
                    json_body(
                        json!({"password": "another correct horse", "current_password": PASSWORD}),
                    ),
                );
                assert_eq!(status, 200, "{body}");
            }),
        ),
        (
            "disable (admin)",
            "carol",
            Box::new(|_: &Value| {
                let (status, body) = send_raw(
                    &server,
                    "PATCH",
                    &format!("/admin/users/{}", id_of("carol")),
                    Some(&admin),
                    json_body(json!({"is_active": false})),
                );
                assert_eq!(status, 200, "{body}");
            }),
        ),
        (
            "role change (admin)",
            "alice",
            Box::new(|_: &Value| {
                let (status, body) = send_raw(
                    &server,
                    "PATCH",
                    &format!("/admin/users/{}", id_of("alice")),
                    Some(&admin),
                    json_body(json!({"role": "admin"})),
                );
                assert_eq!(status, 200, "{body}");
            }),
        ),
        (
            "RFC 7009 /revoke",
            "alice",
            Box::new(|login: &Value| {
                let refresh = login["refresh_token"].as_str().unwrap();
                let (status, body) = send_raw(
                    &server,
                    "POST",
                    "/revoke",
                    None,
                    Some((
                        "application/x-www-form-urlencoded",
                        format!("token={refresh}"),
                    )),
                );
                assert_eq!(status, 200, "{body}");
            }),
        ),
    ];
    for (what, user, action) in actions {
        let login = log_in(user, PASSWORD);
        let token = access(&login);
        let (status, body, _) = verifier_items(&verifier, &token);
        assert_eq!(status, 200, "{what}: a live token is accepted: {body}");
        action(&login);
        until_revoked(&verifier, &token, what, Instant::now(), bound);
        let (status, body, _) = verifier_items(&verifier, &bystander);
        assert_eq!(
            status, 200,
            "{what}: another user's token stays accepted: {body}"
        );
    }
}

/// Issue 20, fail-closed: while the server is stopped for longer than `max_stale` (5 s here),
/// the verifier in another process answers 503 with `Retry-After` to a token it cannot check
/// any more; once the server is back (the same port, the same database) it accepts the token
/// again, and a revocation made after the restart still reaches it.
#[test]
fn a_fail_closed_verifier_answers_503_while_the_server_is_away_and_recovers() {
    use support::{start_verifier, until_revoked, verifier_items};

    let dir = tempfile::tempdir().unwrap();
    let (private, _) = gen_key(dir.path(), "ES256");
    let config = config_with_jwt(
        dir.path(),
        "es",
        &format!("algorithm = \"ES256\"\nprivate_key_file = {private:?}"),
    );
    let server = Server::start_with_config(dir.path(), &config);
    let (status, _) = server.call(
        "POST",
        "/register",
        None,
        Some(json!({"username": "alice", "password": PASSWORD})),
    );
    assert_eq!(status, 201);
    let token = login(&server);
    let (_, metadata) = server.call("GET", "/.well-known/oauth-authorization-server", None, None);
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    let verifier = start_verifier(&[
        ("AUTH_URL", &server.base),
        ("AUTH_ISSUER", metadata["issuer"].as_str().unwrap()),
        // Longer than the ttl (2 s) plus a fetch: with max_stale = ttl, a list would go stale
        // for the moment of each refresh.
        ("AUTH_STATUS_MAX_STALE_SECS", "5"),
    ]);
    let (status, body, _) = verifier_items(&verifier, &token);
    assert_eq!(status, 200, "{body}");

    drop(server);
    let stopped = Instant::now();
    loop {
        let (status, body, retry_after) = verifier_items(&verifier, &token);
        if status == 503 {
            let retry_after: u64 = retry_after
                .expect("503 without Retry-After")
                .parse()
                .unwrap();
            assert!(retry_after >= 1, "{retry_after}");
            break;
        }
        assert_eq!(status, 200, "while the list is fresh enough: {body}");
        assert!(
            stopped.elapsed() < Duration::from_secs(5 + 2 + 1),
            "still 200 {:?} after the server stopped (max_stale 5 s)",
            stopped.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The list was last refreshed at most one ttl before the stop; it goes stale max_stale
    // after that refresh.
    println!(
        "server stopped: the verifier answers 503 after {:?} (max_stale 5 s after the last refresh)",
        stopped.elapsed()
    );

    let server = Server::start_with_env(dir.path(), &config, &[("AUTH__SERVER__PORT", &port)]);
    assert!(
        server.base.ends_with(&format!(":{port}")),
        "{}",
        server.base
    );
    let back = Instant::now();
    loop {
        let (status, body, _) = verifier_items(&verifier, &token);
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            back.elapsed() < Duration::from_secs(2 + 1 + 2),
            "still refused {:?} after the server came back",
            back.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "server back: the verifier accepts the token again after {:?}",
        back.elapsed()
    );
    let (status, _) = server.call("POST", "/logout", Some(&token), None);
    assert_eq!(status, 204);
    until_revoked(
        &verifier,
        &token,
        "logout after the restart",
        Instant::now(),
        Duration::from_secs(3),
    );
}
