//! Second review, finding 7: clients that announce a request body and never send it. The real
//! binary on a random port, raw TCP clients.

mod support;

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use support::Process;

const BIN: &str = env!("CARGO_BIN_EXE_auth-server");
const PASSWORD: &str = "correct horse battery";

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
        .env("AUTH__SECURITY__RATE_LIMIT_PER_MINUTE", "0")
        .envs(env.iter().copied());
    let server = Process::start(&mut command);
    let deadline = Instant::now() + Duration::from_secs(30);
    let live = "GET /health/live HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    while exchange(&server, live).is_none() {
        assert!(Instant::now() < deadline, "/health/live never answered");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn address(server: &Process) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// Sends `request` on a new connection and reads until the server closes it (at most 10 s):
/// the whole response, or `None` if nothing came.
fn exchange(server: &Process, request: &str) -> Option<String> {
    let mut stream = TcpStream::connect(address(server)).ok()?;
    stream.write_all(request.as_bytes()).ok()?;
    read_until_closed(&mut stream, Duration::from_secs(10))
}

/// Reads until the peer closes, for at most `limit`; `None` if it sent nothing by then.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(_) => {
                // Out of time: what came, if anything; a connection left open counts as none.
                return None;
            }
        }
    }
    (!received.is_empty()).then(|| String::from_utf8_lossy(&received).into_owned())
}

fn token(server: &Process) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = |path: &str| format!("{}{path}", server.base);
    let body = json!({"username": "alice", "password": PASSWORD});
    let status = agent
        .post(url("/register"))
        .send_json(&body)
        .unwrap()
        .status();
    assert_eq!(status, 201);
    let mut response = agent.post(url("/login")).send_json(&body).unwrap();
    let tokens: Value = response.body_mut().read_json().unwrap();
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// A `PATCH /profile` that announces 60 kB and sends a few bytes of it.
fn stalled_profile_patch(token: &str) -> String {
    format!(
        "PATCH /profile HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 60000\r\n\r\n{{\"email\": "
    )
}

fn body_of(response: &str) -> Value {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[test]
fn a_body_that_stops_arriving_gets_408_and_its_connection_closed() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[("AUTH__SERVER__BODY_TIMEOUT_SECS", "1")]);
    let token = token(&server);

    let started = Instant::now();
    let response = exchange(&server, &stalled_profile_patch(&token))
        .expect("no answer (and the connection still open) 10 s after the body stopped");
    let took = started.elapsed();
    println!("408 after {took:?}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{response}"
    );
    let body = body_of(&response);
    assert_eq!(body["error"], "request_timeout", "{response}");
    assert!(body["detail"].as_str().unwrap().contains("1 s"), "{body}");

    // The request is logged with its status, like any other.
    let logged = server.log.lock().unwrap().join("\n");
    assert!(
        logged.contains("route=\"/profile\"") && logged.contains("status=408"),
        "{logged}"
    );

    // The OAuth2 form at /token too, in its own error format.
    let response = exchange(
        &server,
        "POST /token HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: 500\r\n\r\nusername=alice&pass",
    )
    .expect("no answer from /token");
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    let body = body_of(&response);
    assert_eq!(body["error"], "request_timeout", "{response}");
    assert_eq!(body["error_description"], body["detail"], "{response}");

    // A route that reads no body answers at once and closes the connection (actix does not
    // keep a connection whose body was left unread).
    let response = exchange(
        &server,
        "GET /health/live HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n{",
    )
    .expect("no answer from /health/live");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");

    // A body that arrives in time, slowly, is read.
    let mut stream = TcpStream::connect(address(&server)).unwrap();
    let patch = json!({"email": "alice@example.com", "current_password": PASSWORD}).to_string();
    write!(
        stream,
        "PATCH /profile HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        patch.len()
    )
    .unwrap();
    for chunk in patch.as_bytes().chunks(8) {
        std::thread::sleep(Duration::from_millis(100));
        stream.write_all(chunk).unwrap();
    }
    let response = read_until_closed(&mut stream, Duration::from_secs(10)).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

/// With one worker serving at most 20 connections, 60 stalled requests take every slot three
/// times over: `/health/live` waits its turn (the bound holds) and still answers, because each
/// stalled connection ends after `server.body_timeout_secs`.
#[test]
fn stalled_bodies_never_starve_the_server_and_connections_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(
        dir.path(),
        &[
            ("AUTH__SERVER__BODY_TIMEOUT_SECS", "1"),
            ("AUTH__SERVER__WORKERS", "1"),
            ("AUTH__SERVER__MAX_CONNECTIONS", "20"),
        ],
    );
    let token = token(&server);
    let request = stalled_profile_patch(&token);
    let mut stalled: Vec<TcpStream> = (0..60)
        .map(|_| {
            let mut stream = TcpStream::connect(address(&server)).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            stream
        })
        .collect();

    let started = Instant::now();
    let health = exchange(
        &server,
        "GET /health/live HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    )
    .expect("/health/live did not answer within 10 s");
    let took = started.elapsed();
    println!("/health/live answered after {took:?} behind 60 stalled requests");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // It waited for slots: the first stalled requests held all 20 for a second.
    assert!(
        took >= Duration::from_millis(900),
        "{took:?}: no bound on connections"
    );

    for (i, stream) in stalled.iter_mut().enumerate() {
        let response = read_until_closed(stream, Duration::from_secs(5))
            .unwrap_or_else(|| panic!("stalled request {i}: no answer"));
        assert!(response.starts_with("HTTP/1.1 408"), "{i}: {response}");
        assert_eq!(body_of(&response)["error"], "request_timeout");
    }
}
