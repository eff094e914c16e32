//! Inbound SMTP (K4) against the real `facteur serve` binary: transcripts over TCP, plus runs
//! with swaks and Python's smtplib. What was stored is checked with `facteur admin message`.

mod common;

use std::process::Command;

use common::*;

/// Opens an SMTP connection and checks the greeting.
fn connect(srv: &TestServer) -> LineConn {
    let mut c = LineConn::connect(srv.smtp);
    assert_eq!(c.read_line(), "220 mx.example.org ESMTP Facteur");
    c
}

/// Reads one reply, multi-line replies joined with '\n'.
fn reply(c: &mut LineConn) -> String {
    let mut lines = Vec::new();
    loop {
        let line = c.read_line();
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last {
            return lines.join("\n");
        }
    }
}

fn cmd(c: &mut LineConn, line: &str) -> String {
    c.send_line(line);
    reply(c)
}

#[track_caller]
fn expect(reply: &str, code: &str) {
    assert!(reply.starts_with(code), "expected {code:?}, got {reply:?}");
}

/// The Inbox of `address`: (uid, subject) per message.
fn inbox(srv: &TestServer, address: &str) -> Vec<(String, String)> {
    srv.admin_ok(&["message", "list", address])
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            (fields[0].to_string(), fields.get(2).copied().unwrap_or_default().to_string())
        })
        .collect()
}

fn subjects(srv: &TestServer, address: &str) -> Vec<String> {
    inbox(srv, address).into_iter().map(|(_, subject)| subject).collect()
}

fn raw(srv: &TestServer, address: &str, uid: &str) -> Vec<u8> {
    let output = srv.admin(&["message", "get", address, uid]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

/// Splits a stored message into the trace fields the server added and the rest.
fn split_trace(raw: &[u8]) -> (String, &[u8]) {
    let mut idx = 0;
    // "Return-Path:" is one line, "Received:" three (two folded continuations).
    for _ in 0..4 {
        idx += raw[idx..].iter().position(|&b| b == b'\n').expect("trace line") + 1;
    }
    (String::from_utf8_lossy(&raw[..idx]).into_owned(), &raw[idx..])
}

/// Runs a transaction up to and including the 354.
fn start_data(c: &mut LineConn, from: &str, to: &[&str]) {
    expect(&cmd(c, &format!("MAIL FROM:<{from}>")), "250 2.1.0");
    for rcpt in to {
        expect(&cmd(c, &format!("RCPT TO:<{rcpt}>")), "250 2.1.5");
    }
    expect(&cmd(c, "DATA"), "354");
}

fn send_message(c: &mut LineConn, from: &str, to: &[&str], data: &[u8]) -> String {
    start_data(c, from, to);
    c.send(data);
    reply(c)
}

#[test]
fn ehlo_advertises_the_extensions() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    assert_eq!(
        cmd(&mut c, "EHLO mx.remote.test"),
        "250-mx.example.org greets mx.remote.test\n250-PIPELINING\n250-8BITMIME\n250-SMTPUTF8\n250-SIZE 50000000\n250-ENHANCEDSTATUSCODES\n250 STARTTLS"
    );
    expect(&cmd(&mut c, "VRFY ana"), "252 2.5.0");
    expect(&cmd(&mut c, "AUTH PLAIN AGFuYQBw"), "502 5.5.1");
    expect(&cmd(&mut c, "QUIT"), "221 2.0.0");
    assert!(c.is_closed());
}

#[test]
fn a_message_to_ana_is_stored_byte_for_byte_after_the_trace_fields() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    let body = b"From: X <x@remote.test>\r\nTo: ana@example.org\r\nSubject: Hello Ana\r\n\r\nFirst line\r\n.starts with a dot\r\n\r\n";
    // RFC 5321 §4.5.2: the client doubles the leading dot; the server removes it.
    let mut data = String::from_utf8_lossy(body).replace("\r\n.starts", "\r\n..starts").into_bytes();
    data.extend_from_slice(b".\r\n");
    expect(&send_message(&mut c, "x@remote.test", &["ana@example.org"], &data), "250 2.0.0");
    let listed = inbox(&srv, "ana@example.org");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, "Hello Ana");
    let stored = raw(&srv, "ana@example.org", &listed[0].0);
    let (trace, rest) = split_trace(&stored);
    assert_eq!(String::from_utf8_lossy(rest), String::from_utf8_lossy(body));
    assert!(trace.starts_with("Return-Path: <x@remote.test>\r\nReceived: from mx.remote.test ([127.0.0.1])\r\n\tby mx.example.org with ESMTP id "), "{trace}");
    assert!(subjects(&srv, "bob@example.org").is_empty());
}

#[test]
fn an_alias_with_two_targets_reaches_both_with_swaks() {
    let srv = TestServer::start();
    srv.admin_ok(&["alias", "add", "team@example.org", "ana@example.org", "bob@example.org"]);
    let output = Command::new("swaks")
        .args(["--server", &srv.smtp.to_string(), "--to", "team@example.org", "--from", "x@remote.test"])
        .args(["--helo", "mx.remote.test", "--header", "Subject: Team news", "--body", "Hello team"])
        .output()
        .expect("running swaks");
    assert!(output.status.success(), "swaks failed: {}", String::from_utf8_lossy(&output.stdout));
    assert_eq!(subjects(&srv, "ana@example.org"), ["Team news"]);
    assert_eq!(subjects(&srv, "bob@example.org"), ["Team news"]);
}

#[test]
fn plus_addressing_and_postmaster_reach_their_mailboxes() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    let reply = send_message(&mut c, "x@remote.test", &["bob+lists@example.org"], b"Subject: plus\r\n\r\nhi\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    // A5: postmaster@ goes to the first administrator, ana.
    let reply = send_message(&mut c, "", &["postmaster@example.org"], b"Subject: to postmaster\r\n\r\nhi\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    assert_eq!(subjects(&srv, "bob@example.org"), ["plus"]);
    assert_eq!(subjects(&srv, "ana@example.org"), ["to postmaster"]);
    let listed = inbox(&srv, "ana@example.org");
    let stored = raw(&srv, "ana@example.org", &listed[0].0);
    assert!(stored.starts_with(b"Return-Path: <>\r\n"), "{}", String::from_utf8_lossy(&stored));
}

#[test]
fn unknown_users_and_relaying_are_refused() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    expect(&cmd(&mut c, "MAIL FROM:<x@remote.test>"), "250 2.1.0");
    expect(&cmd(&mut c, "RCPT TO:<nobody@example.org>"), "550 5.1.1");
    expect(&cmd(&mut c, "RCPT TO:<victim@elsewhere.test>"), "550 5.7.1");
    expect(&cmd(&mut c, "DATA"), "554 5.5.1");
    expect(&cmd(&mut c, "RSET"), "250 2.0.0");
    let reply = send_message(&mut c, "x@remote.test", &["ana@example.org"], b"Subject: still fine\r\n\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    assert_eq!(subjects(&srv, "ana@example.org"), ["still fine"]);
}

#[test]
fn a_60_mb_message_is_refused_and_the_connection_stays_usable() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    // Announced too big: refused at MAIL (RFC 1870 §6.1).
    expect(&cmd(&mut c, "MAIL FROM:<x@remote.test> SIZE=60000000"), "552 5.3.4");
    // Not announced: refused after the data, which is read to its end.
    start_data(&mut c, "x@remote.test", &["ana@example.org"]);
    let mut chunk = Vec::with_capacity(1_000_000);
    while chunk.len() < 1_000_000 {
        chunk.extend_from_slice(&[b'z'; 998]);
        chunk.extend_from_slice(b"\r\n");
    }
    c.send(b"Subject: huge\r\n\r\n");
    for _ in 0..60 {
        c.send(&chunk);
    }
    c.send(b".\r\n");
    expect(&reply(&mut c), "552 5.3.4");
    let reply = send_message(&mut c, "x@remote.test", &["ana@example.org"], b"Subject: small\r\n\r\nok\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    assert_eq!(subjects(&srv, "ana@example.org"), ["small"]);
}

#[test]
fn a_10000_character_command_line_is_refused_and_the_session_goes_on() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    let long = format!("RCPT TO:<{}@example.org>", "a".repeat(10_000));
    expect(&cmd(&mut c, &long), "500 5.5.6");
    let reply = send_message(&mut c, "x@remote.test", &["ana@example.org"], b"Subject: after\r\n\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    assert_eq!(subjects(&srv, "ana@example.org"), ["after"]);
}

/// SMTP smuggling (CVE-2023-51764/51765/51766): a body holding a fake end of data and a
/// second transaction. Only `<CRLF>.<CRLF>` ends the data, and a bare LF or CR makes us refuse
/// the whole message, so neither the first nor the smuggled message is stored, and the
/// smuggled commands never run (they would have earned their own replies).
#[test]
fn smuggling_attempts_deliver_nothing_and_run_no_command() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    for shape in ["\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\r\n", "\r\n.\r"] {
        start_data(&mut c, "x@remote.test", &["ana@example.org"]);
        let data = format!(
            "Subject: carrier\r\n\r\nhello{shape}MAIL FROM:<admin@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n"
        );
        c.send(data.as_bytes());
        expect(&reply(&mut c), "550 5.6.0");
        // Had the smuggled MAIL/RCPT/DATA run, their replies would come before this one.
        expect(&cmd(&mut c, "NOOP"), "250 2.0.0");
    }
    assert!(subjects(&srv, "ana@example.org").is_empty());
    assert!(subjects(&srv, "bob@example.org").is_empty());
    // The connection still delivers an honest message.
    let reply = send_message(&mut c, "x@remote.test", &["bob@example.org"], b"Subject: honest\r\n\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    assert_eq!(subjects(&srv, "bob@example.org"), ["honest"]);
}

#[test]
fn pipelined_commands_get_their_replies_in_order() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    c.send(b"EHLO mx.remote.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<ana@example.org>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
    expect(&reply(&mut c), "250-mx.example.org");
    expect(&reply(&mut c), "250 2.1.0");
    expect(&reply(&mut c), "250 2.1.5");
    expect(&reply(&mut c), "550 5.1.1");
    expect(&reply(&mut c), "250 2.1.5");
    expect(&reply(&mut c), "354");
    c.send(b"Subject: batch\r\n\r\nhi\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n");
    expect(&reply(&mut c), "250 2.0.0");
    expect(&reply(&mut c), "250 2.0.0");
    expect(&reply(&mut c), "250 2.0.0");
    expect(&reply(&mut c), "221 2.0.0");
    assert_eq!(subjects(&srv, "ana@example.org"), ["batch"]);
    assert_eq!(subjects(&srv, "bob@example.org"), ["batch"]);
}

#[test]
fn eight_bit_and_smtputf8_messages_are_stored_byte_for_byte() {
    let srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    expect(&cmd(&mut c, "MAIL FROM:<élise@exemple.test> BODY=8BITMIME SMTPUTF8"), "250 2.1.0");
    expect(&cmd(&mut c, "RCPT TO:<ana@example.org>"), "250 2.1.5");
    expect(&cmd(&mut c, "DATA"), "354");
    let mut body =
        "From: Élise <élise@exemple.test>\r\nSubject: Café ☕\r\n\r\nÀ bientôt, 日本語\r\n".as_bytes().to_vec();
    // Raw Latin-1 bytes that are not UTF-8 must survive too.
    body.extend_from_slice(b"caf\xe9 \xff\x80\r\n");
    c.send(&body);
    c.send(b".\r\n");
    expect(&reply(&mut c), "250 2.0.0");
    let listed = inbox(&srv, "ana@example.org");
    assert_eq!(listed.len(), 1);
    let stored = raw(&srv, "ana@example.org", &listed[0].0);
    let (trace, rest) = split_trace(&stored);
    assert_eq!(rest, body.as_slice());
    assert!(trace.starts_with("Return-Path: <élise@exemple.test>\r\n"), "{trace}");
    assert!(trace.contains(" with UTF8SMTP id "), "{trace}");
}

/// STARTTLS with Python's smtplib checking our certificate, then a raw-socket client that
/// pipelines commands after STARTTLS (CVE-2011-0411): they must be dropped.
#[test]
fn starttls_with_python_and_no_plaintext_injection() {
    let srv = TestServer::start();
    let script = r#"
import smtplib, socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=cafile)
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.remote.test", timeout=10)
s.ehlo()
assert s.has_extn("starttls"), s.esmtp_features
code, _ = s.starttls(context=ctx)
assert code == 220, code
s.ehlo()
assert not s.has_extn("starttls"), "STARTTLS offered twice"
s.sendmail("x@remote.test", ["bob@example.org"], b"Subject: over TLS\r\n\r\nsecret\r\n")
s.quit()

raw = socket.create_connection(("127.0.0.1", port), timeout=10)
f = raw.makefile("rb")
def reply(f):
    lines = []
    while True:
        line = f.readline().decode()
        lines.append(line.strip())
        if line[3:4] != "-":
            return lines
reply(f)
raw.sendall(b"EHLO client.remote.test\r\n"); reply(f)
raw.sendall(b"STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<evil@remote.test>\r\n")
assert reply(f)[0].startswith("220 2.0.0"), "no 220"
tls = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
g = tls.makefile("rb")
# Had the injected commands run, MAIL would be "nested" or answered after their replies.
tls.sendall(b"MAIL FROM:<x@remote.test>\r\n")
first = reply(g)
assert first[0].startswith("503 5.5.1"), first
print("ok")
"#;
    let output = Command::new("python3")
        .args(["-c", script, &srv.smtp.port().to_string()])
        .arg(srv.cert_path())
        .output()
        .expect("running python3");
    assert!(
        output.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "ok");
    let listed = inbox(&srv, "bob@example.org");
    assert_eq!(listed.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>(), ["over TLS"]);
    let (trace, _) = split_trace(&raw(&srv, "bob@example.org", &listed[0].0));
    assert!(trace.contains("from client.remote.test ([127.0.0.1])") && trace.contains(" with ESMTPS id "), "{trace}");
}

/// A crash before the final dot loses only the unfinished message: nothing half-written is
/// stored, the server restarts on the same data, and earlier mail is still there.
#[test]
fn kill_9_during_data_stores_nothing_and_keeps_earlier_mail() {
    let mut srv = TestServer::start();
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    let reply = send_message(&mut c, "x@remote.test", &["ana@example.org"], b"Subject: before the crash\r\n\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    start_data(&mut c, "x@remote.test", &["ana@example.org"]);
    c.send(b"Subject: interrupted\r\n\r\nthis message never ends\r\n");
    // Still data: the server answers nothing until the final dot, which never comes.
    c.send(b"QUIT\r\n");
    srv.kill();
    srv.restart();
    assert_eq!(subjects(&srv, "ana@example.org"), ["before the crash"]);
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    let reply = send_message(&mut c, "x@remote.test", &["ana@example.org"], b"Subject: after the restart\r\n\r\n.\r\n");
    expect(&reply, "250 2.0.0");
    assert_eq!(subjects(&srv, "ana@example.org"), ["before the crash", "after the restart"]);
}

/// Finding 1a (RFC 5321 §6.1: no 250 for a copy we cannot keep): a full mailbox (A10) is
/// refused at RCPT for the size announced with SIZE, while the other recipients get the
/// message; without SIZE the real size is checked at DATA and a mailbox without room defers
/// the whole message, so nothing is stored and the sender retries.
#[test]
fn a_full_mailbox_is_deferred_and_never_silently_skipped() {
    let srv = TestServer::start();
    let args = ["user", "add", "carol@example.org", "--password-stdin", "--quota-mb", "1"];
    let output = srv.admin_with_stdin(&args, PASSWORD.as_bytes());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // Fill carol's 1 MB quota but for 5,000 bytes.
    let mut filler = b"Subject: filler\r\n\r\n".to_vec();
    filler.resize(1024 * 1024 - 5_000, b'f');
    srv.deliver("carol@example.org", &filler);
    let mut c = connect(&srv);
    cmd(&mut c, "EHLO mx.remote.test");
    expect(&cmd(&mut c, "MAIL FROM:<x@remote.test> SIZE=20000"), "250 2.1.0");
    assert_eq!(cmd(&mut c, "RCPT TO:<carol@example.org>"), "452 4.2.2 Mailbox full");
    expect(&cmd(&mut c, "RCPT TO:<ana@example.org>"), "250 2.1.5");
    expect(&cmd(&mut c, "DATA"), "354");
    c.send(b"Subject: announced\r\n\r\n.\r\n");
    expect(&reply(&mut c), "250 2.0.0");
    assert_eq!(subjects(&srv, "ana@example.org"), ["announced"]);

    start_data(&mut c, "x@remote.test", &["bob@example.org", "carol@example.org"]);
    c.send(b"Subject: unannounced\r\n\r\n");
    c.send(&[b'x'; 20_000]);
    c.send(b"\r\n.\r\n");
    assert_eq!(reply(&mut c), "452 4.2.2 Mailbox full");
    assert!(subjects(&srv, "bob@example.org").is_empty(), "nothing stored for anyone");
    assert_eq!(subjects(&srv, "carol@example.org"), ["filler"]);
}

/// Issue 12, defect 3: 16 sessions from one address that sent DATA and then nothing made
/// every other sender get 452. DATA phases are now shared per client: the others' mail goes
/// through, and the stalling client's next DATA waits for one of its own phases to end.
#[test]
fn issue_12_silent_data_phases_from_one_address_do_not_stop_other_senders() {
    let srv = TestServer::start();
    let mut stalled = Vec::new();
    for n in 0..16 {
        let mut c = LineConn::connect_from(srv.smtp, "127.0.0.2");
        assert!(c.read_line().starts_with("220 "));
        cmd(&mut c, "EHLO mx.stalling.test");
        start_data(&mut c, &format!("sender{n}@stalling.test"), &["ana@example.org"]);
        c.send(format!("Subject: message {n}\r\n\r\n").as_bytes());
        stalled.push(c);
    }
    let mut honest = connect(&srv);
    cmd(&mut honest, "EHLO mx.honest.test");
    let sent =
        send_message(&mut honest, "someone@honest.test", &["bob@example.org"], b"Subject: honest\r\n\r\nhi\r\n.\r\n");
    expect(&sent, "250 2.0.0");

    let mut late = LineConn::connect_from(srv.smtp, "127.0.0.2");
    assert!(late.read_line().starts_with("220 "));
    cmd(&mut late, "EHLO mx.stalling.test");
    expect(&cmd(&mut late, "MAIL FROM:<late@stalling.test>"), "250 2.1.0");
    expect(&cmd(&mut late, "RCPT TO:<bob@example.org>"), "250 2.1.5");
    late.send_line("DATA");
    let mut first = stalled.remove(0);
    first.send(b"body\r\n.\r\n");
    expect(&reply(&mut first), "250 2.0.0");
    expect(&reply(&mut late), "354");
    late.send(b"Subject: late\r\n\r\n.\r\n");
    expect(&reply(&mut late), "250 2.0.0");
    for mut c in stalled {
        c.send(b"body\r\n.\r\n");
        expect(&reply(&mut c), "250 2.0.0");
    }
    assert_eq!(subjects(&srv, "ana@example.org").len(), 16);
    assert_eq!(subjects(&srv, "bob@example.org").len(), 2);
}
