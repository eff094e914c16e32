//! What the web composer keeps between requests (issue 17): the files it uploaded (B1), until
//! the message carrying them is sent, and the drafts waiting to be sent later (B15: the few
//! seconds of "undo send", or a date the writer chose).

use crate::{AccountId, Error, MAX_ATTACHMENTS_BYTES, MessageId, Result, Store};

/// The most an account's uploads waiting to be sent may weigh together: several messages'
/// worth, a bound on what one account can pile up in the database.
pub const MAX_PENDING_UPLOADS_BYTES: i64 = 4 * MAX_ATTACHMENTS_BYTES as i64;

/// An uploaded file, as the composer attaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: i64,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// A draft waiting to be sent (B15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledSend {
    pub message_id: MessageId,
    pub account_id: AccountId,
    /// Unix seconds.
    pub send_at: i64,
    /// The few seconds of "undo send", rather than a date the writer chose.
    pub is_undo: bool,
}

/// The columns [`ScheduledSend`] is read from, in its fields' order.
type ScheduledRow = (i64, i64, i64, bool);

impl From<ScheduledRow> for ScheduledSend {
    fn from((message_id, account_id, send_at, is_undo): ScheduledRow) -> Self {
        ScheduledSend { message_id: MessageId(message_id), account_id: AccountId(account_id), send_at, is_undo }
    }
}

impl Store {
    /// Keeps an uploaded file for the account; refused when its uploads waiting to be sent
    /// would weigh more than [`MAX_PENDING_UPLOADS_BYTES`] or the file more than
    /// [`MAX_ATTACHMENTS_BYTES`].
    pub async fn add_upload(
        &self,
        account: AccountId,
        file_name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<i64> {
        if bytes.len() > MAX_ATTACHMENTS_BYTES {
            return Err(Error::Refused(format!("a file larger than {MAX_ATTACHMENTS_BYTES} bytes")));
        }
        let mut tx = self.writer.begin().await?;
        let pending: i64 =
            sqlx::query_scalar("SELECT COALESCE(SUM(length(bytes)), 0) FROM compose_uploads WHERE account_id = ?")
                .bind(account.0)
                .fetch_one(&mut *tx)
                .await?;
        if pending + bytes.len() as i64 > MAX_PENDING_UPLOADS_BYTES {
            return Err(Error::Refused("too many files waiting to be sent".into()));
        }
        let id = sqlx::query_scalar(
            "INSERT INTO compose_uploads (account_id, file_name, content_type, bytes, created_at)
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(account.0)
        .bind(file_name)
        .bind(content_type)
        .bind(bytes)
        .bind(crate::now_unix())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One of the account's uploads; another account's is not found.
    pub async fn upload(&self, account: AccountId, id: i64) -> Result<Option<Upload>> {
        let row: Option<(i64, String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, file_name, content_type, bytes FROM compose_uploads WHERE account_id = ? AND id = ?",
        )
        .bind(account.0)
        .bind(id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|(id, file_name, content_type, bytes)| Upload { id, file_name, content_type, bytes }))
    }

    /// Forgets the account's uploads with these ids (their message was sent).
    pub async fn remove_uploads(&self, account: AccountId, ids: &[i64]) -> Result<()> {
        let ids = super::messages::json_array(ids.iter());
        sqlx::query("DELETE FROM compose_uploads WHERE account_id = ? AND id IN (SELECT value FROM json_each(?))")
            .bind(account.0)
            .bind(ids)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets uploads made before `before` (unix seconds): a composer left open that long has
    /// its draft, which carries them, in Drafts.
    pub async fn purge_uploads(&self, before: i64) -> Result<u64> {
        let done =
            sqlx::query("DELETE FROM compose_uploads WHERE created_at < ?").bind(before).execute(&self.writer).await?;
        Ok(done.rows_affected())
    }

    /// Has one of the account's drafts sent at `send_at` (replacing an earlier schedule).
    pub async fn schedule_send(&self, send: &ScheduledSend) -> Result<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO scheduled_sends (message_id, account_id, send_at, is_undo)
             SELECT id, account_id, ?, ? FROM messages WHERE id = ? AND account_id = ?",
        )
        .bind(send.send_at)
        .bind(send.is_undo)
        .bind(send.message_id.0)
        .bind(send.account_id.0)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Moves a draft's schedule to the draft that replaces it (saved again), in one statement:
    /// not if it is being sent (the new draft is then a plain one). True when it moved.
    pub async fn move_schedule(&self, account: AccountId, from: MessageId, to: MessageId) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE scheduled_sends SET message_id = ? WHERE message_id = ? AND account_id = ? AND claimed = 0",
        )
        .bind(to.0)
        .bind(from.0)
        .bind(account.0)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Whether one of the account's drafts is being sent by the schedule right now.
    pub async fn send_claimed(&self, account: AccountId, message: MessageId) -> Result<bool> {
        let claimed: Option<bool> =
            sqlx::query_scalar("SELECT claimed FROM scheduled_sends WHERE account_id = ? AND message_id = ?")
                .bind(account.0)
                .bind(message.0)
                .fetch_optional(&self.reader)
                .await?;
        Ok(claimed == Some(true))
    }

    /// Takes a draft off the schedule, unless it is being sent: true when it was waiting.
    pub async fn unschedule_send(&self, account: AccountId, message: MessageId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM scheduled_sends WHERE account_id = ? AND message_id = ? AND claimed = 0")
            .bind(account.0)
            .bind(message.0)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The account's drafts waiting to be sent, soonest first.
    pub async fn scheduled_sends(&self, account: AccountId) -> Result<Vec<ScheduledSend>> {
        let rows: Vec<ScheduledRow> = sqlx::query_as(
            "SELECT message_id, account_id, send_at, is_undo FROM scheduled_sends
             WHERE account_id = ? ORDER BY send_at, message_id",
        )
        .bind(account.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.into_iter().map(ScheduledSend::from).collect())
    }

    /// Whether one of the account's drafts is waiting to be sent (not being sent), and when.
    pub async fn scheduled_send(&self, account: AccountId, message: MessageId) -> Result<Option<ScheduledSend>> {
        let row: Option<ScheduledRow> = sqlx::query_as(
            "SELECT message_id, account_id, send_at, is_undo FROM scheduled_sends
             WHERE account_id = ? AND message_id = ? AND claimed = 0",
        )
        .bind(account.0)
        .bind(message.0)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(ScheduledSend::from))
    }

    /// Claims the drafts due at `now` for sending (no undo from then on).
    pub async fn claim_due_sends(&self, now: i64) -> Result<Vec<ScheduledSend>> {
        let rows: Vec<ScheduledRow> = sqlx::query_as(
            "UPDATE scheduled_sends SET claimed = 1 WHERE claimed = 0 AND send_at <= ?
             RETURNING message_id, account_id, send_at, is_undo",
        )
        .bind(now)
        .fetch_all(&self.writer)
        .await?;
        let mut due: Vec<ScheduledSend> = rows.into_iter().map(ScheduledSend::from).collect();
        due.sort_by_key(|send| (send.send_at, send.message_id));
        Ok(due)
    }

    /// When the next draft is due, if any waits.
    pub async fn next_send_at(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(send_at) FROM scheduled_sends WHERE claimed = 0")
            .fetch_one(&self.reader)
            .await?)
    }

    /// Puts a claimed draft back on the schedule at `send_at` (a send that failed for a while,
    /// or was interrupted: `None` frees every claim, at start).
    pub async fn release_send(&self, message: Option<(MessageId, i64)>) -> Result<()> {
        match message {
            Some((id, send_at)) => {
                sqlx::query("UPDATE scheduled_sends SET claimed = 0, send_at = ? WHERE message_id = ?")
                    .bind(send_at)
                    .bind(id.0)
                    .execute(&self.writer)
                    .await?
            }
            None => {
                sqlx::query("UPDATE scheduled_sends SET claimed = 0 WHERE claimed = 1").execute(&self.writer).await?
            }
        };
        Ok(())
    }

    /// Takes a claimed draft off the schedule (it could not be sent; it stays in Drafts).
    pub async fn drop_send(&self, message: MessageId) -> Result<()> {
        sqlx::query("DELETE FROM scheduled_sends WHERE message_id = ?").bind(message.0).execute(&self.writer).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Flags, SpecialUse};

    #[tokio::test]
    async fn uploads_are_per_account_bounded_and_purged() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        let id = store.add_upload(ana, "été.pdf", "application/pdf", b"%PDF").await.expect("upload");
        let upload = store.upload(ana, id).await.expect("read").expect("there");
        assert_eq!((upload.file_name.as_str(), upload.bytes.as_slice()), ("été.pdf", &b"%PDF"[..]));
        assert_eq!(store.upload(bob, id).await.expect("read"), None, "another account's is not found");
        let big = vec![0u8; MAX_ATTACHMENTS_BYTES];
        assert!(store.add_upload(ana, "big", "", &[0u8; 1].repeat(MAX_ATTACHMENTS_BYTES + 1)).await.is_err());
        for _ in 0..3 {
            store.add_upload(ana, "big", "", &big).await.expect("within the pending bound");
        }
        assert!(matches!(store.add_upload(ana, "big", "", &big).await, Err(Error::Refused(_))), "pending bound");
        store.add_upload(bob, "big", "", &big).await.expect("bob's own bound");
        store.remove_uploads(bob, &[id]).await.expect("not bob's");
        assert!(store.upload(ana, id).await.expect("read").is_some());
        store.remove_uploads(ana, &[id]).await.expect("removed");
        assert!(store.upload(ana, id).await.expect("read").is_none());
        assert_eq!(store.purge_uploads(crate::now_unix() + 1).await.expect("purged"), 4);
    }

    #[tokio::test]
    async fn scheduled_sends_are_claimed_once_and_undone_only_before() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        let drafts = store.special_folder(ana, SpecialUse::Drafts).await.expect("drafts").id;
        let raw = b"From: ana@example.org\r\nSubject: later\r\n\r\nhi\r\n".to_vec();
        let (_, first) = store.append(ana, drafts, raw.clone(), Flags::DRAFT, &[], None).await.expect("draft");
        let (_, second) = store.append(ana, drafts, raw, Flags::DRAFT, &[], None).await.expect("draft");
        let at = |message_id, send_at, account_id| ScheduledSend { message_id, account_id, send_at, is_undo: false };
        store.schedule_send(&at(first, 100, ana)).await.expect("scheduled");
        store.schedule_send(&at(second, 50, ana)).await.expect("scheduled");
        store.schedule_send(&at(second, 200, bob)).await.expect("not bob's draft: nothing");
        assert_eq!(store.scheduled_sends(bob).await.expect("list"), []);
        assert_eq!(store.next_send_at().await.expect("next"), Some(50));
        assert_eq!(store.claim_due_sends(60).await.expect("due"), [at(second, 50, ana)]);
        assert_eq!(store.claim_due_sends(60).await.expect("due"), [], "claimed once");
        assert!(!store.unschedule_send(ana, second).await.expect("undo"), "too late once claimed");
        assert_eq!(store.scheduled_send(ana, second).await.expect("read"), None, "being sent");
        assert!(!store.unschedule_send(bob, first).await.expect("undo"), "another account's");
        assert!(store.unschedule_send(ana, first).await.expect("undo"));
        assert!(store.send_claimed(ana, second).await.expect("read"));
        let (_, third) = store
            .append(ana, drafts, b"Subject: again\r\n\r\nhi\r\n".to_vec(), Flags::DRAFT, &[], None)
            .await
            .expect("draft");
        assert!(!store.move_schedule(ana, second, third).await.expect("move"), "not while it is being sent");
        store.schedule_send(&at(first, 100, ana)).await.expect("scheduled again");
        assert!(store.move_schedule(ana, first, third).await.expect("move"));
        assert_eq!(store.scheduled_send(ana, third).await.expect("read"), Some(at(third, 100, ana)));
        assert!(!store.send_claimed(ana, third).await.expect("read"));
        store.release_send(None).await.expect("released at start");
        assert_eq!(store.scheduled_send(ana, second).await.expect("read"), Some(at(second, 50, ana)));
        store.drop_send(second).await.expect("dropped");
        assert_eq!(store.next_send_at().await.expect("next"), Some(100), "the moved one");
        store.drop_send(third).await.expect("dropped");
        assert_eq!(store.next_send_at().await.expect("next"), None);
    }
}
