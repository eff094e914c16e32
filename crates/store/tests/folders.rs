//! Folders created, renamed, deleted and subscribed, and messages copied and moved, against a
//! real SQLite file (issue 13; D1, D2, D4).

use store::{AccountId, Error, Flags, FolderDeletion, Store, parse_address};

async fn store_with_ana() -> (tempfile::TempDir, Store, AccountId) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    store.add_domain("example.org").await.unwrap();
    let ana = store.add_user(&parse_address("ana@example.org").unwrap(), "$argon2id$not-a-real-hash", None).await;
    (dir, store, ana.unwrap().id)
}

async fn names(store: &Store, account: AccountId) -> Vec<String> {
    store.folders(account).await.unwrap().into_iter().map(|f| f.name).collect()
}

#[tokio::test]
async fn folders_are_created_with_their_parents_and_named_by_the_rules() {
    let (_dir, store, ana) = store_with_ana().await;
    let made = store.create_folder(ana, "Projects/2026/Facteur/", true).await.unwrap();
    assert_eq!(made.name, "Projects/2026/Facteur");
    let all = store.folders(ana).await.unwrap();
    let parent = all.iter().find(|f| f.name == "Projects/2026").expect("parent created");
    assert_eq!(made.parent_id, Some(parent.id));
    assert!(made.subscribed && parent.subscribed);
    // Unsubscribed on request (IMAP CREATE), the parents it makes too.
    let quiet = store.create_folder(ana, "Quiet/Inner", false).await.unwrap();
    let all = store.folders(ana).await.unwrap();
    assert!(!quiet.subscribed && !all.iter().find(|f| f.name == "Quiet").expect("parent").subscribed);
    // A child of INBOX is fine, in any spelling of INBOX.
    assert_eq!(store.create_folder(ana, "inbox/Later", true).await.unwrap().name, "INBOX/Later");
    for (name, refused) in [
        ("Projects/2026", "exists"),
        ("INBOX", "exists"),
        ("", "invalid"),
        ("/lead", "invalid"),
        ("a//b", "invalid"),
        ("star*", "invalid"),
        ("per%cent", "invalid"),
        ("tab\there", "invalid"),
        ("x/../y", "invalid"),
        ("Sent/2026", "refused"),
        ("Spam/maybe", "refused"),
    ] {
        let got = store.create_folder(ana, name, true).await;
        let ok = match refused {
            "exists" => matches!(got, Err(Error::Exists(_))),
            "invalid" => matches!(got, Err(Error::Invalid { .. })),
            _ => matches!(got, Err(Error::Refused(_))),
        };
        assert!(ok, "{name:?}: {got:?}");
    }
    let deep = vec!["d"; store::MAX_FOLDER_DEPTH + 1].join("/");
    assert!(matches!(store.create_folder(ana, &deep, true).await, Err(Error::Invalid { .. })));
    let long = "x".repeat(store::MAX_FOLDER_NAME_BYTES + 1);
    assert!(matches!(store.create_folder(ana, &long, true).await, Err(Error::Invalid { .. })));
    // Accents and other scripts are names like any other.
    assert_eq!(store.create_folder(ana, "Été/日本", true).await.unwrap().name, "Été/日本");
}

#[tokio::test]
async fn a_recreated_folder_has_a_new_id_and_a_larger_uidvalidity() {
    let (_dir, store, ana) = store_with_ana().await;
    let first = store.create_folder(ana, "Trash/Old", true).await.unwrap();
    store.delete_folder(ana, "Trash/Old").await.unwrap();
    let second = store.create_folder(ana, "Trash/Old", true).await.unwrap();
    assert!(second.id.0 > first.id.0, "{:?} then {:?}", first.id, second.id);
    assert!(second.uidvalidity > first.uidvalidity, "{} then {}", first.uidvalidity, second.uidvalidity);
}

#[tokio::test]
async fn renaming_moves_the_subtree_and_keeps_mail_and_uidvalidity() {
    let (_dir, store, ana) = store_with_ana().await;
    let projects = store.create_folder(ana, "Projects/Old", true).await.unwrap();
    store.create_folder(ana, "Projects/Old/Sub", true).await.unwrap();
    store.append(ana, projects.id, b"Subject: a\r\n\r\nbody\r\n".to_vec(), Flags::empty(), &[], None).await.unwrap();
    store.rename_folder(ana, "Projects/Old", "Archive/2026").await.unwrap();
    let names = names(&store, ana).await;
    for name in ["Archive", "Archive/2026", "Archive/2026/Sub", "Projects"] {
        assert!(names.contains(&name.to_string()), "{name}: {names:?}");
    }
    assert!(!names.iter().any(|n| n.starts_with("Projects/")), "{names:?}");
    let moved = store.folder_by_name(ana, "Archive/2026").await.unwrap().unwrap();
    assert_eq!((moved.id, moved.uidvalidity, moved.n_messages), (projects.id, projects.uidvalidity, 1));
    let archive = store.folder_by_name(ana, "Archive").await.unwrap().unwrap();
    assert_eq!(moved.parent_id, Some(archive.id));
    for (from, to) in [("INBOX", "Mail"), ("Sent", "Sent2"), ("Archive", "Archive/2026/x"), ("Archive", "Projects")] {
        let got = store.rename_folder(ana, from, to).await;
        assert!(matches!(got, Err(Error::Refused(_) | Error::Exists(_))), "{from} -> {to}: {got:?}");
    }
    assert!(matches!(store.rename_folder(ana, "Nowhere", "Else").await, Err(Error::NotFound(_))));
    assert!(matches!(store.rename_folder(ana, "Archive", "Sent/Archive").await, Err(Error::Refused(_))));
    // Paths are cut by characters, not bytes: accents on both sides, a subfolder below.
    store.create_folder(ana, "Été/Août/Sous", true).await.unwrap();
    store.create_folder(ana, "Étés", true).await.unwrap();
    store.rename_folder(ana, "Été", "Réunions/日本").await.unwrap();
    let renamed = self::names(&store, ana).await;
    for name in ["Réunions/日本", "Réunions/日本/Août", "Réunions/日本/Août/Sous", "Étés"] {
        assert!(renamed.contains(&name.to_string()), "{name}: {renamed:?}");
    }
    assert!(!renamed.iter().any(|n| n.starts_with("Été/")), "{renamed:?}");
    assert!(store.has_subfolders(ana, "Réunions/日本").await.unwrap());
    assert!(!store.has_subfolders(ana, "Étés").await.unwrap(), "a longer name is not a subfolder");
}

#[tokio::test]
async fn deleting_moves_to_trash_and_deleting_in_trash_removes() {
    let (_dir, store, ana) = store_with_ana().await;
    let old = store.create_folder(ana, "Old", true).await.unwrap();
    store.create_folder(ana, "Old/Sub", true).await.unwrap();
    store.append(ana, old.id, b"Subject: a\r\n\r\nbody\r\n".to_vec(), Flags::empty(), &[], None).await.unwrap();
    store.create_folder(ana, "Trash/Old", true).await.unwrap();
    // "Trash/Old" is taken: the deleted folder becomes "Trash/Old (2)", with its subfolder.
    assert_eq!(store.delete_folder(ana, "Old").await.unwrap(), FolderDeletion::MovedTo("Trash/Old (2)".into()));
    let names = names(&store, ana).await;
    assert!(names.contains(&"Trash/Old (2)/Sub".to_string()), "{names:?}");
    assert!(!names.contains(&"Old".to_string()), "{names:?}");
    let used = store.used_bytes(ana).await.unwrap();
    assert!(used > 0);
    assert_eq!(store.delete_folder(ana, "Trash/Old (2)").await.unwrap(), FolderDeletion::Removed { messages: 1 });
    assert_eq!(store.used_bytes(ana).await.unwrap(), 0);
    assert!(!names_contain(&store, ana, "Trash/Old (2)/Sub").await);
    for system in ["INBOX", "Trash", "Sent", "Drafts", "Templates", "Spam"] {
        assert!(matches!(store.delete_folder(ana, system).await, Err(Error::Refused(_))), "{system}");
    }
    assert!(matches!(store.delete_folder(ana, "Nowhere").await, Err(Error::NotFound(_))));
}

async fn names_contain(store: &Store, account: AccountId, name: &str) -> bool {
    names(store, account).await.iter().any(|n| n == name)
}

#[tokio::test]
async fn subscriptions_are_kept_per_folder() {
    let (_dir, store, ana) = store_with_ana().await;
    store.create_folder(ana, "News", true).await.unwrap();
    store.set_subscribed(ana, "News", false).await.unwrap();
    assert!(!store.folder_by_name(ana, "News").await.unwrap().unwrap().subscribed);
    store.set_subscribed(ana, "News", true).await.unwrap();
    assert!(store.folder_by_name(ana, "News").await.unwrap().unwrap().subscribed);
    assert!(matches!(store.set_subscribed(ana, "Nowhere", true).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn copies_and_moves_map_uids_in_order_and_keep_counts_and_the_log() {
    let (_dir, store, ana) = store_with_ana().await;
    let inbox = store.folder_by_name(ana, "INBOX").await.unwrap().unwrap();
    let target = store.create_folder(ana, "Target", true).await.unwrap();
    for n in 0..5 {
        let flags = if n % 2 == 0 { Flags::SEEN } else { Flags::empty() };
        let raw = format!("Subject: {n}\r\n\r\nbody {n}\r\n").into_bytes();
        store.append(ana, inbox.id, raw, flags, &[format!("$tag{n}")], None).await.unwrap();
    }
    let before = store.last_change_id().await.unwrap();
    // UIDs 2, 4 and a missing 9: two copies, in source order.
    let (uidvalidity, mapping) = store.copy_messages(ana, inbox.id, &[4, 2, 9], target.id, false).await.unwrap();
    assert_eq!(uidvalidity, target.uidvalidity);
    assert_eq!(mapping, vec![(2, 1), (4, 2)]);
    let copied = store.message_states(ana, target.id).await.unwrap();
    assert_eq!(
        copied.iter().map(|m| (m.uid, m.keywords.clone())).collect::<Vec<_>>(),
        vec![(1, vec!["$tag1".to_string()]), (2, vec!["$tag3".to_string()])]
    );
    // Move 1, 3 and 5 on top: UIDs continue.
    let (_, mapping) = store.copy_messages(ana, inbox.id, &[1, 3, 5], target.id, true).await.unwrap();
    assert_eq!(mapping, vec![(1, 3), (3, 4), (5, 5)]);
    let inbox_now = store.folder(ana, inbox.id).await.unwrap().unwrap();
    let target_now = store.folder(ana, target.id).await.unwrap().unwrap();
    assert_eq!((inbox_now.n_messages, inbox_now.n_unseen), (2, 2));
    assert_eq!((target_now.n_messages, target_now.n_unseen, target_now.uidnext), (5, 2, 6));
    let log = store.changes_after(before, 100).await.unwrap();
    let new_in_target = log.iter().filter(|c| c.folder == target.id && c.kind == store::ChangeKind::New).count();
    let gone = log.iter().filter(|c| c.folder == inbox.id && c.kind == store::ChangeKind::Expunged).count();
    assert_eq!((new_in_target, gone), (5, 3));
    // The blob is shared, so a copy costs quota but writes no file; nothing named is a no-op.
    assert_eq!(store.copy_messages(ana, inbox.id, &[1, 3], target.id, true).await.unwrap().1, vec![]);
    let bob = store.add_user(&parse_address("bob@example.org").unwrap(), "$argon2id$x", None).await.unwrap();
    assert!(matches!(store.copy_messages(bob.id, inbox.id, &[2], target.id, false).await, Err(Error::NotFound(_))));
    let bob_inbox = store.folder_by_name(bob.id, "INBOX").await.unwrap().unwrap();
    assert!(matches!(store.copy_messages(ana, inbox.id, &[2], bob_inbox.id, true).await, Err(Error::NotFound(_))));
    assert_eq!(store.message_states(ana, inbox.id).await.unwrap().len(), 2, "nothing moved to bob");
}

#[tokio::test]
async fn a_copy_over_quota_copies_nothing_and_a_move_needs_no_room() {
    let (_dir, store, _) = store_with_ana().await;
    let carol = store.add_user(&parse_address("carol@example.org").unwrap(), "$argon2id$x", Some(1)).await.unwrap();
    let inbox = store.folder_by_name(carol.id, "INBOX").await.unwrap().unwrap();
    let target = store.create_folder(carol.id, "Target", true).await.unwrap();
    let mut raw = b"Subject: big\r\n\r\n".to_vec();
    raw.resize(700 * 1024, b'x');
    store.append(carol.id, inbox.id, raw, Flags::empty(), &[], None).await.unwrap();
    let got = store.copy_messages(carol.id, inbox.id, &[1], target.id, false).await;
    assert!(matches!(got, Err(Error::QuotaExceeded)), "{got:?}");
    assert_eq!(store.folder(carol.id, target.id).await.unwrap().unwrap().n_messages, 0);
    assert_eq!(store.copy_messages(carol.id, inbox.id, &[1], target.id, true).await.unwrap().1, vec![(1, 1)]);
}

/// RFC 9051 §6.3.7: a subscription is a name and outlives its folder, until unsubscribed; a
/// folder made again under the name (or renamed to it) is subscribed again.
#[tokio::test]
async fn a_subscription_outlives_its_folder() {
    let (_dir, store, ana) = store_with_ana().await;
    store.create_folder(ana, "Projects/Old", true).await.unwrap();
    assert_eq!(store.delete_folder(ana, "Projects/Old").await.unwrap(), FolderDeletion::MovedTo("Trash/Old".into()));
    assert_eq!(store.orphan_subscriptions(ana).await.unwrap(), ["Projects/Old"]);
    let all = store.folders(ana).await.unwrap();
    assert!(!all.iter().find(|f| f.name == "Trash/Old").expect("in Trash").subscribed);
    let again = store.create_folder(ana, "Projects/Old", false).await.unwrap();
    assert!(again.subscribed);
    assert!(store.orphan_subscriptions(ana).await.unwrap().is_empty());
    // Removed for good (inside Trash) a subscribed name stays too; renaming a folder to it
    // takes it back.
    store.set_subscribed(ana, "Trash/Old", true).await.unwrap();
    store.delete_folder(ana, "Trash/Old").await.unwrap();
    assert_eq!(store.orphan_subscriptions(ana).await.unwrap(), ["Trash/Old"]);
    store.create_folder(ana, "Elsewhere", false).await.unwrap();
    store.rename_folder(ana, "Elsewhere", "Trash/Old").await.unwrap();
    assert!(store.folders(ana).await.unwrap().iter().any(|f| f.name == "Trash/Old" && f.subscribed));
    // UNSUBSCRIBE of a gone name forgets it; a second time there is nothing to forget.
    store.delete_folder(ana, "Projects/Old").await.unwrap();
    store.set_subscribed(ana, "Projects/Old", false).await.unwrap();
    assert!(store.orphan_subscriptions(ana).await.unwrap().is_empty());
    assert!(matches!(store.set_subscribed(ana, "Projects/Old", false).await, Err(Error::NotFound(_))));
}
