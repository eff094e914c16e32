//! A blocking IMAP test client for the integration tests: plain TCP with STARTTLS (rustls,
//! trusting only the test server's certificate), literals read inside responses.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use super::{PASSWORD, TestServer};

/// The connection under a test client: plain TCP until STARTTLS, then TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(tls) => tls.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(tls) => tls.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(tls) => tls.flush(),
        }
    }
}

/// A blocking line-based connection that can switch to TLS (what `LineConn` does, plus
/// STARTTLS).
pub struct Conn {
    pub reader: BufReader<Stream>,
}

impl Conn {
    pub fn connect(srv: &TestServer) -> Conn {
        let tcp = TcpStream::connect(srv.imap).expect("connect");
        tcp.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        tcp.set_write_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Conn { reader: BufReader::new(Stream::Plain(tcp)) }
    }

    /// Runs the TLS handshake after the server said OK to STARTTLS, trusting only the server's
    /// own certificate.
    pub fn start_tls(self, srv: &TestServer) -> Conn {
        assert!(self.reader.buffer().is_empty(), "the server sent bytes before the TLS handshake");
        let Stream::Plain(tcp) = self.reader.into_inner() else { panic!("TLS is already on") };
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(srv.cert_path()).expect("server certificate") {
            roots.add(cert.expect("PEM certificate")).expect("trusted certificate");
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").expect("server name");
        let client = rustls::ClientConnection::new(Arc::new(config), name).expect("TLS client");
        let mut tls = rustls::StreamOwned::new(client, tcp);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).expect("TLS handshake");
        }
        Conn { reader: BufReader::new(Stream::Tls(Box::new(tls))) }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        let stream = self.reader.get_mut();
        stream.write_all(bytes).expect("send");
        stream.flush().expect("flush");
    }

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

    /// Whether the server closed the connection (end of stream, or a reset), rather than
    /// staying silent until the read timeout.
    pub fn is_closed(&mut self) -> bool {
        let mut rest = Vec::new();
        let closed = match self.reader.read_until(b'\n', &mut rest) {
            Ok(n) => n == 0,
            Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
        };
        closed && rest.is_empty()
    }
}

/// A test client speaking IMAP over [`Conn`], reading literals inside responses.
pub struct Imap {
    pub conn: Conn,
    pub next_tag: usize,
}

impl Imap {
    /// A plaintext connection to the IMAP port (STARTTLS not done).
    pub fn connect(srv: &TestServer) -> Imap {
        let mut conn = Conn::connect(srv);
        let greeting = conn.read_line();
        assert!(greeting.starts_with("* OK"), "greeting: {greeting}");
        Imap { conn, next_tag: 1 }
    }

    /// A connection to the IMAP port upgraded with STARTTLS, not logged in.
    pub fn connect_tls(srv: &TestServer) -> Imap {
        Imap::connect(srv).start_tls(srv)
    }

    /// RFC 9051 §6.2.1: STARTTLS, then the handshake.
    pub fn start_tls(mut self, srv: &TestServer) -> Imap {
        let (status, _) = self.cmd("STARTTLS");
        assert!(status.split(' ').nth(1) == Some("OK"), "STARTTLS: {status}");
        Imap { conn: self.conn.start_tls(srv), next_tag: self.next_tag }
    }

    pub fn login(srv: &TestServer, user: &str) -> Imap {
        let mut imap = Imap::connect_tls(srv);
        let (status, _) = imap.cmd(&format!("LOGIN {user} \"{PASSWORD}\""));
        assert!(status.contains(" OK "), "login: {status}");
        imap
    }

    /// One response line with its literals spliced in (raw bytes).
    pub fn read_response(&mut self) -> Vec<u8> {
        let mut response = Vec::new();
        loop {
            let line = self.conn.read_line();
            response.extend_from_slice(line.as_bytes());
            let Some(size) = literal_size(&line) else { return response };
            response.extend_from_slice(b"\r\n");
            response.extend_from_slice(&self.conn.read_exact(size));
        }
    }

    /// Sends a tagged command; returns the tagged status line and the untagged responses.
    pub fn cmd(&mut self, command: &str) -> (String, Vec<Vec<u8>>) {
        let tag = format!("t{}", self.next_tag);
        self.next_tag += 1;
        self.conn.send_line(&format!("{tag} {command}"));
        self.read_until_tagged(&tag)
    }

    pub fn read_until_tagged(&mut self, tag: &str) -> (String, Vec<Vec<u8>>) {
        let mut untagged = Vec::new();
        loop {
            let response = self.read_response();
            if response.starts_with(format!("{tag} ").as_bytes()) {
                return (String::from_utf8_lossy(&response).into_owned(), untagged);
            }
            untagged.push(response);
        }
    }

    /// Runs a command that must succeed and returns its untagged responses as text.
    pub fn ok(&mut self, command: &str) -> Vec<String> {
        let (status, untagged) = self.cmd(command);
        assert!(status.split(' ').nth(1) == Some("OK"), "{command} -> {status}");
        untagged.iter().map(|r| String::from_utf8_lossy(r).into_owned()).collect()
    }
}

pub fn literal_size(line: &str) -> Option<usize> {
    let open = line.strip_suffix('}')?.rfind('{')?;
    line[open + 1..line.len() - 1].parse().ok()
}

/// The bytes of the first literal in a response.
pub fn first_literal(response: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(response);
    let open = text.find('{').expect("a literal");
    let close = open + text[open..].find('}').expect("literal end");
    let size: usize = text[open + 1..close].parse().expect("literal size");
    response[close + 3..close + 3 + size].to_vec()
}

pub fn has_line(lines: &[String], wanted: &str) -> bool {
    lines.iter().any(|l| l == wanted)
}

/// Runs a Python script (imaplib and friends) and returns what it printed; panics if it fails.
pub fn python(script: &str, args: &[String]) -> String {
    let output = Command::new("python3").arg("-c").arg(script).args(args).output().expect("python3 runs");
    assert!(
        output.status.success(),
        "python failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
