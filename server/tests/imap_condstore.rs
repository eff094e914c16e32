//! CONDSTORE and QRESYNC (RFC 7162) against the real server: modseqs in FETCH, SEARCH and
//! STATUS, CHANGEDSINCE, conditional STORE, and a client catching up after being away
//! (SELECT ... QRESYNC, VANISHED), all from the mail core's change log.

mod common;

use common::imap::*;
use common::*;

fn message(n: usize) -> Vec<u8> {
    format!("From: bob@example.org\r\nSubject: Message {n}\r\n\r\nBody {n}.\r\n").into_bytes()
}

/// The number inside `[CODE n]` or `(NAME n)` after `name`.
fn number_after(text: &str, name: &str) -> u64 {
    let start = text.find(name).unwrap_or_else(|| panic!("no {name} in {text}")) + name.len();
    let digits: String =
        text[start..].trim_start_matches([' ', '(']).chars().take_while(char::is_ascii_digit).collect();
    digits.parse().unwrap_or_else(|_| panic!("no number after {name} in {text}"))
}

#[test]
fn condstore_reports_modseqs_and_stores_conditionally() {
    let srv = TestServer::start();
    for n in 1..=3 {
        srv.deliver("ana@example.org", &message(n));
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains(" CONDSTORE") && caps[0].contains(" QRESYNC"), "{caps:?}");
    assert_eq!(imap.ok("ENABLE CONDSTORE"), ["* ENABLED CONDSTORE"]);
    let select = imap.ok("SELECT INBOX");
    let highest = select.iter().find(|l| l.contains("[HIGHESTMODSEQ ")).map(|l| number_after(l, "HIGHESTMODSEQ"));
    let highest = highest.expect("HIGHESTMODSEQ in SELECT");
    let fetched = imap.ok("FETCH 1:* (MODSEQ)");
    assert_eq!(fetched.len(), 3);
    let modseqs: Vec<u64> = fetched.iter().map(|l| number_after(l, "MODSEQ")).collect();
    assert_eq!(modseqs.iter().max(), Some(&highest), "{fetched:?}");
    // A STORE answers with UID and the new MODSEQ.
    let stored = imap.ok("STORE 2 +FLAGS (\\Flagged)");
    // \Recent: this session is the first to see the messages.
    assert!(stored[0].starts_with("* 2 FETCH (FLAGS (\\Flagged \\Recent) UID 2 MODSEQ ("), "{stored:?}");
    let after_store = number_after(&stored[0], "MODSEQ");
    assert!(after_store > highest);
    // CHANGEDSINCE: only what changed, with its MODSEQ.
    let changed = imap.ok(&format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest})"));
    assert_eq!(changed, [format!("* 2 FETCH (UID 2 FLAGS (\\Flagged \\Recent) MODSEQ ({after_store}))")]);
    // UNCHANGEDSINCE: message 2 changed after `highest`, so it is left alone; 1 is not.
    let (status, untagged) = imap.cmd(&format!("STORE 1:2 (UNCHANGEDSINCE {highest}) +FLAGS.SILENT (\\Seen)"));
    assert!(status.contains(" OK [MODIFIED 2] "), "{status}");
    let untagged: Vec<String> = untagged.iter().map(|r| String::from_utf8_lossy(r).into_owned()).collect();
    assert_eq!(untagged.len(), 1, "{untagged:?}");
    assert!(untagged[0].starts_with("* 1 FETCH (UID 1 MODSEQ ("), "{untagged:?}");
    assert_eq!(imap.ok("FETCH 2 (FLAGS)"), ["* 2 FETCH (FLAGS (\\Flagged \\Recent))"]);
    // SEARCH MODSEQ and STATUS HIGHESTMODSEQ.
    let found = imap.ok(&format!("SEARCH MODSEQ {}", highest + 1));
    assert!(found[0].starts_with("* SEARCH 1 2 (MODSEQ "), "{found:?}");
    let status = imap.ok("STATUS INBOX (HIGHESTMODSEQ)");
    assert!(number_after(&status[0], "HIGHESTMODSEQ") > after_store, "{status:?}");
    // Another session's change reaches this one with its MODSEQ.
    let mut other = Imap::login(&srv, "ana@example.org");
    other.ok("SELECT INBOX");
    other.ok("STORE 3 +FLAGS.SILENT ($Work)");
    let noop = imap.ok("NOOP");
    // $Work is new to this session: FLAGS names it first (RFC 9051 §7.3.5).
    assert!(noop[0].starts_with("* FLAGS (") && noop[0].contains("$Work"), "{noop:?}");
    assert!(noop[2].starts_with("* 3 FETCH (UID 3 FLAGS (\\Recent $Work) MODSEQ ("), "{noop:?}");
    // A FETCH that marks \Seen tells the new flags and MODSEQ, and no UID before QRESYNC
    // (RFC 7162 §3.1, §3.2.4).
    let read = imap.ok("FETCH 3 (BODY[HEADER])");
    assert!(read[0].contains("FLAGS (\\Seen") && read[0].contains("MODSEQ ("), "{read:?}");
    assert!(!read[0].contains("UID "), "{read:?}");
}

#[test]
fn qresync_catches_a_client_up_after_it_was_away() {
    let srv = TestServer::start();
    for n in 1..=5 {
        srv.deliver("ana@example.org", &message(n));
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let select = imap.ok("SELECT INBOX");
    let uidvalidity = select.iter().find(|l| l.contains("[UIDVALIDITY ")).map(|l| number_after(l, "UIDVALIDITY"));
    let uidvalidity = uidvalidity.expect("UIDVALIDITY");
    let highest = select.iter().find(|l| l.contains("[HIGHESTMODSEQ ")).map(|l| number_after(l, "HIGHESTMODSEQ"));
    let highest = highest.expect("HIGHESTMODSEQ");
    imap.ok("LOGOUT");
    // Meanwhile, elsewhere: message 2 goes, message 3 is flagged, a message arrives.
    let mut other = Imap::login(&srv, "ana@example.org");
    other.ok("SELECT INBOX");
    other.ok("STORE 2 +FLAGS.SILENT (\\Deleted)");
    other.ok("EXPUNGE");
    other.ok("STORE 2 +FLAGS.SILENT (\\Flagged)");
    srv.deliver("ana@example.org", &message(6));
    // Back: QRESYNC must be enabled first.
    let mut imap = Imap::login(&srv, "ana@example.org");
    let (status, _) = imap.cmd(&format!("SELECT INBOX (QRESYNC ({uidvalidity} {highest} 1:5))"));
    assert!(status.contains(" BAD "), "{status}");
    assert_eq!(imap.ok("ENABLE QRESYNC"), ["* ENABLED QRESYNC"]);
    let select = imap.ok(&format!("SELECT INBOX (QRESYNC ({uidvalidity} {highest} 1:5))"));
    let vanished = select.iter().position(|l| l == "* VANISHED (EARLIER) 2").expect("VANISHED (EARLIER)");
    let flagged = select.iter().position(|l| l.starts_with("* 2 FETCH (UID 3 FLAGS (\\Flagged) MODSEQ (")).expect("3");
    assert!(vanished < flagged, "{select:?}");
    // Message 6 was never shown to a session before: \Recent here.
    assert!(select.iter().any(|l| l.starts_with("* 5 FETCH (UID 6 FLAGS (\\Recent) MODSEQ (")), "{select:?}");
    assert!(!select.iter().any(|l| l.starts_with("* 1 FETCH")), "unchanged: {select:?}");
    // With QRESYNC on, expunges are VANISHED, in EXPUNGE and in UID FETCH ... VANISHED.
    imap.ok("STORE 1 +FLAGS.SILENT (\\Deleted)");
    assert_eq!(imap.ok("EXPUNGE"), ["* VANISHED 1"]);
    let fetched = imap.ok(&format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {highest} VANISHED)"));
    assert_eq!(fetched[0], "* VANISHED (EARLIER) 1:2", "{fetched:?}");
    // The other session, without QRESYNC, hears of it by sequence number.
    assert_eq!(other.ok("NOOP")[0], "* 1 EXPUNGE");
    other.ok("STORE 1 +FLAGS.SILENT (\\Deleted)");
    other.ok("EXPUNGE");
    assert_eq!(imap.ok("NOOP"), ["* VANISHED 3"]);
}
