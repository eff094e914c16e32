//! The outbound queue (issue 14, K3) against a real SMTP peer on loopback (aiosmtpd, started by
//! `peers/smtp_peer.py`) reached through `--relay`: submitted mail reaches it over STARTTLS
//! without its Bcc, a peer that defers then refuses gets retries then a bounce that Python's
//! `email` package reads as RFC 3464, a message deferred too long gets a delay notice then a
//! bounce, the admin's queue commands, a SIGKILL while sending loses nothing, and mail for an
//! alias's external target is forwarded with SRS.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::dns::Dns;
use common::imap::*;
use common::peer::*;
use common::*;

/// The domain's DKIM selector and TXT text, from `facteur admin domain dns` (its quoted
/// pieces joined, as a resolver does).
fn dkim_record(srv: &TestServer) -> (String, String) {
    let zone = srv.admin_ok(&["domain", "dns", "example.org"]);
    let line = zone.lines().find(|l| l.contains("._domainkey.example.org.")).expect("a DKIM record");
    let selector = line.split("._domainkey").next().expect("a selector").to_string();
    let value = line.rsplit('\t').next().expect("a value");
    (selector, value.trim_matches('"').replace("\" \"", ""))
}

/// dkimpy's verdict on a message, its DNS answered with `record` for `name` alone.
const VERIFY_DKIM: &str = r#"
import dkim, sys
name, record, path = sys.argv[1], sys.argv[2], sys.argv[3]
def dns(qname, timeout=5):
    wanted = qname.decode() if isinstance(qname, bytes) else qname
    return record.encode() if wanted == name else None
print("dkim:", dkim.verify(open(path, "rb").read(), dnsfunc=dns))
"#;

fn verify_dkim(message: &str, name: &str, record: &str) -> String {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    // The peer kept the data as latin-1 text: back to the same bytes.
    let bytes: Vec<u8> = message.chars().map(|c| c as u32 as u8).collect();
    std::fs::write(file.path(), bytes).expect("message file");
    python(VERIFY_DKIM, &[name.to_string(), record.to_string(), file.path().display().to_string()])
}

fn queue_list(srv: &TestServer) -> String {
    srv.admin_ok(&["queue", "list"])
}

#[test]
fn submitted_mail_reaches_the_relay_over_starttls_without_its_bcc() {
    let (srv, peer) = server_and_peer(&[]);
    submit(
        &srv,
        "ana@example.org",
        &["carol@example.net", "Dave@Example.NET", "bob@example.org"],
        "From: ana@example.org\r\nTo: carol@example.net\r\nCc: bob@example.org\r\nBcc: Dave@example.net\r\n\
         Subject: Minutes\r\n\r\n.Lines starting with a dot\r\n..survive\r\n",
    );
    wait_for("the peer to receive the message", &srv, || !peer.messages().is_empty());
    let messages = peer.messages();
    assert_eq!(messages.len(), 1, "one transaction carries both remote recipients: {messages:?}");
    let message = &messages[0];
    assert_eq!(message["mail_from"], "ana@example.org");
    assert_eq!(
        message["rcpt_tos"],
        serde_json::json!(["carol@example.net", "Dave@example.net"]),
        "local part as written, domain lowercased"
    );
    assert_eq!(message["tls"], true, "STARTTLS was used");
    let data = message["data"].as_str().expect("data");
    // Not a case-blind search for "bcc" in the whole text: the signature's base64 may hold it.
    assert!(!data.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "no Bcc field leaves: {data}");
    assert!(!data.to_ascii_lowercase().contains("dave@example.net"), "nor the hidden address: {data}");
    assert!(data.contains("\r\n.Lines starting with a dot\r\n..survive\r\n"), "dots intact: {data:?}");
    assert!(data.contains("Message-ID: <") && data.contains("Date: "), "{data}");
    // Signed with example.org's key, which an independent verifier (dkimpy) accepts with the
    // record `facteur admin domain dns` asks to publish.
    let (selector, record) = dkim_record(&srv);
    assert!(
        data.starts_with("DKIM-Signature: v=1; a=rsa-sha256;") && data.contains(&format!("s={selector}")),
        "{data}"
    );
    let verdict = verify_dkim(data, &format!("{selector}._domainkey.example.org."), &record);
    assert_eq!(verdict.trim(), "dkim: True", "{data}");
    let tampered = data.replace("survive", "survivE");
    assert_eq!(verify_dkim(&tampered, &format!("{selector}._domainkey.example.org."), &record).trim(), "dkim: False");
    // The local recipient has it at once, through ingest, also without the Bcc.
    let mut bob = Imap::login(&srv, "bob@example.org");
    bob.ok("SELECT INBOX");
    let body = bob.ok("FETCH 1 BODY.PEEK[]").join("");
    assert!(body.contains("Subject: Minutes") && !body.contains("Bcc"), "{body}");
    wait_for("the queue to empty", &srv, || queue_list(&srv).contains("0 message(s) queued"));
}

/// Without a relay, mail goes to the recipient domain's MX hosts, found by DNS (here a stub
/// whose MX for example.net is the peer on loopback), best preference first: a host that does
/// not answer is skipped for the next.
#[test]
fn without_a_relay_mail_goes_to_the_domains_mx_hosts() {
    let mut srv = TestServer::start();
    let peer = Peer::start(&srv);
    let zone = "example.net. 300 IN MX 10 dead.example.net.\n\
                example.net. 300 IN MX 20 mx.example.net.\n\
                dead.example.net. 300 IN A 127.0.0.9\n\
                mx.example.net. 300 IN A 127.0.0.1\n";
    let dns = Dns::start(zone);
    srv.set_env("FACTEUR_RELAY", "off");
    srv.set_env("FACTEUR_DNS_SERVER", &dns.address());
    srv.set_env("FACTEUR_OUTBOUND_PORT", &peer.port.to_string());
    srv.restart();
    submit(&srv, "ana@example.org", &["carol@example.net"], "From: ana@example.org\r\nSubject: By MX\r\n\r\nHi\r\n");
    wait_for("the MX host to receive the message", &srv, || !peer.messages().is_empty());
    assert_eq!(peer.messages()[0]["rcpt_tos"], serde_json::json!(["carol@example.net"]));
    // A domain that does not exist bounces at once rather than waiting days.
    submit(&srv, "ana@example.org", &["x@nowhere.example"], "From: ana@example.org\r\nSubject: Nowhere\r\n\r\nHi\r\n");
    wait_for("the bounce for the missing domain", &srv, || {
        read_dsns(&srv).contains("recipient: rfc822; x@nowhere.example failed 5.")
    });
}

/// A3: mail for an alias with an external target arrives on the MX and leaves for that
/// target through the queue: under an SRS sender at our domain (so the next server's SPF
/// check passes), without our Return-Path:, not signed by us; the local target has it too. The next server's bounce, sent to the SRS address, goes on to the sender.
#[test]
fn mail_for_an_external_alias_target_is_forwarded_with_srs() {
    let (srv, peer) = server_and_peer(&[]);
    srv.admin_ok(&["alias", "add", "fwd@example.org", "ana@example.org", "friend@example.net"]);
    send_to_mx(
        &srv,
        "jo@sender.test",
        &["fwd@example.org"],
        "From: Jo <jo@sender.test>\r\nTo: fwd@example.org\r\nSubject: Forward me\r\n\r\nHello\r\n",
    );
    wait_for("the peer to receive the forward", &srv, || !peer.messages().is_empty());
    let message = &peer.messages()[0];
    let srs = message["mail_from"].as_str().expect("a sender").to_string();
    assert!(srs.starts_with("SRS0=") && srs.ends_with("=sender.test=jo@example.org"), "{srs}");
    assert_eq!(message["rcpt_tos"], serde_json::json!(["friend@example.net"]));
    let data = message["data"].as_str().expect("data");
    assert!(!data.to_ascii_lowercase().contains("return-path:"), "our Return-Path stays here: {data}");
    assert!(data.contains("Subject: Forward me") && data.contains("Received: from mx.sender.test"), "{data}");
    // Someone else's message: we do not sign it (it keeps its author's signatures).
    assert!(!data.contains("DKIM-Signature:"), "{data}");
    assert_eq!(inbox_count(&srv, "ana@example.org"), 1);

    // The next server bounces it to the SRS address: it goes on, from the null sender, to
    // the original sender; a forged SRS address is refused.
    send_to_mx(&srv, "", &[&srs], "From: MAILER-DAEMON@example.net\r\nSubject: Undelivered\r\n\r\nSorry\r\n");
    wait_for("the bounce to go on to the sender", &srv, || peer.messages().len() == 2);
    let bounce = &peer.messages()[1];
    assert_eq!(bounce["mail_from"], "<>", "the null sender, as aiosmtpd writes it");
    assert_eq!(bounce["rcpt_tos"], serde_json::json!(["jo@sender.test"]));
    let forged = srs.replacen("SRS0=", "SRS0=x", 1);
    let out = python(RELAY_IN, &[srv.smtp.port().to_string(), String::new(), forged, "Subject: x\r\n\r\nx\r\n".into()]);
    assert!(out.contains("all refused:") && out.contains("550"), "{out}");
}

/// Reads the DSNs in a mailbox with Python's email package: for each, its content type and,
/// per recipient of its delivery-status part, "Final-Recipient Action Status".
const READ_DSNS: &str = r#"
import email, imaplib, ssl, sys
port, cert, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cert)
with imaplib.IMAP4("localhost", port) as imap:
    imap.starttls(context)
    imap.login("ana@example.org", password)
    imap.select("INBOX", readonly=True)
    _, numbers = imap.search(None, "ALL")
    for n in numbers[0].split():
        _, data = imap.fetch(n, "(BODY.PEEK[])")
        message = email.message_from_bytes(data[0][1])
        print("dsn:", message.get_content_type(), message.get_param("report-type"), message["Auto-Submitted"])
        for part in message.walk():
            if part.get_content_type() == "message/delivery-status":
                # The email package parses the part as a list of field blocks (RFC 3464 §2).
                blocks = part.get_payload()
                print("reporting:", blocks[0]["Reporting-MTA"])
                for block in blocks[1:]:
                    print("recipient:", block["Final-Recipient"], block["Action"], block["Status"], "|", block["Diagnostic-Code"])
            if part.get_content_type() == "text/rfc822-headers":
                print("returned subject:", "Subject: Report" in part.get_payload())
"#;

fn read_dsns(srv: &TestServer) -> String {
    python(READ_DSNS, &[srv.imap.port().to_string(), srv.cert_path().display().to_string(), PASSWORD.to_string()])
}

#[test]
fn a_peer_deferring_then_refusing_gets_a_retry_then_a_bounce() {
    let (srv, peer) = server_and_peer(&[("FACTEUR_QUEUE_RETRY", "1s")]);
    submit(
        &srv,
        "ana@example.org",
        &["flaky-x@example.net", "reject-y@example.net", "zoe@example.net"],
        "From: ana@example.org\r\nSubject: Report\r\n\r\nQ3 figures.\r\n",
    );
    wait_for("the queue to empty", &srv, || queue_list(&srv).contains("0 message(s) queued"));
    let log = peer.rcpt_log();
    assert!(log.contains(&"flaky-x@example.net 451".to_string()), "{log:?}");
    assert!(log.contains(&"flaky-x@example.net 550".to_string()), "tried again after the 451: {log:?}");
    assert_eq!(peer.messages().len(), 1, "zoe got it the first time");
    // reject-y failed at once and flaky-x a second later: two bounces, each naming its
    // recipient with the peer's status.
    assert_eq!(inbox_count(&srv, "ana@example.org"), 2);
    let dsns = read_dsns(&srv);
    assert!(dsns.contains("dsn: multipart/report delivery-status auto-replied"), "{dsns}");
    assert!(dsns.contains("reporting: dns; mx.example.org"), "{dsns}");
    assert!(dsns.contains("recipient: rfc822; reject-y@example.net failed 5.1.1 | smtp; 550 5.1.1"), "{dsns}");
    assert!(dsns.contains("recipient: rfc822; flaky-x@example.net failed 5.1.1"), "{dsns}");
    assert!(!dsns.contains("zoe@"), "the delivered recipient is not reported: {dsns}");
    assert!(dsns.contains("returned subject: True"), "{dsns}");
}

#[test]
fn a_message_deferred_too_long_gets_a_delay_notice_then_a_bounce() {
    let (srv, peer) = server_and_peer(&[
        ("FACTEUR_QUEUE_RETRY", "1s"),
        ("FACTEUR_QUEUE_WARN_AFTER", "1s"),
        ("FACTEUR_QUEUE_LIFETIME", "4s"),
    ]);
    submit(&srv, "ana@example.org", &["defer-q@example.net"], "Subject: Report\r\n\r\nLater.\r\n");
    wait_for("a delay notice and a bounce", &srv, || inbox_count(&srv, "ana@example.org") >= 2);
    let dsns = read_dsns(&srv);
    assert!(dsns.contains("recipient: rfc822; defer-q@example.net delayed 4.3.0"), "{dsns}");
    assert!(dsns.contains("recipient: rfc822; defer-q@example.net failed"), "{dsns}");
    assert!(dsns.contains("gave up after 4 seconds"), "{dsns}");
    assert!(peer.rcpt_log().len() >= 3, "retried meanwhile: {:?}", peer.rcpt_log());
    assert!(queue_list(&srv).contains("0 message(s) queued"));
    assert!(peer.messages().is_empty());
}

#[test]
fn the_admin_lists_retries_and_deletes_queued_mail() {
    // The relay is a closed port: everything stays queued.
    let srv = TestServer::start();
    submit(&srv, "ana@example.org", &["one@example.net", "two@example.com"], "Subject: a\r\n\r\na\r\n");
    submit(&srv, "bob@example.org", &["three@example.net"], "Subject: b\r\n\r\nb\r\n");
    wait_for("the first attempts", &srv, || queue_list(&srv).contains("1 attempt(s)"));
    let list = queue_list(&srv);
    assert!(list.contains("2 message(s) queued"), "{list}");
    assert!(list.contains("from ana@example.org") && list.contains("from bob@example.org"), "{list}");
    assert!(list.contains("to one@example.net") && list.contains("to two@example.com"), "{list}");
    assert!(list.contains("connecting to 127.0.0.1:9"), "the last error is shown: {list}");
    let first_id = list.lines().next().and_then(|l| l.split('\t').next()).expect("an id").to_string();
    assert!(srv.admin_ok(&["queue", "retry", &first_id]).contains("2 recipient(s)"));
    assert!(srv.admin(&["queue", "retry", "999"]).status.code() != Some(0));
    assert!(srv.admin_ok(&["queue", "delete", &first_id]).contains("taken off the queue"));
    let list = queue_list(&srv);
    assert!(list.contains("1 message(s) queued") && !list.contains("ana@"), "{list}");
    assert!(srv.admin(&["queue", "delete", &first_id]).status.code() != Some(0));
}

/// A SIGKILL while the queue is sending: after the restart every message reaches the peer,
/// and only those in flight at the kill may arrive twice (RFC 5321 §6.3 allows no better).
#[test]
fn kill_9_while_sending_loses_nothing() {
    let (mut srv, peer) = server_and_peer(&[]);
    const N: usize = 12;
    for i in 0..N {
        submit(&srv, "ana@example.org", &["slow-r@example.net"], &format!("Subject: n{i}\r\n\r\nbody {i}\r\n"));
    }
    // The peer holds each reply to the data for 3 s: kill while attempts are running.
    wait_for("attempts under way", &srv, || !peer.rcpt_log().is_empty());
    srv.kill();
    let before = peer.messages().len();
    assert!(before < N, "the kill came while sending ({before} of {N} already through)");
    srv.set_env("FACTEUR_QUEUE_RETRY", "1s");
    srv.restart();
    let start = Instant::now();
    let subjects = || -> HashSet<String> {
        peer.messages()
            .iter()
            .filter_map(|m| {
                let data = m["data"].as_str()?;
                data.lines().find_map(|l| l.strip_prefix("Subject: ")).map(str::to_string)
            })
            .collect()
    };
    while subjects().len() < N {
        assert!(start.elapsed() < Duration::from_secs(90), "only {:?} arrived; log:\n{}", subjects(), srv.log());
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_for("the queue to empty", &srv, || queue_list(&srv).contains("0 message(s) queued"));
    let total = peer.messages().len();
    // At most the attempts running at the kill (4 to one destination) are sent twice.
    assert!(total <= N + 4, "{total} deliveries for {N} messages");
}
