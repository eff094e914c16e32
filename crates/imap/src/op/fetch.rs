//! FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2).
//!
//! Each message's response is written as soon as it is built, so a FETCH of many large
//! messages holds one message in memory at a time. Body sections without `.PEEK` (and RFC822,
//! RFC822.TEXT) set \Seen on a read-write folder first, and the new flags are included in the
//! response; on an EXAMINEd folder nothing changes.

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

impl Session {
    pub(crate) async fn handle_fetch(
        &mut self,
        tag: &str,
        sequence_set: &SequenceSet,
        items: MacroOrMessageDataItemNames<'static>,
        addressing: Addressing,
    ) -> Result<Response> {
        let mut items: Vec<MessageDataItemName<'static>> = match items {
            MacroOrMessageDataItemNames::Macro(m) => m.expand().into_iter().map(IntoStatic::into_static).collect(),
            MacroOrMessageDataItemNames::MessageDataItemNames(items) => items,
        };
        for item in &items {
            if matches!(item, MessageDataItemName::Binary { .. } | MessageDataItemName::BinarySize { .. }) {
                return Err(Error::bad("BINARY is not supported"));
            }
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
            let out = if needs_body {
                // Expunged since the rows were read, and its file cleaned up: skip it too.
                let Some(raw) = self.services.store.read_raw_if_present(account, row).await? else { continue };
                // Parsing a large message is CPU work: keep it off the async workers.
                let (row, items) = (row.clone(), Arc::clone(&items));
                tokio::task::spawn_blocking(move || {
                    let parsed = ParsedMessage::parse(&raw);
                    fetch_response(seq, &row, &items, Some(&parsed), include_flags && !wants_flags)
                })
                .await
                .map_err(|error| Error::Internal(format!("FETCH task failed: {error}")))?
            } else {
                fetch_response(seq, row, &items, None, include_flags && !wants_flags)
            };
            if include_flags {
                // The client now knows these flags; NOOP must not report them again.
                self.selected_mut()?.messages[index] = KnownMessage::from_row(row);
            }
            self.write(&out).await?;
        }
        Ok(Response::tagged(tag, "OK", None, "FETCH completed"))
    }
}

/// One `* n FETCH (...)` response. `extra_flags` adds FLAGS the client did not ask for (a
/// `\Seen` this FETCH just set, RFC 9051 §6.4.5).
fn fetch_response(
    seq: SeqNum,
    row: &MessageRow,
    items: &[MessageDataItemName<'static>],
    parsed: Option<&ParsedMessage<'_>>,
    extra_flags: bool,
) -> Vec<u8> {
    let mut out = format!("* {} FETCH (", seq.0).into_bytes();
    let mut first = true;
    let mut separator = |out: &mut Vec<u8>| {
        if !first {
            out.push(b' ');
        }
        first = false;
    };
    if extra_flags {
        separator(&mut out);
        out.extend_from_slice(format!("FLAGS ({})", flag_list(row.flags, &row.keywords)).as_bytes());
    }
    for item in items {
        separator(&mut out);
        push_item(&mut out, item, row, parsed);
    }
    out.extend_from_slice(b")\r\n");
    out
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
