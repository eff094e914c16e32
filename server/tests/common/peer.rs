//! Another mail server for the tests (aiosmtpd, `peers/smtp_peer.py`), and sending to ours as
//! programs do: submission with authentication, the MX as another server.

use std::path::PathBuf;
use std::process::Child;
use std::time::{Duration, Instant};

use super::imap::python;
use super::{PASSWORD, TestServer, start_peer};

/// A running aiosmtpd peer and the folder it writes what it receives to.
pub struct Peer {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Peer {
    /// A peer offering STARTTLS with the test server's own certificate (any will do: the
    /// queue encrypts opportunistically).
    pub fn start(srv: &TestServer) -> Peer {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = srv.cert_path().with_file_name("key.pem");
        let cert = srv.cert_path();
        let (child, port) = start_peer("smtp_peer.py", &[dir.path().as_os_str(), cert.as_os_str(), key.as_os_str()]);
        Peer { child, port, dir }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The messages accepted so far, as JSON values, in the order received.
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.dir.path())
            .expect("peer folder")
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                let n = name.strip_prefix("msg-")?.strip_suffix(".json")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect();
        files.sort();
        files
            .iter()
            .map(|(_, path)| serde_json::from_slice(&std::fs::read(path).expect("message file")).expect("json"))
            .collect()
    }

    /// Each RCPT the peer answered: "address code".
    pub fn rcpt_log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("rcpt.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (up to a minute) until `done` holds.
pub fn wait_for(what: &str, srv: &TestServer, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(60), "timed out waiting for {what}; log:\n{}", srv.log());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends by submission (port 587, STARTTLS, AUTH) with smtplib: argv is the sender's login,
/// the envelope recipients (comma-separated) and the message.
const SUBMIT: &str = r#"
import smtplib, ssl, sys
port, cert, password, login, recipients, message = sys.argv[1:7]
context = ssl.create_default_context(cafile=cert)
with smtplib.SMTP("localhost", int(port), timeout=30) as s:
    s.starttls(context=context)
    s.login(login, password)
    try:
        print("refused:", s.sendmail(login, recipients.split(","), message.encode()))
    except smtplib.SMTPRecipientsRefused as error:
        print("all refused:", error.recipients)
"#;

pub fn submit(srv: &TestServer, from: &str, recipients: &[&str], message: &str) {
    let out = submit_reply(srv, from, recipients, message);
    assert!(out.contains("refused: {}"), "{out}");
}

/// Submits and says what happened, as [`send_to_mx_reply`].
pub fn submit_reply(srv: &TestServer, from: &str, recipients: &[&str], message: &str) -> String {
    python(
        SUBMIT,
        &[
            srv.submission.port().to_string(),
            srv.cert_path().display().to_string(),
            PASSWORD.to_string(),
            from.to_string(),
            recipients.join(","),
            message.to_string(),
        ],
    )
}

/// Starts a server whose outbound mail goes to a peer it starts first (the peer needs the
/// server's certificate, so the server starts twice: once to make it).
pub fn server_and_peer(env: &[(&str, &str)]) -> (TestServer, Peer) {
    let mut srv = TestServer::start();
    let peer = Peer::start(&srv);
    srv.set_env("FACTEUR_RELAY", &peer.address());
    for (key, value) in env {
        srv.set_env(key, value);
    }
    srv.restart();
    (srv, peer)
}

/// Sends to the MX (port 25 role) with smtplib, as another server would: argv is the envelope
/// sender (empty for the null sender), the recipients (comma-separated) and the message.
pub const RELAY_IN: &str = r#"
import smtplib, sys
port, sender, recipients, message = sys.argv[1:5]
with smtplib.SMTP("127.0.0.1", int(port), timeout=30) as s:
    s.ehlo("mx.sender.test")
    try:
        print("refused:", s.sendmail(sender, recipients.split(","), message.encode()))
    except smtplib.SMTPRecipientsRefused as error:
        print("all refused:", error.recipients)
    except smtplib.SMTPDataError as error:
        print("data refused:", error.smtp_code, error.smtp_error.decode())
"#;

/// Sends to the MX; every recipient must take the message.
pub fn send_to_mx(srv: &TestServer, sender: &str, recipients: &[&str], message: &str) {
    let out = send_to_mx_reply(srv, sender, recipients, message);
    assert!(out.contains("refused: {}"), "{out}");
}

/// Sends to the MX and says what happened: "refused: {...}" with the recipients refused,
/// "all refused: ...", or "data refused: CODE TEXT".
pub fn send_to_mx_reply(srv: &TestServer, sender: &str, recipients: &[&str], message: &str) -> String {
    python(RELAY_IN, &[srv.smtp.port().to_string(), sender.to_string(), recipients.join(","), message.to_string()])
}

/// How many messages a mailbox's Inbox holds.
pub fn inbox_count(srv: &TestServer, user: &str) -> usize {
    let mut imap = super::imap::Imap::login(srv, user);
    let status = imap.ok("STATUS INBOX (MESSAGES)").join("");
    let n = status.split("MESSAGES ").nth(1).and_then(|rest| rest.split(')').next()).expect("MESSAGES n");
    n.trim().parse().expect("a count")
}
