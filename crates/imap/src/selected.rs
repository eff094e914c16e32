//! The selected folder as this session knows it: a snapshot of UIDs and flags, sequence-set
//! resolution against it, and the diff that tells the client what changed elsewhere.
//!
//! IMAP numbers messages two ways (RFC 9051 §2.3.1): UIDs are stable, sequence numbers are
//! positions in the session's view and shift when messages go away. Mixing the two is a
//! classic bug, hence the [`Uid`] and [`SeqNum`] newtypes. The snapshot only changes when the
//! session tells the client (EXISTS, EXPUNGE, FETCH FLAGS), so sequence numbers stay in step
//! with what the client believes (RFC 9051 §7.5.1: no EXPUNGE while a FETCH/STORE runs).

use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

use std::collections::BTreeSet;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::response::Response;
use store::{BlobRef, Flags, Folder, FolderVersion, MessageState};

/// A message's unique identifier in its folder (RFC 9051 §2.3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Uid(pub(crate) u32);

/// A message's 1-based position in the session's view (RFC 9051 §2.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SeqNum(pub(crate) u32);

impl SeqNum {
    pub(crate) fn from_index(index: usize) -> SeqNum {
        SeqNum(index as u32 + 1)
    }
}

/// Whether a command's numbers are sequence numbers or UIDs (`UID FETCH` vs `FETCH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Addressing {
    Sequence,
    Uid,
}

/// What the session last told the client about one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownMessage {
    pub(crate) uid: Uid,
    pub(crate) flags: Flags,
    pub(crate) keywords: Vec<String>,
    /// The folder's modseq when the message last changed (RFC 7162).
    pub(crate) modseq: u64,
    /// These two never change: FETCH answers them from here.
    pub(crate) size: u32,
    pub(crate) internal_date: i64,
    /// Its blob, so FETCH can take the facts from the store's cache without reading the row
    /// (`None` only in tests that build snapshots by hand).
    pub(crate) blob: Option<BlobRef>,
}

impl KnownMessage {
    pub(crate) fn from_state(state: &MessageState, blob: Option<BlobRef>) -> KnownMessage {
        KnownMessage {
            uid: Uid(state.uid),
            flags: state.flags,
            keywords: state.keywords.clone(),
            modseq: state.modseq,
            size: state.size,
            internal_date: state.internal_date,
            blob,
        }
    }
}

/// Whether the folder was opened with SELECT or EXAMINE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    ReadWrite,
    /// RFC 9051 §6.3.3: EXAMINE, no flag may change (not even \Seen by FETCH).
    ReadOnly,
}

/// The selected folder and the session's view of it.
#[derive(Debug, Clone)]
pub(crate) struct Selected {
    pub(crate) folder: Folder,
    pub(crate) access: Access,
    /// In UID order; index + 1 is the sequence number.
    pub(crate) messages: Vec<KnownMessage>,
    /// The folder's version when `messages` was last compared with it: while it has not
    /// moved, nothing changed and NOOP need not read the folder.
    pub(crate) version: FolderVersion,
    /// The keywords the last FLAGS response named (RFC 9051 §7.3.5): a FETCH may show no
    /// other, so a new one means FLAGS again first.
    pub(crate) keywords: BTreeSet<String>,
    /// The UIDs that are \Recent in this session (RFC 3501 §2.3.2): the ranges it claimed,
    /// at SELECT and as new mail came (`Store::recent_from`).
    pub(crate) recent: Vec<Range<u32>>,
}

/// One thing to tell the client after comparing the snapshot with the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Expunge(SeqNum, Uid),
    Flags(SeqNum, KnownMessage),
    Exists(u32),
}

impl Selected {
    /// A snapshot of `folder` holding `messages`, the keywords they carry announced.
    pub(crate) fn new(folder: Folder, access: Access, messages: Vec<KnownMessage>, version: FolderVersion) -> Selected {
        let keywords = messages.iter().flat_map(|m| m.keywords.iter().cloned()).collect();
        Selected { folder, access, messages, version, keywords, recent: Vec::new() }
    }

    /// The folder's HIGHESTMODSEQ as far as the client has been shown (RFC 7162 §3.1.2.1).
    pub(crate) fn highest_modseq(&self) -> u64 {
        self.messages.iter().map(|m| m.modseq).max().unwrap_or(0).max(self.version.highest_modseq)
    }

    pub(crate) fn is_recent(&self, uid: Uid) -> bool {
        self.recent.iter().any(|range| range.contains(&uid.0))
    }

    /// How many messages of the snapshot are \Recent.
    pub(crate) fn n_recent(&self) -> usize {
        let below = |uid: u32| self.messages.partition_point(|m| m.uid.0 < uid);
        self.recent.iter().filter(|range| !range.is_empty()).map(|range| below(range.end) - below(range.start)).sum()
    }

    /// The UIDs below this were shown to the client, with their \Recent status settled.
    pub(crate) fn recent_settled_below(&self) -> u32 {
        self.recent.iter().map(|range| range.end).max().unwrap_or(0)
    }

    /// The FLAGS and PERMANENTFLAGS responses (RFC 9051 §7.3.5, §7.1): the system flags and
    /// the keywords announced; in a folder opened read-write, any keyword can be made (`\*`).
    pub(crate) fn write_flags(&self, response: &mut Response) {
        let keywords: String = self.keywords.iter().map(|keyword| format!(" {keyword}")).collect();
        response.untagged(&format!("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft{keywords})"));
        let permanent = match self.access {
            Access::ReadWrite => format!("\\Answered \\Flagged \\Deleted \\Seen \\Draft{keywords} \\*"),
            Access::ReadOnly => String::new(),
        };
        response.status_line("*", "OK", Some(&format!("PERMANENTFLAGS ({permanent})")), "Flags that can be kept");
    }

    /// Writes FLAGS again when one of `keywords` was not announced yet, before a response
    /// shows it.
    pub(crate) fn announce_keywords<'a>(
        &mut self,
        keywords: impl IntoIterator<Item = &'a String>,
        response: &mut Response,
    ) {
        let mut new = false;
        for keyword in keywords {
            if !self.keywords.contains(keyword) {
                self.keywords.insert(keyword.clone());
                new = true;
            }
        }
        if new {
            self.write_flags(response);
        }
    }

    /// [`Selected::announce_keywords`] for the snapshot's own messages, after a refresh.
    pub(crate) fn announce_own_keywords(&mut self, response: &mut Response) {
        let new: Vec<String> = self
            .messages
            .iter()
            .flat_map(|message| message.keywords.iter())
            .filter(|keyword| !self.keywords.contains(*keyword))
            .cloned()
            .collect();
        self.announce_keywords(&new, response);
    }

    pub(crate) fn index_of(&self, uid: Uid) -> Option<usize> {
        self.messages.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    /// The snapshot indexes a sequence set names, ascending and without duplicates.
    ///
    /// RFC 9051 §6.4.8/§9: `*` is the last message; ranges may be written either way round.
    /// A sequence number past the end is a client error (BAD); UIDs that do not exist are
    /// ignored, and `n:*` always includes the last message even when n is above every UID.
    ///
    /// The set is first turned into index ranges, which are sorted and merged, so each index is
    /// produced once: `1:*,1:*,...` repeated costs one range per element, never one entry per
    /// message per element (a 64 KiB command line would otherwise make gigabytes).
    pub(crate) fn resolve(&self, set: &SequenceSet, addressing: Addressing) -> Result<Vec<usize>> {
        let n_messages = self.messages.len();
        // Half-open ranges of snapshot indexes.
        let mut ranges: Vec<(usize, usize)> = Vec::with_capacity(set.0.as_ref().len());
        for sequence in set.0.as_ref() {
            match addressing {
                Addressing::Sequence => {
                    let resolve = |value: &SeqOrUid| -> u32 {
                        match value {
                            SeqOrUid::Value(n) => n.get(),
                            SeqOrUid::Asterisk => n_messages as u32,
                        }
                    };
                    let (low, high) = match sequence {
                        Sequence::Single(value) => (resolve(value), resolve(value)),
                        Sequence::Range(a, b) => {
                            let (a, b) = (resolve(a), resolve(b));
                            (a.min(b), a.max(b))
                        }
                    };
                    if low == 0 || high as usize > n_messages {
                        return Err(Error::bad("Invalid message sequence number (no such message)"));
                    }
                    ranges.push(((low - 1) as usize, high as usize));
                }
                Addressing::Uid => {
                    let Some(last) = self.messages.last() else { continue };
                    let resolve = |value: &SeqOrUid| -> u32 {
                        match value {
                            SeqOrUid::Value(n) => n.get(),
                            SeqOrUid::Asterisk => last.uid.0,
                        }
                    };
                    let (low, high) = match sequence {
                        Sequence::Single(value) => (resolve(value), resolve(value)),
                        Sequence::Range(a, b) => {
                            let (a, b) = (resolve(a), resolve(b));
                            (a.min(b), a.max(b))
                        }
                    };
                    let start = self.messages.partition_point(|m| m.uid.0 < low);
                    let end = self.messages.partition_point(|m| m.uid.0 <= high);
                    if start < end {
                        ranges.push((start, end));
                    }
                }
            }
        }
        ranges.sort_unstable();
        let mut indexes = Vec::new();
        // Everything below `next` has been produced already.
        let mut next = 0;
        for (start, end) in ranges {
            indexes.extend(start.max(next)..end);
            next = next.max(end);
        }
        Ok(indexes)
    }

    /// Brings the snapshot up to date with the folder's current messages and returns what to
    /// tell the client, in an order that keeps sequence numbers right: EXPUNGEs from the
    /// highest number down, then flag changes, then the new EXISTS count (RFC 9051 §7.4.1,
    /// §7.5.1, §7.5.2). `blobs` are those of `current`, in the same order (or none).
    pub(crate) fn refresh(&mut self, current: &[MessageState], blobs: &[BlobRef]) -> Vec<Change> {
        let mut changes = Vec::new();
        // Highest first, so each number is still valid when the client applies it; the
        // snapshot is then compacted once (removing one by one would be quadratic).
        for index in (0..self.messages.len()).rev() {
            let uid = self.messages[index].uid;
            if current.binary_search_by_key(&uid.0, |row| row.uid).is_err() {
                changes.push(Change::Expunge(SeqNum::from_index(index), uid));
            }
        }
        if !changes.is_empty() {
            self.messages.retain(|known| current.binary_search_by_key(&known.uid.0, |row| row.uid).is_ok());
        }
        for (index, known) in self.messages.iter_mut().enumerate() {
            if let Ok(position) = current.binary_search_by_key(&known.uid.0, |row| row.uid) {
                let now = KnownMessage::from_state(&current[position], known.blob.clone());
                if now != *known {
                    *known = now.clone();
                    changes.push(Change::Flags(SeqNum::from_index(index), now));
                }
            }
        }
        let last_uid = self.messages.last().map_or(0, |m| m.uid.0);
        let n_before = self.messages.len();
        let first_new = current.partition_point(|row| row.uid <= last_uid);
        self.messages.extend(
            current[first_new..]
                .iter()
                .enumerate()
                .map(|(n, row)| KnownMessage::from_state(row, blobs.get(first_new + n).cloned())),
        );
        if self.messages.len() != n_before {
            changes.push(Change::Exists(self.messages.len() as u32));
        }
        changes
    }
}

/// Whether a sequence set names `value`; `*` is `largest` (RFC 9051 §9).
pub(crate) fn set_contains(set: &SequenceSet, value: u32, largest: u32) -> bool {
    let resolve = |bound: &SeqOrUid| match bound {
        SeqOrUid::Value(n) => n.get(),
        SeqOrUid::Asterisk => largest,
    };
    set.0.as_ref().iter().any(|sequence| match sequence {
        Sequence::Single(one) => resolve(one) == value,
        Sequence::Range(a, b) => {
            let (a, b) = (resolve(a), resolve(b));
            (a.min(b)..=a.max(b)).contains(&value)
        }
    })
}

#[cfg(test)]
mod tests {
    use store::{AccountId, FolderId};

    use super::*;

    fn folder() -> Folder {
        Folder {
            id: FolderId(1),
            account_id: AccountId(1),
            name: "INBOX".into(),
            parent_id: None,
            special_use: None,
            uidvalidity: 1,
            uidnext: 100,
            highest_modseq: 1,
            subscribed: true,
            n_messages: 0,
            n_unseen: 0,
            size_bytes: 0,
        }
    }

    fn selected(uids: &[u32]) -> Selected {
        Selected::new(
            folder(),
            Access::ReadWrite,
            uids.iter()
                .map(|&uid| KnownMessage {
                    uid: Uid(uid),
                    flags: Flags::empty(),
                    keywords: Vec::new(),
                    modseq: 1,
                    size: 100,
                    internal_date: 0,
                    blob: None,
                })
                .collect(),
            FolderVersion { highest_modseq: 1, uidnext: 100 },
        )
    }

    fn set(text: &str) -> SequenceSet {
        SequenceSet::try_from(text).expect("valid sequence set in test")
    }

    #[test]
    fn sequence_numbers() {
        let view = selected(&[3, 7, 9, 20, 21]);
        for (text, want) in [
            ("1", vec![0]),
            ("*", vec![4]),
            ("2:4", vec![1, 2, 3]),
            ("4:2", vec![1, 2, 3]),
            ("3:*", vec![2, 3, 4]),
            ("*:3", vec![2, 3, 4]),
            ("1,5,1:2", vec![0, 1, 4]),
        ] {
            assert_eq!(view.resolve(&set(text), Addressing::Sequence).unwrap(), want, "{text}");
        }
        for text in ["6", "1:6", "4,9"] {
            assert!(matches!(view.resolve(&set(text), Addressing::Sequence), Err(Error::Bad(_))), "{text}");
        }
        assert!(selected(&[]).resolve(&set("1:*"), Addressing::Sequence).is_err());
    }

    #[test]
    fn uids() {
        let view = selected(&[3, 7, 9, 20, 21]);
        for (text, want) in [
            ("3", vec![0]),
            ("4", vec![]),
            ("*", vec![4]),
            ("7:20", vec![1, 2, 3]),
            ("20:7", vec![1, 2, 3]),
            ("1:*", vec![0, 1, 2, 3, 4]),
            // RFC 9051 §6.4.9: 559:* includes the last message even above every UID.
            ("500:*", vec![4]),
            ("1:4,9", vec![0, 2]),
        ] {
            assert_eq!(view.resolve(&set(text), Addressing::Uid).unwrap(), want, "{text}");
        }
        assert_eq!(selected(&[]).resolve(&set("1:*"), Addressing::Uid).unwrap(), Vec::<usize>::new());
    }

    /// Review finding: `STORE 1:*,1:*,...` expanded every element before deduplicating
    /// (778 MB for 15,000 elements on 2,000 messages). The result must stay exact.
    #[test]
    fn a_large_repeated_set_resolves_to_each_message_once() {
        let uids: Vec<u32> = (1..=2000).map(|n| n * 2).collect();
        let view = selected(&uids);
        let everything: Vec<usize> = (0..2000).collect();
        let repeated = vec!["1:*"; 15_000].join(",");
        assert_eq!(view.resolve(&set(&repeated), Addressing::Sequence).unwrap(), everything);
        assert_eq!(view.resolve(&set(&repeated), Addressing::Uid).unwrap(), everything);
        // Overlapping, reversed and nested ranges in any order.
        let mixed = ["1500:2000", "10:1", "5", "1999:1000", "2000", "3:7", "*:1998", "1200:1300", "2:2", "1000:11"]
            .repeat(1000)
            .join(",");
        assert_eq!(view.resolve(&set(&mixed), Addressing::Sequence).unwrap(), everything);
        let gaps = ["10:20", "15:25", "100", "30:*", "1"].repeat(3000).join(",");
        let want: Vec<usize> = [0].into_iter().chain(9..25).chain(29..2000).collect();
        assert_eq!(view.resolve(&set(&gaps), Addressing::Sequence).unwrap(), want);
        // UIDs 21:50 are the even ones from 22 to 50: indexes 10 to 24.
        let uid_gaps = ["21:50", "41:31", "9999:*", "3"].repeat(3000).join(",");
        let want: Vec<usize> = (10..25).chain([1999]).collect();
        assert_eq!(view.resolve(&set(&uid_gaps), Addressing::Uid).unwrap(), want);
    }

    fn row(uid: u32, flags: Flags) -> MessageState {
        MessageState { uid, flags, keywords: Vec::new(), modseq: 1, size: 100, internal_date: 0 }
    }

    #[test]
    fn refresh_reports_expunges_flags_and_new_messages() {
        let mut view = selected(&[3, 7, 9, 20]);
        let current = [row(3, Flags::empty()), row(9, Flags::SEEN), row(21, Flags::empty()), row(22, Flags::empty())];
        let changes = view.refresh(&current, &[]);
        assert_eq!(
            changes,
            vec![
                Change::Expunge(SeqNum(4), Uid(20)),
                Change::Expunge(SeqNum(2), Uid(7)),
                Change::Flags(
                    SeqNum(2),
                    KnownMessage {
                        uid: Uid(9),
                        flags: Flags::SEEN,
                        keywords: vec![],
                        modseq: 1,
                        size: 100,
                        internal_date: 0,
                        blob: None
                    }
                ),
                Change::Exists(4),
            ]
        );
        assert_eq!(view.messages.iter().map(|m| m.uid.0).collect::<Vec<_>>(), vec![3, 9, 21, 22]);
        assert_eq!(view.refresh(&current, &[]), vec![]);
    }
}
