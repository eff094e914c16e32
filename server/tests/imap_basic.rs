//! IMAP conversations with the real server (K1, first slice): login, LIST, SELECT, FETCH,
//! STORE, EXPUNGE, NOOP updates, size limits, STARTTLS/IMAPS, and a Python imaplib session.
//! Messages are seeded with `facteur admin deliver`, which stores the bytes exactly as given.
//!
//! The server refuses passwords in clear on its STARTTLS port (RFC 9051 §6.2.3), so the test
//! client upgrades with STARTTLS (rustls, trusting the server's generated certificate) before
//! logging in.

mod common;

use base64::Engine as _;
use common::imap::*;
use common::*;

/// A plain message with a folded Subject.
const PLAIN: &[u8] = b"From: Ana Lima <ana@example.org>\r\nTo: bob@example.org\r\nSubject: Hello\r\n there\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nMessage-ID: <1@example.org>\r\n\r\nLine one\r\nLine two\r\n";

/// Multipart with a closing boundary that never comes, an empty charset and bad base64.
const BROKEN: &[u8] = b"From: <<<@@@\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: multipart/alternative\r\n\r\nno boundary here\r\n--x\r\nContent-Type: text/plain; charset=\"\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!! not base64\r\n";

fn message(n: usize) -> Vec<u8> {
    format!("From: bob@example.org\r\nTo: ana@example.org\r\nSubject: Message {n}\r\n\r\nBody of message {n}.\r\n")
        .into_bytes()
}

/// Review finding: passwords were accepted in clear on the STARTTLS port. RFC 9051 §6.2.3
/// (RFC 3501 §6.2.3): LOGINDISABLED is advertised and LOGIN fails with PRIVACYREQUIRED until
/// STARTTLS; RFC 8314 §3 wants mail access over TLS.
#[test]
fn passwords_in_clear_are_refused_until_starttls() {
    let srv = TestServer::start();
    let mut imap = Imap::connect(&srv);
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains(" STARTTLS") && caps[0].contains(" LOGINDISABLED"), "{caps:?}");
    assert!(!caps[0].contains("AUTH=PLAIN"), "no password mechanism in clear: {caps:?}");
    let (status, _) = imap.cmd(&format!("LOGIN ana@example.org \"{PASSWORD}\""));
    assert!(status.starts_with("t2 NO [PRIVACYREQUIRED]"), "{status}");
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("\0ana@example.org\0{PASSWORD}"));
    let (status, _) = imap.cmd(&format!("AUTHENTICATE PLAIN {credentials}"));
    assert!(status.starts_with("t3 NO [PRIVACYREQUIRED]"), "{status}");
    // Without an initial response, no challenge is sent: the client sends no password at all.
    imap.conn.send_line("a1 AUTHENTICATE PLAIN");
    assert!(imap.conn.read_line().starts_with("a1 NO [PRIVACYREQUIRED]"));
    let (status, _) = imap.cmd("SELECT INBOX");
    assert!(status.starts_with("t4 BAD"), "not logged in: {status}");

    let mut imap = imap.start_tls(&srv);
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains("AUTH=PLAIN"), "{caps:?}");
    assert!(!caps[0].contains("STARTTLS") && !caps[0].contains("LOGINDISABLED"), "{caps:?}");
    let (status, _) = imap.cmd(&format!("LOGIN ana@example.org \"{PASSWORD}\""));
    assert!(status.starts_with("t7 OK"), "{status}");
}

#[test]
fn login_ok_wrong_password_and_authenticate_plain() {
    let srv = TestServer::start();
    let mut imap = Imap::connect_tls(&srv);
    let caps = imap.ok("CAPABILITY");
    assert!(
        caps[0].contains("IMAP4rev1") && caps[0].contains("AUTH=PLAIN") && caps[0].contains("LITERAL+"),
        "{caps:?}"
    );
    let (status, _) = imap.cmd("LOGIN ana@example.org \"wrong password\"");
    assert!(status.starts_with("t3 NO [AUTHENTICATIONFAILED]"), "{status}");
    let (status, _) = imap.cmd("SELECT INBOX");
    assert!(status.starts_with("t4 BAD"), "SELECT before login: {status}");
    let (status, _) = imap.cmd(&format!("LOGIN ana@example.org \"{PASSWORD}\""));
    assert!(status.starts_with("t5 OK"), "{status}");
    let (status, _) = imap.cmd(&format!("LOGIN ana@example.org \"{PASSWORD}\""));
    assert!(status.starts_with("t6 BAD"), "second login: {status}");

    // AUTHENTICATE PLAIN with a continuation, then with an initial response (SASL-IR).
    let credentials = base64::engine::general_purpose::STANDARD.encode(format!("\0bob@example.org\0{PASSWORD}"));
    let mut imap = Imap::connect_tls(&srv);
    imap.conn.send_line("a1 AUTHENTICATE PLAIN");
    assert_eq!(imap.conn.read_line(), "+ ");
    imap.conn.send_line(&credentials);
    let (status, _) = imap.read_until_tagged("a1");
    assert!(status.starts_with("a1 OK"), "{status}");
    let mut imap = Imap::connect_tls(&srv);
    let (status, _) = imap.cmd(&format!("AUTHENTICATE PLAIN {credentials}"));
    assert!(status.starts_with("t2 OK"), "{status}");
    let mut imap = Imap::connect_tls(&srv);
    imap.conn.send_line("a1 AUTHENTICATE PLAIN");
    assert_eq!(imap.conn.read_line(), "+ ");
    imap.conn.send_line("*");
    let (status, _) = imap.read_until_tagged("a1");
    assert!(status.starts_with("a1 BAD"), "cancelled: {status}");

    // AUTHENTICATE LOGIN (Outlook): "Username:", then "Password:", each in base64.
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let mut imap = Imap::connect_tls(&srv);
    imap.conn.send_line("l1 AUTHENTICATE LOGIN");
    assert_eq!(imap.conn.read_line(), "+ VXNlcm5hbWU6");
    imap.conn.send_line(&b64("bob@example.org"));
    assert_eq!(imap.conn.read_line(), "+ UGFzc3dvcmQ6");
    imap.conn.send_line(&b64(PASSWORD));
    let (status, _) = imap.read_until_tagged("l1");
    assert!(status.starts_with("l1 OK"), "{status}");
    // With the name as initial response (SASL-IR), and a wrong password.
    let mut imap = Imap::connect_tls(&srv);
    imap.conn.send_line(&format!("l2 AUTHENTICATE LOGIN {}", b64("bob@example.org")));
    assert_eq!(imap.conn.read_line(), "+ UGFzc3dvcmQ6");
    imap.conn.send_line(&b64("wrong"));
    let (status, _) = imap.read_until_tagged("l2");
    assert!(status.starts_with("l2 NO [AUTHENTICATIONFAILED]"), "{status}");
}

#[test]
fn list_shows_special_use_and_status_counts() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    let mut imap = Imap::login(&srv, "ana@example.org");
    let root = imap.ok("LIST \"\" \"\"");
    assert_eq!(root, vec!["* LIST (\\Noselect) \"/\" \"\"".to_string()]);
    let all = imap.ok("LIST \"\" *");
    for wanted in [
        "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
        "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\"",
        "* LIST (\\HasNoChildren \\Drafts) \"/\" \"Drafts\"",
        "* LIST (\\HasNoChildren \\Trash) \"/\" \"Trash\"",
        "* LIST (\\HasNoChildren \\Junk) \"/\" \"Spam\"",
    ] {
        assert!(has_line(&all, wanted), "{wanted} not in {all:?}");
    }
    assert_eq!(imap.ok("LIST \"\" inbox").len(), 1);
    let s_folders = imap.ok("LIST \"\" S%");
    assert_eq!(s_folders.len(), 2, "Sent and Spam: {s_folders:?}");
    let status = imap.ok("STATUS INBOX (MESSAGES UNSEEN UIDNEXT)");
    assert_eq!(status, vec!["* STATUS \"INBOX\" (MESSAGES 1 UNSEEN 1 UIDNEXT 2)".to_string()]);
    // RFC 8438: the bytes of the folder, as RFC822.SIZE counts them.
    let size = message(1).len();
    assert_eq!(imap.ok("STATUS INBOX (SIZE MESSAGES)"), vec![format!("* STATUS \"INBOX\" (SIZE {size} MESSAGES 1)")]);
    assert!(imap.ok("CAPABILITY")[0].split(' ').any(|c| c == "STATUS=SIZE"));
    let (status, _) = imap.cmd("STATUS Nowhere (MESSAGES)");
    assert!(status.contains("NO [NONEXISTENT]"), "{status}");
}

#[test]
fn select_and_fetch_bodies_byte_for_byte() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", PLAIN);
    srv.deliver("ana@example.org", &message(2));
    let mut imap = Imap::login(&srv, "ana@example.org");
    let select = imap.ok("SELECT INBOX");
    assert!(has_line(&select, "* 2 EXISTS"), "{select:?}");
    assert!(select.iter().any(|l| l.starts_with("* OK [UIDVALIDITY ")), "{select:?}");
    assert!(select.iter().any(|l| l.starts_with("* OK [UIDNEXT 3]")), "{select:?}");

    let fetched = imap.ok("FETCH 1 (BODY.PEEK[])");
    assert_eq!(first_literal(fetched[0].as_bytes()), PLAIN);
    // \Recent: this is the first session to see the message (RFC 3501 §2.3.2).
    assert_eq!(imap.ok("FETCH 1 FLAGS"), vec!["* 1 FETCH (FLAGS (\\Recent))".to_string()], "PEEK must not set \\Seen");

    let (_, raw) = imap.cmd("UID FETCH 1 (BODY[])");
    assert_eq!(first_literal(&raw[0]), PLAIN);
    let text = String::from_utf8_lossy(&raw[0]);
    assert!(text.starts_with("* 1 FETCH (FLAGS (\\Seen \\Recent) UID 1 BODY[] {"), "{text}");
    assert_eq!(imap.ok("FETCH 1 FLAGS"), vec!["* 1 FETCH (FLAGS (\\Seen \\Recent))".to_string()]);

    let header = imap.ok("FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject)])");
    assert_eq!(header[0], "* 2 FETCH (BODY[HEADER.FIELDS (Subject)] {22}\r\nSubject: Message 2\r\n\r\n)");
    let partial = imap.ok("FETCH 1 (BODY.PEEK[TEXT]<5.3> RFC822.SIZE)");
    assert_eq!(partial[0], format!("* 1 FETCH (BODY[TEXT]<5> {{3}}\r\none RFC822.SIZE {})", PLAIN.len()));
    let envelope = imap.ok("FETCH 1 (ENVELOPE)");
    assert!(envelope[0].contains("\"Hello there\" ((\"Ana Lima\" NIL \"ana\" \"example.org\"))"), "{envelope:?}");
    let structure = imap.ok("FETCH 1:* (BODYSTRUCTURE)");
    assert_eq!(structure.len(), 2);
    assert!(
        structure[0].contains("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 2"),
        "{structure:?}"
    );

    // EXAMINE never changes flags, not even with BODY[].
    let examine = imap.ok("EXAMINE INBOX");
    assert!(examine.iter().any(|l| l.starts_with("* OK [PERMANENTFLAGS ()]")), "{examine:?}");
    let (status, _) = imap.cmd("FETCH 2 (BODY[])");
    assert!(status.contains("OK"), "{status}");
    imap.ok("SELECT INBOX");
    assert_eq!(imap.ok("FETCH 2 FLAGS"), vec!["* 2 FETCH (FLAGS ())".to_string()]);
    let (status, _) = imap.cmd("FETCH 3 FLAGS");
    assert!(status.contains("BAD"), "sequence number past the end: {status}");
}

#[test]
fn store_and_expunge() {
    let srv = TestServer::start();
    for n in 1..=3 {
        srv.deliver("ana@example.org", &message(n));
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    assert_eq!(
        imap.ok("STORE 1,3 +FLAGS (\\Deleted $Work)"),
        vec![
            // A new keyword is named in FLAGS before a FETCH shows it (RFC 9051 §7.3.5).
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work)".to_string(),
            "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Work \\*)] Flags that can be kept"
                .to_string(),
            "* 1 FETCH (FLAGS (\\Deleted \\Recent $Work))".to_string(),
            "* 3 FETCH (FLAGS (\\Deleted \\Recent $Work))".to_string(),
        ]
    );
    assert_eq!(imap.ok("UID STORE 2 +FLAGS.SILENT (\\Flagged)"), Vec::<String>::new());
    assert_eq!(imap.ok("STORE 3 -FLAGS ($Work)"), vec!["* 3 FETCH (FLAGS (\\Deleted \\Recent))".to_string()]);
    assert_eq!(imap.ok("EXPUNGE"), vec!["* 3 EXPUNGE".to_string(), "* 1 EXPUNGE".to_string()]);
    assert_eq!(imap.ok("FETCH 1 (UID FLAGS)"), vec!["* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent))".to_string()]);
    imap.ok("STORE 1 FLAGS (\\Deleted)");
    imap.ok("CLOSE");
    let select = imap.ok("SELECT INBOX");
    assert!(has_line(&select, "* 0 EXISTS"), "CLOSE expunges silently: {select:?}");
    let examine = Imap::login(&srv, "ana@example.org").ok("EXAMINE INBOX");
    assert!(has_line(&examine, "* 0 EXISTS"), "{examine:?}");
}

#[test]
fn noop_reports_deliveries_flag_changes_and_expunges_made_elsewhere() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    srv.deliver("ana@example.org", &message(2));
    let mut watcher = Imap::login(&srv, "ana@example.org");
    watcher.ok("SELECT INBOX");
    assert_eq!(watcher.ok("NOOP"), Vec::<String>::new());

    srv.deliver("ana@example.org", &message(3));
    assert_eq!(watcher.ok("NOOP"), vec!["* 3 EXISTS".to_string(), "* 3 RECENT".to_string()]);

    let mut other = Imap::login(&srv, "ana@example.org");
    other.ok("SELECT INBOX");
    other.ok("STORE 2 +FLAGS.SILENT (\\Flagged)");
    other.ok("STORE 1 +FLAGS.SILENT (\\Deleted)");
    other.ok("EXPUNGE");
    // The watcher saw them first: \Recent there, not in `other`.
    assert_eq!(
        watcher.ok("NOOP"),
        vec!["* 1 EXPUNGE".to_string(), "* 1 FETCH (UID 2 FLAGS (\\Flagged \\Recent))".to_string(),]
    );
    assert_eq!(watcher.ok("FETCH 1:* UID"), vec!["* 1 FETCH (UID 2)".to_string(), "* 2 FETCH (UID 3)".to_string(),]);
}

/// Review finding: before login, literals could be as large as after (50 MB each, chained).
/// Now 8 KiB before login, synchronizing or not (LITERAL+, RFC 7888); refused commands leave
/// the connection usable.
#[test]
fn literal_caps_before_and_after_login() {
    let srv = TestServer::start();
    let mut imap = Imap::connect_tls(&srv);
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains(" LITERAL+") && !caps[0].contains("LITERAL-"), "{caps:?}");
    imap.conn.send_line("a1 LOGIN {9000}");
    let (status, _) = imap.read_until_tagged("a1");
    assert!(status.starts_with("a1 NO [TOOBIG]"), "{status}");
    // A non-synchronizing literal over 8 KiB before login is read, dropped and refused (BAD).
    let mut oversized = b"a2 LOGIN {9000+}\r\n".to_vec();
    oversized.extend(std::iter::repeat_n(b'x', 9000));
    oversized.extend_from_slice(b" pw\r\n");
    imap.conn.send(&oversized);
    let (status, _) = imap.read_until_tagged("a2");
    assert!(status.starts_with("a2 BAD [TOOBIG]"), "{status}");
    // A literal that fits: the login works.
    imap.conn.send_line(&format!("a3 LOGIN ana@example.org {{{}+}}", PASSWORD.len()));
    imap.conn.send_line(PASSWORD);
    let (status, _) = imap.read_until_tagged("a3");
    assert!(status.starts_with("a3 OK"), "{status}");
    // After login a 9000-byte synchronizing literal is welcome.
    imap.conn.send_line("a4 SELECT {9000}");
    assert_eq!(imap.conn.read_line(), "+ Ready for literal");
    imap.conn.send(&[b'y'; 9000]);
    imap.conn.send(b"\r\n");
    let (status, _) = imap.read_until_tagged("a4");
    assert!(status.starts_with("a4 NO [NONEXISTENT]"), "{status}");
    // And a 100 KB non-synchronizing one, without waiting for a go-ahead (LITERAL+).
    let mut append = b"a5 APPEND INBOX {100016+}\r\nSubject: big\r\n\r\n".to_vec();
    append.extend(std::iter::repeat_n(b'z', 100_000));
    append.extend_from_slice(b"\r\n");
    imap.conn.send(&append);
    let (status, _) = imap.read_until_tagged("a5");
    assert!(status.starts_with("a5 OK [APPENDUID "), "{status}");
    imap.ok("SELECT INBOX");
}

#[test]
fn long_lines_get_bad_and_the_connection_still_works() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    // 10,000 characters of nonsense: a syntax error.
    let junk = format!("a1 NOOP {}", "x".repeat(10_000 - 8));
    assert_eq!(junk.len(), 10_000);
    imap.conn.send_line(&junk);
    let (status, _) = imap.read_until_tagged("a1");
    assert!(status.starts_with("a1 BAD"), "{status}");
    // Past the 64 KiB line cap: refused without parsing.
    imap.conn.send_line(&format!("a2 SELECT \"{}\"", "y".repeat(100_000)));
    let (status, _) = imap.read_until_tagged("a2");
    assert!(status.starts_with("a2 BAD") && status.contains("too long"), "{status}");
    // An announced literal over 50 MB is refused; the client sends nothing more for it.
    imap.conn.send_line("a3 LOGIN {60000000}");
    let (status, _) = imap.read_until_tagged("a3");
    assert!(status.starts_with("a3 NO [TOOBIG]"), "{status}");
    assert_eq!(imap.ok("NOOP"), Vec::<String>::new());
    let (status, _) = imap.cmd("FROBNICATE");
    assert!(status.contains("BAD"), "{status}");
    imap.ok("SELECT INBOX");
}

#[test]
fn broken_mime_fetches_without_error() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", BROKEN);
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    let fetched = imap.ok("FETCH 1 (ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[3.1])");
    assert_eq!(fetched.len(), 1);
    assert!(fetched[0].contains("\"broken\""), "{fetched:?}");
    let (_, raw) = imap.cmd("FETCH 1 BODY[]");
    assert_eq!(first_literal(&raw[0]), BROKEN);
}

const PY_TLS: &str = r#"
import imaplib, ssl, sys
cert, host, port, tls_port, password = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=cert)
plain = imaplib.IMAP4(host, port)
assert 'STARTTLS' in plain.capabilities, plain.capabilities
assert 'LOGINDISABLED' in plain.capabilities, plain.capabilities
try:
    plain.login('ana@example.org', password)
    raise SystemExit('LOGIN in clear was accepted')
except imaplib.IMAP4.error as error:
    assert 'PRIVACYREQUIRED' in str(error), error
plain.starttls(ssl_context=ctx)
assert 'STARTTLS' not in plain.capabilities, plain.capabilities
assert 'LOGINDISABLED' not in plain.capabilities, plain.capabilities
typ, _ = plain.login('ana@example.org', password)
assert typ == 'OK'
typ, data = plain.select('INBOX')
assert typ == 'OK' and data == [b'1'], data
plain.logout()
secure = imaplib.IMAP4_SSL(host, tls_port, ssl_context=ctx)
assert 'STARTTLS' not in secure.capabilities, secure.capabilities
secure.login('ana@example.org', password)
typ, data = secure.status('INBOX', '(MESSAGES)')
assert typ == 'OK' and b'MESSAGES 1' in data[0], data
secure.logout()
print('TLS OK')
"#;

#[test]
fn starttls_and_imaps_with_python_imaplib() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    let out = python(
        PY_TLS,
        &[
            srv.cert_path().display().to_string(),
            "127.0.0.1".into(),
            srv.imap.port().to_string(),
            srv.imaps.port().to_string(),
            PASSWORD.into(),
        ],
    );
    assert!(out.contains("TLS OK"), "{out}");
}

const PY_SESSION: &str = r#"
import imaplib, ssl, sys
port, password, path, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
delivered = open(path, 'rb').read()
m = imaplib.IMAP4('127.0.0.1', port)
m.starttls(ssl_context=ssl.create_default_context(cafile=cert))
m.login('ana@example.org', password)
typ, folders = m.list()
assert typ == 'OK', folders
assert any(b'\\Sent' in f and b'"Sent"' in f for f in folders), folders
typ, data = m.select('INBOX')
assert data == [b'2'], data
typ, data = m.fetch('1', '(RFC822)')
assert typ == 'OK'
assert data[0][1] == delivered, (data[0][1], delivered)
assert b'\\Seen' in m.fetch('1', '(FLAGS)')[1][0]
typ, data = m.uid('FETCH', '1:*', '(UID RFC822.SIZE)')
assert len([d for d in data if d]) == 2, data
typ, data = m.store('2', '+FLAGS', '(\\Deleted)')
assert typ == 'OK' and b'\\Deleted' in data[0], data
typ, data = m.expunge()
assert typ == 'OK' and data == [b'2'], data
typ, data = m.noop()
m.close()
typ, data = m.select('INBOX', readonly=True)
assert data == [b'1'], data
m.logout()
print('SESSION OK')
"#;

#[test]
fn python_imaplib_session() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", PLAIN);
    srv.deliver("ana@example.org", &message(2));
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plain.eml");
    std::fs::write(&path, PLAIN).expect("write the expected message");
    let out = python(
        PY_SESSION,
        &[
            srv.imap.port().to_string(),
            PASSWORD.into(),
            path.display().to_string(),
            srv.cert_path().display().to_string(),
        ],
    );
    assert!(out.contains("SESSION OK"), "{out}");
}

#[test]
fn a_client_sending_only_nonsense_is_disconnected() {
    let srv = TestServer::start();
    let mut imap = Imap::connect_tls(&srv);
    for n in 0..20 {
        imap.conn.send_line(&format!("x{n} GET / HTTP/1.1"));
        let (status, _) = imap.read_until_tagged(&format!("x{n}"));
        assert!(status.contains("BAD"), "{status}");
    }
    imap.conn.send_line("x20 NOOP");
    assert_eq!(imap.conn.read_line(), "* BYE Too many invalid commands");
    assert!(imap.conn.is_closed());
}

#[test]
fn a_failed_select_still_says_the_previous_folder_closed() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    let (status, lines) = imap.cmd("SELECT Nowhere");
    assert!(status.contains("NO [NONEXISTENT]"), "{status}");
    assert!(lines.iter().any(|l| l.starts_with(b"* OK [CLOSED]")), "{lines:?}");
    let (status, _) = imap.cmd("FETCH 1 FLAGS");
    assert!(status.contains("BAD"), "no folder is selected any more: {status}");
}

/// RFC 9051 §6.3.10 and §6.3.1: one personal namespace; ENABLE answers ENABLED (nothing it
/// names needs enabling yet) and both are for logged-in sessions only.
#[test]
fn namespace_and_enable_answer_once_logged_in() {
    let srv = TestServer::start();
    let mut anonymous = Imap::connect(&srv);
    for command in ["NAMESPACE", "ENABLE CONDSTORE"] {
        let (status, _) = anonymous.cmd(command);
        assert!(status.contains(" BAD "), "{command} before login -> {status}");
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].split(' ').any(|c| c == "NAMESPACE") && caps[0].split(' ').any(|c| c == "ENABLE"), "{caps:?}");
    assert_eq!(imap.ok("NAMESPACE"), vec!["* NAMESPACE ((\"\" \"/\")) NIL NIL".to_string()]);
    assert_eq!(imap.ok("ENABLE X-UNKNOWN CONDSTORE"), vec!["* ENABLED CONDSTORE".to_string()]);
    imap.ok("SELECT INBOX");
}

/// A logged-in client's BAD answers (a command in the wrong state here) are not counted
/// towards the BYE that ends sessions sending garbage before login.
#[test]
fn bad_commands_after_login_do_not_end_the_session() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    for _ in 0..30 {
        let (status, _) = imap.cmd("FETCH 1 FLAGS");
        assert!(status.contains("BAD") && status.contains("No folder selected"), "{status}");
    }
    imap.ok("SELECT INBOX");
}

/// Issue 12, defect 1: `FETCH 1 (BODY[] BODY[] ...)` with the item named 4,000 times made the
/// process build the whole response in memory (4 GB for a 1 MB message) and abort, taking SMTP
/// and HTTP down with it. A repeated item is answered once, responses are streamed, and too many
/// different items are refused.
#[test]
fn issue_12_a_fetch_repeating_an_item_is_answered_once_in_bounded_memory() {
    let srv = TestServer::start();
    let mut raw = b"From: bob@example.org\r\nTo: ana@example.org\r\nSubject: big\r\n\r\n".to_vec();
    while raw.len() < 1_000_000 {
        raw.extend_from_slice(
            b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmno\r\n",
        );
    }
    srv.deliver("ana@example.org", &raw);
    let before_kib = srv.peak_memory_kib();
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    let items = vec!["BODY.PEEK[]"; 4000].join(" ");
    let (status, responses) = imap.cmd(&format!("FETCH 1 ({items})"));
    assert!(status.contains(" OK "), "{status}");
    assert_eq!(responses.len(), 1, "one FETCH response");
    let response = &responses[0];
    let literal_header = format!("BODY[] {{{}}}", raw.len());
    let n_bodies = response.windows(literal_header.len()).filter(|w| *w == literal_header.as_bytes()).count();
    assert_eq!(n_bodies, 1, "BODY[] is answered once");
    assert_eq!(first_literal(response), raw);
    let grown_mib = srv.peak_memory_kib().saturating_sub(before_kib) / 1024;
    assert!(grown_mib < 100, "the FETCH made the server grow by {grown_mib} MiB");

    // Many different items are refused, and the session goes on.
    let partials: Vec<String> = (0..200).map(|n| format!("BODY.PEEK[]<{n}.10>")).collect();
    let (status, _) = imap.cmd(&format!("FETCH 1 ({})", partials.join(" ")));
    assert!(status.contains(" BAD ") && status.contains("at most"), "{status}");
    let fetched = imap.ok("FETCH 1 (BODY.PEEK[]<0.4> BODY.PEEK[]<4.4>)");
    assert!(fetched[0].contains("BODY[]<0> {4}\r\nFrom BODY[]<4> {4}\r\n: bo"), "{fetched:?}");
    // The other listeners are still there.
    let mut smtp = LineConn::connect(srv.smtp);
    assert!(smtp.read_line().starts_with("220 "));
}

/// Issue 11: each password check allocated argon2's 19 MiB anew on whichever blocking thread
/// ran it, and the allocator kept it: 400 logins from 8 clients grew the process from 16 MB to
/// 1.05 GB. Password checks now reuse a few buffers for the process's life.
#[test]
fn issue_11_memory_stays_bounded_over_many_logins() {
    let srv = TestServer::start();
    let before_kib = srv.peak_memory_kib();
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..50 {
                    let mut imap = Imap::login(&srv, "ana@example.org");
                    imap.ok("LOGOUT");
                }
            });
        }
    });
    let grown_mib = srv.peak_memory_kib().saturating_sub(before_kib) / 1024;
    assert!(grown_mib < 150, "400 logins made the server grow by {grown_mib} MiB");
}

/// Issue 11, "parse once": ENVELOPE, BODYSTRUCTURE and header fields come from the facts stored
/// at delivery, not from the message file: with the file gone they are still answered (only
/// BODY[] needs it).
#[test]
fn issue_11_envelope_structure_and_headers_are_answered_without_the_message_file() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", PLAIN);
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    let want = imap.ok("FETCH 1 (ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)");
    let blobs = srv.data_path().join("blobs");
    let mut removed = 0;
    for prefix in std::fs::read_dir(&blobs).expect("blob folder").flatten() {
        if prefix.file_name().len() == 2 {
            for file in std::fs::read_dir(prefix.path()).expect("prefix folder").flatten() {
                std::fs::remove_file(file.path()).expect("remove the message file");
                removed += 1;
            }
        }
    }
    assert_eq!(removed, 1);
    let got = imap.ok("FETCH 1 (ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)");
    assert_eq!(got, want);
    assert!(got[0].contains("ENVELOPE (\"Mon, 2 Mar 2026 10:00:00 +0100\" \"Hello there\""), "{got:?}");
    assert!(got[0].contains("BODY[HEADER.FIELDS (SUBJECT)] {26}\r\nSubject: Hello\r\n there\r\n\r\n"), "{got:?}");
    let (status, _) = imap.cmd("FETCH 1 BODY.PEEK[]");
    assert!(status.contains(" NO "), "the bytes themselves are gone: {status}");
}

/// Issue 11: while the folder does not change, FETCH answers ENVELOPE, BODYSTRUCTURE, header
/// sections and `.PEEK` body sections from the session's snapshot, the store's cache of facts
/// and the message files, without reading the rows. The answers must be those the rows give, and a change made by another session (which
/// moves the folder's version) must show at once.
#[test]
fn issue_11_fetch_from_the_cache_answers_as_the_rows_do() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", PLAIN);
    srv.deliver("ana@example.org", BROKEN);
    let items = "(UID FLAGS ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE RFC822.HEADER BODY.PEEK[HEADER] \
                 BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT)]<4.20> \
                 BODY.PEEK[TEXT]<2.9> BODY.PEEK[])";
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    let first = imap.ok(&format!("FETCH 1:* {items}")); // the cache is empty: filled from the rows
    assert_eq!(first.len(), 2);
    assert!(first[0].contains("ENVELOPE (\"Mon, 2 Mar 2026 10:00:00 +0100\" \"Hello there\""), "{first:?}");
    assert!(first[0].contains("BODY[HEADER.FIELDS.NOT (SUBJECT)]<4> {20}\r\n"), "{first:?}");
    assert!(first[0].contains("BODY[TEXT]<2> {9}\r\nne one\r\nL BODY[] {"), "{first:?}");
    assert_eq!(imap.ok(&format!("FETCH 1:* {items}")), first, "from the cache");
    assert_eq!(imap.ok(&format!("UID FETCH 2 {items}"))[0], first[1], "UID FETCH of one message");

    // Another session flags message 1: the folder's version moves, so the next FETCH reads the
    // rows again and shows the new flag.
    let mut other = Imap::login(&srv, "ana@example.org");
    other.ok("SELECT INBOX");
    other.ok("STORE 1 +FLAGS.SILENT (\\Flagged)");
    let after = imap.ok(&format!("FETCH 1:* {items}"));
    assert!(after[0].starts_with("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent) ENVELOPE"), "{after:?}");
    assert_eq!(after[0].replacen("FLAGS (\\Flagged \\Recent)", "FLAGS (\\Recent)", 1), first[0]);
    assert_eq!(after[1], first[1]);
    // The same answer once the session has caught up (NOOP) and the cache serves it again.
    imap.ok("NOOP");
    assert_eq!(imap.ok(&format!("FETCH 1:* {items}")), after);
}

/// Issue 12, defect 10 (F8): an app password made with `facteur admin app-password` logs in
/// over IMAP, shows as used, and stops working once removed.
#[test]
fn issue_12_app_passwords_log_in_and_can_be_removed() {
    let srv = TestServer::start();
    let made = srv.admin(&["app-password", "add", "ana@example.org", "Phone"]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let printed = String::from_utf8_lossy(&made.stdout).into_owned();
    let token = printed.lines().find_map(|l| l.strip_prefix("app password: ")).expect("token printed").to_string();
    let mut imap = Imap::connect_tls(&srv);
    let (status, _) = imap.cmd(&format!("LOGIN ana@example.org {token}"));
    assert!(status.contains(" OK "), "{status}");
    imap.ok("SELECT INBOX");
    let listed = String::from_utf8_lossy(&srv.admin(&["app-password", "list", "ana@example.org"]).stdout).into_owned();
    assert!(listed.starts_with("Phone\tcreated ") && !listed.contains("never"), "{listed}");
    assert!(srv.admin(&["app-password", "remove", "ana@example.org", "Phone"]).status.success());
    let mut imap = Imap::connect_tls(&srv);
    let (status, _) = imap.cmd(&format!("LOGIN ana@example.org {token}"));
    assert!(status.contains(" NO "), "{status}");
    let missing = srv.admin(&["app-password", "remove", "ana@example.org", "Phone"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("not found"));
}

/// Issue 12, defect 6: throttled LOGINs were answered at once and the connection never
/// dropped (514,348 attempts and 65 MB of log from one connection in 20 s). A failure is now
/// answered after a delay, the third ends the session, and each failure is one log line for
/// tools like fail2ban (with throttled ones summarised).
#[test]
fn issue_12_failed_logins_are_slow_end_the_session_and_are_logged_once_each() {
    let srv = TestServer::start();
    let mut imap = Imap::connect_tls(&srv);
    for n in 0..3 {
        let (status, untagged) = imap.cmd("LOGIN ana@example.org \"wrong password\"");
        assert!(status.contains(" NO [AUTHENTICATIONFAILED]"), "{status}");
        assert_eq!(untagged.is_empty(), n < 2, "BYE only with the third: {untagged:?}");
    }
    assert!(imap.conn.is_closed(), "the session ends after three failures");
    let log = srv.log();
    let failures: Vec<&str> = log.lines().filter(|line| line.contains("authentication failed")).collect();
    assert_eq!(failures.len(), 3, "{log}");
    for line in failures {
        assert!(line.contains("facteur::auth") && line.contains("protocol=\"imap\""), "{line}");
        assert!(line.contains("client=127.0.0.1") && line.contains("login=\"ana@example.org\""), "{line}");
    }
}

/// imaptest's stress run found it: a FETCH of FLAGS after another session set a new keyword
/// (the rows path, the folder having moved) showed it before any FLAGS named it. RFC 9051
/// §7.3.5: FLAGS comes first.
#[test]
fn a_keyword_set_elsewhere_is_named_in_flags_before_fetch_shows_it() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    let mut reader = Imap::login(&srv, "ana@example.org");
    let mut other = Imap::login(&srv, "ana@example.org");
    reader.ok("SELECT INBOX");
    other.ok("SELECT INBOX");
    other.ok("STORE 1 +FLAGS.SILENT ($Label9)");
    let fetched = reader.ok("FETCH 1 (FLAGS)");
    assert!(fetched[0].starts_with("* FLAGS (") && fetched[0].contains("$Label9"), "{fetched:?}");
    assert!(
        fetched.last().is_some_and(|l| l.starts_with("* 1 FETCH (FLAGS (") && l.contains("$Label9")),
        "{fetched:?}"
    );
    // Named once: the next FETCH needs no FLAGS.
    assert_eq!(reader.ok("FETCH 1 (FLAGS)").len(), 1);
}
