//! DATA (RFC 5321 §4.1.1.4): receive the message, add trace fields, deliver, and only then
//! say 250.
//!
//! Memory: a message is held in memory whole (up to [`store::MAX_MESSAGE_BYTES`]) until the
//! store has it, in one buffer: the trace fields first, then the body appended as it arrives,
//! handed to the store without a copy. The buffer grows only within the fair shares of
//! [`crate::data_budget`]: so many phases per client, and bytes reserved before they are used.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::data_budget::BUDGET;
use crate::data_receiver::{DataOutcome, DataReceiver};
use crate::reply::Reply;
use crate::sender_checks::{Arrival, Verdict, header_too_large, remove_forged_results};
use crate::session::{DATA_BLOCK_TIMEOUT, DATA_TOTAL_TIMEOUT, READ_CHUNK, Session};
use crate::trace::{TraceInfo, protocol_name, trace_headers};
use crate::{Error, Result};

/// Makes message ids unique within the process; the time makes them unique across restarts.
static NEXT_MESSAGE: AtomicU64 = AtomicU64::new(0);

impl Session {
    /// Whether the message's author is the account: its `Sender:` when it has one (RFC 5322
    /// §3.6.2: who sent it for the authors), else every `From:` address. A message without
    /// either is let through (nobody is impersonated).
    async fn authors_owned(&mut self, account: &store::Account, raw: &[u8]) -> Result<bool> {
        let Some(headers) = mail_parser::MessageParser::new().parse_headers(raw) else { return Ok(true) };
        let addresses = |value: Option<&mail_parser::Address<'_>>| -> Vec<String> {
            value.map_or_else(Vec::new, |address| {
                address.iter().map(|addr| addr.address().unwrap_or_default().to_string()).collect()
            })
        };
        let sender = addresses(headers.sender());
        let authors = if sender.is_empty() { addresses(headers.from()) } else { sender };
        for author in authors {
            let Ok(address) = store::parse_address(&author) else { return Ok(false) };
            if !self.owns(account, &address).await? {
                return Ok(false);
            }
        }
        Ok(true)
    }

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
        // try DATA again or RSET. The phase is held until the message is stored or dropped.
        let Some(mut phase) = BUDGET.admit(self.peer).await else {
            tracing::warn!("this client already sends as many messages as it may, or memory is short; DATA deferred");
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
            protocol: protocol_name(hello.extended, self.tls, transaction.params.smtputf8, self.account.is_some()),
            id: &id,
            date: chrono::Utc::now(),
        });

        let trace_len = raw.len();

        self.push(&Reply::new(354, "2.0.0", "Start mail input; end with <CRLF>.<CRLF>"));
        self.flush().await?;
        // The cap covers the trace fields already in `raw`: the store takes no more than
        // MAX_MESSAGE_BYTES in all.
        let mut receiver = DataReceiver::new(store::MAX_MESSAGE_BYTES);
        let deadline = tokio::time::Instant::now() + DATA_TOTAL_TIMEOUT;
        loop {
            // The receiver appends at most what is in the input; make room for it within the
            // budget first, growing the buffer geometrically. Without room, the rest of the
            // message is read and dropped, and the client told to retry (452).
            let needed = raw.len() + self.inbuf.len();
            if needed > raw.capacity() {
                let grown = needed.max(raw.capacity() * 2).min(store::MAX_MESSAGE_BYTES + self.inbuf.len());
                if phase.reserve(grown) {
                    raw.reserve_exact(grown - raw.len());
                } else if receiver.outcome() == DataOutcome::Complete {
                    tracing::warn!(
                        size = raw.len(),
                        "no memory left for this message; reading it to its end to defer it"
                    );
                    receiver.drop_the_rest();
                    raw = Vec::new();
                }
            }
            let (consumed, ended) = receiver.feed(&self.inbuf, &mut raw);
            self.inbuf.drain(..consumed);
            if ended {
                break;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            self.read_more(DATA_BLOCK_TIMEOUT.min(left), READ_CHUNK).await?;
        }
        // RFC 5321 §4.1.1.4: whatever the outcome, the transaction ends with the data.
        let transaction = self.transaction.take().expect("checked at the top of handle_data");
        match receiver.outcome() {
            DataOutcome::Complete => {}
            DataOutcome::TooBig => return Err(Error::MessageTooBig),
            DataOutcome::BareNewline => return Err(Error::BareNewlineInData),
            DataOutcome::LineTooLong => return Err(Error::DataLineTooLong),
            DataOutcome::NoRoom => return Err(Error::InsufficientResources),
        }

        let size = raw.len();
        let store_error = |err| match err {
            store::Error::Refused(_) => Error::MessageTooBig,
            store::Error::QuotaExceeded => Error::MailboxFull,
            other => Error::Store(other),
        };
        if let Some(account) = self.account.clone().filter(|_| self.is_submission()) {
            // RFC 6409 §8.1: the author shown is one of the account's own addresses too.
            if !self.authors_owned(&account, &raw).await? {
                tracing::info!(login = %account.login, "From: or Sender: address refused");
                return Err(Error::AuthorNotOwned);
            }
            let posts = list_posts(&self.services.mail, &transaction, &raw, Some(account.id)).await?;
            // One pipeline for every way of sending: local recipients and the Sent copy.
            let envelope = mail::Envelope {
                sender: &transaction.sender,
                local: &transaction.accounts,
                remote: &transaction.remote,
                lists: &posts,
            };
            let submitted = self
                .services
                .mail
                .submit(account.id, envelope, raw, &self.services.hostname)
                .await
                .map_err(store_error)?;
            if let Some(slot) = transaction.sending {
                slot.keep();
            }
            tracing::info!(
                %id, size, n_mailboxes = submitted.delivered.len(), queued = ?submitted.queued,
                sent_copy = ?submitted.sent_copy, "message submitted"
            );
            return Ok(Reply::new(250, "2.0.0", format!("OK, message {id} sent")));
        }
        if header_too_large(&raw) {
            tracing::info!(%id, "header section too large; refused");
            return Err(Error::HeaderTooLarge);
        }
        // RFC 5321 §6.3: a loop (two aliases forwarding to each other across servers) ends here.
        if crate::trace::hop_count(&raw) > crate::MAX_HOPS {
            tracing::info!(%id, "too many Received: fields; refused as a mail loop");
            return Err(Error::TooManyHops);
        }
        if let Some(checks) = &self.services.sender_checks {
            let arrival = Arrival {
                peer: self.peer,
                helo: self.hello.as_ref().map_or("", |hello| hello.domain.as_str()),
                sender: &transaction.sender,
                hostname: &self.services.hostname,
            };
            match checks.check(&arrival, &raw).await {
                Verdict::Reject { domain } => {
                    tracing::info!(%id, %domain, sender = %transaction.sender, "refused by its DMARC policy");
                    return Err(Error::DmarcReject(domain));
                }
                Verdict::AmbiguousAuthor => {
                    tracing::info!(%id, sender = %transaction.sender, "several From: fields or domains; refused");
                    return Err(Error::AmbiguousAuthor);
                }
                Verdict::Defer => return Err(Error::ChecksDeferred),
                Verdict::Deliver(results) => {
                    remove_forged_results(&mut raw, trace_len, &self.services.hostname);
                    // Below Return-Path:, which stays first (RFC 5321 §4.4), above Received:.
                    let at = raw.iter().position(|&b| b == b'\n').map_or(0, |end| end + 1);
                    raw.reserve_exact(results.len());
                    raw.splice(at..at, results.into_bytes());
                }
            }
        }
        // Bounces of lists' copies (VERP) are counted, not kept.
        for (list, tag) in &transaction.list_bounces {
            self.services.mail.list_bounced(*list, tag, transaction.sender.is_empty(), &raw).await?;
        }
        let list_posts = list_posts(&self.services.mail, &transaction, &raw, None).await?;
        if transaction.accounts.is_empty() && transaction.forwards.is_empty() && list_posts.is_empty() {
            tracing::info!(%id, size, sender = %transaction.sender, "list bounces counted");
            return Ok(Reply::new(250, "2.0.0", format!("OK, message {id} received")));
        }
        // An alias's external targets get the message through the outbound queue (A3), under
        // an SRS sender so the next server's SPF check passes.
        let outbound = match transaction.forwarded_by.as_deref() {
            Some(domain) if !transaction.forwards.is_empty() => Some(store::Outbound {
                sender: self.services.mail.forwarding_sender(&transaction.sender, domain).await?,
                account: None,
                recipients: transaction.forwards,
            }),
            _ => None,
        };
        // RFC 5321 §6.1: after 250 the message must not be lost, and SMTP has one reply for
        // all recipients. RCPT checked quotas with the announced size (or none); the store
        // checks again with the real size and delivers (and queues) all or nothing, so a
        // mailbox without room defers the whole message with nothing stored, and the sender
        // retries rather than some recipients silently missing it.
        // FIXME: per-recipient results and bounces (a later issue) will let the others have it.
        let copies = store::Copies { accounts: transaction.accounts, outbound, list_posts, list_copy: None };
        let delivery = self.services.mail.ingest(copies, raw).await.map_err(store_error)?;
        if !delivery.stored() {
            tracing::info!(%id, size, over_quota = ?delivery.over_quota, "mailbox full for the real size; message deferred");
            return Err(Error::MailboxFull);
        }
        tracing::info!(
            %id, size, n_mailboxes = delivery.delivered.len(), forwarded = ?delivery.queued,
            list_posts = ?delivery.list_posts, "message delivered"
        );
        Ok(Reply::new(250, "2.0.0", format!("OK, message {id} delivered")))
    }
}

/// The posts a message makes to the lists among its recipients (A7, A8): going out or held,
/// as each list decides; one that came back to its list is a loop, refused.
async fn list_posts(
    mail: &mail::Mail,
    transaction: &crate::session::Transaction,
    raw: &[u8],
    account: Option<store::AccountId>,
) -> Result<Vec<store::NewListPost>> {
    let mut posts = Vec::with_capacity(transaction.lists.len());
    for list in &transaction.lists {
        match mail.list_post(list, &transaction.sender, raw, account).await? {
            mail::lists::PostDecision::Post(post) => posts.push(post),
            mail::lists::PostDecision::Loop => {
                tracing::info!(list = %list.address, "a post came back to its list; refused as a loop");
                return Err(Error::ListLoop);
            }
        }
    }
    Ok(posts)
}
