//! The mail domain against a real store: the change log and feed, and the read policy.

use std::time::Duration;

use store::{FolderChanges, SpecialUse};

use super::*;

struct World {
    _dir: tempfile::TempDir,
    mail: Mail,
    /// The same data folder opened a second time, as `facteur admin` does beside the server.
    other_process: Store,
    ana: AccountId,
    inbox: FolderId,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).await.expect("store opens");
    store.add_domain("example.org").await.expect("domain");
    let address = store::parse_address("ana@example.org").expect("address");
    let ana = store.add_user(&address, "$argon2id$not-a-real-hash", None).await.expect("ana").id;
    let inbox = store.special_folder(ana, SpecialUse::Inbox).await.expect("inbox").id;
    let other_process = Store::open(dir.path()).await.expect("second store");
    World { _dir: dir, mail: Mail::start(store), other_process, ana, inbox }
}

fn message(n: u32) -> Vec<u8> {
    format!("From: bob@example.org\r\nSubject: message {n}\r\n\r\nbody {n}\r\n").into_bytes()
}

async fn next(changes: &mut broadcast::Receiver<Change>, within: Duration) -> Change {
    tokio::time::timeout(within, changes.recv()).await.expect("a change within the time").expect("the feed is open")
}

#[tokio::test]
async fn changes_are_fed_in_order_with_their_modseq() {
    let w = world().await;
    let mut changes = w.mail.subscribe();
    // Let the follower find the end of the log before anything happens.
    tokio::time::sleep(POLL_INTERVAL * 2).await;
    w.mail.deliver(&[w.ana], message(1)).await.unwrap();
    w.mail.deliver(&[w.ana], message(2)).await.unwrap();
    w.mail.set_flags(w.ana, w.inbox, &[1, 2], FlagOp::Add, Flags::DELETED, &[]).await.unwrap();
    assert_eq!(w.mail.expunge(w.ana, w.inbox, Some(&[2])).await.unwrap(), vec![2]);
    let mut got = Vec::new();
    for _ in 0..5 {
        let change = next(&mut changes, Duration::from_secs(5)).await;
        assert_eq!((change.account, change.folder), (w.ana, w.inbox));
        got.push((change.kind, change.uid));
    }
    assert_eq!(
        got,
        [
            (ChangeKind::New, 1),
            (ChangeKind::New, 2),
            (ChangeKind::Flags, 1),
            (ChangeKind::Flags, 2),
            (ChangeKind::Expunged, 2)
        ]
    );
}

/// A change made by another process (it shares only the database file) reaches subscribers
/// within a second.
#[tokio::test]
async fn a_change_made_by_another_process_reaches_subscribers_within_a_second() {
    let w = world().await;
    let mut changes = w.mail.subscribe();
    tokio::time::sleep(POLL_INTERVAL * 2).await;
    w.other_process.deliver(&[w.ana], message(1)).await.unwrap();
    let change = next(&mut changes, Duration::from_secs(1)).await;
    assert_eq!((change.kind, change.uid, change.folder), (ChangeKind::New, 1, w.inbox));
}

/// "What changed since modseq N", expunges included, and a client told to resync once the log
/// no longer reaches back that far.
#[tokio::test]
async fn the_log_answers_what_changed_since_a_modseq() {
    let w = world().await;
    let store = w.mail.store();
    for n in 1..=3 {
        w.mail.deliver(&[w.ana], message(n)).await.unwrap();
    }
    let since = store.folder(w.ana, w.inbox).await.unwrap().unwrap().highest_modseq;
    w.mail.set_flags(w.ana, w.inbox, &[1], FlagOp::Add, Flags::SEEN, &[]).await.unwrap();
    w.mail.set_flags(w.ana, w.inbox, &[3], FlagOp::Add, Flags::DELETED, &[]).await.unwrap();
    w.mail.expunge(w.ana, w.inbox, None).await.unwrap();
    // A STORE that changes nothing does not move the folder.
    let before = store.folder_version(w.ana, w.inbox).await.unwrap();
    w.mail.set_flags(w.ana, w.inbox, &[1], FlagOp::Add, Flags::SEEN, &[]).await.unwrap();
    assert_eq!(store.folder_version(w.ana, w.inbox).await.unwrap(), before);

    let FolderChanges::Since { changed, vanished } = store.folder_changes_since(w.ana, w.inbox, since).await.unwrap()
    else {
        panic!("the log reaches back")
    };
    assert_eq!(changed.iter().map(|m| (m.uid, m.flags)).collect::<Vec<_>>(), [(1, Flags::SEEN)]);
    assert_eq!(vanished, [3]);
    // Another account's folder is not found through this one.
    let bob = store.add_user(&store::parse_address("bob@example.org").unwrap(), "$argon2id$x", None).await.unwrap().id;
    assert!(store.folder_changes_since(bob, w.inbox, since).await.is_err());

    assert!(store.prune_changes(Duration::ZERO).await.unwrap() > 0);
    assert!(matches!(
        store.folder_changes_since(w.ana, w.inbox, since).await.unwrap(),
        FolderChanges::TooOld { horizon } if horizon > since
    ));
}

#[test]
fn what_marks_a_message_seen() {
    for (reading, marks) in [
        (Reading::ImapBody { read_only: false }, true),
        (Reading::ImapBody { read_only: true }, false),
        (Reading::ImapPeek, false),
        (Reading::WebOpen { first_party: true }, true),
        (Reading::WebOpen { first_party: false }, false),
    ] {
        assert_eq!(reading.marks_seen(), marks, "{reading:?}");
    }
}

/// Keywords are capped (issue 12, defect 4): a STORE over a cap changes nothing.
#[tokio::test]
async fn keyword_floods_are_refused() {
    let w = world().await;
    w.mail.deliver(&[w.ana], message(1)).await.unwrap();
    let many: Vec<String> = (0..5000).map(|n| format!("$k{n}")).collect();
    let refused = w.mail.set_flags(w.ana, w.inbox, &[1], FlagOp::Add, Flags::empty(), &many).await;
    assert!(matches!(refused, Err(Error::Limit(_))), "{refused:?}");
    let fine: Vec<String> = (0..10).map(|n| format!("$k{n}")).collect();
    let states = w.mail.set_flags(w.ana, w.inbox, &[1], FlagOp::Add, Flags::empty(), &fine).await.unwrap();
    assert_eq!(states[0].keywords.len(), 10);
    // Over the account's cap, 60 new keywords at a time.
    let mut last = Ok(Vec::new());
    for round in 0..20 {
        let batch: Vec<String> = (0..60).map(|n| format!("$r{round}x{n}")).collect();
        last = w.mail.set_flags(w.ana, w.inbox, &[1], FlagOp::Replace, Flags::empty(), &batch).await;
        if last.is_err() {
            break;
        }
    }
    assert!(matches!(last, Err(Error::Limit(_))), "{last:?}");
}

#[tokio::test]
async fn trash_forgets_what_it_held_longer_than_the_days_kept() {
    let w = world().await;
    let store = w.mail.store();
    let trash = store.special_folder(w.ana, SpecialUse::Trash).await.expect("trash").id;
    for n in 1..=3 {
        w.mail.deliver(&[w.ana], message(n)).await.expect("delivered");
    }
    // Two moved to Trash now; one stays in the Inbox, however old it is.
    w.mail.move_messages(w.ana, w.inbox, &[1, 2], trash).await.expect("moved");
    assert_eq!(w.mail.purge_trash(30).await.expect("purged"), 0, "filed just now");
    // A day from now counts from when they went to Trash, not from their arrival.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut changes = w.mail.subscribe();
    assert_eq!(w.mail.purge_trash(0).await.expect("purged"), 2);
    assert!(store.messages(w.ana, trash).await.expect("trash").is_empty());
    assert_eq!(store.messages(w.ana, w.inbox).await.expect("inbox").len(), 1);
    // The expunges are in the feed, so IMAP sessions and open pages hear of them.
    let change = next(&mut changes, Duration::from_secs(2)).await;
    assert_eq!(change.folder, trash);
}

#[tokio::test]
async fn a_folder_deleted_into_trash_is_purged_counting_from_its_deletion() {
    let w = world().await;
    let store = w.mail.store();
    let trash = store.special_folder(w.ana, SpecialUse::Trash).await.expect("trash").id;
    for n in 1..=3 {
        w.mail.deliver(&[w.ana], message(n)).await.expect("delivered");
    }
    let old = w.mail.create_folder(w.ana, "Old", true).await.expect("created").id;
    let inner = w.mail.create_folder(w.ana, "Old/Inner", true).await.expect("created").id;
    w.mail.move_messages(w.ana, w.inbox, &[1], trash).await.expect("moved");
    w.mail.move_messages(w.ana, w.inbox, &[2], old).await.expect("moved");
    w.mail.move_messages(w.ana, w.inbox, &[3], inner).await.expect("moved");
    let unix_now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let cutoff = unix_now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.mail.delete_folder(w.ana, "Old").await.expect("deleted into Trash");
    // Filed in Trash before the cutoff: only the message moved there; the folder's messages
    // were filed elsewhere before it, but have been in Trash only since their folder's deletion.
    assert_eq!(w.mail.purge_trash_filed_before(cutoff).await.expect("purged"), 1);
    assert!(store.messages(w.ana, trash).await.expect("trash").is_empty());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Later, the subfolders' messages go too.
    assert_eq!(w.mail.purge_trash(0).await.expect("purged"), 2);
    for name in ["Trash/Old", "Trash/Old/Inner"] {
        let folder = store.folder_by_name(w.ana, name).await.expect("read").expect("the folder stays");
        assert!(store.messages(w.ana, folder.id).await.expect("messages").is_empty(), "{name}");
    }
}
