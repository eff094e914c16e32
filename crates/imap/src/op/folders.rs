//! CREATE, DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.4–§6.3.8): the folder
//! tree. The rules (system folders fixed, none under Sent or Spam, a deleted folder goes to
//! Trash) are the store's, so IMAP and the web client cannot disagree on them.

use imap_codec::imap_types::mailbox::Mailbox;

use crate::error::{Code, Error, Result};
use crate::op::list::mailbox_name;
use crate::response::Response;
use crate::session::Session;

impl Session {
    /// RFC 9051 §6.3.4: creates the folder and the parents it needs, not subscribed (as
    /// Dovecot and Cyrus do; clients subscribe what they want shown).
    pub(crate) async fn handle_create(
        &mut self,
        tag: &str,
        mailbox: Mailbox<'static>,
        uses: Option<Vec<String>>,
    ) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        // RFC 6154 §3: a folder that cannot have the use asked for is not created. Each system
        // use belongs to one fixed folder, made with the account (D1); the others are not kept.
        if let Some(attribute) = uses.unwrap_or_default().first() {
            let text = match special_use_named(attribute) {
                Some(special_use) => {
                    let holder = self.services.store().special_folder(account, special_use).await?;
                    format!("{attribute} is the system folder {}: it cannot be given to another", holder.name)
                }
                None => format!("Folders cannot be given the {attribute} use here"),
            };
            return Err(Error::no(Some(Code::UseAttr), text));
        }
        self.services.mail.create_folder(account, &name, false).await?;
        Ok(Response::tagged(tag, "OK", None, "CREATE completed"))
    }

    /// RFC 9051 §6.3.5: a folder with subfolders is refused ([HASCHILDREN]: DELETE must not
    /// take them along); otherwise it moves to Trash (D2), or, inside Trash, is removed.
    pub(crate) async fn handle_delete(&mut self, tag: &str, mailbox: Mailbox<'static>) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        if self.services.store().has_subfolders(account, &name).await? {
            return Err(Error::no(Some(Code::HasChildren), format!("{name} has subfolders: delete them first")));
        }
        let text = match self.services.mail.delete_folder(account, &name).await? {
            store::FolderDeletion::MovedTo(trash) => format!("DELETE completed: moved to {trash}"),
            store::FolderDeletion::Removed { .. } => "DELETE completed".to_string(),
        };
        Ok(Response::tagged(tag, "OK", None, &text))
    }

    /// RFC 9051 §6.3.6: renames the folder with its subfolders.
    pub(crate) async fn handle_rename(
        &mut self,
        tag: &str,
        from: Mailbox<'static>,
        to: Mailbox<'static>,
    ) -> Result<Response> {
        let (from, to) = (mailbox_name(&from, self.names)?, mailbox_name(&to, self.names)?);
        let account = self.account()?.id;
        self.services.mail.rename_folder(account, &from, &to).await?;
        Ok(Response::tagged(tag, "OK", None, "RENAME completed"))
    }

    /// RFC 9051 §6.3.7, §6.3.8: only existing folders can be subscribed (the RFC allows
    /// refusing the others).
    pub(crate) async fn handle_subscribe(
        &mut self,
        tag: &str,
        mailbox: Mailbox<'static>,
        subscribed: bool,
    ) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        self.services.mail.set_subscribed(account, &name, subscribed).await?;
        let verb = if subscribed { "SUBSCRIBE" } else { "UNSUBSCRIBE" };
        Ok(Response::tagged(tag, "OK", None, &format!("{verb} completed")))
    }
}

/// The system folder an RFC 6154 use attribute names, as LIST shows it.
fn special_use_named(attribute: &str) -> Option<store::SpecialUse> {
    store::SpecialUse::ALL
        .into_iter()
        .find(|special_use| special_use.imap_attribute().is_some_and(|shown| shown.eq_ignore_ascii_case(attribute)))
}
