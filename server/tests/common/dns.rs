//! The stub name server of `peers/dns_stub.py`, so lookups never leave loopback.

use std::process::Child;

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
        let (child, port) = super::start_peer("dns_stub.py", &[file.path().as_os_str()]);
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
