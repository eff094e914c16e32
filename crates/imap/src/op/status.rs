//! STATUS (RFC 9051 §6.3.11): counters of a folder without selecting it.

use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::status::StatusDataItemName;

use crate::error::{Code, Error, Result};
use crate::op::list::{mailbox_name, wire_name};
use crate::response::Response;
use crate::session::Session;

impl Session {
    pub(crate) async fn handle_status(
        &mut self,
        tag: &str,
        mailbox: Mailbox<'static>,
        items: &[StatusDataItemName],
    ) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        let Some(folder) = self.services.store().folder_by_name(account, &name).await? else {
            return Err(Error::no(Some(Code::Nonexistent), format!("No folder named {name}")));
        };
        let values = self.status_values(&folder, items).await?;
        let mut response = Response::default();
        response.untagged(&format!("STATUS {} ({values})", wire_name(&folder.name, self.names)));
        response.status_line(tag, "OK", None, "STATUS completed");
        Ok(response)
    }

    /// The values of a STATUS answer for `folder`: `MESSAGES 3 UNSEEN 1`.
    pub(crate) async fn status_values(
        &mut self,
        folder: &store::Folder,
        items: &[StatusDataItemName],
    ) -> Result<String> {
        let account = self.account()?.id;
        let mut values = Vec::new();
        for item in items {
            let value = match item {
                StatusDataItemName::Messages => format!("MESSAGES {}", folder.n_messages),
                StatusDataItemName::UidNext => format!("UIDNEXT {}", folder.uidnext),
                StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", folder.uidvalidity),
                StatusDataItemName::Unseen => format!("UNSEEN {}", folder.n_unseen),
                // RFC 8438: the folder's bytes, the sum of its messages' RFC822.SIZE, kept by the
                // store's counters (no message is read).
                StatusDataItemName::Size => format!("SIZE {}", folder.size_bytes),
                // RFC 7162 §3.1.10; asking for it enables CONDSTORE (§3.1).
                StatusDataItemName::HighestModSeq => {
                    self.condstore = true;
                    format!("HIGHESTMODSEQ {}", folder.highest_modseq)
                }
                // IMAP4rev1 only (removed in IMAP4rev2): the messages no session claimed yet.
                StatusDataItemName::Recent => {
                    format!("RECENT {}", self.services.store().unclaimed_recent(account, folder.id).await?)
                }
                StatusDataItemName::Deleted => {
                    let messages = self.services.store().message_states(account, folder.id).await?;
                    let n_deleted = messages.iter().filter(|m| m.flags.contains(store::Flags::DELETED)).count();
                    format!("DELETED {n_deleted}")
                }
                other => return Err(Error::bad(format!("STATUS item {other:?} is not supported"))),
            };
            values.push(value);
        }
        Ok(values.join(" "))
    }
}

/// A STATUS item named in `LIST ... RETURN (STATUS (...))` (RFC 5819).
pub(crate) fn status_item(name: &str) -> Result<StatusDataItemName> {
    Ok(match name {
        "MESSAGES" => StatusDataItemName::Messages,
        "UIDNEXT" => StatusDataItemName::UidNext,
        "UIDVALIDITY" => StatusDataItemName::UidValidity,
        "UNSEEN" => StatusDataItemName::Unseen,
        "SIZE" => StatusDataItemName::Size,
        "HIGHESTMODSEQ" => StatusDataItemName::HighestModSeq,
        "RECENT" => StatusDataItemName::Recent,
        "DELETED" => StatusDataItemName::Deleted,
        other => return Err(Error::bad(format!("Unknown STATUS item {other}"))),
    })
}
