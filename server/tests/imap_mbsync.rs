//! A real desktop sync tool against the real server: mbsync (isync, from Debian) keeps a local
//! Maildir and the IMAP account in step both ways: folders made on either side, flags, a
//! message moved between folders, over IMAPS with the server's certificate checked.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::imap::*;
use common::*;

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: bob@example.org\r\nTo: ana@example.org\r\nSubject: Message {n}\r\nMessage-ID: <m{n}@example.org>\r\n\r\nBody {n}.\r\n"
    )
    .into_bytes()
}

/// An mbsync configuration syncing every folder of ana's account with `local`.
fn config(srv: &TestServer, dir: &Path) -> PathBuf {
    let local = dir.join("mail");
    fs::create_dir_all(&local).expect("local folder");
    let text = format!(
        "IMAPAccount facteur\nHost localhost\nPort {port}\nUser ana@example.org\nPass \"{PASSWORD}\"\n\
         SSLType IMAPS\nCertificateFile {cert}\n\n\
         IMAPStore remote\nAccount facteur\n\n\
         MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
         Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\n",
        port = srv.imaps.port(),
        cert = srv.cert_path().display(),
        local = local.display(),
    );
    let path = dir.join("mbsyncrc");
    fs::write(&path, text).expect("config");
    path
}

fn mbsync(config: &Path) {
    let output = Command::new("mbsync").arg("-c").arg(config).arg("-a").output().expect("mbsync runs (isync)");
    assert!(
        output.status.success(),
        "mbsync failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The message files of a local folder (cur and new), by subject.
fn local_messages(folder: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for sub in ["cur", "new"] {
        let Ok(entries) = fs::read_dir(folder.join(sub)) else { continue };
        for entry in entries {
            let path = entry.expect("entry").path();
            let text = fs::read_to_string(&path).expect("message file");
            let subject = text.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_default().to_string();
            found.push((subject, path));
        }
    }
    found.sort();
    found
}

/// The Maildir flags in a file name (`...:2,FS`).
fn maildir_flags(path: &Path) -> String {
    let name = path.file_name().expect("name").to_string_lossy().into_owned();
    name.rsplit_once(":2,").map(|(_, flags)| flags.to_string()).unwrap_or_default()
}

#[test]
fn mbsync_syncs_folders_flags_and_moves_both_ways() {
    let srv = TestServer::start();
    for n in 1..=3 {
        srv.deliver("ana@example.org", &message(n));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(&srv, dir.path());
    mbsync(&config);
    let mail = dir.path().join("mail");
    let inbox = local_messages(&mail.join("INBOX"));
    let subjects: Vec<&str> = inbox.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(subjects, ["Message 1", "Message 2", "Message 3"]);
    assert!(mail.join("Sent").join("cur").is_dir() && mail.join("Trash").join("cur").is_dir());

    // Locally: message 1 flagged, message 2 moved into a new folder.
    let (_, first) = &inbox[0];
    let base = first.file_name().expect("name").to_string_lossy().split(":2,").next().unwrap_or_default().to_string();
    fs::rename(first, mail.join("INBOX").join("cur").join(format!("{base}:2,F"))).expect("flag");
    let flagged_name = local_messages(&mail.join("INBOX"))[0].1.clone();
    assert!(maildir_flags(&flagged_name).contains('F'), "{flagged_name:?}");
    let projects = mail.join("Projects");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(projects.join(sub)).expect("local folder");
    }
    let (_, second) = &inbox[1];
    // mbsync names its files with the server's UID (`,U=n`): a file in another folder is new there.
    let moved_name = second.file_name().expect("name").to_string_lossy().replace(",U=2", "");
    fs::rename(second, projects.join("cur").join(moved_name)).expect("move");
    mbsync(&config);

    let mut imap = Imap::login(&srv, "ana@example.org");
    let list = imap.ok("LIST \"\" *");
    assert!(list.iter().any(|l| l.ends_with("\"Projects\"")), "{list:?}");
    imap.ok("SELECT Projects");
    let fetched = imap.ok("FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    assert_eq!(fetched.len(), 1, "{fetched:?}");
    assert!(fetched[0].contains("Subject: Message 2"), "{fetched:?}");
    imap.ok("SELECT INBOX");
    let flags = imap.ok("UID FETCH 1:* (FLAGS)");
    assert_eq!(flags.len(), 2, "message 2 left INBOX: {flags:?}");
    assert!(flags[0].contains("UID 1 ") && flags[0].contains("\\Flagged"), "{flags:?}");

    // On the server: message 3 read, a new folder with a message.
    imap.ok("UID STORE 3 +FLAGS.SILENT (\\Seen)");
    imap.ok("CREATE Archive");
    let raw = message(4);
    imap.conn.send_line(&format!("ap APPEND Archive {{{}}}", raw.len()));
    assert!(imap.conn.read_line().starts_with('+'));
    imap.conn.send(&raw);
    imap.conn.send(b"\r\n");
    let (status, _) = imap.read_until_tagged("ap");
    assert!(status.contains(" OK "), "{status}");
    mbsync(&config);

    let inbox = local_messages(&mail.join("INBOX"));
    let third = inbox.iter().find(|(s, _)| s == "Message 3").expect("message 3 still there");
    assert!(maildir_flags(&third.1).contains('S'), "{inbox:?}");
    let archive = local_messages(&mail.join("Archive"));
    assert_eq!(archive.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["Message 4"]);
    // A second run with nothing new changes nothing on either side.
    mbsync(&config);
    assert_eq!(local_messages(&mail.join("INBOX")).len(), 2);
    assert_eq!(imap.ok("STATUS INBOX (MESSAGES)"), vec!["* STATUS \"INBOX\" (MESSAGES 2)".to_string()]);
}
