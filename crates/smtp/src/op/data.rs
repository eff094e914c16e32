//! DATA (RFC 5321 §4.1.1.4): receive the message, add trace fields, deliver, and only then
//! say 250.
//!
//! Memory: a message is held in memory whole (up to [`store::MAX_MESSAGE_BYTES`]) until the
//! store has it, so at most [`MAX_CONCURRENT_DATA`] messages are received at once across the
//! process, and each is built in one buffer: the trace fields first, then the body appended
//! as it arrives, handed to the store without a copy.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Semaphore;

use crate::data_receiver::{DataOutcome, DataReceiver};
use crate::reply::Reply;
use crate::session::{DATA_BLOCK_TIMEOUT, DATA_TOTAL_TIMEOUT, Session};
use crate::trace::{TraceInfo, protocol_name, trace_headers};
use crate::{Error, Result};

/// DATA phases running at once, process-wide; with 50 MB messages this bounds the memory that
/// inbound SMTP can take to under a gigabyte, however many connections are open.
pub(crate) const MAX_CONCURRENT_DATA: usize = 16;

/// One permit per DATA phase in progress. A static rather than a field of
/// [`crate::SmtpServices`] because the budget is the process's memory, not a listener's.
static DATA_SLOTS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_DATA);

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
        // Refused before 354, so the client sends no text and keeps its transaction: it may
        // try DATA again or RSET. The permit is held until the message is stored or dropped.
        let Ok(_data_slot) = DATA_SLOTS.try_acquire() else {
            tracing::warn!(max = MAX_CONCURRENT_DATA, "too many messages being received at once; DATA deferred");
            return Err(Error::InsufficientResources);
        };

        let id = format!(
            "{:x}{:04x}",
            chrono::Utc::now().timestamp_micros(),
            NEXT_MESSAGE.fetch_add(1, Ordering::Relaxed) & 0xffff
        );
        let hello = self.hello.as_ref().expect("MAIL requires EHLO/HELO, so a transaction implies it");
        // RFC 5321 §4.4: the trace fields go before the message. Writing them first, stamped
        // with the time the data starts (as Postfix does), lets the body be appended to the
        // same buffer instead of being copied behind them afterwards.
        let mut raw = trace_headers(&TraceInfo {
            sender: &transaction.sender,
            helo: &hello.domain,
            peer: self.peer,
            hostname: &self.services.hostname,
            protocol: protocol_name(hello.extended, self.tls, transaction.params.smtputf8),
            id: &id,
            date: chrono::Utc::now(),
        });

        self.push(&Reply::new(354, "2.0.0", "Start mail input; end with <CRLF>.<CRLF>"));
        self.flush().await?;
        // The cap covers the trace fields already in `raw`: the store takes no more than
        // MAX_MESSAGE_BYTES in all.
        let mut receiver = DataReceiver::new(store::MAX_MESSAGE_BYTES);
        let deadline = tokio::time::Instant::now() + DATA_TOTAL_TIMEOUT;
        loop {
            let (consumed, ended) = receiver.feed(&self.inbuf, &mut raw);
            self.inbuf.drain(..consumed);
            if ended {
                break;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            self.read_more(DATA_BLOCK_TIMEOUT.min(left)).await?;
        }
        // RFC 5321 §4.1.1.4: whatever the outcome, the transaction ends with the data.
        let transaction = self.transaction.take().expect("checked at the top of handle_data");
        match receiver.outcome() {
            DataOutcome::Complete => {}
            DataOutcome::TooBig => return Err(Error::MessageTooBig),
            DataOutcome::BareNewline => return Err(Error::BareNewlineInData),
            DataOutcome::LineTooLong => return Err(Error::DataLineTooLong),
        }

        let size = raw.len();
        // RFC 5321 §6.1: after 250 the message must not be lost, and SMTP has one reply for
        // all recipients. RCPT checked quotas with the announced size (or none); the store
        // checks again with the real size and delivers all or nothing, so a mailbox without
        // room defers the whole message with nothing stored, and the sender retries rather
        // than some recipients silently missing it.
        // FIXME: per-recipient results and bounces (a later issue) will let the others have it.
        let delivery = self.services.store.deliver(&transaction.accounts, raw).await.map_err(|err| match err {
            store::Error::Refused(_) => Error::MessageTooBig,
            store::Error::QuotaExceeded => Error::MailboxFull,
            other => Error::Store(other),
        })?;
        if delivery.delivered.is_empty() {
            tracing::info!(%id, size, over_quota = ?delivery.over_quota, "mailbox full for the real size; message deferred");
            return Err(Error::MailboxFull);
        }
        tracing::info!(%id, size, n_mailboxes = delivery.delivered.len(), sender = %transaction.sender, "message delivered");
        Ok(Reply::new(250, "2.0.0", format!("OK, message {id} delivered")))
    }
}
