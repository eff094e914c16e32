//! The stub name server of `peers/dns_stub.py`, so lookups never leave loopback.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running stub answering from a zone, stopped when dropped.
pub struct Dns {
    child: Child,
    pub port: u16,
    _zone: tempfile::NamedTempFile,
}

impl Dns {
    /// A stub answering from `zone` (master file syntax, absolute names).
    pub fn start(zone: &str) -> Dns {
        let file = tempfile::NamedTempFile::new().expect("zone file");
        std::fs::write(file.path(), zone).expect("zone");
        let mut child = Command::new("python3")
            .arg(Path::new("tests/peers/dns_stub.py"))
            .arg(file.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the stub name server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the stub's port");
        let port = line.trim().strip_prefix("port ").and_then(|p| p.parse().ok()).expect("port N");
        Dns { child, port, _zone: file }
    }

    /// Its address, for `FACTEUR_DNS_SERVER`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
