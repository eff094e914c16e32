//! IMAP conversations for issue 13's writing commands against the real server: APPEND (with
//! flags, a date, large literals and APPENDLIMIT), CREATE/RENAME/DELETE/SUBSCRIBE with the
//! folder rules of D1/D2 and modified UTF-7 names, COPY/MOVE with UIDPLUS, UID EXPUNGE, and a
//! Python imaplib session doing what a desktop client does.

mod common;

use common::imap::*;
use common::*;

fn message(n: usize) -> Vec<u8> {
    format!("From: bob@example.org\r\nTo: ana@example.org\r\nSubject: Message {n}\r\n\r\nBody of message {n}.\r\n")
        .into_bytes()
}

/// Sends `APPEND` with a synchronizing literal, the way clients do; returns the tagged line
/// and the untagged ones.
fn append(imap: &mut Imap, arguments: &str, raw: &[u8]) -> (String, Vec<String>) {
    let tag = format!("ap{}", imap.next_tag);
    imap.next_tag += 1;
    imap.conn.send_line(&format!("{tag} APPEND {arguments} {{{}}}", raw.len()));
    let go_ahead = imap.conn.read_line();
    if !go_ahead.starts_with('+') {
        return (go_ahead, Vec::new());
    }
    imap.conn.send(raw);
    imap.conn.send(b"\r\n");
    let (status, untagged) = imap.read_until_tagged(&tag);
    (status, untagged.iter().map(|r| String::from_utf8_lossy(r).into_owned()).collect())
}

/// The number in a `[CODE n ...]` of a status line.
fn code_numbers(status: &str, code: &str) -> Vec<String> {
    let start = status.find(&format!("[{code} ")).unwrap_or_else(|| panic!("no {code} in {status}")) + code.len() + 2;
    let end = start + status[start..].find(']').expect("code end");
    status[start..end].split(' ').map(str::to_string).collect()
}

#[test]
fn append_stores_the_bytes_flags_and_date_and_answers_appenduid() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    let caps = imap.ok("CAPABILITY");
    for cap in ["UIDPLUS", "MOVE", "APPENDLIMIT=50000000", "CHILDREN"] {
        assert!(caps[0].contains(cap), "{cap}: {caps:?}");
    }
    let raw = message(1);
    let (status, _) = append(&mut imap, "Drafts (\\Seen \\Draft $Work) \"02-Mar-2026 10:00:00 +0100\"", &raw);
    assert!(status.contains(" OK "), "{status}");
    let appenduid = code_numbers(&status, "APPENDUID");
    assert_eq!(appenduid[1], "1", "{status}");
    let status_line = imap.ok("STATUS Drafts (UIDVALIDITY MESSAGES UNSEEN)");
    assert_eq!(status_line[0], format!("* STATUS \"Drafts\" (UIDVALIDITY {} MESSAGES 1 UNSEEN 0)", appenduid[0]));
    imap.ok("SELECT Drafts");
    let fetched = imap.ok("UID FETCH 1 (FLAGS INTERNALDATE BODY.PEEK[])");
    assert!(fetched[0].contains("FLAGS (\\Seen \\Draft \\Recent $Work)"), "{fetched:?}");
    assert!(fetched[0].contains("INTERNALDATE \"02-Mar-2026 09:00:00 +0000\""), "{fetched:?}");
    assert!(fetched[0].as_bytes().windows(raw.len()).any(|w| w == raw.as_slice()), "{fetched:?}");
    // An APPEND to the selected folder is announced at once.
    let (status, untagged) = append(&mut imap, "Drafts", &message(2));
    assert!(status.contains("[APPENDUID ") && status.contains(" 2]"), "{status}");
    assert!(untagged.contains(&"* 2 EXISTS".to_string()), "{untagged:?}");
    // A folder that does not exist: TRYCREATE, and nothing is asked of the client's bytes.
    let (status, _) = append(&mut imap, "Nowhere", &message(3));
    assert!(status.contains("NO [TRYCREATE]"), "{status}");
    // Over APPENDLIMIT: refused before the bytes are sent.
    imap.conn.send_line("big APPEND INBOX {50000001}");
    let (status, _) = imap.read_until_tagged("big");
    assert!(status.starts_with("big NO [TOOBIG]"), "{status}");
    // \Recent cannot be set; an empty message is refused.
    let (status, _) = append(&mut imap, "INBOX (\\Recent)", &message(4));
    assert!(status.contains(" BAD "), "{status}");
    let (status, _) = append(&mut imap, "INBOX", b"");
    assert!(status.contains(" NO "), "{status}");
    imap.ok("NOOP");
}

#[test]
fn a_large_append_is_stored_whole_and_fetched_byte_for_byte() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    let mut raw = b"From: ana@example.org\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n".to_vec();
    while raw.len() < 6_000_000 {
        raw.extend_from_slice(format!("line {} of a long message\r\n", raw.len()).as_bytes());
    }
    let (status, _) = append(&mut imap, "INBOX", &raw);
    assert!(status.contains(" OK [APPENDUID "), "{status}");
    imap.ok("SELECT INBOX");
    let (status, untagged) = imap.cmd("FETCH 1 (RFC822.SIZE BODY.PEEK[])");
    assert!(status.contains(" OK "), "{status}");
    let text = String::from_utf8_lossy(&untagged[0][..100]).into_owned();
    assert!(text.contains(&format!("RFC822.SIZE {}", raw.len())), "{text}");
    assert_eq!(first_literal(&untagged[0]), raw);
}

#[test]
fn folders_are_created_renamed_deleted_and_subscribed_by_the_rules() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("CREATE Projects/2026/");
    let list = imap.ok("LIST \"\" \"Projects*\"");
    assert_eq!(
        list,
        vec![
            "* LIST (\\HasChildren) \"/\" \"Projects\"".to_string(),
            "* LIST (\\HasNoChildren) \"/\" \"Projects/2026\"".to_string(),
        ]
    );
    let (status, _) = imap.cmd("CREATE Projects");
    assert!(status.contains("NO [ALREADYEXISTS]"), "{status}");
    for refused in ["CREATE Sent/2026", "CREATE Spam/x", "RENAME INBOX Mail", "RENAME Trash Bin", "DELETE Drafts"] {
        let (status, _) = imap.cmd(refused);
        assert!(status.contains("NO [CANNOT]"), "{refused}: {status}");
    }
    let (status, _) = imap.cmd("CREATE \"a*b\"");
    assert!(status.contains(" NO "), "{status}");
    // A name outside ASCII travels in modified UTF-7 (RFC 3501 §5.1.3) and is stored in UTF-8.
    imap.ok("CREATE \"&AMk-t&AOk-\"");
    let list = imap.ok("LIST \"\" %");
    assert!(has_line(&list, "* LIST (\\HasNoChildren) \"/\" \"&AMk-t&AOk-\""), "{list:?}");
    // Renaming takes the subfolders along; the mail stays.
    let (status, _) = append(&mut imap, "Projects/2026", &message(1));
    assert!(status.contains(" OK "), "{status}");
    imap.ok("RENAME Projects Archive");
    let list = imap.ok("LIST \"\" \"*\"");
    assert!(has_line(&list, "* LIST (\\HasNoChildren) \"/\" \"Archive/2026\""), "{list:?}");
    assert!(!list.iter().any(|l| l.contains("Projects")), "{list:?}");
    assert_eq!(imap.ok("STATUS Archive/2026 (MESSAGES)")[0], "* STATUS \"Archive/2026\" (MESSAGES 1)");
    // DELETE refuses a folder with subfolders, then moves the leaf into Trash (D2).
    let (status, _) = imap.cmd("DELETE Archive");
    assert!(status.contains("NO [HASCHILDREN]"), "{status}");
    let (status, _) = imap.cmd("DELETE Archive/2026");
    assert!(status.contains(" OK ") && status.contains("Trash/2026"), "{status}");
    assert_eq!(imap.ok("STATUS Trash/2026 (MESSAGES)")[0], "* STATUS \"Trash/2026\" (MESSAGES 1)");
    // In Trash, DELETE removes for good.
    imap.ok("DELETE Trash/2026");
    let (status, _) = imap.cmd("STATUS Trash/2026 (MESSAGES)");
    assert!(status.contains("NO [NONEXISTENT]"), "{status}");
    // LSUB lists the subscribed folders.
    imap.ok("UNSUBSCRIBE Archive");
    let lsub = imap.ok("LSUB \"\" \"*\"");
    assert!(!lsub.iter().any(|l| l.ends_with("\"Archive\"")), "{lsub:?}");
    assert!(lsub.iter().any(|l| l.ends_with("\"INBOX\"")), "{lsub:?}");
    imap.ok("SUBSCRIBE Archive");
    assert!(imap.ok("LSUB \"\" \"*\"").iter().any(|l| l.ends_with("\"Archive\"")));
    let (status, _) = imap.cmd("SUBSCRIBE Nowhere");
    assert!(status.contains("NO [NONEXISTENT]"), "{status}");
}

#[test]
fn copy_and_move_answer_copyuid_and_other_sessions_see_it() {
    let srv = TestServer::start();
    for n in 1..=5 {
        srv.deliver("ana@example.org", &message(n));
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let mut other = Imap::login(&srv, "ana@example.org");
    imap.ok("CREATE Kept");
    imap.ok("SELECT INBOX");
    other.ok("SELECT INBOX");
    let (status, _) = imap.cmd("COPY 2:3 Kept");
    let copyuid = code_numbers(&status, "COPYUID");
    assert_eq!(&copyuid[1..], ["2:3", "1:2"], "{status}");
    let (status, _) = imap.cmd("COPY 1 Nowhere");
    assert!(status.contains("NO [TRYCREATE]"), "{status}");
    // MOVE: COPYUID first, then EXPUNGEs from the highest number down.
    let (status, untagged) = imap.cmd("MOVE 1,4 Kept");
    assert!(status.contains(" OK "), "{status}");
    let untagged: Vec<String> = untagged.iter().map(|r| String::from_utf8_lossy(r).into_owned()).collect();
    assert!(untagged[0].starts_with("* OK [COPYUID ") && untagged[0].contains(" 1,4 3:4]"), "{untagged:?}");
    assert_eq!(&untagged[1..], ["* 4 EXPUNGE", "* 1 EXPUNGE"]);
    // UID MOVE by UID; the rest keep their sequence numbers right.
    let (status, untagged) = imap.cmd("UID MOVE 5 Kept");
    assert!(status.contains(" OK "), "{status}");
    assert!(untagged.iter().any(|r| r == b"* 3 EXPUNGE"), "{untagged:?}");
    let left = imap.ok("FETCH 1:* (UID)");
    assert_eq!(left, ["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)"]);
    // The other session hears of the moves at its next NOOP.
    let noop = other.ok("NOOP");
    assert_eq!(noop, ["* 5 EXPUNGE", "* 4 EXPUNGE", "* 1 EXPUNGE"]);
    assert_eq!(imap.ok("STATUS Kept (MESSAGES UIDNEXT)")[0], "* STATUS \"Kept\" (MESSAGES 5 UIDNEXT 6)");
    // EXAMINE is read-only: COPY is fine, MOVE is not.
    imap.ok("EXAMINE Kept");
    imap.ok("COPY 1 INBOX");
    let (status, _) = imap.cmd("MOVE 1 INBOX");
    assert!(status.contains("NO [CANNOT]"), "{status}");
}

#[test]
fn uid_expunge_removes_only_the_named_deleted_messages() {
    let srv = TestServer::start();
    for n in 1..=4 {
        srv.deliver("ana@example.org", &message(n));
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    imap.ok("STORE 1:3 +FLAGS.SILENT (\\Deleted)");
    let removed = imap.ok("UID EXPUNGE 2:4");
    assert_eq!(removed, ["* 3 EXPUNGE", "* 2 EXPUNGE"]);
    assert_eq!(
        imap.ok("FETCH 1:* (UID FLAGS)"),
        ["* 1 FETCH (UID 1 FLAGS (\\Deleted \\Recent))", "* 2 FETCH (UID 4 FLAGS (\\Recent))"]
    );
}

#[test]
fn a_session_whose_folder_is_deleted_for_good_is_told_and_closed() {
    let srv = TestServer::start();
    let mut imap = Imap::login(&srv, "ana@example.org");
    let mut other = Imap::login(&srv, "ana@example.org");
    imap.ok("CREATE Trash/Old");
    other.ok("SELECT Trash/Old");
    imap.ok("DELETE Trash/Old");
    let (status, untagged) = other.cmd("NOOP");
    assert!(untagged.iter().any(|r| r.starts_with(b"* BYE")), "{untagged:?} {status}");
    assert!(other.conn.is_closed());
}

const PY_DESKTOP: &str = r#"
import imaplib, ssl, sys, time
port, password, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4('127.0.0.1', port)
m.starttls(ssl_context=ssl.create_default_context(cafile=cert))
m.login('ana@example.org', password)
draft = b'From: ana@example.org\r\nSubject: Brouillon\r\n\r\nVoici.\r\n'
typ, data = m.append('Drafts', '(\\Draft)', imaplib.Time2Internaldate(time.time()), draft)
assert typ == 'OK' and b'APPENDUID' in data[0], data
typ, data = m.create('Clients/&AMk-t&AOk-')
assert typ == 'OK', data
typ, folders = m.list('""', 'Clients/*')
assert folders == [b'(\\HasNoChildren) "/" "Clients/&AMk-t&AOk-"'], folders
m.select('Drafts')
typ, data = m.copy('1', 'Clients/&AMk-t&AOk-')
assert typ == 'OK' and b'COPYUID' in data[0], data
typ, data = m.uid('MOVE', '1', 'Trash')
assert typ == 'OK', data
typ, data = m.select('Drafts')
assert data == [b'0'], data
typ, data = m.select('Clients/&AMk-t&AOk-')
assert data == [b'1'], data
typ, data = m.fetch('1', '(BODY.PEEK[])')
assert data[0][1] == draft, data
typ, data = m.rename('Clients', 'Customers')
assert typ == 'OK', data
typ, data = m.delete('Customers/&AMk-t&AOk-')
assert typ == 'OK', data
typ, folders = m.list('""', 'Trash/*')
assert folders == [b'(\\HasNoChildren) "/" "Trash/&AMk-t&AOk-"'], folders
m.logout()
print('DESKTOP OK')
"#;

#[test]
fn python_imaplib_saves_drafts_makes_folders_and_moves_mail() {
    let srv = TestServer::start();
    let out =
        python(PY_DESKTOP, &[srv.imap.port().to_string(), PASSWORD.into(), srv.cert_path().display().to_string()]);
    assert!(out.contains("DESKTOP OK"), "{out}");
}

const PY_SMTP: &str = r#"
import smtplib, sys
with smtplib.SMTP('127.0.0.1', int(sys.argv[1])) as smtp:
    smtp.sendmail('x@remote.test', ['ana@example.org'], b'Subject: pushed\r\n\r\nhello\r\n')
print('SENT')
"#;

#[test]
fn idle_reports_deliveries_flag_changes_and_expunges_from_everywhere() {
    let srv = TestServer::start();
    let mut idler = Imap::login(&srv, "ana@example.org");
    let mut other = Imap::login(&srv, "ana@example.org");
    idler.ok("SELECT INBOX");
    idler.conn.send_line("i1 IDLE");
    assert_eq!(idler.conn.read_line(), "+ idling");
    // An SMTP delivery to the running server.
    assert!(python(PY_SMTP, &[srv.smtp.port().to_string()]).contains("SENT"));
    assert_eq!(idler.conn.read_line(), "* 1 EXISTS");
    assert_eq!(idler.conn.read_line(), "* 1 RECENT");
    // Another session's STORE and EXPUNGE.
    other.ok("SELECT INBOX");
    other.ok("STORE 1 +FLAGS.SILENT (\\Flagged)");
    assert_eq!(idler.conn.read_line(), "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Recent))");
    // `facteur admin deliver`, another process: it reaches the feed through the log.
    srv.deliver("ana@example.org", &message(2));
    assert_eq!(idler.conn.read_line(), "* 2 EXISTS");
    assert_eq!(idler.conn.read_line(), "* 2 RECENT");
    other.ok("STORE 1 +FLAGS.SILENT (\\Deleted)");
    assert_eq!(idler.conn.read_line(), "* 1 FETCH (UID 1 FLAGS (\\Flagged \\Deleted \\Recent))");
    other.ok("EXPUNGE");
    assert_eq!(idler.conn.read_line(), "* 1 EXPUNGE");
    // A change in another folder is not this session's business.
    other.ok("CREATE Elsewhere");
    let (status, _) = append(&mut other, "Elsewhere", &message(3));
    assert!(status.contains(" OK "), "{status}");
    idler.conn.send_line("DONE");
    assert_eq!(idler.conn.read_line(), "i1 OK IDLE terminated");
    assert_eq!(idler.ok("FETCH 1:* (UID)"), ["* 1 FETCH (UID 2)"]);
    // Anything but DONE ends IDLE with BAD; the session goes on.
    idler.conn.send_line("i2 IDLE");
    assert_eq!(idler.conn.read_line(), "+ idling");
    idler.conn.send_line("NOOP");
    assert!(idler.conn.read_line().starts_with("i2 BAD"));
    idler.ok("NOOP");
}

const PY_SEARCH: &str = r#"
import imaplib, ssl, sys
port, password, cert = int(sys.argv[1]), sys.argv[2], sys.argv[3]
m = imaplib.IMAP4('127.0.0.1', port)
m.starttls(ssl_context=ssl.create_default_context(cafile=cert))
m.login('ana@example.org', password)
m.select('INBOX')
def search(*criteria, uid=False, charset=None):
    typ, data = m.uid('SEARCH', *criteria) if uid else m.search(charset, *criteria)
    assert typ == 'OK', (criteria, data)
    return data[0].decode().split()
assert search('ALL') == ['1', '2', '3', '4'], search('ALL')
assert search('UNSEEN') == ['2', '3', '4']
assert search('SEEN') == ['1']
assert search('FROM', 'carla') == ['2']
assert search('SUBJECT', 'report') == ['1', '3']
assert search('BODY', 'budget') == ['3']
assert search('TEXT', 'carla') == ['2']
assert search('NOT', 'SUBJECT', 'report') == ['2', '4']
assert search('OR', 'FROM', 'carla', 'BODY', 'budget') == ['2', '3']
assert search('LARGER', '200') == ['4']
assert search('HEADER', 'X-Priority', '1') == ['3']
assert search('2:3', 'UNSEEN') == ['2', '3']
assert search('1:*', uid=True) == ['1', '2', '3', '4']
assert search('UID', '3:*', uid=True) == ['3', '4']
assert search('SENTSINCE', '1-Jan-2026', 'SENTBEFORE', '1-Feb-2026') == ['2']
m.literal = 'café'.encode()
assert search('BODY', charset='UTF-8') == ['4'], 'literal'
typ, data = m.search('KOI8-R', 'ALL')
assert typ == 'NO' and b'BADCHARSET' in data[0], (typ, data)
m.logout()
print('SEARCH OK')
"#;

#[test]
fn search_scans_flags_headers_and_bodies_with_python_imaplib() {
    let srv = TestServer::start();
    let mails: [&[u8]; 4] = [
        b"From: ana@example.org\r\nSubject: Weekly report\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\nAll good.\r\n",
        b"From: Carla Souza <carla@example.net>\r\nSubject: Lunch?\r\nDate: Thu, 15 Jan 2026 12:00:00 +0000\r\n\r\nNoon?\r\n",
        b"From: bob@example.org\r\nSubject: Monthly report\r\nX-Priority: 1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nVGhlIGJ1ZGdldCBpcyByZWFkeS4=\r\n",
        "From: dan@example.org\r\nSubject: Coffee\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nUn café ? Je paie. Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua, ut enim ad minim veniam.\r\n".as_bytes(),
    ];
    for mail in mails {
        srv.deliver("ana@example.org", mail);
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    imap.ok("STORE 1 +FLAGS.SILENT (\\Seen)");
    let out = python(PY_SEARCH, &[srv.imap.port().to_string(), PASSWORD.into(), srv.cert_path().display().to_string()]);
    assert!(out.contains("SEARCH OK"), "{out}");
}

#[test]
fn quota_is_reported_for_the_account_and_cannot_be_set_by_the_user() {
    let srv = TestServer::start();
    srv.admin_with_stdin(
        &["user", "add", "carol@example.org", "--password-stdin", "--quota-mb", "2"],
        PASSWORD.as_bytes(),
    );
    srv.deliver("carol@example.org", &message(1));
    let size = message(1).len().div_ceil(1024);
    let mut imap = Imap::login(&srv, "carol@example.org");
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains(" QUOTA ") && caps[0].contains("QUOTA=RES-STORAGE"), "{caps:?}");
    let root = imap.ok("GETQUOTAROOT INBOX");
    assert_eq!(root, ["* QUOTAROOT \"INBOX\" \"\"".to_string(), format!("* QUOTA \"\" (STORAGE {size} 2048)")]);
    assert_eq!(imap.ok("GETQUOTA \"\""), [format!("* QUOTA \"\" (STORAGE {size} 2048)")]);
    let (status, _) = imap.cmd("SETQUOTA \"\" (STORAGE 99999)");
    assert!(status.contains("NO [NOPERM]"), "{status}");
    let (status, _) = imap.cmd("GETQUOTAROOT Nowhere");
    assert!(status.contains("NO [NONEXISTENT]"), "{status}");
    // Without a limit there is no quota root.
    let mut ana = Imap::login(&srv, "ana@example.org");
    assert_eq!(ana.ok("GETQUOTAROOT INBOX"), ["* QUOTAROOT \"INBOX\""]);
    let (status, _) = ana.cmd("GETQUOTA \"\"");
    assert!(status.contains("NO [NONEXISTENT]"), "{status}");
}

#[test]
fn sort_orders_by_each_criterion_with_ties_in_mailbox_order() {
    let srv = TestServer::start();
    let mails: [&[u8]; 4] = [
        b"From: Zoe <zoe@example.org>\r\nTo: bob@example.org\r\nSubject: Re: Budget\r\nDate: Tue, 3 Mar 2026 10:00:00 +0000\r\n\r\nA somewhat longer body than the others.\r\n",
        b"From: adam@example.org\r\nTo: Zed <zed@example.org>\r\nSubject: [team] Agenda\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\nx\r\n",
        b"From: Mia <mia@example.org>\r\nTo: amy@example.org\r\nSubject: Budget\r\nDate: Wed, 4 Mar 2026 10:00:00 +0000\r\n\r\nxx\r\n",
        b"From: adam@example.org\r\nTo: amy@example.org\r\nSubject: Fwd: agenda\r\n\r\nxxx\r\n",
    ];
    for mail in mails {
        srv.deliver("ana@example.org", mail);
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains(" SORT ") && caps[0].contains(" SORT=DISPLAY"), "{caps:?}");
    imap.ok("SELECT INBOX");
    for (criteria, want) in [
        ("(SUBJECT)", "* SORT 2 4 1 3"),
        ("(REVERSE SUBJECT)", "* SORT 1 3 2 4"),
        ("(FROM)", "* SORT 2 4 3 1"),
        ("(DISPLAYFROM)", "* SORT 2 4 3 1"),
        ("(TO SUBJECT)", "* SORT 4 3 1 2"),
        ("(DISPLAYTO)", "* SORT 3 4 1 2"),
        ("(SIZE)", "* SORT 4 3 2 1"),
    ] {
        assert_eq!(imap.ok(&format!("SORT {criteria} UTF-8 ALL")), [want], "{criteria}");
    }
    // DATE: the fourth has no Date:, so its arrival (now) sorts it last.
    assert_eq!(imap.ok("SORT (DATE) UTF-8 ALL"), ["* SORT 2 1 3 4"]);
    assert_eq!(imap.ok("UID SORT (SUBJECT) UTF-8 FROM adam"), ["* SORT 2 4"]);
    let (status, _) = imap.cmd("SORT (SUBJECT) KOI8-R ALL");
    assert!(status.contains("NO [BADCHARSET"), "{status}");
}

#[test]
fn thread_by_references_and_by_subject() {
    let srv = TestServer::start();
    let mails: [&[u8]; 4] = [
        b"From: ana@example.org\r\nSubject: Plans\r\nMessage-ID: <a@x>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n\r\n1\r\n",
        b"From: bob@example.org\r\nSubject: Lunch\r\nMessage-ID: <c@x>\r\nDate: Mon, 2 Mar 2026 11:00:00 +0000\r\n\r\n2\r\n",
        b"From: bob@example.org\r\nSubject: Re: Plans\r\nMessage-ID: <b@x>\r\nIn-Reply-To: <a@x>\r\nDate: Mon, 2 Mar 2026 12:00:00 +0000\r\n\r\n3\r\n",
        b"From: ana@example.org\r\nSubject: Re: Plans\r\nMessage-ID: <d@x>\r\nReferences: <a@x> <b@x>\r\nDate: Mon, 2 Mar 2026 13:00:00 +0000\r\n\r\n4\r\n",
    ];
    for mail in mails {
        srv.deliver("ana@example.org", mail);
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let caps = imap.ok("CAPABILITY");
    assert!(caps[0].contains("THREAD=REFERENCES") && caps[0].contains("THREAD=ORDEREDSUBJECT"), "{caps:?}");
    imap.ok("SELECT INBOX");
    assert_eq!(imap.ok("THREAD REFERENCES UTF-8 ALL"), ["* THREAD (1 3 4)(2)"]);
    assert_eq!(imap.ok("UID THREAD REFERENCES UTF-8 NOT FROM bob"), ["* THREAD (1 4)"]);
    assert_eq!(imap.ok("THREAD ORDEREDSUBJECT UTF-8 ALL"), ["* THREAD (1 (3)(4))(2)"]);
    assert_eq!(imap.ok("THREAD REFERENCES UTF-8 SUBJECT nothing"), ["* THREAD"]);
}
