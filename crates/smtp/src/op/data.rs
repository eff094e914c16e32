//! DATA (RFC 5321 §4.1.1.4): receive the message, add trace fields, deliver, and only then
//! say 250.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::data_receiver::{DataOutcome, DataReceiver};
use crate::reply::Reply;
use crate::session::{DATA_BLOCK_TIMEOUT, Session};
use crate::trace::{TraceInfo, protocol_name, trace_headers};
use crate::{Error, Result};

/// Makes message ids unique within the process; the time makes them unique across restarts.
static NEXT_MESSAGE: AtomicU64 = AtomicU64::new(0);

impl Session {
    pub(crate) async fn handle_data(&mut self) -> Result<Reply> {
        let Some(transaction) = self.transaction.as_ref() else {
            return Err(Error::BadSequence("Need MAIL before DATA"));
        };
        // RFC 2920 §3.1 / RFC 5321 §3.3: with no accepted recipient DATA gets 554 (503 would
        // also do); the client's pipelined message text then reads as bad commands, which is
        // why clients wait for 354.
        if transaction.n_recipients == 0 {
            return Err(Error::NoValidRecipients);
        }
        self.push(&Reply::new(354, "2.0.0", "Start mail input; end with <CRLF>.<CRLF>"));
        self.flush().await?;

        let mut receiver = DataReceiver::new(store::MAX_MESSAGE_BYTES);
        let mut message = Vec::new();
        loop {
            let (consumed, ended) = receiver.feed(&self.inbuf, &mut message);
            self.inbuf.drain(..consumed);
            if ended {
                break;
            }
            self.read_more(DATA_BLOCK_TIMEOUT).await?;
        }
        // RFC 5321 §4.1.1.4: whatever the outcome, the transaction ends with the data.
        let transaction = self.transaction.take().expect("checked at the top of handle_data");
        match receiver.outcome() {
            DataOutcome::Complete => {}
            DataOutcome::TooBig => return Err(Error::MessageTooBig),
            DataOutcome::BareNewline => return Err(Error::BareNewlineInData),
            DataOutcome::LineTooLong => return Err(Error::DataLineTooLong),
        }

        let id = format!(
            "{:x}{:04x}",
            chrono::Utc::now().timestamp_micros(),
            NEXT_MESSAGE.fetch_add(1, Ordering::Relaxed) & 0xffff
        );
        let hello = self.hello.as_ref().expect("MAIL requires EHLO/HELO, so a transaction implies it");
        let headers = trace_headers(&TraceInfo {
            sender: &transaction.sender,
            helo: &hello.domain,
            peer: self.peer,
            hostname: &self.services.hostname,
            protocol: protocol_name(hello.extended, self.tls, transaction.params.smtputf8),
            id: &id,
            date: chrono::Utc::now(),
        });
        if headers.len() + message.len() > store::MAX_MESSAGE_BYTES {
            return Err(Error::MessageTooBig);
        }
        let mut raw = Vec::with_capacity(headers.len() + message.len());
        raw.extend_from_slice(&headers);
        raw.extend_from_slice(&message);
        drop(message);

        if !transaction.external.is_empty() {
            tracing::warn!(
                %id,
                external = ?transaction.external,
                "forwarding to external addresses is not implemented yet; delivered to local mailboxes only"
            );
        }
        let size = raw.len();
        let delivery = self.services.store.deliver(&transaction.accounts, raw).await.map_err(|err| match err {
            store::Error::Refused(_) => Error::MessageTooBig,
            store::Error::QuotaExceeded => Error::MailboxFull,
            other => Error::Store(other),
        })?;
        if delivery.delivered.is_empty() {
            return Err(Error::MailboxFull);
        }
        if !delivery.over_quota.is_empty() {
            // One reply covers every recipient (no LMTP-style per-recipient replies in SMTP),
            // and there is no bounce generator yet: log what was not stored.
            tracing::warn!(%id, over_quota = ?delivery.over_quota, "some mailboxes were full; message not stored for them");
        }
        tracing::info!(%id, size, n_mailboxes = delivery.delivered.len(), sender = %transaction.sender, "message delivered");
        Ok(Reply::new(250, "2.0.0", format!("OK, message {id} delivered")))
    }
}
