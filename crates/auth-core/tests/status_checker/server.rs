//! A real HTTP/1.1 server on loopback that publishes Status List Tokens, as a publisher would:
//! `GET {path}` answers the current token with `Content-Type: application/statuslist+jwt` and
//! an `ETag`, `304` to a matching `If-None-Match`, `404` for an unknown path. It records every
//! request, can be stopped (the port then refuses connections) and started again.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

/// One request the server answered.
#[derive(Clone, Debug)]
pub struct Hit {
    pub path: String,
    pub accept: Option<String>,
    pub if_none_match: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Published {
    /// path → (body, ETag, Content-Type)
    lists: HashMap<String, (String, String, String)>,
    hits: Vec<Hit>,
    version: u64,
}

pub struct ListServer {
    addr: SocketAddr,
    published: Arc<Mutex<Published>>,
    running: Option<(Arc<AtomicBool>, JoinHandle<()>)>,
}

impl ListServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut server = Self {
            addr: listener.local_addr().unwrap(),
            published: Arc::default(),
            running: None,
        };
        server.serve(listener);
        server
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Publishes `token` at `path` as a Status List Token (a new ETag each time).
    pub fn publish(&self, path: &str, token: String) {
        self.publish_as(path, token, "application/statuslist+jwt");
    }

    pub fn publish_as(&self, path: &str, token: String, content_type: &str) {
        let mut published = self.published.lock().unwrap();
        published.version += 1;
        let etag = format!("\"v{}\"", published.version);
        published
            .lists
            .insert(path.to_owned(), (token, etag, content_type.to_owned()));
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.published.lock().unwrap().hits.clone()
    }

    /// Stops listening: connections to the port are refused until [`Self::restart`].
    pub fn stop(&mut self) {
        if let Some((stop, thread)) = self.running.take() {
            stop.store(true, Ordering::SeqCst);
            // Wake the blocking accept.
            let _ = TcpStream::connect(self.addr);
            thread.join().unwrap();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        assert!(self.running.is_none(), "already running");
        let listener = TcpListener::bind(self.addr).expect("rebind the same port");
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let stop = Arc::new(AtomicBool::new(false));
        let published = Arc::clone(&self.published);
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    let _ = answer(stream, &published);
                }
            }
        });
        self.running = Some((stop, thread));
    }
}

impl Drop for ListServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn answer(stream: TcpStream, published: &Mutex<Published>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
        }
    }
    let if_none_match = headers.get("if-none-match").cloned();
    let mut published = published.lock().unwrap();
    let (status, extra, body) = match published.lists.get(&path) {
        Some((_, etag, _)) if if_none_match.as_deref() == Some(etag.as_str()) => {
            (304, format!("ETag: {etag}\r\n"), String::new())
        }
        Some((token, etag, content_type)) => (
            200,
            format!("ETag: {etag}\r\nContent-Type: {content_type}\r\n"),
            token.clone(),
        ),
        None => (404, String::new(), String::new()),
    };
    published.hits.push(Hit {
        path,
        accept: headers.get("accept").cloned(),
        if_none_match,
        status,
    });
    drop(published);
    let reason = match status {
        200 => "OK",
        304 => "Not Modified",
        _ => "Not Found",
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}
