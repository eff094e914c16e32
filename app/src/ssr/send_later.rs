//! Sending later (B15): a message sent from the web client waits a few seconds in Drafts while
//! "undo" is offered, and one can be scheduled for a chosen time. Both are drafts with a row in
//! the store's schedule; this task sends each when it is due, through the same path as the
//! composer's "Send" (so the footer, the flags of what it answers, the Sent copy and the queue
//! are the same), and the draft goes once sent. The schedule is in the database: a restart
//! sends what came due meanwhile.
//!
//! A draft that can no longer be sent (an address now unknown, a full mailbox) stays in Drafts,
//! and a notice in the inbox says why.

use std::sync::Arc;
use std::time::Duration;

use render::compose::{Mailbox, Original};
use store::{Account, Flags, MessageId, ScheduledSend, SpecialUse};
use tokio::sync::Notify;

use super::compose::{Intent, Written, send_or_save};
use crate::attachments::AttachmentKey;
use crate::error::AppError;
use crate::i18n::{Key, Lang, t};

/// How long a send refused by the hourly limit waits before it is tried again.
const LIMIT_RETRY_SECONDS: i64 = 5 * 60;

/// The longest the task sleeps without looking (a schedule written by another process, such as
/// a restore, is seen within it).
const IDLE_CHECK: Duration = Duration::from_secs(60);

/// Wakes the task when a draft was scheduled (it may be due before the task would look).
#[derive(Clone, Default)]
pub struct SendLater {
    wake: Arc<Notify>,
}

impl SendLater {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Sends drafts as they come due; never returns.
pub async fn run(mail: mail::Mail, hostname: String, send_later: SendLater) {
    let store = mail.store().clone();
    // A send a stop interrupted is tried again.
    if let Err(error) = store.release_send(None).await {
        tracing::error!(%error, "scheduled sends: could not free the claims of the last run");
    }
    loop {
        let now = chrono::Utc::now().timestamp();
        match store.claim_due_sends(now).await {
            Ok(due) => {
                for send in due {
                    send_one(&mail, &hostname, send).await;
                }
            }
            Err(error) => tracing::error!(%error, "scheduled sends: could not read the schedule"),
        }
        let next = store.next_send_at().await.ok().flatten();
        let wait = next.map_or(IDLE_CHECK, |at| {
            Duration::from_secs((at - chrono::Utc::now().timestamp()).clamp(0, IDLE_CHECK.as_secs() as i64) as u64)
        });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = send_later.wake.notified() => {}
        }
    }
}

async fn send_one(mail: &mail::Mail, hostname: &str, send: ScheduledSend) {
    let store = mail.store();
    let account = match store.account_by_id(send.account_id).await {
        Ok(Some(account)) => account,
        Ok(None) => return,
        Err(error) => {
            tracing::error!(%error, "scheduled sends: account not read; tried again in a minute");
            let _ = store.release_send(Some((send.message_id, chrono::Utc::now().timestamp() + 60))).await;
            return;
        }
    };
    let written = match written_from_draft(store, &account, send.message_id).await {
        Ok(Some(written)) => written,
        // Gone from Drafts meanwhile (deleted, moved away over IMAP): nothing to send.
        Ok(None) => {
            let _ = store.drop_send(send.message_id).await;
            return;
        }
        Err(error) => {
            tracing::error!(?error, login = %account.login, "scheduled sends: draft not read; tried again in a minute");
            let _ = store.release_send(Some((send.message_id, chrono::Utc::now().timestamp() + 60))).await;
            return;
        }
    };
    let subject = written.subject.clone();
    match send_or_save(mail, &account, written, Intent::SendScheduled, hostname).await {
        Ok(_) => tracing::info!(login = %account.login, undo = send.is_undo, "scheduled message sent"),
        Err(AppError::SendingLimit) => {
            let later = chrono::Utc::now().timestamp() + LIMIT_RETRY_SECONDS;
            let _ = store.release_send(Some((send.message_id, later))).await;
        }
        Err(error) => {
            tracing::warn!(?error, login = %account.login, "scheduled message not sent; it stays in Drafts");
            let _ = store.drop_send(send.message_id).await;
            if let Err(notice_error) = notify_failure(mail, &account, &subject, &error).await {
                tracing::error!(?notice_error, login = %account.login, "scheduled sends: notice not delivered");
            }
        }
    }
}

/// What a draft in the account's Drafts says, as the composer would send it; `None` when it
/// is no longer a draft there.
async fn written_from_draft(
    store: &store::Store,
    account: &Account,
    id: MessageId,
) -> Result<Option<Written>, AppError> {
    let Some(row) = store.message(account.id, id).await? else { return Ok(None) };
    let drafts = store.special_folder(account.id, SpecialUse::Drafts).await?.id;
    if row.folder_id != drafts {
        return Ok(None);
    }
    let Some(raw) = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await? else { return Ok(None) };
    let original = Original::parse(&raw).unwrap_or_default();
    let keys: Vec<String> = (0..render::attachments(&raw).len())
        .map(|index| AttachmentKey::Part { message: id.0, index: index as u32 }.to_string())
        .collect();
    Ok(Some(Written {
        from: original.from.first().map(|m| m.address.clone()),
        to: Mailbox::list(&original.to),
        cc: Mailbox::list(&original.cc),
        bcc: Mailbox::list(&original.bcc),
        subject: original.subject,
        body: original.text,
        html: render::html_with_images(&raw),
        reply_to: original.answers,
        forward_of: original.forwards,
        draft_id: Some(id.0),
        attachments: keys.join(","),
        high_priority: original.high_priority,
        receipt: original.receipt_to.is_some(),
    }))
}

/// Puts a notice in the account's inbox: which message was not sent, and why, in both
/// languages (the task has no reader to ask).
async fn notify_failure(mail: &mail::Mail, account: &Account, subject: &str, error: &AppError) -> Result<(), AppError> {
    let inbox = mail.store().folder_by_name(account.id, "INBOX").await?.ok_or(AppError::NotFound)?;
    let detail = error.detail().map(|d| format!(" {d}")).unwrap_or_default();
    let mut text = String::new();
    for lang in [Lang::Fr, Lang::En] {
        text.push_str(&format!(
            "{} « {subject} »\n{}{detail}\n{}\n\n",
            t(lang, Key::ScheduledNotSent),
            t(lang, error.message_key()),
            t(lang, Key::ScheduledStaysInDrafts)
        ));
    }
    let raw = mail_builder::MessageBuilder::new()
        .from(mail_builder::headers::address::Address::new_address(
            Some("Facteur"),
            format!("postmaster@{}", account.login.rsplit('@').next().unwrap_or("localhost")),
        ))
        .to(account.login.as_str())
        .subject(format!(
            "{} / {}",
            t(Lang::Fr, Key::ScheduledNotSentSubject),
            t(Lang::En, Key::ScheduledNotSentSubject)
        ))
        .text_body(text)
        .write_to_vec()
        .map_err(|_| AppError::Internal)?;
    mail.append(account.id, inbox.id, raw, Flags::empty(), &[], None).await?;
    Ok(())
}
