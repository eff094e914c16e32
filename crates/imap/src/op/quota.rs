//! QUOTA (RFC 9208; A10): one quota root, "", holding the account's storage limit. Quotas
//! are set by the administrator (`facteur admin`), so SETQUOTA is refused.

use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::mailbox::Mailbox;

use crate::error::{Code, Error, Result};
use crate::op::list::{mailbox_name, wire_name};
use crate::response::Response;
use crate::session::Session;

impl Session {
    /// RFC 9208 §4.3.2: the folder's roots ("" when the account has a limit) and their usage.
    pub(crate) async fn handle_getquotaroot(&mut self, tag: &str, mailbox: Mailbox<'static>) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        if self.services.store().folder_by_name(account, &name).await?.is_none() {
            return Err(Error::no(Some(Code::Nonexistent), format!("No folder named {name}")));
        }
        let mut response = Response::default();
        match storage_line(self.services.store(), account).await? {
            Some(line) => {
                response.untagged(&format!("QUOTAROOT {} \"\"", wire_name(&name, self.names)));
                response.untagged(&line);
            }
            None => response.untagged(&format!("QUOTAROOT {}", wire_name(&name, self.names))),
        }
        response.status_line(tag, "OK", None, "GETQUOTAROOT completed");
        Ok(response)
    }

    /// RFC 9208 §4.3.1.
    pub(crate) async fn handle_getquota(&mut self, tag: &str, root: AString<'static>) -> Result<Response> {
        let account = self.account()?.id;
        let line = match storage_line(self.services.store(), account).await? {
            Some(line) if root.as_ref().is_empty() => line,
            _ => return Err(Error::no(Some(Code::Nonexistent), "No such quota root")),
        };
        let mut response = Response::default();
        response.untagged(&line);
        response.status_line(tag, "OK", None, "GETQUOTA completed");
        Ok(response)
    }
}

/// `QUOTA "" (STORAGE used limit)` in units of 1024 bytes, or `None` without a limit. The limit
/// is read now: the administrator may have changed it since login.
async fn storage_line(store: &store::Store, account: store::AccountId) -> Result<Option<String>> {
    let Some(limit) = store.account_by_id(account).await?.and_then(|a| a.quota_bytes) else { return Ok(None) };
    let used = store.used_bytes(account).await?;
    Ok(Some(format!("QUOTA \"\" (STORAGE {} {})", (used + 1023) / 1024, limit / 1024)))
}
