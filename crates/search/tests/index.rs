//! The index against a real store in a temporary folder: built from the stored messages,
//! following appends and expunges, answering the search box's language, never crossing
//! accounts, and narrowing IMAP substring searches without ever losing a match (checked
//! against a brute-force scan of the same text).

use std::collections::HashSet;

use search::{Needle, Progress, Scope, SearchIndex, parse};
use store::{AccountId, FlagOp, Flags, FolderId, SpecialUse, Store};

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    index: SearchIndex,
    ana: AccountId,
    bob: AccountId,
    inbox: FolderId,
}

async fn world() -> World {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("open");
    store.add_domain("example.org").await.expect("domain");
    let user = |local: &str| store::parse_address(&format!("{local}@example.org")).expect("address");
    let ana = store.add_user(&user("ana"), "hash", None).await.expect("ana").id;
    let bob = store.add_user(&user("bob"), "hash", None).await.expect("bob").id;
    let inbox = store.special_folder(ana, SpecialUse::Inbox).await.expect("inbox").id;
    let index = SearchIndex::open(&dir.path().join("search")).expect("index");
    World { _dir: dir, store, index, ana, bob, inbox }
}

fn message(from: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: Ana <ana@example.org>\r\nSubject: {subject}\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

const WITH_ATTACHMENT: &str = "From: compta@example.net\r\nTo: ana@example.org\r\nSubject: Facture de mars\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nCi-joint la facture.\r\n--b\r\nContent-Type: application/pdf; name=\"facture-2026-03.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n";

const MESSAGES: &[(&str, &str, &str)] = &[
    ("José <jose@example.net>", "Été à la plage", "On se voit à la plage, rendez-vous à midi."),
    ("Marie <marie@example.net>", "Rapport annuel", "Voici le rapport annuel de l'association."),
    (
        "Tom <tom@example.com>",
        "Annual report",
        "Please find the annual report attached; see https://example.com/report?id=42.",
    ),
    ("José <jose@example.net>", "Re: Été", "Le café est prêt. Cœur sur vous."),
    ("news@example.com", "Newsletter", "Informations et informatique: tout sur l'information."),
];

async fn append(w: &World, account: AccountId, folder: FolderId, raw: Vec<u8>) -> u32 {
    w.store.append(account, folder, raw, Flags::empty(), &[], None).await.expect("append").0
}

async fn caught_up(w: &World) {
    while w.index.catch_up(&w.store).await.expect("catch up") == Progress::More {}
}

async fn subjects(w: &World, account: AccountId, query: &str, scope: &Scope) -> Vec<String> {
    let query = parse(query).expect("query parses");
    let hits = w.index.search(&w.store, account, &query, scope).await.expect("search");
    let places: Vec<(FolderId, u32)> = hits.iter().map(|hit| (hit.folder, hit.uid)).collect();
    let rows = w.store.rows_at(account, &places).await.expect("rows");
    let mut subjects: Vec<String> = rows.into_iter().map(|row| row.subject).collect();
    subjects.sort();
    subjects
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_box_finds_what_its_language_says() {
    let w = world().await;
    for (from, subject, body) in MESSAGES {
        append(&w, w.ana, w.inbox, message(from, subject, body)).await;
    }
    append(&w, w.ana, w.inbox, WITH_ATTACHMENT.as_bytes().to_vec()).await;
    let archives = w.store.create_folder(w.ana, "Archives", true).await.expect("folder").id;
    append(&w, w.ana, archives, message("Ana <ana@example.org>", "Vieux rapport", "Un ancien rapport.")).await;
    let bob_inbox = w.store.special_folder(w.bob, SpecialUse::Inbox).await.expect("inbox").id;
    append(&w, w.bob, bob_inbox, message("Eve <eve@example.net>", "Rapport secret", "Le rapport de Bob.")).await;
    caught_up(&w).await;
    assert_eq!(w.index.documents(), 8);

    let all = Scope::All;
    // Case and accents do not matter; words are ANDed.
    assert_eq!(subjects(&w, w.ana, "ete", &all).await, ["Re: Été", "Été à la plage"]);
    assert_eq!(subjects(&w, w.ana, "ÉTÉ plage", &all).await, ["Été à la plage"]);
    assert_eq!(subjects(&w, w.ana, "coeur", &all).await, ["Re: Été"]);
    // OR, exclusion, phrases, prefixes.
    assert_eq!(subjects(&w, w.ana, "plage OR newsletter", &all).await, ["Newsletter", "Été à la plage"]);
    assert_eq!(subjects(&w, w.ana, "ete -plage", &all).await, ["Re: Été"]);
    assert_eq!(subjects(&w, w.ana, "\"rapport annuel\"", &all).await, ["Rapport annuel"]);
    assert_eq!(subjects(&w, w.ana, "\"annuel rapport\"", &all).await, Vec::<String>::new());
    assert_eq!(subjects(&w, w.ana, "informat*", &all).await, ["Newsletter"]);
    // Fields.
    assert_eq!(subjects(&w, w.ana, "from:jose@example.net", &all).await, ["Re: Été", "Été à la plage"]);
    assert_eq!(subjects(&w, w.ana, "subject:rapport", &all).await, ["Rapport annuel", "Vieux rapport"]);
    assert_eq!(subjects(&w, w.ana, "has:attachment", &all).await, ["Facture de mars"]);
    assert_eq!(subjects(&w, w.ana, "facture-2026", &all).await, ["Facture de mars"], "attachment names");
    assert_eq!(subjects(&w, w.ana, "folder:archives", &all).await, ["Vieux rapport"]);
    assert_eq!(subjects(&w, w.ana, "example.com/report", &all).await, ["Annual report"]);
    // Dates: the Date: field, else the arrival (the attachment's message has none).
    assert_eq!(
        subjects(&w, w.ana, "after:2026-03-02 before:2026-03-03 subject:rapport", &all).await,
        ["Rapport annuel", "Vieux rapport"]
    );
    assert_eq!(subjects(&w, w.ana, "before:2026-03-02 rapport", &all).await, Vec::<String>::new());
    assert_eq!(subjects(&w, w.ana, "after:2026-03-03", &all).await, ["Facture de mars"]);
    // Scope: one folder.
    assert_eq!(subjects(&w, w.ana, "rapport", &Scope::Folders(vec![archives])).await, ["Vieux rapport"]);
    // Never another account's mail.
    assert_eq!(subjects(&w, w.ana, "secret", &all).await, Vec::<String>::new());
    assert_eq!(subjects(&w, w.bob, "rapport", &all).await, ["Rapport secret"]);

    // Tags are read from the store: tagging costs the index nothing and shows at once.
    let uid = 1;
    w.store
        .store_flags(w.ana, w.inbox, &[uid], FlagOp::Add, Flags::empty(), &["$urgent".to_string()])
        .await
        .expect("tag");
    assert_eq!(subjects(&w, w.ana, "tag:$urgent", &all).await, ["Été à la plage"]);

    // Expunged: gone from the results once the change is applied.
    w.store.store_flags(w.ana, w.inbox, &[uid], FlagOp::Add, Flags::DELETED, &[]).await.expect("flag");
    w.store.expunge(w.ana, w.inbox, None).await.expect("expunge");
    caught_up(&w).await;
    assert_eq!(subjects(&w, w.ana, "plage", &all).await, Vec::<String>::new());
    assert_eq!(w.index.documents(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_resumes_after_a_restart_and_rebuilds_a_broken_one() {
    let w = world().await;
    append(&w, w.ana, w.inbox, message("a@example.net", "Premier", "un")).await;
    caught_up(&w).await;
    let applied = w.index.applied().expect("built");
    let dir = w._dir.path().join("search");
    drop(w.index);
    // Mail arrives while the index is closed.
    w.store
        .append(w.ana, w.inbox, message("a@example.net", "Second", "deux"), Flags::empty(), &[], None)
        .await
        .unwrap();
    let index = SearchIndex::open(&dir).expect("reopen");
    assert_eq!(index.applied(), Some(applied), "resumes where it stood");
    while index.catch_up(&w.store).await.unwrap() == Progress::More {}
    assert_eq!(index.documents(), 2);
    drop(index);

    // A broken index is thrown away and built again.
    std::fs::write(dir.join("meta.json"), b"{ not json").unwrap();
    let index = SearchIndex::open(&dir).expect("reopen a broken one");
    assert_eq!(index.applied(), None);
    while index.catch_up(&w.store).await.unwrap() == Progress::More {}
    assert_eq!(index.documents(), 2);
}

/// Narrowing never loses a message a substring search would match: for many substrings of
/// the messages' texts, every message whose text holds one is among those the index keeps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn narrowing_keeps_every_message_a_scan_would_match() {
    let w = world().await;
    let mut texts = Vec::new();
    for (from, subject, body) in MESSAGES {
        let raw = message(from, subject, body);
        let uid = append(&w, w.ana, w.inbox, raw.clone()).await;
        texts.push((uid, facts::text::searchable(&raw, true)));
    }
    let long_word = "z".repeat(100);
    let raw = message("x@example.net", "Long", &format!("prefix{long_word}suffix"));
    let uid = append(&w, w.ana, w.inbox, raw.clone()).await;
    texts.push((uid, facts::text::searchable(&raw, true)));
    caught_up(&w).await;

    let mut checked = 0;
    for (_, text) in &texts {
        let body = &text.body;
        let bounds: Vec<usize> = body.char_indices().map(|(i, _)| i).collect();
        for (n, &from) in bounds.iter().enumerate().step_by(3) {
            for length in [1, 3, 6, 11] {
                let to = bounds.get(n + length).copied().unwrap_or(body.len());
                let needle = &body[from..to];
                let narrowed = w.index.narrow(w.ana, w.inbox, &[Needle::Body(needle.to_string())]).expect("narrow");
                let Some(narrowed) = narrowed else { continue };
                for (uid, other) in &texts {
                    if other.body.contains(needle) {
                        assert!(narrowed.may_match(*uid), "{needle:?} in message {uid} was ruled out");
                    }
                }
                checked += 1;
            }
        }
        // TEXT also looks in the header fields.
        let from = text.values("from").next().unwrap().to_string();
        let narrowed = w.index.narrow(w.ana, w.inbox, &[Needle::Text(from[1..].to_string())]).unwrap().unwrap();
        assert!(
            texts
                .iter()
                .filter(|(_, t)| t.values("from").any(|v| v.contains(&from[1..])))
                .all(|(uid, _)| narrowed.may_match(*uid))
        );
    }
    assert!(checked > 100);
    // And it does narrow: a word one message has rules the others out.
    let narrowed = w
        .index
        .narrow(w.ana, w.inbox, &[Needle::Body("informatique".into()), Needle::Body("tout sur".into())])
        .unwrap()
        .unwrap();
    let kept: HashSet<u32> = texts.iter().map(|(uid, _)| *uid).filter(|uid| narrowed.may_match(*uid)).collect();
    // The newsletter, and the message with a word too long to index.
    assert_eq!(kept.len(), 2, "{kept:?}");
    // A message not indexed yet is always read.
    let late = append(&w, w.ana, w.inbox, message("l@example.net", "Late", "nothing")).await;
    assert!(narrowed.may_match(late));
}

/// A prefix matches every word that starts so, however many there are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixes_match_every_word_they_start() {
    let w = world().await;
    for n in 0..120 {
        append(&w, w.ana, w.inbox, message("a@example.net", &format!("Numéro {n}"), &format!("bench{n}"))).await;
    }
    caught_up(&w).await;
    let query = parse("bench*").unwrap();
    assert_eq!(w.index.search(&w.store, w.ana, &query, &Scope::All).await.unwrap().len(), 120);
    let narrowed = w.index.narrow(w.ana, w.inbox, &[Needle::Body("nch1".into())]).unwrap().unwrap();
    assert_eq!(narrowed.maybe.len(), 31, "bench1, bench10..19, bench100..119");
    let narrowed = w.index.narrow(w.ana, w.inbox, &[Needle::Body(" bench1".into())]).unwrap().unwrap();
    assert_eq!(narrowed.maybe.len(), 31);
}
