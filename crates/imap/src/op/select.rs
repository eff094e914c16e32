//! SELECT, EXAMINE, UNSELECT, CLOSE and EXPUNGE: opening a folder and leaving it
//! (RFC 9051 §6.3.2, §6.3.3, §6.4.2, §6.4.3; RFC 3691 UNSELECT).

use std::collections::HashSet;

use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::error::{Code, Error, Result};
use crate::op::list::{mailbox_name, wire_name};
use crate::op::misc::write_expunged;
use crate::response::Response;
use crate::selected::{Access, Addressing, KnownMessage, Selected, SeqNum, Uid};
use crate::session::Session;

impl Session {
    pub(crate) async fn handle_select(
        &mut self,
        tag: &str,
        mailbox: Mailbox<'static>,
        access: Access,
        parameters: Vec<SelectParameter>,
    ) -> Result<Response> {
        let mut resync = None;
        for parameter in parameters {
            match parameter {
                // RFC 7162 §3.1.8: SELECT (CONDSTORE) enables CONDSTORE.
                SelectParameter::CondStore => self.condstore = true,
                SelectParameter::QResync { uid_validity, mod_sequence_value, known_uids, .. } => {
                    // RFC 7162 §3.2.5: only once QRESYNC is enabled.
                    if !self.qresync {
                        return Err(Error::bad("ENABLE QRESYNC first"));
                    }
                    resync = Some((uid_validity.get(), mod_sequence_value.get(), known_uids));
                }
            }
        }
        let mut response = Response::default();
        // RFC 9051 §6.3.2: selecting deselects the current folder first, even if the new
        // SELECT fails; [CLOSED] tells the client where the old folder's responses stop.
        if self.unselect().is_some() {
            response.status_line("*", "OK", Some("CLOSED"), "Previous folder closed");
        }
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        let Some(folder) = self.services.store().folder_by_name(account, &name).await? else {
            // Not an Err: the [CLOSED] line above must still reach the client.
            response.status_line(tag, "NO", Some(Code::Nonexistent.as_str()), &format!("No folder named {name}"));
            return Ok(response);
        };
        // The version first: a change landing between the two reads moves it past what the
        // snapshot shows, so the next NOOP looks again rather than missing it.
        let version = self.services.store().folder_version(account, folder.id).await?;
        let (messages, blobs) = self.services.store().message_states_and_blobs(account, folder.id).await?;
        let first_unseen = messages.iter().position(|m| !m.flags.contains(store::Flags::SEEN));
        let known: Vec<KnownMessage> =
            messages.iter().zip(blobs).map(|(state, blob)| KnownMessage::from_state(state, Some(blob))).collect();
        // Read last, the messages may include one delivered after `version`: UIDNEXT must be
        // above every UID the client is shown.
        let uidnext = messages.last().map_or(version.uidnext, |m| version.uidnext.max(m.uid + 1));
        let (uidvalidity, n_messages) = (folder.uidvalidity, messages.len());
        let mut selected = Selected::new(folder, access, known, version);
        // RFC 7162 §3.1.2.1: modseqs are kept for every folder, so this comes with every SELECT.
        let highest = selected.highest_modseq();
        selected.write_flags(&mut response);
        response.untagged(&format!("{n_messages} EXISTS"));
        if self.rev2 {
            // RFC 9051 §6.3.2: the folder's name as the server spells it; no RECENT, no UNSEEN.
            response.untagged(&format!("LIST () \"/\" {}", wire_name(&selected.folder.name, self.names)));
        } else {
            let claim = access == Access::ReadWrite;
            let first_recent = self.services.store().recent_from(account, selected.folder.id, uidnext, claim).await?;
            selected.recent.push(first_recent..uidnext);
            response.untagged(&format!("{} RECENT", selected.n_recent()));
            if let Some(index) = first_unseen {
                response.status_line("*", "OK", Some(&format!("UNSEEN {}", index + 1)), "First unseen message");
            }
        }
        response.status_line("*", "OK", Some(&format!("UIDVALIDITY {uidvalidity}")), "UIDs valid");
        response.status_line("*", "OK", Some(&format!("UIDNEXT {uidnext}")), "Predicted next UID");
        response.status_line("*", "OK", Some(&format!("HIGHESTMODSEQ {highest}")), "Highest");
        let (completion_code, verb) = match access {
            Access::ReadWrite => ("READ-WRITE", "SELECT"),
            // RFC 9051 §6.3.3: EXAMINE is SELECT without write access, so report [READ-ONLY].
            Access::ReadOnly => ("READ-ONLY", "EXAMINE"),
        };
        if let Some((client_uidvalidity, modseq, known_uids)) = resync
            && client_uidvalidity == uidvalidity
        {
            let store = self.services.store();
            write_resync(store, &mut response, account, &selected, modseq, known_uids.as_ref()).await?;
        }
        response.status_line(tag, "OK", Some(completion_code), &format!("{verb} completed"));
        self.select(selected);
        Ok(response)
    }

    /// RFC 3691: leave the folder without expunging.
    pub(crate) fn handle_unselect(&mut self, tag: &str) -> Response {
        self.unselect();
        Response::tagged(tag, "OK", None, "UNSELECT completed")
    }

    /// RFC 9051 §6.4.2: expunge silently (read-write only), then leave the folder.
    pub(crate) async fn handle_close(&mut self, tag: &str) -> Result<Response> {
        let account = self.account()?.id;
        if let Some(selected) = self.unselect()
            && selected.access == Access::ReadWrite
        {
            let known: Vec<u32> = selected.messages.iter().map(|m| m.uid.0).collect();
            self.services.mail.expunge(account, selected.folder.id, Some(&known)).await?;
        }
        Ok(Response::tagged(tag, "OK", None, "CLOSE completed"))
    }

    /// RFC 9051 §6.4.3: remove the messages marked \Deleted and say EXPUNGE for each; with
    /// `uids` (UID EXPUNGE, RFC 4315 §2.1), only those of them.
    pub(crate) async fn handle_expunge(&mut self, tag: &str, uids: Option<&SequenceSet>) -> Result<Response> {
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        if selected.access == Access::ReadOnly {
            return Err(Error::no(Some(Code::Cannot), "Folder is read-only (EXAMINE)"));
        }
        let folder = selected.folder.id;
        // Only messages the client knows about: a new message it has not seen yet cannot be
        // announced as expunged by sequence number.
        let known: Vec<u32> = match uids {
            Some(set) => selected.resolve(set, Addressing::Uid)?.iter().map(|&i| selected.messages[i].uid.0).collect(),
            None => selected.messages.iter().map(|m| m.uid.0).collect(),
        };
        let removed = self.services.mail.expunge(account, folder, Some(&known)).await?;
        let removed: HashSet<u32> = removed.into_iter().collect();
        let qresync = self.qresync;
        let selected = self.selected_mut()?;
        let mut response = Response::default();
        let expunged: Vec<(SeqNum, Uid)> = selected
            .messages
            .iter()
            .enumerate()
            .filter(|(_, known)| removed.contains(&known.uid.0))
            .map(|(index, known)| (SeqNum::from_index(index), known.uid))
            .collect();
        write_expunged(&mut response, &expunged, qresync);
        // The snapshot is compacted once: removing one by one would be quadratic.
        selected.messages.retain(|known| !removed.contains(&known.uid.0));
        // What other sessions did meanwhile (an expunge of the same message included) is told
        // now: EXPUNGE is a command during which the numbers may move.
        self.report_changes(&mut response).await?;
        response.status_line(tag, "OK", None, "EXPUNGE completed");
        Ok(response)
    }
}

/// RFC 7162 §3.2.5: what changed since the client's last session in this folder: the UIDs
/// it knew that are gone (`VANISHED (EARLIER)`), then the flags of messages changed since.
/// When the change log no longer reaches back that far, every message's flags are sent and
/// every UID not present is gone.
async fn write_resync(
    store: &store::Store,
    response: &mut Response,
    account: store::AccountId,
    selected: &Selected,
    modseq: u64,
    known_uids: Option<&SequenceSet>,
) -> Result<()> {
    let (folder, known) = (&selected.folder, &selected.messages);
    let uid_limit = folder.uidnext.saturating_sub(1);
    let in_known = |uid: u32| known_uids.is_none_or(|set| crate::selected::set_contains(set, uid, uid_limit));
    let (vanished, changed_since) = match store.folder_changes_since(account, folder.id, modseq).await? {
        store::FolderChanges::Since { vanished, .. } => (vanished, modseq),
        store::FolderChanges::TooOld { .. } => {
            // The gaps between present UIDs, below UIDNEXT (at most a million named).
            let present: HashSet<u32> = known.iter().map(|m| m.uid.0).collect();
            ((1..=uid_limit).filter(|uid| !present.contains(uid)).take(1_000_000).collect(), 0)
        }
    };
    let vanished: Vec<u32> = vanished.into_iter().filter(|&uid| in_known(uid)).collect();
    if !vanished.is_empty() {
        response.untagged(&format!("VANISHED (EARLIER) {}", crate::op::copy::uid_set(vanished.into_iter())));
    }
    for (index, message) in known.iter().enumerate() {
        if message.modseq > changed_since {
            response.untagged(&format!(
                "{} FETCH (UID {} FLAGS ({}) MODSEQ ({}))",
                index + 1,
                message.uid.0,
                crate::op::fetch::flag_list(message.flags, &message.keywords, selected.is_recent(message.uid)),
                message.modseq
            ));
        }
    }
    Ok(())
}
