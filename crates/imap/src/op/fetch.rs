//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2).
//!
//! What a message's response needs decides what is read, per FETCH:
//! - FLAGS, UID, sizes and dates, ENVELOPE, BODY, BODYSTRUCTURE and the whole-message header
//!   sections come from the row and the facts the store keeps (`facts::Facts`, computed once at
//!   delivery): no file is opened, nothing parsed, and the response is built on the session's
//!   task;
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
use std::sync::Arc;

use facts::{Facts, ParsedMessage};
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Section};
use imap_codec::imap_types::sequence::SequenceSet;
use mail::Reading;
use store::{FactsWanted, FetchRow, Flags};

use crate::error::{Error, Result};
use crate::fetch::section::{Keep, section_bytes, section_label, select_fields};
use crate::response::Response;
use crate::selected::{Access, Addressing, SeqNum};
use crate::session::Session;

/// The most different data items one FETCH may name. Real clients name a dozen at most; the
/// cap bounds the work one command line (up to 64 KiB) can ask for.
pub(crate) const MAX_FETCH_ITEMS: usize = 100;

/// Pieces waiting between a parsing thread and the session: the thread stops when the client
/// is slow to read, so memory stays bounded.
const PIECES_IN_FLIGHT: usize = 2;

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
    ) -> Result<Response> {
        let items: Vec<MessageDataItemName<'static>> = match items {
            MacroOrMessageDataItemNames::Macro(m) => m.expand().into_iter().map(IntoStatic::into_static).collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(items) => items,
        };
        for item in &items {
            if matches!(item, MessageDataItemName::Binary { .. } | MessageDataItemName::BinarySize { .. }) {
                return Err(Error::bad("BINARY is not supported"));
            }
        }
        let mut items = unique(items);
        if items.len() > MAX_FETCH_ITEMS {
            return Err(Error::bad(format!("FETCH names at most {MAX_FETCH_ITEMS} different data items")));
        }
        // RFC 9051 §6.4.9: UID FETCH always returns the UID.
        if addressing == Addressing::Uid && !items.contains(&MessageDataItemName::Uid) {
            items.insert(0, MessageDataItemName::Uid);
        }
        let needs = Needs::of(&items);
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        let indexes = selected.resolve(sequence_set, addressing)?;
        let folder = selected.folder.id;
        let access = selected.access;
        let known_version = selected.version;
        if items.iter().all(is_in_snapshot) {
            // The session's snapshot is the folder as long as the folder's version has not moved
            // (the store's FolderVersion invariant): answer from it, reading one row.
            let version = self.services.store().folder_version(account, folder).await?;
            if version == known_version {
                self.write_from_snapshot(&indexes, &items).await?;
                return Ok(Response::tagged(tag, "OK", None, "FETCH completed"));
            }
        }
        // Only the rows asked for, and only the facts the items need.
        let selected = self.selected_mut()?;
        let uids: Vec<u32> = indexes.iter().map(|&i| selected.messages[i].uid.0).collect();
        let rows = self.services.store().fetch_rows(account, folder, &uids, needs.facts).await?;
        let mut rows: HashMap<u32, FetchRow> = rows.into_iter().map(|row| (row.uid, row)).collect();

        // RFC 9051 §6.4.5: reading a body without .PEEK (or RFC822, RFC822.TEXT) is reading the
        // message; whether that marks it \Seen is the read policy's call.
        let reads_body = items.iter().any(|item| {
            matches!(
                item,
                MessageDataItemName::BodyExt { peek: false, .. }
                    | MessageDataItemName::Rfc822
                    | MessageDataItemName::Rfc822Text
            )
        });
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
                    }
                    seen_now.insert(update.uid);
                }
            }
        }
        let wants_flags = items.contains(&MessageDataItemName::Flags);
        let items = Arc::new(items);

        for index in indexes {
            let uid = self.selected_mut()?.messages[index].uid;
            // Expunged by another session since the snapshot: RFC 9051 §7.4.1 forbids an
            // EXPUNGE during FETCH, so the message is skipped; NOOP will report it.
            let Some(row) = rows.remove(&uid.0) else { continue };
            let include_flags = wants_flags || seen_now.contains(&uid.0);
            let extra_flags = include_flags && !wants_flags;
            let flags = (row.flags, row.keywords.clone());
            if !self.write_message(SeqNum::from_index(index), row, &items, needs, extra_flags).await? {
                continue;
            }
            if include_flags {
                // The client now knows these flags; NOOP must not report them again.
                let known = &mut self.selected_mut()?.messages[index];
                (known.flags, known.keywords) = flags;
            }
        }
        Ok(Response::tagged(tag, "OK", None, "FETCH completed"))
    }

    /// FETCH responses made of what the session knows of each message, no store read.
    async fn write_from_snapshot(&mut self, indexes: &[usize], items: &[MessageDataItemName<'_>]) -> Result<()> {
        use std::io::Write as _;
        let mut out = Vec::with_capacity(64 * 1024);
        for &index in indexes {
            let known = &self.selected_mut()?.messages[index];
            let _ = write!(out, "* {} FETCH (", index + 1);
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(b' ');
                }
                let _ = match item {
                    MessageDataItemName::Flags => write!(out, "FLAGS ({})", flag_list(known.flags, &known.keywords)),
                    MessageDataItemName::Uid => write!(out, "UID {}", known.uid.0),
                    MessageDataItemName::Rfc822Size => write!(out, "RFC822.SIZE {}", known.size),
                    MessageDataItemName::InternalDate => {
                        write!(out, "INTERNALDATE \"{}\"", internal_date(known.internal_date))
                    }
                    _ => Ok(()),
                };
            }
            out.extend_from_slice(b")\r\n");
            if out.len() >= 60 * 1024 {
                self.write_buffered(&out).await?;
                out.clear();
            }
        }
        self.write_buffered(&out).await
    }

    /// Writes one `* n FETCH (...)` response; false when the message was expunged (and its
    /// file cleaned up) since its row was read, so it is skipped.
    async fn write_message(
        &mut self,
        seq: SeqNum,
        row: FetchRow,
        items: &Arc<Vec<MessageDataItemName<'static>>>,
        needs: Needs,
        extra_flags: bool,
    ) -> Result<bool> {
        let missing_facts = (needs.facts.header && row.header.is_none())
            || (needs.facts.imap_envelope && row.imap_envelope.is_none())
            || (needs.facts.imap_body && row.imap_body.is_none())
            || (needs.facts.imap_bodystructure && row.imap_bodystructure.is_none());
        let raw = if needs.raw || missing_facts {
            let Some(raw) = self.services.store().read_fetched(&row).await? else {
                return Ok(false);
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
                let content = Content { row: &row, facts: facts.as_ref(), raw: Some(&raw), parsed: parsed.as_ref() };
                // A failed send means the session stopped listening: stop building.
                let _ = content.each_piece(seq, &items, extra_flags, &mut |piece| {
                    pieces.blocking_send(piece.into_owned()).is_ok()
                });
            });
            while let Some(piece) = received.recv().await {
                self.write_buffered(&piece).await?;
            }
            builder.await.map_err(|error| Error::Internal(format!("FETCH task failed: {error}")))?;
        } else {
            let content = Content { row: &row, facts: None, raw: raw.as_deref(), parsed: None };
            let mut pieces: Vec<Cow<'_, [u8]>> = Vec::new();
            // Small pieces are gathered into one write; a large literal goes on its own, uncopied.
            let mut small = Vec::new();
            for (n, item) in items.iter().enumerate() {
                pieces.clear();
                content.item_pieces(seq, item, n, items.len(), extra_flags, &mut pieces);
                for piece in &pieces {
                    if piece.len() < 16 * 1024 {
                        small.extend_from_slice(piece);
                        continue;
                    }
                    self.write_buffered(&small).await?;
                    small.clear();
                    self.write_buffered(piece).await?;
                }
            }
            self.write_buffered(&small).await?;
        }
        Ok(true)
    }
}

/// Items the session's snapshot of the folder can answer.
fn is_in_snapshot(item: &MessageDataItemName<'_>) -> bool {
    matches!(
        item,
        MessageDataItemName::Flags
            | MessageDataItemName::Uid
            | MessageDataItemName::Rfc822Size
            | MessageDataItemName::InternalDate
    )
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

/// What one message's response is made from: its row (with the stored facts asked for), facts
/// computed now when the row had none, its bytes when needed, and a parse for part sections.
struct Content<'a> {
    row: &'a FetchRow,
    facts: Option<&'a Facts>,
    raw: Option<&'a [u8]>,
    parsed: Option<&'a ParsedMessage<'a>>,
}

impl<'a> Content<'a> {
    fn header(&self) -> &'a [u8] {
        self.facts.map(|f| f.header.as_slice()).or(self.row.header.as_deref()).unwrap_or_default()
    }

    fn text(&self) -> &'a [u8] {
        let raw = self.raw.unwrap_or_default();
        &raw[self.header().len().min(raw.len())..]
    }

    /// Hands every piece of the response to `emit`, in order; false if `emit` asked to stop.
    fn each_piece(
        &self,
        seq: SeqNum,
        items: &[MessageDataItemName<'_>],
        extra_flags: bool,
        emit: &mut dyn FnMut(Cow<'_, [u8]>) -> bool,
    ) -> bool {
        let mut pieces = Vec::new();
        for (n, item) in items.iter().enumerate() {
            pieces.clear();
            self.item_pieces(seq, item, n, items.len(), extra_flags, &mut pieces);
            for piece in pieces.drain(..) {
                if !emit(piece) {
                    return false;
                }
            }
        }
        true
    }

    /// The pieces of item `n` of `n_items`, with the response's opening before the first and
    /// its closing after the last: its text, then its literal's bytes borrowed where they can
    /// be, so a large body is never copied.
    fn item_pieces(
        &self,
        seq: SeqNum,
        item: &MessageDataItemName<'_>,
        n: usize,
        n_items: usize,
        extra_flags: bool,
        pieces: &mut Vec<Cow<'a, [u8]>>,
    ) {
        let row = self.row;
        let mut text = Vec::new();
        if n == 0 {
            text.extend_from_slice(format!("* {} FETCH (", seq.0).as_bytes());
            if extra_flags {
                text.extend_from_slice(format!("FLAGS ({}) ", flag_list(row.flags, &row.keywords)).as_bytes());
            }
        } else {
            text.push(b' ');
        }
        let mut literal: Option<Cow<'a, [u8]>> = None;
        match item {
            MessageDataItemName::Flags => {
                text.extend_from_slice(format!("FLAGS ({})", flag_list(row.flags, &row.keywords)).as_bytes());
            }
            MessageDataItemName::Uid => text.extend_from_slice(format!("UID {}", row.uid).as_bytes()),
            MessageDataItemName::InternalDate => {
                text.extend_from_slice(format!("INTERNALDATE \"{}\"", internal_date(row.internal_date)).as_bytes());
            }
            MessageDataItemName::Rfc822Size => text.extend_from_slice(format!("RFC822.SIZE {}", row.size).as_bytes()),
            MessageDataItemName::Envelope => {
                text.extend_from_slice(b"ENVELOPE ");
                let envelope = self.facts.map(|f| f.imap_envelope.as_slice()).or(row.imap_envelope.as_deref());
                text.extend_from_slice(envelope.unwrap_or_default());
            }
            MessageDataItemName::BodyStructure => {
                text.extend_from_slice(b"BODYSTRUCTURE ");
                let structure =
                    self.facts.map(|f| f.imap_bodystructure.as_slice()).or(row.imap_bodystructure.as_deref());
                text.extend_from_slice(structure.unwrap_or_default());
            }
            MessageDataItemName::Body => {
                text.extend_from_slice(b"BODY ");
                let structure = self.facts.map(|f| f.imap_body.as_slice()).or(row.imap_body.as_deref());
                text.extend_from_slice(structure.unwrap_or_default());
            }
            MessageDataItemName::BodyExt { section, partial, .. } => {
                let bytes = self.section(section.as_ref());
                text.extend_from_slice(format!("BODY[{}]", section_label(section.as_ref())).as_bytes());
                let bytes = match partial {
                    // RFC 9051 §6.4.5: <start.count> returns at most count octets from start, and
                    // the response names only the start.
                    Some((start, count)) => {
                        let begin = (*start as usize).min(bytes.len());
                        let end = begin.saturating_add(count.get() as usize).min(bytes.len());
                        text.extend_from_slice(format!("<{start}>").as_bytes());
                        match bytes {
                            Cow::Borrowed(b) => Cow::Borrowed(&b[begin..end]),
                            Cow::Owned(b) => Cow::Owned(b[begin..end].to_vec()),
                        }
                    }
                    None => bytes,
                };
                text.push(b' ');
                literal = Some(bytes);
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
            // BINARY is refused before any output; MODSEQ exists only with imap-codec's CONDSTORE
            // feature, which we do not advertise.
            #[allow(unreachable_patterns)]
            _ => {}
        }
        if let Some(bytes) = literal {
            // A literal (RFC 9051 §4.3): its length, then the bytes untouched.
            text.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
            pieces.push(Cow::Owned(text));
            pieces.push(bytes);
            text = Vec::new();
        }
        if n + 1 == n_items {
            text.extend_from_slice(b")\r\n");
        }
        if !text.is_empty() {
            pieces.push(Cow::Owned(text));
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

/// System flags then keywords, space-separated, for a `FLAGS (...)` list.
pub(crate) fn flag_list(flags: Flags, keywords: &[String]) -> String {
    flags.imap_names().map(str::to_string).chain(keywords.iter().cloned()).collect::<Vec<_>>().join(" ")
}

/// RFC 9051 §9 `date-time`: "dd-Mon-yyyy hh:mm:ss +zzzz", in UTC.
fn internal_date(unix_seconds: i64) -> String {
    chrono::DateTime::from_timestamp(unix_seconds, 0).unwrap_or_default().format("%d-%b-%Y %H:%M:%S +0000").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_flag_lists() {
        assert_eq!(internal_date(0), "01-Jan-1970 00:00:00 +0000");
        assert_eq!(internal_date(1_772_442_000), "02-Mar-2026 09:00:00 +0000");
        assert_eq!(flag_list(Flags::SEEN.union(Flags::DELETED), &["$Forwarded".into()]), "\\Seen \\Deleted $Forwarded");
        assert_eq!(flag_list(Flags::empty(), &[]), "");
    }
}
