//! STORE and UID STORE (RFC 9051 §6.4.6): changing flags and keywords.

use std::io::Write as _;

use imap_codec::imap_types::command::StoreModifier;
use imap_codec::imap_types::flag::{Flag, StoreResponse, StoreType};
use imap_codec::imap_types::sequence::SequenceSet;
use store::{FlagOp, Flags};

use crate::error::{Code, Error, Result};
use crate::op::fetch::write_flag_list;
use crate::response::Response;
use crate::selected::{Access, Addressing, KnownMessage, Uid};
use crate::session::Session;

impl Session {
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn handle_store(
        &mut self,
        tag: &str,
        sequence_set: &SequenceSet,
        kind: StoreType,
        reply: StoreResponse,
        flags: &[Flag<'static>],
        addressing: Addressing,
        modifiers: &[StoreModifier],
    ) -> Result<Response> {
        let unchanged_since = modifiers.iter().map(|StoreModifier::UnchangedSince(since)| *since).next();
        let mut response = Response::default();
        if unchanged_since.is_some()
            // RFC 7162 §3.1: UNCHANGEDSINCE enables CONDSTORE.
            && let Some(line) = self.enable_condstore()
        {
            response.bytes.extend_from_slice(line.as_bytes());
        }
        let condstore = self.condstore;
        let (system, keywords) = split_flags(flags)?;
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        if selected.access == Access::ReadOnly {
            return Err(Error::no(Some(Code::Cannot), "Folder is read-only (EXAMINE)"));
        }
        let indexes = selected.resolve(sequence_set, addressing)?;
        let uids: Vec<u32> = indexes.iter().map(|&i| selected.messages[i].uid.0).collect();
        let folder = selected.folder.id;
        let op = match kind {
            StoreType::Add => FlagOp::Add,
            StoreType::Remove => FlagOp::Remove,
            StoreType::Replace => FlagOp::Replace,
        };
        let mail = &self.services.mail;
        let (updates, modified) = match unchanged_since {
            Some(since) => mail.set_flags_unchanged_since(account, folder, &uids, op, system, &keywords, since).await?,
            None => (mail.set_flags(account, folder, &uids, op, system, &keywords).await?, Vec::new()),
        };
        let selected = self.selected_mut()?;
        selected.announce_keywords(updates.iter().flat_map(|update| update.keywords.iter()), &mut response);
        for update in updates {
            let Some(index) = selected.index_of(Uid(update.uid)) else { continue };
            let blob = selected.messages[index].blob.take();
            let moved = selected.messages[index].modseq != update.modseq;
            let recent = selected.is_recent(Uid(update.uid));
            selected.messages[index] = KnownMessage::from_state(&update, blob);
            // RFC 9051 §6.4.6: without .SILENT, each message's new flags come back as FETCH;
            // UID STORE includes the UID (§6.4.9), and so does CONDSTORE, with MODSEQ
            // (RFC 7162 §3.1), which a conditional STORE sends even when .SILENT (§3.1.3).
            // Written in place: a STORE 1:* answers one line per message.
            let out = &mut response.bytes;
            if reply == StoreResponse::Answer {
                let _ = write!(out, "* {} FETCH (FLAGS (", index + 1);
                write_flag_list(out, update.flags, &update.keywords, recent);
                let _ = match (addressing, condstore) {
                    (_, true) => write!(out, ") UID {} MODSEQ ({}))\r\n", update.uid, update.modseq),
                    (Addressing::Uid, false) => write!(out, ") UID {})\r\n", update.uid),
                    (Addressing::Sequence, false) => write!(out, "))\r\n"),
                };
            } else if unchanged_since.is_some() && moved {
                let _ = write!(out, "* {} FETCH (UID {} MODSEQ ({}))\r\n", index + 1, update.uid, update.modseq);
            }
        }
        if !modified.is_empty() {
            // RFC 7162 §3.1.3: the messages that changed since, by the command's numbering.
            let numbers: Vec<u32> = match addressing {
                Addressing::Uid => modified,
                Addressing::Sequence => {
                    let mut seqs: Vec<u32> =
                        modified.iter().filter_map(|&uid| selected.index_of(Uid(uid))).map(|i| i as u32 + 1).collect();
                    seqs.sort_unstable();
                    seqs
                }
            };
            let code = format!("MODIFIED {}", crate::op::copy::uid_set(numbers.into_iter()));
            response.status_line(tag, "OK", Some(&code), "Conditional STORE failed for some messages");
            return Ok(response);
        }
        response.status_line(tag, "OK", None, "STORE completed");
        Ok(response)
    }
}

/// System flags as a bit set and keywords as strings. `\Recent` cannot be stored and an
/// unknown backslash flag is not something we can keep (RFC 9051 §2.3.2).
pub(crate) fn split_flags(flags: &[Flag<'_>]) -> Result<(Flags, Vec<String>)> {
    let mut system = Flags::empty();
    let mut keywords = Vec::new();
    for flag in flags {
        match flag {
            Flag::Seen => system = system.union(Flags::SEEN),
            Flag::Answered => system = system.union(Flags::ANSWERED),
            Flag::Flagged => system = system.union(Flags::FLAGGED),
            Flag::Deleted => system = system.union(Flags::DELETED),
            Flag::Draft => system = system.union(Flags::DRAFT),
            Flag::Keyword(atom) => keywords.push(atom.inner().to_string()),
            Flag::Extension(extension) => {
                return Err(Error::bad(format!("Cannot store the system flag {flag}: unknown ({extension:?})")));
            }
        }
    }
    Ok((system, keywords))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_split_into_system_and_keywords() {
        let flags = [Flag::Seen, Flag::Deleted, Flag::Keyword("$Forwarded".try_into().unwrap())];
        let (system, keywords) = split_flags(&flags).unwrap();
        assert_eq!(system, Flags::SEEN.union(Flags::DELETED));
        assert_eq!(keywords, vec!["$Forwarded".to_string()]);
        let unknown = [Flag::try_from("\\Recent").unwrap()];
        assert!(matches!(split_flags(&unknown), Err(Error::Bad(_))));
    }
}
