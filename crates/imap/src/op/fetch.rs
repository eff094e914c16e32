//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2).
//!
//! Responses are streamed: each message's response is built one item at a time on a blocking
//! thread and handed over a small channel to the session's output buffer, so a FETCH holds at
//! most one message and a few items in memory, however many messages or items it names. An
//! item named twice is answered once, and a FETCH may name at most [`MAX_FETCH_ITEMS`]
//! different items: `FETCH 1 (BODY[] BODY[] ...)` once made the process allocate gigabytes.
//!
//! Body sections without `.PEEK` (and RFC822, RFC822.TEXT) set \Seen on a read-write folder
//! first, and the new flags are included in the response; on an EXAMINEd folder nothing
//! changes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName};
use imap_codec::imap_types::sequence::SequenceSet;
use store::{FlagOp, Flags, MessageRow};

use crate::error::{Error, Result};
use crate::fetch::bodystructure::{Extensions, push_body_structure};
use crate::fetch::envelope::push_envelope;
use crate::fetch::section::{section_bytes, section_label};
use crate::fetch::{ParsedMessage, header_end};
use crate::response::{Response, push_literal};
use crate::selected::{Access, Addressing, KnownMessage, SeqNum};
use crate::session::Session;

/// The most different data items one FETCH may name. Real clients name a dozen at most; the
/// cap bounds the work one command line (up to 64 KiB) can ask for.
pub(crate) const MAX_FETCH_ITEMS: usize = 100;

/// A message's response is handed from the thread that builds it to the session in pieces of
/// about this size (a single literal may be larger: it is one piece).
const PIECE_BYTES: usize = 64 * 1024;

/// Pieces waiting between the builder and the session: the builder stops when the client is
/// slow to read, so memory stays bounded.
const PIECES_IN_FLIGHT: usize = 2;

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
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        let indexes = selected.resolve(sequence_set, addressing)?;
        let folder = selected.folder.id;
        let access = selected.access;
        // Only the rows asked for: one message out of a big folder is one row read.
        let uids: Vec<u32> = indexes.iter().map(|&i| selected.messages[i].uid.0).collect();
        let rows = self.services.store.messages_by_uids(account, folder, &uids).await?;
        let mut rows: HashMap<u32, MessageRow> = rows.into_iter().map(|row| (row.uid, row)).collect();

        let sets_seen = access == Access::ReadWrite
            && items.iter().any(|item| {
                matches!(
                    item,
                    MessageDataItemName::BodyExt { peek: false, .. }
                        | MessageDataItemName::Rfc822
                        | MessageDataItemName::Rfc822Text
                )
            });
        // A set: it is looked up once per fetched message.
        let mut seen_now: HashSet<u32> = HashSet::new();
        if sets_seen {
            let selected = self.selected_mut()?;
            let unseen: Vec<u32> = indexes
                .iter()
                .map(|&i| selected.messages[i].uid.0)
                .filter(|uid| rows.get(uid).is_some_and(|row| !row.flags.contains(Flags::SEEN)))
                .collect();
            if !unseen.is_empty() {
                let updates =
                    self.services.store.store_flags(account, folder, &unseen, FlagOp::Add, Flags::SEEN, &[]).await?;
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
        let needs_body = items.iter().any(needs_raw_message);
        let items = Arc::new(items);

        for index in indexes {
            let uid = self.selected_mut()?.messages[index].uid;
            // Expunged by another session since the snapshot: RFC 9051 §7.4.1 forbids an
            // EXPUNGE during FETCH, so the message is skipped; NOOP will report it.
            let Some(row) = rows.get(&uid.0) else { continue };
            let include_flags = wants_flags || seen_now.contains(&uid.0);
            let seq = SeqNum::from_index(index);
            let extra_flags = include_flags && !wants_flags;
            if needs_body {
                // Expunged since the rows were read, and its file cleaned up: skip it too.
                let Some(raw) = self.services.store.read_raw_if_present(account, row).await? else { continue };
                // Parsing a large message is CPU work: keep it off the async workers, and
                // stream what is built so a large response is never whole in memory.
                let (row, items) = (row.clone(), Arc::clone(&items));
                let (pieces, mut received) = tokio::sync::mpsc::channel::<Vec<u8>>(PIECES_IN_FLIGHT);
                let builder = tokio::task::spawn_blocking(move || {
                    let parsed = ParsedMessage::parse(&raw);
                    // A failed send means the session stopped listening (the client went
                    // away): stop building.
                    fetch_response(seq, &row, &items, Some(&parsed), extra_flags, &mut |piece| {
                        pieces.blocking_send(piece).is_ok()
                    });
                });
                while let Some(piece) = received.recv().await {
                    self.write_buffered(&piece).await?;
                }
                builder.await.map_err(|error| Error::Internal(format!("FETCH task failed: {error}")))?;
            } else {
                let mut out = Vec::new();
                fetch_response(seq, row, &items, None, extra_flags, &mut |piece| {
                    out.extend_from_slice(&piece);
                    true
                });
                self.write_buffered(&out).await?;
            }
            if include_flags {
                // The client now knows these flags; NOOP must not report them again.
                self.selected_mut()?.messages[index] = KnownMessage::from_row(row);
            }
        }
        Ok(Response::tagged(tag, "OK", None, "FETCH completed"))
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

/// One `* n FETCH (...)` response, handed to `emit` in pieces of about [`PIECE_BYTES`] (an item
/// is never split). `emit` returns false to stop. `extra_flags` adds FLAGS the client did not
/// ask for (a `\Seen` this FETCH just set, RFC 9051 §6.4.5).
fn fetch_response(
    seq: SeqNum,
    row: &MessageRow,
    items: &[MessageDataItemName<'static>],
    parsed: Option<&ParsedMessage<'_>>,
    extra_flags: bool,
    emit: &mut dyn FnMut(Vec<u8>) -> bool,
) {
    let mut out = format!("* {} FETCH (", seq.0).into_bytes();
    if extra_flags {
        out.extend_from_slice(format!("FLAGS ({})", flag_list(row.flags, &row.keywords)).as_bytes());
    }
    for (i, item) in items.iter().enumerate() {
        if extra_flags || i > 0 {
            out.push(b' ');
        }
        push_item(&mut out, item, row, parsed);
        if out.len() >= PIECE_BYTES && !emit(std::mem::take(&mut out)) {
            return;
        }
    }
    out.extend_from_slice(b")\r\n");
    emit(out);
}

fn needs_raw_message(item: &MessageDataItemName<'_>) -> bool {
    matches!(
        item,
        MessageDataItemName::Body
            | MessageDataItemName::BodyExt { .. }
            | MessageDataItemName::BodyStructure
            | MessageDataItemName::Envelope
            | MessageDataItemName::Rfc822
            | MessageDataItemName::Rfc822Header
            | MessageDataItemName::Rfc822Text
    )
}

fn push_item(out: &mut Vec<u8>, item: &MessageDataItemName<'_>, row: &MessageRow, message: Option<&ParsedMessage<'_>>) {
    let empty = ParsedMessage { raw: &[], parsed: None };
    let message = message.unwrap_or(&empty);
    match item {
        MessageDataItemName::Flags => {
            out.extend_from_slice(format!("FLAGS ({})", flag_list(row.flags, &row.keywords)).as_bytes());
        }
        MessageDataItemName::Uid => out.extend_from_slice(format!("UID {}", row.uid).as_bytes()),
        MessageDataItemName::InternalDate => {
            out.extend_from_slice(format!("INTERNALDATE \"{}\"", internal_date(row.internal_date)).as_bytes());
        }
        MessageDataItemName::Rfc822Size => out.extend_from_slice(format!("RFC822.SIZE {}", row.size).as_bytes()),
        MessageDataItemName::Envelope => {
            out.extend_from_slice(b"ENVELOPE ");
            push_envelope(out, message.parsed.as_ref(), &message.raw[..header_end(message.raw)]);
        }
        MessageDataItemName::BodyStructure => {
            out.extend_from_slice(b"BODYSTRUCTURE ");
            push_body_structure(out, message, Extensions::Included);
        }
        MessageDataItemName::Body => {
            out.extend_from_slice(b"BODY ");
            push_body_structure(out, message, Extensions::Omitted);
        }
        MessageDataItemName::BodyExt { section, partial, .. } => {
            let bytes = section_bytes(message, section.as_ref());
            out.extend_from_slice(format!("BODY[{}]", section_label(section.as_ref())).as_bytes());
            match partial {
                // RFC 9051 §6.4.5: <start.count> returns at most count octets from start, and
                // the response names only the start.
                Some((start, count)) => {
                    let begin = (*start as usize).min(bytes.len());
                    let end = begin.saturating_add(count.get() as usize).min(bytes.len());
                    out.extend_from_slice(format!("<{start}> ").as_bytes());
                    push_literal(out, &bytes[begin..end]);
                }
                None => {
                    out.push(b' ');
                    push_literal(out, &bytes);
                }
            }
        }
        MessageDataItemName::Rfc822 => {
            out.extend_from_slice(b"RFC822 ");
            push_literal(out, message.raw);
        }
        MessageDataItemName::Rfc822Header => {
            out.extend_from_slice(b"RFC822.HEADER ");
            push_literal(out, &message.raw[..header_end(message.raw)]);
        }
        MessageDataItemName::Rfc822Text => {
            out.extend_from_slice(b"RFC822.TEXT ");
            push_literal(out, &message.raw[header_end(message.raw)..]);
        }
        // BINARY is refused before any output; MODSEQ exists only with imap-codec's CONDSTORE
        // feature, which we do not advertise.
        #[allow(unreachable_patterns)]
        _ => {}
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
