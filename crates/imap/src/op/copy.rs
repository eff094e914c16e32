//! COPY, MOVE and their UID forms (RFC 9051 §6.4.7, §6.4.8; RFC 6851), answering UIDPLUS's
//! COPYUID (RFC 4315): source and target UIDs, in the same order.

use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::error::{Code, Error, Result};
use crate::op::list::mailbox_name;
use crate::op::misc::write_expunged;
use crate::response::Response;
use crate::selected::{Access, Addressing, SeqNum, Uid};
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transfer {
    Copy,
    Move,
}

impl Session {
    pub(crate) async fn handle_copy(
        &mut self,
        tag: &str,
        sequence_set: &SequenceSet,
        mailbox: Mailbox<'static>,
        addressing: Addressing,
        transfer: Transfer,
    ) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        if transfer == Transfer::Move && selected.access == Access::ReadOnly {
            return Err(Error::no(Some(Code::Cannot), "Folder is read-only (EXAMINE)"));
        }
        let indexes = selected.resolve(sequence_set, addressing)?;
        let uids: Vec<u32> = indexes.iter().map(|&i| selected.messages[i].uid.0).collect();
        let from = selected.folder.id;
        let Some(target) = self.services.store().folder_by_name(account, &name).await? else {
            return Err(Error::no(Some(Code::TryCreate), format!("No folder named {name}")));
        };
        let mail = &self.services.mail;
        let (uidvalidity, mapping) = match transfer {
            Transfer::Copy => mail.copy(account, from, &uids, target.id).await?,
            Transfer::Move => mail.move_messages(account, from, &uids, target.id).await?,
        };
        let copyuid = (!mapping.is_empty()).then(|| {
            let sources = uid_set(mapping.iter().map(|(source, _)| *source));
            let targets = uid_set(mapping.iter().map(|(_, target)| *target));
            format!("COPYUID {uidvalidity} {sources} {targets}")
        });
        let mut response = Response::default();
        if transfer == Transfer::Copy {
            response.status_line(tag, "OK", copyuid.as_deref(), "COPY completed");
            return Ok(response);
        }
        // RFC 6851 §4.3: COPYUID in an untagged OK before the EXPUNGEs (or VANISHED).
        if copyuid.is_some() {
            response.status_line("*", "OK", copyuid.as_deref(), "Moved");
        }
        let qresync = self.qresync;
        let selected = self.selected_mut()?;
        let moved_uids: std::collections::HashSet<u32> = mapping.iter().map(|(source, _)| *source).collect();
        let expunged: Vec<(SeqNum, Uid)> = selected
            .messages
            .iter()
            .enumerate()
            .filter(|(_, known)| moved_uids.contains(&known.uid.0))
            .map(|(index, known)| (SeqNum::from_index(index), known.uid))
            .collect();
        write_expunged(&mut response, &expunged, qresync);
        selected.messages.retain(|known| !moved_uids.contains(&known.uid.0));
        if target.id == from {
            // Moved into the folder itself: the messages come back with new UIDs.
            self.report_changes(&mut response).await?;
        }
        response.status_line(tag, "OK", None, "MOVE completed");
        Ok(response)
    }
}

/// Ascending UIDs as an IMAP set with ranges: `1:3,7,9:10`.
pub(crate) fn uid_set(uids: impl Iterator<Item = u32>) -> String {
    let mut out = String::new();
    let mut run: Option<(u32, u32)> = None;
    let push = |out: &mut String, (first, last): (u32, u32)| {
        if !out.is_empty() {
            out.push(',');
        }
        if first == last {
            out.push_str(&first.to_string());
        } else {
            out.push_str(&format!("{first}:{last}"));
        }
    };
    for uid in uids {
        run = match run {
            Some((first, last)) if uid == last + 1 => Some((first, uid)),
            Some(done) => {
                push(&mut out, done);
                Some((uid, uid))
            }
            None => Some((uid, uid)),
        };
    }
    if let Some(done) = run {
        push(&mut out, done);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_use_ranges() {
        assert_eq!(uid_set([1, 2, 3, 7, 9, 10].into_iter()), "1:3,7,9:10");
        assert_eq!(uid_set([5].into_iter()), "5");
        assert_eq!(uid_set([].into_iter()), "");
    }
}
