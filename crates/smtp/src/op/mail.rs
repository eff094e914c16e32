//! MAIL FROM (RFC 5321 §4.1.1.2): opens a transaction.

use crate::codec::MailParameters;
use crate::reply::Reply;
use crate::session::{Session, Transaction};
use crate::{Error, Result};
use mail::SendingSlot;

impl Session {
    pub(crate) async fn handle_mail(&mut self, reverse_path: String, params: MailParameters) -> Result<Reply> {
        // RFC 5321 §4.1.4: MAIL needs a prior EHLO/HELO and no open transaction.
        if self.hello.is_none() {
            return Err(Error::BadSequence("Send EHLO or HELO first"));
        }
        if self.transaction.is_some() {
            return Err(Error::BadSequence("Nested MAIL command"));
        }
        // RFC 1870 §6.1: refuse at once a message announced as too big.
        if params.size.is_some_and(|size| size > store::MAX_MESSAGE_BYTES as u64) {
            return Err(Error::MessageTooBig);
        }
        // RFC 6531 §3.4: a non-ASCII address needs the SMTPUTF8 parameter.
        if !reverse_path.is_ascii() && !params.smtputf8 {
            return Err(Error::NeedsSmtpUtf8);
        }
        let sending =
            if self.is_submission() { Some(self.check_submission_sender(&reverse_path).await?) } else { None };
        self.transaction = Some(Transaction { sender: reverse_path, params, sending, ..Transaction::default() });
        Ok(Reply::new(250, "2.1.0", "Sender OK"))
    }

    /// Submission (RFC 6409 §4.3, §6.1): only a logged-in account sends, within its hourly
    /// limit (the message's place is taken now), and only from an address of its own.
    async fn check_submission_sender(&mut self, sender: &str) -> Result<SendingSlot> {
        let Some(account) = self.account.clone() else { return Err(Error::AuthRequired) };
        let address = store::parse_address(sender).map_err(|_| Error::SenderNotOwned)?;
        if !self.owns(&account, &address).await? {
            tracing::info!(login = %account.login, sender = %address, "sender address refused");
            return Err(Error::SenderNotOwned);
        }
        let Some(slot) = self.services.mail.reserve_sending(account.id) else {
            tracing::warn!(login = %account.login, "hourly sending limit reached");
            return Err(Error::SendingLimit(self.services.mail.hourly_limit()));
        };
        Ok(slot)
    }

    /// Whether an address is the account's own ([`mail::Mail::owns`]).
    pub(crate) async fn owns(&mut self, account: &store::Account, address: &store::Address) -> Result<bool> {
        Ok(self.services.mail.owns(account.id, address).await?)
    }
}
