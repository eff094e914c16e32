//! SELECT, EXAMINE, UNSELECT, CLOSE and EXPUNGE: opening a folder and leaving it
//! (RFC 9051 §6.3.2, §6.3.3, §6.4.2, §6.4.3; RFC 3691 UNSELECT).

use std::collections::HashSet;

use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::error::{Code, Error, Result};
use crate::op::list::mailbox_name;
use crate::response::Response;
use crate::selected::{Access, Addressing, KnownMessage, Selected};
use crate::session::Session;

impl Session {
    pub(crate) async fn handle_select(
        &mut self,
        tag: &str,
        mailbox: Mailbox<'static>,
        access: Access,
    ) -> Result<Response> {
        let mut response = Response::default();
        // RFC 9051 §6.3.2: selecting deselects the current folder first, even if the new
        // SELECT fails; [CLOSED] tells the client where the old folder's responses stop.
        if self.unselect().is_some() {
            response.status_line("*", "OK", Some("CLOSED"), "Previous folder closed");
        }
        let name = mailbox_name(&mailbox)?;
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
        response.untagged("FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)");
        response.untagged(&format!("{} EXISTS", messages.len()));
        // IMAP4rev1 clients expect RECENT; Facteur does not track \Recent.
        response.untagged("0 RECENT");
        if let Some(index) = first_unseen {
            response.status_line("*", "OK", Some(&format!("UNSEEN {}", index + 1)), "First unseen message");
        }
        response.status_line("*", "OK", Some(&format!("UIDVALIDITY {}", folder.uidvalidity)), "UIDs valid");
        // Read last, the messages may include one delivered after `version`: UIDNEXT must be
        // above every UID the client is shown.
        let uidnext = messages.last().map_or(version.uidnext, |m| version.uidnext.max(m.uid + 1));
        response.status_line("*", "OK", Some(&format!("UIDNEXT {uidnext}")), "Predicted next UID");
        let (permanent, completion_code, verb) = match access {
            Access::ReadWrite => ("\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*", "READ-WRITE", "SELECT"),
            // RFC 9051 §6.3.3: EXAMINE is SELECT without write access, so report [READ-ONLY].
            Access::ReadOnly => ("", "READ-ONLY", "EXAMINE"),
        };
        response.status_line("*", "OK", Some(&format!("PERMANENTFLAGS ({permanent})")), "Flags that can be kept");
        response.status_line(tag, "OK", Some(completion_code), &format!("{verb} completed"));
        let messages =
            messages.iter().zip(blobs).map(|(state, blob)| KnownMessage::from_state(state, Some(blob))).collect();
        self.select(Selected { folder, access, messages, version });
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
        let selected = self.selected_mut()?;
        let mut response = Response::default();
        // Highest first, so each number is still valid when the client applies it. The
        // snapshot is compacted once afterwards: removing one by one would be quadratic.
        for (index, known) in selected.messages.iter().enumerate().rev() {
            if removed.contains(&known.uid.0) {
                response.untagged(&format!("{} EXPUNGE", index + 1));
            }
        }
        selected.messages.retain(|known| !removed.contains(&known.uid.0));
        response.status_line(tag, "OK", None, "EXPUNGE completed");
        Ok(response)
    }
}
