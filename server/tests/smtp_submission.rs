//! SMTP submission (K3, RFC 6409) on both ports, with Python's smtplib and swaks as clients: AUTH
//! only over TLS, a sender and author of the account's own, local recipients delivered with Bcc
//! removed and Message-ID and Date added, a copy in Sent, and the refusals. What was stored is
//! read over IMAP.

mod common;

use common::imap::*;
use common::*;

/// smtplib on port 587: STARTTLS (the certificate checked), AUTH PLAIN, one message from ana
/// to bob with a Bcc to ana's plus address; then port 465 with AUTH LOGIN. Prints what EHLO
/// offered before and after TLS.
const SEND: &str = r#"
import smtplib, ssl, sys
submission, submissions, cert, password = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=cert)
message = (b"From: Ana <ana@example.org>\r\nTo: bob@example.org\r\nBcc: ana+hidden@example.org\r\n"
           b"Subject: Lunch\r\n\r\nAt noon?\r\n")
with smtplib.SMTP("localhost", submission, timeout=30) as s:
    s.ehlo()
    print("before TLS:", s.has_extn("auth"), s.has_extn("starttls"))
    s.starttls(context=context)
    s.ehlo()
    print("after TLS:", s.has_extn("auth"), s.esmtp_features.get("auth", "").strip())
    s.login("ana@example.org", password)
    refused = s.sendmail("ana@example.org", ["bob@example.org", "ana+hidden@example.org"], message)
    print("refused:", refused)
with smtplib.SMTP_SSL("localhost", submissions, context=context, timeout=30) as s:
    s.ehlo()
    s.login("bob@example.org", password)
    s.sendmail("bob+news@example.org", ["ana@example.org"], b"Subject: Re: Lunch\r\n\r\nYes.\r\n")
    print("465 sent")
"#;

/// The bodies of a folder's messages, by `BODY.PEEK[]`, in UID order.
fn bodies(imap: &mut Imap, folder: &str) -> Vec<String> {
    imap.ok(&format!("SELECT {folder}"));
    let (status, untagged) = imap.cmd("FETCH 1:* BODY.PEEK[]");
    assert!(status.contains(" OK "), "{status}");
    untagged.iter().map(|response| String::from_utf8_lossy(&first_literal(response)).into_owned()).collect()
}

#[test]
fn submission_delivers_locally_keeps_a_sent_copy_and_drops_bcc() {
    let srv = TestServer::start();
    let out = python(
        SEND,
        &[
            srv.submission.port().to_string(),
            srv.submissions.port().to_string(),
            srv.cert_path().display().to_string(),
            PASSWORD.to_string(),
        ],
    );
    assert!(out.contains("before TLS: False True"), "no AUTH before STARTTLS: {out}");
    assert!(out.contains("after TLS: True PLAIN LOGIN"), "{out}");
    assert!(out.contains("refused: {}") && out.contains("465 sent"), "{out}");

    let mut bob = Imap::login(&srv, "bob@example.org");
    let inbox = bodies(&mut bob, "INBOX");
    assert_eq!(inbox.len(), 1, "{inbox:?}");
    let delivered = &inbox[0];
    assert!(delivered.contains("Subject: Lunch") && delivered.contains("At noon?"), "{delivered}");
    // The field and the hidden address, not the letters: a random Message-ID may hold "bcc".
    let lower = delivered.to_ascii_lowercase();
    assert!(!lower.contains("\r\nbcc:") && !lower.contains("ana+hidden"), "the Bcc field never leaves: {delivered}");
    assert!(delivered.contains("\r\nDate: ") && delivered.contains("\r\nMessage-ID: <"), "added: {delivered}");
    assert!(delivered.contains("with ESMTPSA"), "RFC 3848 trace: {delivered}");
    // Bob's own message from port 465 went to his Sent, read.
    let sent = bodies(&mut bob, "Sent");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("Subject: Re: Lunch"), "{}", sent[0]);

    let mut ana = Imap::login(&srv, "ana@example.org");
    let inbox = bodies(&mut ana, "INBOX");
    assert_eq!(inbox.len(), 2, "the Bcc copy and Bob's answer: {inbox:?}");
    assert!(inbox.iter().all(|m| !m.to_ascii_lowercase().contains("\r\nbcc:")), "{inbox:?}");
    let sent = bodies(&mut ana, "Sent");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].split_once("\r\n\r\n").map(|(_, body)| body),
        Some("At noon?\r\n"),
        "the Sent copy is the message sent"
    );
    assert!(sent[0].contains("\r\nBcc: ana+hidden@example.org\r\n"), "the sender keeps who had it: {}", sent[0]);
    let flags = ana.ok("FETCH 1 FLAGS");
    assert!(flags[0].contains("\\Seen"), "Sent copies are read: {flags:?}");
}

/// The refusals, each with its code, and nothing delivered by them.
const REFUSALS: &str = r#"
import smtplib, ssl, sys, base64
port, cert, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cert)
plain = base64.b64encode(b"\0ana@example.org\0" + password.encode()).decode()
with smtplib.SMTP("localhost", port, timeout=30) as s:
    s.ehlo()
    print("auth before tls:", s.docmd("AUTH", "PLAIN " + plain)[0])
    s.starttls(context=context)
    s.ehlo()
    print("mail before auth:", s.docmd("MAIL", "FROM:<ana@example.org>")[0])
    print("wrong password:", s.docmd("AUTH", "PLAIN " + base64.b64encode(b"\0ana@example.org\0nope").decode())[0])
    print("unknown mechanism:", s.docmd("AUTH", "CRAM-MD5")[0])
    print("cancelled:", s.docmd("AUTH", "LOGIN")[0], s.docmd("*")[0])
    print("auth:", s.docmd("AUTH", "PLAIN " + plain)[0])
    print("again:", s.docmd("AUTH", "PLAIN " + plain)[0])
    print("forged sender:", s.docmd("MAIL", "FROM:<bob@example.org>")[0])
    print("null sender:", s.docmd("MAIL", "FROM:<>")[0])
    print("own sender:", s.docmd("MAIL", "FROM:<ana+x@example.org>")[0])
    print("remote:", s.docmd("RCPT", "TO:<someone@example.net>")[0])
    codes = [s.docmd("RCPT", "TO:<bob@example.org>")[0] for _ in range(101)]
    print("recipients:", codes.count(250), codes[-1])
    s.docmd("RSET")
    try:
        s.sendmail("ana@example.org", ["bob@example.org"], b"From: Bob <bob@example.org>\r\nSubject: forged\r\n\r\nx\r\n")
    except smtplib.SMTPDataError as error:
        print("forged author:", error.smtp_code)
    s.sendmail("ana@example.org", ["bob@example.org"], b"Subject: one\r\n\r\n1\r\n")
    s.sendmail("ana@example.org", ["bob@example.org"], b"Subject: two\r\n\r\n2\r\n")
    print("over the limit:", s.docmd("MAIL", "FROM:<ana@example.org>")[0])
"#;

#[test]
fn submission_refuses_clear_passwords_strangers_forgeries_and_floods() {
    let srv = TestServer::start_with_env(&[("FACTEUR_SUBMISSION_HOURLY_LIMIT", "2")]);
    // Ana's program keeps its own copies over IMAP.
    srv.admin_ok(&["user", "sent-copies", "ana@example.org", "off"]);
    let out = python(
        REFUSALS,
        &[srv.submission.port().to_string(), srv.cert_path().display().to_string(), PASSWORD.to_string()],
    );
    for expected in [
        "auth before tls: 538",
        "mail before auth: 530",
        "wrong password: 535",
        "unknown mechanism: 504",
        "cancelled: 334 501",
        "auth: 235",
        "again: 503",
        "forged sender: 553",
        "null sender: 553",
        "own sender: 250",
        "remote: 250",
        "recipients: 99 452",
        "forged author: 550",
        "over the limit: 450",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
    // The MX still takes no AUTH and relays nothing.
    let mut mx = LineConn::connect(srv.smtp);
    mx.read_line();
    mx.send_line("EHLO client.example.net");
    while mx.read_line().starts_with("250-") {}
    mx.send_line("AUTH PLAIN AGFuYQBw");
    assert!(mx.read_line().starts_with("502"));
    let mut bob = Imap::login(&srv, "bob@example.org");
    assert_eq!(
        bodies(&mut bob, "INBOX").len(),
        2,
        "only the two messages within the limit (the forged one gave its place back)"
    );
    let mut ana = Imap::login(&srv, "ana@example.org");
    assert!(ana.ok("STATUS Sent (MESSAGES)")[0].contains("MESSAGES 0"), "no copies when turned off");
}

/// swaks, a client that is not Python, on both ports: STARTTLS with AUTH LOGIN on 587, TLS
/// from the start with AUTH PLAIN on 465.
#[test]
fn swaks_sends_on_both_ports() {
    let srv = TestServer::start();
    for (port, tls, mechanism) in
        [(srv.submission.port(), "--tls", "LOGIN"), (srv.submissions.port(), "--tlsc", "PLAIN")]
    {
        let output = std::process::Command::new("swaks")
            .args(["--server", "127.0.0.1", "--port", &port.to_string(), tls])
            .args(["--auth", mechanism, "--auth-user", "ana@example.org", "--auth-password", PASSWORD])
            .args(["--from", "ana@example.org", "--to", "bob@example.org"])
            .args(["--header", &format!("Subject: swaks {mechanism}")])
            .output()
            .expect("running swaks");
        let transcript = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "swaks failed:\n{transcript}");
        assert!(transcript.contains("<~  235 2.7.0") && transcript.contains("<~  250 2.0.0 OK"), "{transcript}");
    }
    let mut bob = Imap::login(&srv, "bob@example.org");
    let inbox = bodies(&mut bob, "INBOX");
    assert_eq!(inbox.len(), 2, "{inbox:?}");
    assert!(inbox[0].contains("Subject: swaks LOGIN") && inbox[1].contains("Subject: swaks PLAIN"), "{inbox:?}");
}
