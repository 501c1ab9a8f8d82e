//! What the tests that run the real binary share: starting it on a free port, learning where it
//! listens from what it prints, keeping what it prints, and killing it when the test ends.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
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
    /// Starts `command` on a free port (`AUTH__SERVER__PORT=0`) and waits, 60 s at most, for
    /// it to print where it listens (in text or JSON logs). Its stderr is left as `command`
    /// has it.
    pub fn start(command: &mut Command) -> Process {
        let mut child = command
            .env("AUTH__SERVER__PORT", "0")
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
