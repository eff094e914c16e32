//! MAIL FROM (RFC 5321 §4.1.1.2): opens a transaction.

use crate::codec::MailParameters;
use crate::reply::Reply;
use crate::session::{Session, Transaction};
use crate::{Error, Result};

impl Session {
    pub(crate) fn handle_mail(&mut self, reverse_path: String, params: MailParameters) -> Result<Reply> {
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
        self.transaction = Some(Transaction { sender: reverse_path, params, ..Transaction::default() });
        Ok(Reply::new(250, "2.1.0", "Sender OK"))
    }
}
