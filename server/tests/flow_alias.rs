//! The issue-2 acceptance path through every layer: a message sent with swaks to an alias with
//! two targets reaches both mailboxes and is fetched byte for byte over IMAP by Python's imaplib.

mod common;

use std::process::Command;

use common::*;

/// Fetches every Inbox message of `login` with imaplib over IMAPS (trusting the server's
/// self-signed certificate) and returns their raw bytes, hex-encoded one per line.
fn imaplib_fetch_all(srv: &TestServer, login: &str) -> Vec<Vec<u8>> {
    let script = r#"
import imaplib, ssl, sys
host, port, cafile, login, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
context = ssl.create_default_context(cafile=cafile)
imap = imaplib.IMAP4_SSL(host, port, ssl_context=context)
imap.login(login, password)
typ, data = imap.select("INBOX", readonly=True)
assert typ == "OK", data
n = int(data[0])
for seq in range(1, n + 1):
    typ, data = imap.fetch(str(seq), "(BODY.PEEK[])")
    assert typ == "OK", data
    print(data[0][1].hex())
imap.logout()
"#;
    let output = Command::new("python3")
        .args(["-c", script, "localhost", &srv.imaps.port().to_string()])
        .arg(srv.cert_path())
        .args([login, PASSWORD])
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "imaplib failed: {}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        srv.log()
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| (0..line.len()).step_by(2).map(|i| u8::from_str_radix(&line[i..i + 2], 16).unwrap()).collect())
        .collect()
}

#[test]
fn swaks_to_an_alias_reaches_both_mailboxes_byte_for_byte_over_imap() {
    let srv = TestServer::start();
    srv.admin_ok(&["alias", "add", "team@example.org", "ana@example.org", "bob@example.org"]);
    let message = "From: Zoé <zoe@remote.test>\r\nTo: team@example.org\r\nSubject: Réunion lundi\r\n\
        Message-ID: <flow-1@remote.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
        Content-Transfer-Encoding: 8bit\r\n\r\nBonjour à toutes et à tous,\r\n.leading dot survives\r\n\r\nZoé\r\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.eml");
    // swaks ends the data with its own CRLF before the final dot, so the file has no last CRLF.
    std::fs::write(&file, message.strip_suffix("\r\n").unwrap()).unwrap();
    let swaks = Command::new("swaks")
        .args(["--server", &srv.smtp.to_string(), "--from", "zoe@remote.test", "--to", "team@example.org"])
        .arg("--data")
        .arg(&file)
        .output()
        .expect("swaks is installed by scripts/setup.sh");
    assert!(swaks.status.success(), "swaks: {}\n{}", String::from_utf8_lossy(&swaks.stdout), srv.log());

    for login in ["ana@example.org", "bob@example.org"] {
        let fetched = imaplib_fetch_all(&srv, login);
        assert_eq!(fetched.len(), 1, "{login} has one message");
        let raw = &fetched[0];
        assert!(raw.starts_with(b"Return-Path: <zoe@remote.test>\r\n"), "{}", String::from_utf8_lossy(raw));
        assert!(
            raw.ends_with(message.as_bytes()),
            "the message is stored byte for byte after the trace headers:\n{}",
            String::from_utf8_lossy(raw)
        );
        // And it is the same bytes the store holds.
        let stored = srv.admin(&["message", "get", login, "1"]).stdout;
        assert_eq!(&stored, raw);
    }
}
