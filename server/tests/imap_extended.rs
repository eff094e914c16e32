//! IMAP conversations against the real server for \Recent (RFC 3501 §2.3.2) and for the
//! extensions whose syntax Facteur lifts off commands itself (`imap::extended`): ESEARCH
//! (RFC 4731), ESORT (RFC 5267), LIST-EXTENDED (RFC 5258) with SPECIAL-USE selection (RFC 6154),
//! LIST-STATUS (RFC 5819) and CREATE-SPECIAL-USE (RFC 6154 §3).

mod common;

use common::imap::*;
use common::*;

fn message(n: usize) -> Vec<u8> {
    format!("From: bob@example.org\r\nTo: ana@example.org\r\nSubject: Message {n}\r\n\r\nBody {n}.\r\n").into_bytes()
}

/// Runs `command` and returns its one untagged line, checking the ESEARCH tag correlator.
fn esearch(imap: &mut Imap, command: &str) -> String {
    let tag = format!("t{}", imap.next_tag);
    let lines = imap.ok(command);
    assert_eq!(lines.len(), 1, "{command}: {lines:?}");
    let prefix = format!("* ESEARCH (TAG \"{tag}\")");
    assert!(lines[0].starts_with(&prefix), "{command}: {lines:?}");
    lines[0][prefix.len()..].to_string()
}

#[test]
fn esearch_returns_min_max_count_and_all() {
    let srv = TestServer::start();
    for n in 1..=6 {
        srv.deliver("ana@example.org", &message(n));
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    assert!(imap.ok("CAPABILITY")[0].contains(" ESEARCH"));
    imap.ok("SELECT INBOX");
    imap.ok("STORE 2,4 +FLAGS (\\Seen)");
    imap.ok("EXPUNGE");
    imap.ok("STORE 6 +FLAGS (\\Deleted)");
    imap.ok("EXPUNGE");
    // UIDs 1..5 remain; 2 and 4 are seen.
    assert_eq!(esearch(&mut imap, "SEARCH RETURN (MIN MAX COUNT) UNSEEN"), " MIN 1 MAX 5 COUNT 3");
    assert_eq!(esearch(&mut imap, "UID SEARCH RETURN () ALL"), " UID ALL 1:5");
    assert_eq!(esearch(&mut imap, "UID SEARCH RETURN (ALL) CHARSET UTF-8 UNSEEN"), " UID ALL 1,3,5");
    assert_eq!(esearch(&mut imap, "SEARCH RETURN (COUNT) SEEN"), " COUNT 2");
    // Nothing matches: COUNT 0, and no MIN, MAX or ALL.
    assert_eq!(esearch(&mut imap, "SEARCH RETURN (MIN MAX ALL COUNT) DELETED"), " COUNT 0");
    // A plain SEARCH still answers the old way.
    assert_eq!(imap.ok("SEARCH UNSEEN"), vec!["* SEARCH 1 3 5".to_string()]);
    let (status, _) = imap.cmd("SEARCH RETURN (EVERYTHING) ALL");
    assert!(status.contains(" BAD "), "{status}");
}

/// ESORT (RFC 5267): SORT RETURN answers with ESEARCH, MIN and MAX the ends of the sort order
/// and ALL in that order.
#[test]
fn esort_returns_in_sort_order() {
    let srv = TestServer::start();
    for (n, size) in [(1, 300), (2, 100), (3, 200)] {
        let mut raw = message(n);
        raw.extend(std::iter::repeat_n(b'x', size));
        raw.extend_from_slice(b"\r\n");
        srv.deliver("ana@example.org", &raw);
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    assert!(imap.ok("CAPABILITY")[0].contains(" ESORT"));
    imap.ok("SELECT INBOX");
    assert_eq!(esearch(&mut imap, "SORT RETURN (MIN MAX) (SIZE) UTF-8 ALL"), " MIN 2 MAX 1");
    assert_eq!(esearch(&mut imap, "UID SORT RETURN (ALL COUNT) (REVERSE SIZE) UTF-8 ALL"), " UID COUNT 3 ALL 1,3,2");
    assert_eq!(esearch(&mut imap, "SORT RETURN () (ARRIVAL) UTF-8 ALL"), " ALL 1:3");
    assert_eq!(imap.ok("SORT (SIZE) UTF-8 ALL"), vec!["* SORT 2 3 1".to_string()]);
}

/// CREATE-SPECIAL-USE (RFC 6154 §3): each system use belongs to the account's one system
/// folder, so asking for it (or for a use Facteur does not keep) is NO [USEATTR], and the
/// folder is not created; an empty USE list is a plain CREATE.
#[test]
fn create_special_use_is_refused_without_creating() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    assert!(imap.ok("CAPABILITY")[0].contains(" CREATE-SPECIAL-USE"));
    let (status, _) = imap.cmd("CREATE \"Mes envois\" (USE (\\Sent))");
    assert!(status.contains(" NO [USEATTR] \\Sent is the system folder Sent"), "{status}");
    let (status, _) = imap.cmd("CREATE Old (USE (\\Archive))");
    assert!(status.contains(" NO [USEATTR]"), "{status}");
    assert!(!imap.ok("LIST \"\" *").iter().any(|l| l.contains("Mes envois") || l.contains("Old")));
    imap.ok("CREATE Plain (USE ())");
    assert_eq!(imap.ok("LIST \"\" Plain"), vec!["* LIST (\\HasNoChildren) \"/\" \"Plain\"".to_string()]);
}

#[test]
fn extended_list_selects_returns_and_reports_status() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    srv.deliver("ana@example.org", &message(2));
    let mut imap = Imap::login(&srv, "ana@example.org");
    let capabilities = imap.ok("CAPABILITY");
    assert!(capabilities[0].contains(" LIST-EXTENDED") && capabilities[0].contains(" LIST-STATUS"));
    // CREATE does not subscribe (RFC 9051 §6.3.4), the parents it makes neither.
    imap.ok("CREATE Projects/Alpha");
    assert!(!imap.ok("LSUB \"\" *").iter().any(|line| line.contains("Projects")));
    imap.ok("SUBSCRIBE Projects/Alpha");
    // RFC 5258 §3.5: the unsubscribed parent of a subscribed folder, with CHILDINFO.
    let list = imap.ok("LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"P%\"");
    assert_eq!(list, vec!["* LIST (\\HasChildren) \"/\" \"Projects\" (\"CHILDINFO\" (\"SUBSCRIBED\"))".to_string()]);
    let list = imap.ok("LIST (SUBSCRIBED) \"\" \"P*\"");
    assert_eq!(list, vec!["* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Projects/Alpha\"".to_string()]);
    // RFC 6154 §5.1: only the folders with a special use.
    let list = imap.ok("LIST (SPECIAL-USE) \"\" \"*\"");
    assert!(
        !list.is_empty()
            && list.iter().all(|l| l.contains("\\Sent")
                || l.contains("\\Drafts")
                || l.contains("\\Trash")
                || l.contains("\\Junk")
                || l.contains("\\Archive")),
        "{list:?}"
    );
    assert!(!list.iter().any(|l| l.contains("INBOX") || l.contains("Projects")), "{list:?}");
    // Several patterns, RETURN (SUBSCRIBED STATUS): a STATUS line after each folder (RFC 5819).
    let list = imap.ok("LIST \"\" (\"INBOX\" \"Projects/*\") RETURN (SUBSCRIBED STATUS (MESSAGES UNSEEN))");
    assert_eq!(
        list,
        vec![
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"INBOX\"".to_string(),
            "* STATUS \"INBOX\" (MESSAGES 2 UNSEEN 2)".to_string(),
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Projects/Alpha\"".to_string(),
            "* STATUS \"Projects/Alpha\" (MESSAGES 0 UNSEEN 0)".to_string(),
        ]
    );
    // RECURSIVEMATCH alone is a syntax error; an unknown option too.
    for refused in ["LIST (RECURSIVEMATCH) \"\" *", "LIST (EVERYTHING) \"\" *", "LIST \"\" * RETURN (STATUS ())"] {
        let (status, _) = imap.cmd(refused);
        assert!(status.contains(" BAD "), "{refused}: {status}");
    }
    // A subscribed folder deleted: its name stays subscribed, \NonExistent, until UNSUBSCRIBE.
    imap.ok("CREATE Gone");
    imap.ok("SUBSCRIBE Gone");
    imap.ok("DELETE Gone");
    assert_eq!(imap.ok("LIST (SUBSCRIBED) \"\" Gone"), ["* LIST (\\NonExistent \\Subscribed) \"/\" \"Gone\""]);
    assert_eq!(imap.ok("LSUB \"\" Gone"), ["* LSUB (\\Noselect) \"/\" \"Gone\""]);
    assert!(imap.ok("LIST \"\" Gone").is_empty());
    imap.ok("UNSUBSCRIBE Gone");
    assert!(imap.ok("LIST (SUBSCRIBED) \"\" Gone").is_empty());
    // The base LIST is unchanged: no \Subscribed unless asked.
    let list = imap.ok("LIST \"\" INBOX");
    assert_eq!(list, vec!["* LIST (\\HasNoChildren) \"/\" \"INBOX\"".to_string()]);
}

/// \Recent (RFC 3501 §2.3.2): recent in the first session told about a message, in no other;
/// EXAMINE and STATUS look without claiming; the claim survives a restart.
#[test]
fn recent_belongs_to_the_first_session_that_sees_a_message() {
    let mut srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    srv.deliver("ana@example.org", &message(2));
    let mut first = Imap::login(&srv, "ana@example.org");
    let mut second = Imap::login(&srv, "ana@example.org");
    assert!(has_line(&first.ok("EXAMINE INBOX"), "* 2 RECENT"));
    assert_eq!(second.ok("STATUS INBOX (RECENT)"), vec!["* STATUS \"INBOX\" (RECENT 2)".to_string()]);
    assert!(has_line(&first.ok("SELECT INBOX"), "* 2 RECENT"));
    assert_eq!(second.ok("STATUS INBOX (RECENT)"), vec!["* STATUS \"INBOX\" (RECENT 0)".to_string()]);
    assert_eq!(first.ok("SEARCH RECENT"), vec!["* SEARCH 1 2".to_string()]);
    first.ok("STORE 1 +FLAGS.SILENT (\\Seen)");
    assert_eq!(first.ok("SEARCH NEW"), vec!["* SEARCH 2".to_string()]);
    assert_eq!(first.ok("SEARCH OLD"), vec!["* SEARCH".to_string()]);
    assert_eq!(first.ok("FETCH 2 FLAGS"), vec!["* 2 FETCH (FLAGS (\\Recent))".to_string()]);

    assert!(has_line(&second.ok("SELECT INBOX"), "* 0 RECENT"));
    assert_eq!(second.ok("SEARCH OLD"), vec!["* SEARCH 1 2".to_string()]);
    assert_eq!(second.ok("FETCH 2 FLAGS"), vec!["* 2 FETCH (FLAGS ())".to_string()]);

    // New mail is recent for the session that is told first.
    srv.deliver("ana@example.org", &message(3));
    assert_eq!(first.ok("NOOP"), vec!["* 3 EXISTS".to_string(), "* 3 RECENT".to_string()]);
    assert_eq!(second.ok("NOOP"), vec!["* 3 EXISTS".to_string(), "* 0 RECENT".to_string()]);

    srv.restart();
    let mut third = Imap::login(&srv, "ana@example.org");
    assert!(has_line(&third.ok("SELECT INBOX"), "* 0 RECENT"));
}

/// COMPRESS=DEFLATE (RFC 4978) with Python's zlib as the client's side: raw deflate both ways
/// after the OK, a sync flush per command; a message fetched whole through it.
const PY_COMPRESS: &str = r#"
import socket, ssl, sys, zlib
port, password, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3]
context = ssl.create_default_context(cafile=cert)
sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
plain = sock.makefile("rb")
plain.readline()
def plain_command(tag, text):
    sock.sendall(f"{tag} {text}\r\n".encode())
    while True:
        line = plain.readline()
        if line.startswith(tag.encode() + b" "):
            return line
assert b"COMPRESS=DEFLATE" not in plain_command("c0", "CAPABILITY")  # not before login
assert plain_command("l", f'LOGIN ana@example.org "{password}"').startswith(b"l OK")
assert plain_command("c", "COMPRESS DEFLATE").startswith(b"c OK")
out, inflate, pending = zlib.compressobj(wbits=-15), zlib.decompressobj(wbits=-15), b""
def command(tag, text):
    global pending
    sock.sendall(out.compress(f"{tag} {text}\r\n".encode()) + out.flush(zlib.Z_SYNC_FLUSH))
    while not any(line.startswith(tag.encode() + b" ") for line in pending.split(b"\r\n")):
        pending += inflate.decompress(sock.recv(65536))
    answer, pending = pending, b""
    return answer
assert b"s OK" in command("s", "SELECT INBOX")
fetched = command("f", "FETCH 1 BODY.PEEK[]")
assert b"Body 1." in fetched and fetched.count(b"f OK") == 1, fetched
assert b"NO [COMPRESSIONACTIVE]" in command("again", "COMPRESS DEFLATE")
assert b"COMPRESS=DEFLATE" not in command("c2", "CAPABILITY")
print("COMPRESSED", len(fetched))
"#;

#[test]
fn compress_deflate_carries_a_session() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    let out =
        python(PY_COMPRESS, &[srv.imaps.port().to_string(), PASSWORD.into(), srv.cert_path().display().to_string()]);
    assert!(out.starts_with("COMPRESSED"), "{out}");
}

/// BINARY (RFC 3516): parts with their transfer encoding undone, literal8 when they hold a
/// NUL, BINARY.SIZE, .PEEK leaving \Seen alone, and NO [UNKNOWN-CTE] with NIL for an encoding
/// nobody knows.
#[test]
fn binary_fetches_decoded_parts() {
    let srv = TestServer::start();
    let raw = "From: bob@example.org\r\nTo: ana@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n\
               Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
               --b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
               Caf=C3=A9 cr=C3=A8me\r\n\
               --b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\
               AAECA2ZhY2V1cg==\r\n\
               --b\r\nContent-Type: application/x-odd\r\nContent-Transfer-Encoding: x-martian\r\n\r\n\
               ????\r\n--b--\r\n";
    srv.deliver("ana@example.org", raw.as_bytes());
    let mut imap = Imap::login(&srv, "ana@example.org");
    assert!(imap.ok("CAPABILITY")[0].contains(" BINARY"));
    imap.ok("SELECT INBOX");
    let text = imap.ok("FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[2])");
    assert_eq!(text, vec!["* 1 FETCH (BINARY[1] {12}\r\nCafé crème BINARY.SIZE[2] 10)".to_string()]);
    let (status, untagged) = imap.cmd("FETCH 1 BINARY.PEEK[2]");
    assert!(status.contains(" OK "), "{status}");
    assert_eq!(untagged[0], b"* 1 FETCH (BINARY[2] ~{10}\r\n\x00\x01\x02\x03faceur)".to_vec());
    let (status, untagged) = imap.cmd("FETCH 1 BINARY.PEEK[2]<4.3>");
    assert!(status.contains(" OK "), "{status}");
    assert_eq!(untagged[0], b"* 1 FETCH (BINARY[2]<4> {3}\r\nfac)".to_vec());
    assert_eq!(imap.ok("FETCH 1 FLAGS"), vec!["* 1 FETCH (FLAGS (\\Recent))".to_string()], ".PEEK");
    let (status, untagged) = imap.cmd("FETCH 1 BINARY[3]");
    assert!(status.contains(" NO [UNKNOWN-CTE]"), "{status}");
    let answer = String::from_utf8_lossy(&untagged[0]).into_owned();
    assert!(answer.contains("BINARY[3] NIL"), "{answer}");
    // Without .PEEK it is reading: \Seen.
    assert!(answer.contains("\\Seen"), "{answer}");
    // RFC 3516 §4.4: a binary part APPENDed as literal8 is stored base64-encoded, so BODY[]
    // is a valid message for every reader, and BINARY[] gives the octets back.
    let raw = b"Subject: nul\r\nContent-Transfer-Encoding: binary\r\n\r\n\x00\x01ok\r\n";
    assert!(append_literal8(&mut imap, "b", raw).contains(" OK "));
    let (_, untagged) = imap.cmd("UID FETCH 2 BODY.PEEK[]");
    assert_eq!(
        untagged[0],
        b"* 2 FETCH (UID 2 BODY[] {61}\r\nSubject: nul\r\nContent-Transfer-Encoding: base64\r\n\r\nAAFvaw0K\r\n)"
            .to_vec()
    );
    let (_, untagged) = imap.cmd("UID FETCH 2 (BINARY.SIZE[1] BINARY.PEEK[1])");
    assert_eq!(untagged[0], b"* 2 FETCH (UID 2 BINARY.SIZE[1] 6 BINARY[1] ~{6}\r\n\x00\x01ok\r\n)".to_vec());
    // A NUL no part encoding can carry (here in a header) is refused, and nothing is stored.
    let status = append_literal8(&mut imap, "c", b"Subject: a\x00b\r\n\r\nbody\r\n");
    assert!(status.contains(" NO [UNKNOWN-CTE]"), "{status}");
    assert_eq!(imap.ok("UID SEARCH ALL"), vec!["* SEARCH 1 2".to_string()]);
}

/// APPENDs `raw` to INBOX as a literal8 (RFC 3516 §4.4) under `tag`: the tagged status.
fn append_literal8(imap: &mut Imap, tag: &str, raw: &[u8]) -> String {
    imap.conn.send_line(&format!("{tag} APPEND INBOX ~{{{}}}", raw.len()));
    assert!(imap.conn.read_line().starts_with('+'));
    imap.conn.send(raw);
    imap.conn.send(b"\r\n");
    imap.read_until_tagged(tag).0
}

/// UTF8=ACCEPT (RFC 6855) and IMAP4rev2 (RFC 9051): once enabled, folder names travel in
/// UTF-8 (another session still sees modified UTF-7); IMAP4rev2 answers SEARCH with ESEARCH,
/// names the folder in SELECT and has no \Recent.
#[test]
fn utf8_names_and_imap4rev2_once_enabled() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", &message(1));
    let mut modern = Imap::login(&srv, "ana@example.org");
    let mut classic = Imap::login(&srv, "ana@example.org");
    let capabilities = modern.ok("CAPABILITY");
    assert!(capabilities[0].contains("IMAP4rev1 IMAP4rev2") && capabilities[0].contains(" UTF8=ACCEPT"));
    assert_eq!(modern.ok("ENABLE UTF8=ACCEPT"), ["* ENABLED UTF8=ACCEPT"]);
    modern.ok("CREATE \"Café/Été\"");
    assert!(has_line(&modern.ok("LIST \"\" \"Caf*\""), "* LIST (\\HasNoChildren) \"/\" \"Café/Été\""));
    assert!(has_line(&classic.ok("LIST \"\" \"Caf*\""), "* LIST (\\HasNoChildren) \"/\" \"Caf&AOk-/&AMk-t&AOk-\""));
    assert_eq!(modern.ok("STATUS \"Café/Été\" (MESSAGES)"), ["* STATUS \"Café/Été\" (MESSAGES 0)"]);

    assert_eq!(modern.ok("ENABLE IMAP4rev2"), ["* ENABLED IMAP4rev2"]);
    let select = modern.ok("SELECT INBOX");
    assert!(has_line(&select, "* LIST () \"/\" \"INBOX\""), "{select:?}");
    assert!(!select.iter().any(|l| l.contains("RECENT") || l.contains("[UNSEEN")), "{select:?}");
    let tag = format!("t{}", modern.next_tag);
    assert_eq!(modern.ok("SEARCH UNSEEN"), [format!("* ESEARCH (TAG \"{tag}\") ALL 1")]);
    assert_eq!(modern.ok("FETCH 1 FLAGS"), ["* 1 FETCH (FLAGS ())"]);
    // The message stays recent for an IMAP4rev1 session.
    assert!(has_line(&classic.ok("SELECT INBOX"), "* 1 RECENT"));
}
