//! RCPT TO (RFC 5321 §4.1.1.3): routes each recipient through the store (A3 aliases,
//! A5 postmaster, A9 plus addressing) and collects the mailboxes to deliver to.
//!
//! A recipient is accepted only if every copy it stands for can be stored (RFC 5321 §6.1):
//! one with a full mailbox gets 452 (A10); the other recipients of the transaction are
//! unaffected. Copies for other servers (a recipient there on submission, an alias's external
//! targets) go to the outbound queue with the local ones, in the same transaction.

use crate::codec::ForwardPath;
use crate::reply::Reply;
use crate::session::Session;
use crate::{Error, Result};

/// RFC 5321 §4.5.3.1.8: servers must take at least 100 recipients; we take exactly that many.
pub(crate) const MAX_RECIPIENTS: usize = 100;

impl Session {
    pub(crate) async fn handle_rcpt(&mut self, forward_path: ForwardPath) -> Result<Reply> {
        let Some(transaction) = self.transaction.as_ref() else {
            return Err(Error::BadSequence("Need MAIL before RCPT"));
        };
        if transaction.n_recipients >= MAX_RECIPIENTS {
            return Err(Error::TooManyRecipients);
        }
        let smtputf8 = transaction.params.smtputf8;
        // RFC 1870 lets a server refuse a recipient for the declared size; without SIZE we can
        // only tell whether a mailbox is already over quota.
        let announced_size = transaction.params.size.unwrap_or(0);
        let (address, as_written) = match forward_path {
            ForwardPath::Postmaster => {
                // RFC 5321 §4.1.1.3: "<postmaster>" alone means the postmaster of this host;
                // our first domain stands for the host.
                let domains = self.services.store().list_domains().await?;
                let Some(domain) = domains.first() else { return Err(Error::UnknownUser) };
                (store::Address { local: "postmaster".to_string(), domain: domain.name.clone() }, None)
            }
            ForwardPath::Mailbox(text) => {
                if !text.is_ascii() && !smtputf8 {
                    return Err(Error::NeedsSmtpUtf8);
                }
                (store::parse_address(&text).map_err(|_| Error::BadRecipientSyntax)?, Some(text))
            }
        };
        let (accounts, external) = match self.services.mail.route(&address).await? {
            store::Route::Local { accounts, external } => (accounts, external),
            store::Route::List(list) => return self.list_recipient(list).await,
            store::Route::ListBounce { list, token } => {
                // A bounce address that we did not write is nobody's.
                if self.services.mail.list_bounce_member(list, &token).await?.is_none() {
                    return Err(Error::UnknownUser);
                }
                let transaction = self.transaction.as_mut().expect("checked at the top of handle_rcpt");
                transaction.n_recipients += 1;
                transaction.list_bounces.push((list, token));
                return Ok(Reply::new(250, "2.1.5", "Recipient OK"));
            }
            store::Route::UnknownUser => return Err(Error::UnknownUser),
            // A logged-in account may send anywhere: the message is queued for that server.
            store::Route::NotLocal if self.is_submission() => {
                let remote = mail::outgoing::remote_form(&address, as_written.as_deref());
                let transaction = self.transaction.as_mut().expect("checked at the top of handle_rcpt");
                transaction.n_recipients += 1;
                if !transaction.remote.contains(&remote) {
                    transaction.remote.push(remote);
                }
                return Ok(Reply::new(250, "2.1.5", "Recipient OK"));
            }
            // Unauthenticated clients may only send to our own domains (RFC 5321 §3.6.2:
            // an open relay is not acceptable).
            store::Route::NotLocal => return Err(Error::RelayDenied),
        };
        // An alias may also forward to other servers (A3). From submission those copies leave
        // from the account's own address like any remote recipient; from the MX, under an SRS
        // sender at this domain (`Mail::forwarding_sender`), decided at DATA.
        if !external.is_empty() {
            tracing::debug!(%address, ?external, "recipient forwards to other servers");
        }
        // A10: refuse a full mailbox now, per recipient, rather than after the data, when one
        // reply has to cover every recipient. DATA checks again with the real size.
        for &account in &accounts {
            if !self.services.store().quota_allows(account, announced_size).await? {
                tracing::info!(%address, ?account, announced_size, "mailbox full; recipient deferred");
                return Err(Error::MailboxFull);
            }
        }
        let submission = self.is_submission();
        let transaction = self.transaction.as_mut().expect("checked at the top of handle_rcpt");
        transaction.n_recipients += 1;
        let copies = if submission { &mut transaction.remote } else { &mut transaction.forwards };
        for target in external {
            if !copies.contains(&target) {
                copies.push(target);
            }
        }
        if !submission && transaction.forwarded_by.is_none() && !transaction.forwards.is_empty() {
            transaction.forwarded_by = Some(address.domain.clone());
        }
        for account in accounts {
            if !transaction.accounts.contains(&account) {
                transaction.accounts.push(account);
            }
        }
        Ok(Reply::new(250, "2.1.5", "Recipient OK"))
    }

    /// A mailing list (A7, A8): a distribution list takes posts from its owners alone, which
    /// the envelope tells (the account's own addresses on submission; from the MX, an owner on
    /// another server); a discussion list takes every message, and holds what its members did
    /// not write (decided at DATA, on the `From:`).
    async fn list_recipient(&mut self, list: store::ListId) -> Result<Reply> {
        let Some(list) = self.services.store().mailing_list(list).await? else { return Err(Error::UnknownUser) };
        let account = self.account.as_ref().filter(|_| self.is_submission()).map(|account| account.id);
        let transaction = self.transaction.as_ref().expect("checked by handle_rcpt");
        if list.kind == store::ListKind::Distribution
            && !self.services.mail.is_list_owner(&list, &transaction.sender, account).await?
        {
            tracing::info!(list = %list.address, sender = %transaction.sender, "not an owner of the distribution list");
            return Err(Error::NotListOwner);
        }
        let transaction = self.transaction.as_mut().expect("checked by handle_rcpt");
        transaction.n_recipients += 1;
        if !transaction.lists.iter().any(|known| known.id == list.id) {
            transaction.lists.push(list);
        }
        Ok(Reply::new(250, "2.1.5", "Recipient OK"))
    }
}
