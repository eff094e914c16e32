//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2).
//!
//! What a message's response needs decides what is read, per FETCH:
//! - while the folder's version has not moved and no item marks `\Seen` or needs a parse, no
//!   row is read at all: FLAGS, UID, sizes and dates come from the session's snapshot, the
//!   facts from the store's cache (by the snapshot's blob), `.PEEK` bodies from the file;
//! - otherwise FLAGS, UID, sizes and dates, ENVELOPE, BODY, BODYSTRUCTURE and the whole-message
//!   header sections come from the row and the facts the store keeps (`facts::Facts`, computed
//!   once at delivery): no file is opened, nothing parsed, and the response is built on the
//!   session's task;
//! - `BODY[]`, `BODY[TEXT]`, RFC822 and RFC822.TEXT read the stored bytes and cut them, with
//!   no parse;
//! - only sections by part number (`BODY[1.2]`, `BODY[2.MIME]`...) parse the message again, on a
//!   blocking thread.
//!
//! Responses are streamed: items are written one at a time into the session's output buffer
//! (a parse streams its items over a small channel from its thread), so a FETCH holds at most
//! one message and one item in memory however many it names. An item named twice is answered
//! once, and a FETCH may name at most [`MAX_FETCH_ITEMS`] different items: `FETCH 1 (BODY[]
//! BODY[] ...)` once made the process allocate gigabytes.
//!
//! Body sections without `.PEEK` (and RFC822, RFC822.TEXT) set \Seen on a read-write folder
//! first, and the new flags are included in the response; on an EXAMINEd folder nothing
//! changes.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use facts::{Facts, ParsedMessage};
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::FetchModifier;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Section};
use imap_codec::imap_types::sequence::SequenceSet;
use mail::Reading;
use store::{AccountId, CachedFacts, FactsWanted, FetchRow, Flags, FolderId};

use crate::error::{Code, Error, Result};
use crate::fetch::section::{
    Keep, UnknownCte, binary_bytes, part_numbers, section_bytes, section_label, select_fields,
};
use crate::response::Response;
use crate::selected::{Access, Addressing, KnownMessage, SeqNum, Uid, set_contains};
use crate::session::Session;

/// The most different data items one FETCH may name. Real clients name a dozen at most; the
/// cap bounds the work one command line (up to 64 KiB) can ask for.
pub(crate) const MAX_FETCH_ITEMS: usize = 100;

/// Pieces waiting between a parsing thread and the session: the thread stops when the client
/// is slow to read, so memory stays bounded.
const PIECES_IN_FLIGHT: usize = 2;

/// A literal at least this long is written from where it lies instead of being copied into
/// the response's text.
const LARGE_LITERAL: usize = 16 * 1024;

/// What the items of one FETCH need from each message.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    facts: FactsWanted,
    /// The stored bytes.
    raw: bool,
    /// A fresh parse (sections by part number).
    parse: bool,
}

impl Needs {
    fn of(items: &[MessageDataItemName<'_>]) -> Needs {
        let mut needs = Needs::default();
        for item in items {
            match item {
                MessageDataItemName::Envelope => needs.facts.imap_envelope = true,
                MessageDataItemName::Body => needs.facts.imap_body = true,
                MessageDataItemName::BodyStructure => needs.facts.imap_bodystructure = true,
                MessageDataItemName::Rfc822Header => needs.facts.header = true,
                MessageDataItemName::Rfc822 => needs.raw = true,
                // The text is what follows the header: its length comes from the facts.
                MessageDataItemName::Rfc822Text => {
                    needs.raw = true;
                    needs.facts.header = true;
                }
                // RFC 3516: the whole message as stored, or a part decoded from the parse.
                MessageDataItemName::Binary { section, .. } | MessageDataItemName::BinarySize { section } => {
                    needs.raw = true;
                    needs.parse |= !section.is_empty();
                }
                MessageDataItemName::BodyExt { section, .. } => match section {
                    None => needs.raw = true,
                    Some(Section::Text(None)) => {
                        needs.raw = true;
                        needs.facts.header = true;
                    }
                    Some(
                        Section::Header(None) | Section::HeaderFields(None, _) | Section::HeaderFieldsNot(None, _),
                    ) => needs.facts.header = true,
                    Some(_) => {
                        needs.raw = true;
                        needs.parse = true;
                    }
                },
                _ => {}
            }
        }
        needs
    }
}

impl Session {
    pub(crate) async fn handle_fetch(
        &mut self,
        tag: &str,
        sequence_set: &SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        addressing: Addressing,
        modifiers: Vec<FetchModifier>,
    ) -> Result<Response> {
        let mut changed_since = None;
        let mut vanished = false;
        for modifier in modifiers {
            match modifier {
                FetchModifier::ChangedSince(modseq) => changed_since = Some(modseq.get()),
                FetchModifier::Vanished => vanished = true,
            }
        }
        // RFC 7162 §3.2.6: VANISHED only in UID FETCH with CHANGEDSINCE, once QRESYNC is on.
        if vanished && (!self.qresync || addressing != Addressing::Uid || changed_since.is_none()) {
            return Err(Error::bad("VANISHED needs UID FETCH, CHANGEDSINCE and ENABLE QRESYNC"));
        }
        let items: Vec<MessageDataItemName<'static>> = match items {
            MacroOrMessageDataItemNames::Macro(m) => m.expand().into_iter().map(IntoStatic::into_static).collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(items) => items,
        };
        let mut items = unique(items);
        if items.len() > MAX_FETCH_ITEMS {
            return Err(Error::bad(format!("FETCH names at most {MAX_FETCH_ITEMS} different data items")));
        }
        // RFC 9051 §6.4.9: UID FETCH always returns the UID.
        if addressing == Addressing::Uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        // RFC 7162 §3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE; CHANGEDSINCE returns MODSEQ
        // (§3.1.4.1), and so does a FETCH that sets \Seen once CONDSTORE is on (§3.1); the UID
        // too once QRESYNC is on (§3.2.4), not before (imapclient's live tests check it).
        // RFC 9051 §6.4.5: reading a body without .PEEK (or RFC822, RFC822.TEXT) is reading the
        // message; whether that marks it \Seen is the read policy's call.
        let reads_body = items.iter().any(|item| {
            matches!(
                item,
                MessageDataItemName::BodyExt { peek: false, .. }
                    | MessageDataItemName::Binary { peek: false, .. }
                    | MessageDataItemName::Rfc822
                    | MessageDataItemName::Rfc822Text
            )
        });
        if (changed_since.is_some() || items.contains(&MessageDataItemName::ModSeq))
            && let Some(line) = self.enable_condstore()
        {
            self.write_buffered(line.as_bytes()).await?;
        }
        if changed_since.is_some() || (self.condstore && reads_body) {
            let uid = self.qresync.then_some(MessageDataItemName::Uid);
            for item in uid.into_iter().chain([MessageDataItemName::ModSeq]) {
                if !items.contains(&item) {
                    items.push(item);
                }
            }
        }
        let needs = Needs::of(&items);
        let items: Vec<Item> = items.into_iter().map(Item::new).collect();
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        let indexes = selected.resolve(sequence_set, addressing)?;
        let folder = selected.folder.id;
        let access = selected.access;
        let known_version = selected.version;
        if vanished && let Some(since) = changed_since {
            let uid_limit = selected.folder.uidnext.max(selected.messages.last().map_or(0, |m| m.uid.0 + 1)) - 1;
            if let store::FolderChanges::Since { vanished, .. } =
                self.services.store().folder_changes_since(account, folder, since).await?
            {
                let named: Vec<u32> =
                    vanished.into_iter().filter(|&uid| set_contains(sequence_set, uid, uid_limit)).collect();
                if !named.is_empty() {
                    let line = format!("* VANISHED (EARLIER) {}\r\n", crate::op::copy::uid_set(named.into_iter()));
                    self.write_buffered(line.as_bytes()).await?;
                }
            }
        }
        let mut indexes = indexes;
        if items.iter().all(|item| is_in_snapshot(&item.name) || is_without_rows(&item.name)) {
            // The session's snapshot is the folder as long as the folder's version has not moved
            // (the store's FolderVersion invariant), and a blob's facts never change: answer
            // from the two, reading one row (and the facts the store's cache lacks, and the
            // message files for body sections).
            let version = self.services.store().folder_version(account, folder).await?;
            if version == known_version {
                // Unmoved, the snapshot's modseqs are the folder's.
                if let Some(since) = changed_since {
                    let messages = &self.selected_mut()?.messages;
                    indexes.retain(|&index| messages[index].modseq > since);
                }
                if self.write_from_snapshot(account, folder, &indexes, &items, needs).await? {
                    return Ok(Response::tagged(tag, "OK", None, "FETCH completed"));
                }
            }
        }
        // Only the rows asked for, and only the facts the items need.
        let selected = self.selected_mut()?;
        let uids: Vec<u32> = indexes.iter().map(|&i| selected.messages[i].uid.0).collect();
        let rows = self.services.store().fetch_rows(account, folder, &uids, needs.facts).await?;
        let mut rows: HashMap<u32, FetchRow> = rows.into_iter().map(|row| (row.uid, row)).collect();

        let reading =
            if reads_body { Reading::ImapBody { read_only: access == Access::ReadOnly } } else { Reading::ImapPeek };
        // A set: it is looked up once per fetched message.
        let mut seen_now: HashSet<u32> = HashSet::new();
        if reading.marks_seen() {
            let unseen: Vec<u32> = uids
                .iter()
                .copied()
                .filter(|uid| rows.get(uid).is_some_and(|row| !row.flags.contains(Flags::SEEN)))
                .collect();
            if !unseen.is_empty() {
                let updates = self.services.mail.mark_read(account, folder, &unseen, reading).await?;
                for update in updates {
                    if let Some(row) = rows.get_mut(&update.uid) {
                        row.flags = update.flags;
                        row.keywords = update.keywords;
                        row.modseq = update.modseq;
                    }
                    seen_now.insert(update.uid);
                }
            }
        }
        let wants_flags = items.iter().any(|item| item.name == MessageDataItemName::Flags);
        if wants_flags || !seen_now.is_empty() {
            // The rows may carry keywords another session set since this one's FLAGS: name
            // them first (RFC 9051 §7.3.5).
            let mut flags = Response::default();
            let keywords = rows.values().flat_map(|row| row.keywords.iter());
            self.selected_mut()?.announce_keywords(keywords, &mut flags);
            self.write_buffered(&flags.bytes).await?;
        }
        let items = Arc::new(items);
        let mut any_unknown_cte = false;

        for index in indexes {
            let uid = self.selected_mut()?.messages[index].uid;
            // Expunged by another session since the snapshot: RFC 9051 §7.4.1 forbids an
            // EXPUNGE during FETCH, so the message is skipped; NOOP will report it.
            let Some(row) = rows.remove(&uid.0) else { continue };
            if changed_since.is_some_and(|since| row.modseq <= since) {
                continue;
            }
            let include_flags = wants_flags || seen_now.contains(&uid.0);
            let extra_flags = include_flags && !wants_flags;
            let flags = (row.flags, row.keywords.clone(), row.modseq);
            match self.write_message(SeqNum::from_index(index), row, &items, needs, extra_flags).await? {
                Written::Skipped => continue,
                Written::Sent { unknown_cte } => any_unknown_cte |= unknown_cte,
            }
            if include_flags {
                // The client now knows these flags; NOOP must not report them again.
                let known = &mut self.selected_mut()?.messages[index];
                (known.flags, known.keywords, known.modseq) = flags;
            }
        }
        if any_unknown_cte {
            // RFC 3516 §4.3: the other items and messages went out; the code says why NIL.
            return Ok(Response::tagged(
                tag,
                "NO",
                Some(Code::UnknownCte.as_str()),
                "A part's Content-Transfer-Encoding is unknown",
            ));
        }
        Ok(Response::tagged(tag, "OK", None, "FETCH completed"))
    }

    /// FETCH responses made of what the session knows of each message, facts from the
    /// store's cache and, for body sections, the message files: no message row read. False,
    /// with nothing written, when the snapshot or the store lacks something (a message stored
    /// before its facts): the caller then reads the rows.
    async fn write_from_snapshot(
        &mut self,
        account: AccountId,
        folder: FolderId,
        indexes: &[usize],
        items: &[Item],
        needs: Needs,
    ) -> Result<bool> {
        let not_selected = || Error::Internal("FETCH without a selected folder".into());
        let wanted = needs.facts;
        let mut facts = Vec::new();
        if wanted != FactsWanted::default() || needs.raw {
            let messages = &self.selected().ok_or_else(not_selected)?.messages;
            let mut known = Vec::with_capacity(indexes.len());
            for &index in indexes {
                let message = &messages[index];
                let Some(blob) = &message.blob else { return Ok(false) };
                known.push((message.uid.0, blob));
            }
            if wanted != FactsWanted::default() {
                facts = self.services.store().cached_facts(account, folder, &known, wanted).await?;
                if facts.iter().any(Option::is_none) {
                    return Ok(false);
                }
            }
        }
        if needs.raw {
            self.write_from_files(account, folder, indexes, items, &facts).await?;
            return Ok(true);
        }
        // Built a buffer at a time, written between them.
        let mut next = 0;
        while next < indexes.len() {
            let mut out = Vec::with_capacity(64 * 1024);
            let selected = self.selected().ok_or_else(not_selected)?;
            let messages = &selected.messages;
            while next < indexes.len() && out.len() < 60 * 1024 {
                let index = indexes[next];
                let content = Content {
                    message: MessageView::of_known(&messages[index], selected.is_recent(messages[index].uid)),
                    facts: facts.get(next).and_then(Option::as_deref).map(FactsView::of_cached).unwrap_or_default(),
                    raw: None,
                    parsed: None,
                    unknown_cte: AtomicBool::new(false),
                };
                for (i, item) in items.iter().enumerate() {
                    content.write_item(SeqNum::from_index(index), item, i, items.len(), false, &mut out, None);
                }
                next += 1;
            }
            self.write_buffered(&out).await?;
        }
        Ok(true)
    }

    /// [`Session::write_from_snapshot`] for items that need the message's bytes: one message at
    /// a time, a large literal written from where it lies.
    async fn write_from_files(
        &mut self,
        account: AccountId,
        folder: FolderId,
        indexes: &[usize],
        items: &[Item],
        facts: &[Option<Arc<CachedFacts>>],
    ) -> Result<()> {
        for (n, &index) in indexes.iter().enumerate() {
            // A copy, so the snapshot is not borrowed while writing.
            let known = self.selected_mut()?.messages[index].clone();
            let recent = self.selected_mut()?.is_recent(known.uid);
            let Some(blob) = &known.blob else { continue };
            // Gone means expunged by another session since the version was read: skipped, as
            // RFC 9051 §7.4.1 wants (NOOP will report it).
            let Some(raw) = self.services.store().read_blob(account, folder, known.uid.0, blob).await? else {
                continue;
            };
            let content = Content {
                message: MessageView::of_known(&known, recent),
                facts: facts.get(n).and_then(Option::as_deref).map(FactsView::of_cached).unwrap_or_default(),
                raw: Some(&raw),
                parsed: None,
                unknown_cte: AtomicBool::new(false),
            };
            self.write_content(SeqNum::from_index(index), &content, items, false).await?;
        }
        Ok(())
    }

    /// Writes one message's response: the text and small literals gathered into one write, a
    /// large literal on its own, uncopied.
    async fn write_content(
        &mut self,
        seq: SeqNum,
        content: &Content<'_>,
        items: &[Item],
        extra_flags: bool,
    ) -> Result<()> {
        let mut text = Vec::new();
        let mut pieces = Vec::new();
        for (n, item) in items.iter().enumerate() {
            content.write_item(seq, item, n, items.len(), extra_flags, &mut text, Some(&mut pieces));
            for piece in pieces.drain(..) {
                self.write_buffered(&piece).await?;
            }
        }
        self.write_buffered(&text).await
    }

    /// Writes one `* n FETCH (...)` response; false when the message was expunged (and its
    /// file cleaned up) since its row was read, so it is skipped.
    async fn write_message(
        &mut self,
        seq: SeqNum,
        row: FetchRow,
        items: &Arc<Vec<Item>>,
        needs: Needs,
        extra_flags: bool,
    ) -> Result<Written> {
        let recent = self.selected().is_some_and(|selected| selected.is_recent(Uid(row.uid)));
        let missing_facts = (needs.facts.header && row.header.is_none())
            || (needs.facts.imap_envelope && row.imap_envelope.is_none())
            || (needs.facts.imap_body && row.imap_body.is_none())
            || (needs.facts.imap_bodystructure && row.imap_bodystructure.is_none());
        let raw = if needs.raw || missing_facts {
            let Some(raw) = self.services.store().read_fetched(&row).await? else {
                return Ok(Written::Skipped);
            };
            Some(raw)
        } else {
            None
        };
        if needs.parse || missing_facts {
            // CPU work: a parse runs on a blocking thread, which streams the response's pieces.
            let raw = raw.expect("read above");
            let items = Arc::clone(items);
            let (pieces, mut received) = tokio::sync::mpsc::channel::<Vec<u8>>(PIECES_IN_FLIGHT);
            let builder = tokio::task::spawn_blocking(move || {
                // Facts missing only for messages stored before they existed (backfill pending).
                let facts = missing_facts.then(|| Facts::of(&raw));
                let parsed = needs.parse.then(|| ParsedMessage::parse(&raw));
                let content = Content {
                    message: MessageView::of_row(&row, recent),
                    facts: facts.as_ref().map_or_else(|| FactsView::of_row(&row), FactsView::of_facts),
                    raw: Some(&raw),
                    parsed: parsed.as_ref(),
                    unknown_cte: AtomicBool::new(false),
                };
                // A failed send means the session stopped listening: stop building.
                let _ = content.each_piece(seq, &items, extra_flags, &mut |piece| {
                    pieces.blocking_send(piece.into_owned()).is_ok()
                });
                content.unknown_cte.load(Ordering::Relaxed)
            });
            while let Some(piece) = received.recv().await {
                self.write_buffered(&piece).await?;
            }
            let unknown_cte = builder.await.map_err(|error| Error::Internal(format!("FETCH task failed: {error}")))?;
            Ok(Written::Sent { unknown_cte })
        } else {
            let content = Content {
                message: MessageView::of_row(&row, recent),
                facts: FactsView::of_row(&row),
                raw: raw.as_deref(),
                parsed: None,
                unknown_cte: AtomicBool::new(false),
            };
            self.write_content(seq, &content, items, extra_flags).await?;
            Ok(Written::Sent { unknown_cte: content.unknown_cte.load(Ordering::Relaxed) })
        }
    }
}

/// What became of one message's response.
enum Written {
    /// Expunged meanwhile: nothing was sent.
    Skipped,
    /// Sent; `unknown_cte` when a BINARY item met an encoding it cannot undo (sent as NIL).
    Sent { unknown_cte: bool },
}

/// A data item of a FETCH, with what every message's response repeats worked out once.
#[derive(Debug)]
struct Item {
    name: MessageDataItemName<'static>,
    /// `BODY[section]` for a body section, empty for other items.
    label: String,
}

impl Item {
    fn new(name: MessageDataItemName<'static>) -> Item {
        let label = match &name {
            MessageDataItemName::BodyExt { section, .. } => format!("BODY[{}]", section_label(section.as_ref())),
            MessageDataItemName::Binary { section, .. } => format!("BINARY[{}]", part_numbers(section)),
            MessageDataItemName::BinarySize { section } => format!("BINARY.SIZE[{}]", part_numbers(section)),
            _ => String::new(),
        };
        Item { name, label }
    }
}

/// Items the session's snapshot of the folder can answer.
fn is_in_snapshot(item: &MessageDataItemName<'_>) -> bool {
    matches!(
        item,
        MessageDataItemName::Flags
            | MessageDataItemName::Uid
            | MessageDataItemName::ModSeq
            | MessageDataItemName::Rfc822Size
            | MessageDataItemName::InternalDate
    )
}

/// Items that, with the snapshot, the facts in the store's cache and the message file can
/// answer without reading rows: those that mark nothing \Seen and need no parse.
fn is_without_rows(item: &MessageDataItemName<'_>) -> bool {
    match item {
        MessageDataItemName::Envelope
        | MessageDataItemName::Body
        | MessageDataItemName::BodyStructure
        | MessageDataItemName::Rfc822Header => true,
        MessageDataItemName::BodyExt { section, peek: true, .. } => matches!(
            section,
            None | Some(
                Section::Header(None)
                    | Section::HeaderFields(None, _)
                    | Section::HeaderFieldsNot(None, _)
                    | Section::Text(None)
            )
        ),
        _ => false,
    }
}

/// Each item once, in the order first named.
fn unique(items: Vec<MessageDataItemName<'static>>) -> Vec<MessageDataItemName<'static>> {
    let mut kept: Vec<MessageDataItemName<'static>> = Vec::with_capacity(items.len().min(MAX_FETCH_ITEMS + 1));
    for item in items {
        if !kept.contains(&item) {
            kept.push(item);
            // Past the cap the command is refused anyway: stop comparing.
            if kept.len() > MAX_FETCH_ITEMS {
                break;
            }
        }
    }
    kept
}

/// What FETCH knows of a message without its bytes: from its row, or from the session's
/// snapshot.
#[derive(Clone, Copy)]
struct MessageView<'a> {
    uid: u32,
    flags: Flags,
    keywords: &'a [String],
    modseq: u64,
    size: u32,
    internal_date: i64,
    /// \Recent in this session (the store does not know it).
    recent: bool,
}

impl<'a> MessageView<'a> {
    fn of_row(row: &'a FetchRow, recent: bool) -> MessageView<'a> {
        MessageView {
            uid: row.uid,
            flags: row.flags,
            keywords: &row.keywords,
            recent,
            modseq: row.modseq,
            size: row.size,
            internal_date: row.internal_date,
        }
    }

    fn of_known(known: &'a KnownMessage, recent: bool) -> MessageView<'a> {
        MessageView {
            uid: known.uid.0,
            flags: known.flags,
            keywords: &known.keywords,
            recent,
            modseq: known.modseq,
            size: known.size,
            internal_date: known.internal_date,
        }
    }
}

/// The stored facts of a message, wherever they came from (its row, the store's cache, or
/// computed now for a message stored before they existed); empty where not wanted.
#[derive(Clone, Copy, Default)]
struct FactsView<'a> {
    header: &'a [u8],
    envelope: &'a [u8],
    body: &'a [u8],
    bodystructure: &'a [u8],
}

impl<'a> FactsView<'a> {
    fn of_row(row: &'a FetchRow) -> FactsView<'a> {
        FactsView {
            header: row.header.as_deref().unwrap_or_default(),
            envelope: row.imap_envelope.as_deref().unwrap_or_default(),
            body: row.imap_body.as_deref().unwrap_or_default(),
            bodystructure: row.imap_bodystructure.as_deref().unwrap_or_default(),
        }
    }

    fn of_facts(facts: &'a Facts) -> FactsView<'a> {
        FactsView {
            header: &facts.header,
            envelope: &facts.imap_envelope,
            body: &facts.imap_body,
            bodystructure: &facts.imap_bodystructure,
        }
    }

    fn of_cached(facts: &'a CachedFacts) -> FactsView<'a> {
        FactsView {
            header: facts.header.as_deref().unwrap_or_default(),
            envelope: facts.imap_envelope.as_deref().unwrap_or_default(),
            body: facts.imap_body.as_deref().unwrap_or_default(),
            bodystructure: facts.imap_bodystructure.as_deref().unwrap_or_default(),
        }
    }
}

/// What one message's response is made from: what is known of it, its facts, its bytes when
/// needed, and a parse for part sections.
struct Content<'a> {
    message: MessageView<'a>,
    facts: FactsView<'a>,
    raw: Option<&'a [u8]>,
    parsed: Option<&'a ParsedMessage<'a>>,
    /// Set when a BINARY item met an encoding it cannot undo.
    unknown_cte: AtomicBool,
}

impl<'a> Content<'a> {
    fn header(&self) -> &'a [u8] {
        self.facts.header
    }

    fn text(&self) -> &'a [u8] {
        let raw = self.raw.unwrap_or_default();
        &raw[self.header().len().min(raw.len())..]
    }

    /// Hands the response to `emit` in pieces, in order; false if `emit` asked to stop.
    fn each_piece(
        &self,
        seq: SeqNum,
        items: &[Item],
        extra_flags: bool,
        emit: &mut dyn FnMut(Cow<'_, [u8]>) -> bool,
    ) -> bool {
        let mut text = Vec::new();
        let mut pieces = Vec::new();
        for (n, item) in items.iter().enumerate() {
            self.write_item(seq, item, n, items.len(), extra_flags, &mut text, Some(&mut pieces));
            for piece in pieces.drain(..) {
                if !emit(piece) {
                    return false;
                }
            }
        }
        text.is_empty() || emit(Cow::Owned(text))
    }

    /// Appends item `n` of `n_items` to `text`, with the response's opening before the first
    /// and its closing after the last. A literal's bytes are appended too, unless they are
    /// large and `pieces` is given: then `text` so far and the bytes, borrowed where they can
    /// be, go to `pieces`, so a large body is never copied.
    #[allow(clippy::too_many_arguments)]
    fn write_item(
        &self,
        seq: SeqNum,
        item: &Item,
        n: usize,
        n_items: usize,
        extra_flags: bool,
        text: &mut Vec<u8>,
        pieces: Option<&mut Vec<Cow<'a, [u8]>>>,
    ) {
        use std::io::Write as _;
        let message = self.message;
        // Writes into a Vec cannot fail.
        if n == 0 {
            let _ = write!(text, "* {} FETCH (", seq.0);
            if extra_flags {
                text.extend_from_slice(b"FLAGS (");
                write_flag_list(text, message.flags, message.keywords, message.recent);
                text.extend_from_slice(b") ");
            }
        } else {
            text.push(b' ');
        }
        let mut literal: Option<Cow<'a, [u8]>> = None;
        match &item.name {
            MessageDataItemName::Flags => {
                text.extend_from_slice(b"FLAGS (");
                write_flag_list(text, message.flags, message.keywords, message.recent);
                text.push(b')');
            }
            MessageDataItemName::Uid => {
                let _ = write!(text, "UID {}", message.uid);
            }
            MessageDataItemName::InternalDate => {
                text.extend_from_slice(b"INTERNALDATE \"");
                write_internal_date(text, message.internal_date);
                text.push(b'"');
            }
            MessageDataItemName::Rfc822Size => {
                let _ = write!(text, "RFC822.SIZE {}", message.size);
            }
            MessageDataItemName::Envelope => {
                text.extend_from_slice(b"ENVELOPE ");
                text.extend_from_slice(self.facts.envelope);
            }
            MessageDataItemName::BodyStructure => {
                text.extend_from_slice(b"BODYSTRUCTURE ");
                text.extend_from_slice(self.facts.bodystructure);
            }
            MessageDataItemName::Body => {
                text.extend_from_slice(b"BODY ");
                text.extend_from_slice(self.facts.body);
            }
            MessageDataItemName::BodyExt { section, partial, .. } => {
                let bytes = self.section(section.as_ref());
                text.extend_from_slice(item.label.as_bytes());
                let bytes = partial_of(bytes, *partial, text);
                text.push(b' ');
                literal = Some(bytes);
            }
            MessageDataItemName::Binary { section, partial, .. } => {
                text.extend_from_slice(item.label.as_bytes());
                match self.binary(section) {
                    Ok(bytes) => {
                        let bytes = partial_of(bytes, *partial, text);
                        text.push(b' ');
                        literal = Some(bytes);
                    }
                    Err(UnknownCte) => {
                        self.unknown_cte.store(true, Ordering::Relaxed);
                        text.extend_from_slice(b" NIL");
                    }
                }
            }
            MessageDataItemName::BinarySize { section } => {
                let size = self.binary(section).map_or_else(
                    |UnknownCte| {
                        self.unknown_cte.store(true, Ordering::Relaxed);
                        0
                    },
                    |bytes| bytes.len(),
                );
                let _ = write!(text, "{} {size}", item.label);
            }
            MessageDataItemName::Rfc822 => {
                text.extend_from_slice(b"RFC822 ");
                literal = Some(Cow::Borrowed(self.raw.unwrap_or_default()));
            }
            MessageDataItemName::Rfc822Header => {
                text.extend_from_slice(b"RFC822.HEADER ");
                literal = Some(Cow::Borrowed(self.header()));
            }
            MessageDataItemName::Rfc822Text => {
                text.extend_from_slice(b"RFC822.TEXT ");
                literal = Some(Cow::Borrowed(self.text()));
            }
            // RFC 7162 §3.1.4.1.
            MessageDataItemName::ModSeq => {
                let _ = write!(text, "MODSEQ ({})", message.modseq);
            }
        }
        if let Some(bytes) = literal {
            // A literal (RFC 9051 §4.3): its length, then the bytes untouched. A NUL cannot
            // travel in one (CHAR8), so bytes holding one go as literal8 (RFC 3516 §4.2), still
            // exact, where Dovecot would replace the NULs.
            if bytes.contains(&0) {
                text.push(b'~');
            }
            let _ = write!(text, "{{{}}}\r\n", bytes.len());
            match pieces {
                Some(pieces) if bytes.len() >= LARGE_LITERAL => {
                    pieces.push(Cow::Owned(std::mem::take(text)));
                    pieces.push(bytes);
                }
                _ => text.extend_from_slice(&bytes),
            }
        }
        if n + 1 == n_items {
            text.extend_from_slice(b")\r\n");
        }
    }

    /// RFC 3516: a part with its transfer encoding undone, from the parse; the whole message
    /// as stored for an empty section.
    fn binary(&self, section: &[NonZeroU32]) -> Result<Cow<'a, [u8]>, UnknownCte> {
        match self.parsed {
            Some(parsed) => binary_bytes(parsed, section),
            None => Ok(Cow::Borrowed(self.raw.unwrap_or_default())),
        }
    }

    /// The bytes of a body section: whole-message sections from the stored bytes and facts,
    /// sections by part number from the parse.
    fn section(&self, section: Option<&Section<'_>>) -> Cow<'a, [u8]> {
        match section {
            None => Cow::Borrowed(self.raw.unwrap_or_default()),
            Some(Section::Header(None)) => Cow::Borrowed(self.header()),
            Some(Section::Text(None)) => Cow::Borrowed(self.text()),
            Some(Section::HeaderFields(None, names)) => {
                Cow::Owned(select_fields(self.header(), names.as_ref(), Keep::Listed))
            }
            Some(Section::HeaderFieldsNot(None, names)) => {
                Cow::Owned(select_fields(self.header(), names.as_ref(), Keep::Others))
            }
            Some(section) => match self.parsed {
                Some(parsed) => section_bytes(parsed, Some(section)),
                None => Cow::Borrowed(&[][..]),
            },
        }
    }
}

/// RFC 9051 §6.4.5 (and RFC 3516 for BINARY): `<start.count>` gives at most count octets from
/// start, and the response names only the start, written to `text`.
fn partial_of<'a>(bytes: Cow<'a, [u8]>, partial: Option<(u32, NonZeroU32)>, text: &mut Vec<u8>) -> Cow<'a, [u8]> {
    use std::io::Write as _;
    let Some((start, count)) = partial else { return bytes };
    let begin = (start as usize).min(bytes.len());
    let end = begin.saturating_add(count.get() as usize).min(bytes.len());
    let _ = write!(text, "<{start}>");
    match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(&b[begin..end]),
        Cow::Owned(b) => Cow::Owned(b[begin..end].to_vec()),
    }
}

/// System flags then keywords, space-separated, for a `FLAGS (...)` list.
pub(crate) fn flag_list(flags: Flags, keywords: &[String], recent: bool) -> String {
    let mut list = Vec::new();
    write_flag_list(&mut list, flags, keywords, recent);
    String::from_utf8(list).unwrap_or_default()
}

/// A message's flags as FLAGS lists them; `recent` adds \Recent, which only the session knows.
pub(crate) fn write_flag_list(out: &mut Vec<u8>, flags: Flags, keywords: &[String], recent: bool) {
    let start = out.len();
    let system = flags.imap_names().map(|name| -> &[u8] { name.as_bytes() });
    let recent = recent.then_some(&b"\\Recent"[..]);
    for name in system.chain(recent).chain(keywords.iter().map(|k| k.as_bytes())) {
        if out.len() > start {
            out.push(b' ');
        }
        out.extend_from_slice(name);
    }
}

/// RFC 9051 §9 `date-time`: "dd-Mon-yyyy hh:mm:ss +zzzz", in UTC.
#[cfg(test)]
fn internal_date(unix_seconds: i64) -> String {
    let mut date = Vec::new();
    write_internal_date(&mut date, unix_seconds);
    String::from_utf8(date).unwrap_or_default()
}

/// [`internal_date`] written in place: FETCH 1:* writes one per message, and chrono's
/// formatter allocated and parsed its pattern each time.
fn write_internal_date(out: &mut Vec<u8>, unix_seconds: i64) {
    use chrono::{Datelike as _, Timelike as _};
    use std::io::Write as _;
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let time = chrono::DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default();
    let month = MONTHS[time.month0() as usize];
    let _ = write!(
        out,
        "{:02}-{month}-{:04} {:02}:{:02}:{:02} +0000",
        time.day(),
        time.year(),
        time.hour(),
        time.minute(),
        time.second()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_flag_lists() {
        assert_eq!(internal_date(0), "01-Jan-1970 00:00:00 +0000");
        assert_eq!(internal_date(1_772_442_000), "02-Mar-2026 09:00:00 +0000");
        assert_eq!(
            flag_list(Flags::SEEN.union(Flags::DELETED), &["$Forwarded".into()], false),
            "\\Seen \\Deleted $Forwarded"
        );
        assert_eq!(flag_list(Flags::empty(), &[], false), "");
        assert_eq!(flag_list(Flags::empty(), &["$Junk".into(), "Work".into()], false), "$Junk Work");
        assert_eq!(flag_list(Flags::SEEN, &["Work".into()], true), "\\Seen \\Recent Work");
        // Written by hand for speed: the same as chrono's formatter, across years and months.
        for seconds in (-86_400 * 400..4_102_444_800).step_by(86_400 * 37 + 3_607) {
            let chrono = chrono::DateTime::from_timestamp(seconds, 0).unwrap();
            assert_eq!(internal_date(seconds), chrono.format("%d-%b-%Y %H:%M:%S +0000").to_string());
        }
    }
}
