//! RCPT TO (RFC 5321 §4.1.1.3): routes each recipient through the store (A3 aliases,
//! A5 postmaster, A9 plus addressing) and collects the mailboxes to deliver to.

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
        let address = match forward_path {
            ForwardPath::Postmaster => {
                // RFC 5321 §4.1.1.3: "<postmaster>" alone means the postmaster of this host;
                // our first domain stands for the host.
                let domains = self.services.store.list_domains().await?;
                let Some(domain) = domains.first() else { return Err(Error::UnknownUser) };
                store::Address { local: "postmaster".to_string(), domain: domain.name.clone() }
            }
            ForwardPath::Mailbox(text) => {
                if !text.is_ascii() && !smtputf8 {
                    return Err(Error::NeedsSmtpUtf8);
                }
                store::parse_address(&text).map_err(|_| Error::BadRecipientSyntax)?
            }
        };
        let (accounts, external) = match self.services.store.route(&address).await? {
            store::Route::Local { accounts, external } => (accounts, external),
            store::Route::UnknownUser => return Err(Error::UnknownUser),
            // Unauthenticated clients may only send to our own domains (RFC 5321 §3.6.2:
            // an open relay is not acceptable).
            store::Route::NotLocal => return Err(Error::RelayDenied),
        };
        if accounts.is_empty() {
            // Accepting would lose the message: there is no outbound queue yet. A temporary
            // failure makes the sender retry, which works once forwarding exists.
            tracing::warn!(%address, ?external, "forwarding to external addresses is not implemented yet; deferring");
            return Err(Error::ForwardingUnavailable);
        }
        let transaction = self.transaction.as_mut().expect("checked at the top of handle_rcpt");
        transaction.n_recipients += 1;
        for account in accounts {
            if !transaction.accounts.contains(&account) {
                transaction.accounts.push(account);
            }
        }
        for target in external {
            if !transaction.external.contains(&target) {
                transaction.external.push(target);
            }
        }
        Ok(Reply::new(250, "2.1.5", "Recipient OK"))
    }
}
