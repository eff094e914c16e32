//! Test kit: starts the real `facteur` binary on 127.0.0.1 with a fresh data folder, and gives
//! tests a blocking line-based client. Each test gets its own server (never shared state).
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub mod dns;
pub mod imap;
pub mod peer;

/// The password of the test mailboxes.
pub const PASSWORD: &str = "correct horse battery";

pub fn facteur_bin() -> &'static str {
    env!("CARGO_BIN_EXE_facteur")
}

/// A running `facteur serve` with its own data folder.
pub struct TestServer {
    pub data_dir: PathBuf,
    pub http: SocketAddr,
    pub smtp: SocketAddr,
    pub imap: SocketAddr,
    pub imaps: SocketAddr,
    pub submission: SocketAddr,
    pub submissions: SocketAddr,
    child: Option<Child>,
    /// `FACTEUR_*` settings this server runs with, besides the listeners.
    env: Vec<(String, String)>,
    _tmp: tempfile::TempDir,
}

impl TestServer {
    /// A server with the domain example.org and the mailboxes ana@ (first, so administrator)
    /// and bob@, both with [`PASSWORD`].
    pub fn start() -> TestServer {
        TestServer::start_with_env(&[])
    }

    /// [`TestServer::start`] with these `FACTEUR_*` settings.
    pub fn start_with_env(env: &[(&str, &str)]) -> TestServer {
        let server = TestServer::start_empty_with_env(env);
        server.admin_ok(&["domain", "add", "example.org"]);
        for user in ["ana@example.org", "bob@example.org"] {
            server.admin_with_stdin(&["user", "add", user, "--password-stdin"], PASSWORD.as_bytes());
        }
        server
    }

    /// A server with an empty data folder.
    pub fn start_empty() -> TestServer {
        TestServer::start_empty_with_env(&[])
    }

    fn start_empty_with_env(env: &[(&str, &str)]) -> TestServer {
        let tmp = tempfile::tempdir().expect("temp dir");
        let unset: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let mut server = TestServer {
            data_dir: tmp.path().join("data"),
            http: unset,
            smtp: unset,
            imap: unset,
            imaps: unset,
            submission: unset,
            submissions: unset,
            child: None,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            _tmp: tmp,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path()).expect("server log file");
        let mut child = Command::new(facteur_bin())
            .args(["serve", "--data"])
            .arg(&self.data_dir)
            .args(["--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--imap", "127.0.0.1:0", "--imaps", "127.0.0.1:0"])
            .args(["--submission", "127.0.0.1:0", "--submissions", "127.0.0.1:0"])
            .args(["--hostname", "mx.example.org"])
            .env("FACTEUR_LOG", "info")
            // Mail for other servers goes to a closed port on loopback (deferred, never to the
            // internet) unless a test gives a relay of its own.
            .env("FACTEUR_RELAY", "127.0.0.1:9")
            // No DNS lookups either: the sender checks' tests give a stub name server.
            .env("FACTEUR_SENDER_CHECKS", "false")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .env_remove("FACTEUR_ADMIN_ADDRESS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("starting facteur");
        let stdout = child.stdout.take().expect("stdout");
        let (lines_tx, lines_rx) = mpsc::channel();
        // The thread keeps draining stdout after start-up so the server never blocks on it.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        loop {
            let line = match lines_rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => line,
                Err(_) => panic!("facteur did not start; log:\n{}", self.log()),
            };
            if line == "facteur: ready" {
                break;
            }
            if let Some(rest) = line.strip_prefix("facteur: ")
                && let Some((name, addr)) = rest.split_once(" listening on ")
            {
                let addr: SocketAddr = addr.parse().expect("listener address");
                match name {
                    "http" => self.http = addr,
                    "smtp" => self.smtp = addr,
                    "imap" => self.imap = addr,
                    "imaps" => self.imaps = addr,
                    "submission" => self.submission = addr,
                    "submissions" => self.submissions = addr,
                    other => panic!("unknown listener {other}"),
                }
            }
        }
        self.child = Some(child);
    }

    pub fn log_path(&self) -> PathBuf {
        self.data_dir.with_file_name("server.log")
    }

    /// What the server logged so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `facteur admin --data DIR ARGS...`.
    pub fn admin(&self, args: &[&str]) -> Output {
        self.admin_with_stdin(args, b"")
    }

    pub fn admin_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = Command::new(facteur_bin())
            .arg("admin")
            .arg("--data")
            .arg(&self.data_dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting facteur admin");
        child.stdin.take().expect("stdin").write_all(stdin).expect("writing stdin");
        child.wait_with_output().expect("facteur admin")
    }

    /// Runs an admin command that must succeed and returns its standard output.
    pub fn admin_ok(&self, args: &[&str]) -> String {
        let output = self.admin(args);
        assert!(output.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8 output")
    }

    /// Stores `raw` in the Inbox of `address` byte for byte (no trace headers added).
    pub fn deliver(&self, address: &str, raw: &[u8]) {
        let output = self.admin_with_stdin(&["deliver", address], raw);
        assert!(output.status.success(), "deliver failed: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// The self-signed certificate the server generated (SAN localhost and 127.0.0.1).
    pub fn cert_path(&self) -> PathBuf {
        self.data_dir.join("tls").join("cert.pem")
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sets a `FACTEUR_*` setting for the next (re)start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_string(), value.to_string()));
    }

    /// Starts the server again on the same data folder (new ports).
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// The most memory the server process has held so far (VmHWM, in KiB), on Linux.
    pub fn peak_memory_kib(&self) -> u64 {
        let pid = self.child.as_ref().expect("the server is running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("process status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }

    pub fn data_path(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A blocking line-based client for SMTP, IMAP or POP3 transcripts.
pub struct LineConn {
    reader: BufReader<TcpStream>,
}

impl LineConn {
    pub fn connect(addr: SocketAddr) -> LineConn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.set_write_timeout(Some(Duration::from_secs(10))).expect("timeout");
        LineConn { reader: BufReader::new(stream) }
    }

    /// A connection from another loopback address (127.0.0.2...), which the server counts as
    /// another client.
    pub fn connect_from(addr: SocketAddr, source: &str) -> LineConn {
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
        let source: SocketAddr = format!("{source}:0").parse().expect("source address");
        socket.bind(&source.into()).expect("bind the source address");
        socket.connect(&addr.into()).expect("connect");
        let stream: TcpStream = socket.into();
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        stream.set_write_timeout(Some(Duration::from_secs(10))).expect("timeout");
        LineConn { reader: BufReader::new(stream) }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("send");
    }

    /// Sends `line` followed by CRLF.
    pub fn send_line(&mut self, line: &str) {
        let mut bytes = line.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        self.send(&bytes);
    }

    /// Reads one line, without its CRLF. Panics on timeout or end of stream.
    pub fn read_line(&mut self) -> String {
        let mut line = Vec::new();
        let n = self.reader.read_until(b'\n', &mut line).expect("read line");
        assert!(n > 0, "connection closed");
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        String::from_utf8_lossy(&line).into_owned()
    }

    pub fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut bytes = vec![0; n];
        self.reader.read_exact(&mut bytes).expect("read exact");
        bytes
    }

    /// True once the server has closed the connection.
    pub fn is_closed(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.reader.read(&mut byte), Ok(0))
    }
}

/// Starts `tests/peers/SCRIPT` with `args` under python3 and reads the "port N" line it
/// prints once listening: the child (to kill) and the port.
pub fn start_peer(script: &str, args: &[&std::ffi::OsStr]) -> (Child, u16) {
    let mut child = Command::new("python3")
        .arg(Path::new("tests/peers").join(script))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 runs {script}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the peer's port");
    let port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).expect("port N");
    (child, port)
}
