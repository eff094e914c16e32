//! Full-text search (issue 15) over real sockets: IMAP SEARCH's text keys in a folder large
//! enough for the index to narrow them give exactly the plain scan's answers (computed here by
//! brute force), whether the messages are indexed yet or not; `facteur admin reindex` builds
//! the index again and refuses while the server holds it.

mod common;

use common::imap::*;
use common::*;

const WORDS: &[&str] = &["alpha", "bravo", "charlie", "delta", "écho", "foxtrot", "golf", "hôtel", "india"];

fn subject(n: usize) -> String {
    format!("Sujet {n} {}", if n.is_multiple_of(5) { "été" } else { "hiver" })
}

fn body(n: usize) -> String {
    format!("Message {n}: {} {}, fin.", WORDS[n % WORDS.len()], WORDS[(n * 7 + 3) % WORDS.len()])
}

fn message(n: usize) -> String {
    format!(
        "From: Bob <bob@example.org>\r\nTo: ana@example.org\r\nSubject: =?UTF-8?Q?{}?=\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        subject(n).replace(' ', "_").replace('é', "=C3=A9"),
        body(n)
    )
}

fn append_all(imap: &mut Imap, range: std::ops::RangeInclusive<usize>) {
    for n in range {
        let raw = message(n);
        imap.conn.send_line(&format!("a{n} APPEND INBOX {{{}+}}", raw.len()));
        imap.conn.send(raw.as_bytes());
        imap.conn.send(b"\r\n");
        let (status, _) = imap.read_until_tagged(&format!("a{n}"));
        assert!(status.contains(" OK "), "{status}");
    }
}

/// `UID SEARCH CHARSET UTF-8 <key> "<needle>"`, the needle sent as a literal.
fn uid_search(imap: &mut Imap, key: &str, needle: &str) -> Vec<usize> {
    let tag = format!("s{}", imap.next_tag);
    imap.next_tag += 1;
    imap.conn.send_line(&format!("{tag} UID SEARCH CHARSET UTF-8 {key} {{{}+}}", needle.len()));
    imap.conn.send(needle.as_bytes());
    imap.conn.send(b"\r\n");
    let (status, lines) = imap.read_until_tagged(&tag);
    assert!(status.contains(" OK "), "{key} {needle}: {status}");
    let line =
        lines.iter().map(|l| String::from_utf8_lossy(l).to_string()).find(|l| l.starts_with("* SEARCH")).unwrap();
    line.trim_end().split(' ').skip(2).map(|n| n.parse().unwrap()).collect()
}

fn expected(n_max: usize, holds: impl Fn(usize) -> bool) -> Vec<usize> {
    (1..=n_max).filter(|&n| holds(n)).collect()
}

fn check_searches(imap: &mut Imap, n_max: usize) {
    let body_has = |needle: &str| expected(n_max, |n| body(n).to_lowercase().contains(&needle.to_lowercase()));
    for needle in [
        "alpha",
        "lph",
        "ALPHA BRAVO",
        "pha bra",
        "écho",
        "ÉCHO g",
        "ssage 1",
        "message 12",
        "fin.",
        ": d",
        "zulu",
        " ",
    ] {
        assert_eq!(uid_search(imap, "BODY", needle), body_has(needle), "BODY {needle:?}");
    }
    let subject_has = |needle: &str| expected(n_max, |n| subject(n).to_lowercase().contains(needle));
    for needle in ["été", "jet 2", "hiver"] {
        assert_eq!(uid_search(imap, "SUBJECT", needle), subject_has(needle), "SUBJECT {needle:?}");
        // TEXT looks in the header fields too.
        let text: Vec<usize> =
            expected(n_max, |n| subject(n).to_lowercase().contains(needle) || body(n).to_lowercase().contains(needle));
        assert_eq!(uid_search(imap, "TEXT", needle), text, "TEXT {needle:?}");
    }
    assert_eq!(uid_search(imap, "FROM", "bob@exa").len(), n_max);
    // Keys under NOT are not narrowed, and still right.
    assert_eq!(uid_search(imap, "NOT BODY", "alpha"), expected(n_max, |n| !body(n).contains("alpha")));
}

#[test]
fn imap_search_gives_the_scans_answers_with_the_index() {
    let mut srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    append_all(&mut imap, 1..=300);
    imap.ok("SELECT INBOX");
    // Right away (some messages not indexed yet), then once the index caught up.
    check_searches(&mut imap, 300);
    std::thread::sleep(std::time::Duration::from_secs(3));
    check_searches(&mut imap, 300);
    // New mail is found at once, indexed or not.
    append_all(&mut imap, 301..=310);
    imap.ok("NOOP");
    check_searches(&mut imap, 310);
    imap.ok("LOGOUT");

    // The running server holds the index: a second writer is refused with a clear word.
    let busy = srv.admin(&["reindex"]);
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use"), "{busy:?}");
    srv.kill();
    let out = srv.admin_ok(&["reindex"]);
    assert!(out.contains("indexed 310 messages"), "{out}");
    srv.restart();
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    check_searches(&mut imap, 310);
}
