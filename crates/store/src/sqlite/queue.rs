//! The outbound queue (issue 14, K3, A3): messages waiting to leave for other servers.
//!
//! A queued message is its blob, one `outbound_messages` row (the envelope sender) and a row per
//! recipient still to deliver. Rows are written in the delivery's transaction (`ingest`), so a
//! message is queued exactly when its `250` may be said. The sender (`outbound` crate) takes the
//! due recipients, tries them, and reports back with [`Store::finish_outbound`]: a recipient
//! leaves the queue only once the other server took it or the sender was told it failed, so a
//! crash in between sends it again, which SMTP allows (RFC 5321 §6.3), and never loses it.

use sqlx::{Row, SqliteConnection};

use crate::sqlite::messages::json_array;
use crate::{AccountId, Result, Store, now_unix};

/// A queued message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OutboundId(pub i64);

/// The envelope of a message leaving for other servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    /// RFC 5321 MAIL FROM; empty for a bounce (the null sender).
    pub sender: String,
    /// Whose message it is; `None` for bounces and forwards.
    pub account: Option<AccountId>,
    /// Full addresses, each once.
    pub recipients: Vec<String>,
}

/// A queued message and the recipients asked for (the due ones, or all for the admin's list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: OutboundId,
    pub blob_hash: String,
    pub size: u64,
    pub sender: String,
    pub account: Option<AccountId>,
    /// Unix seconds.
    pub created_at: i64,
    pub recipients: Vec<QueuedRecipient>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedRecipient {
    pub id: i64,
    pub address: String,
    /// Lowercase.
    pub domain: String,
    pub attempts: u32,
    /// Unix seconds.
    pub next_attempt: i64,
    pub last_error: Option<String>,
    pub delay_warned: bool,
}

/// What became of a recipient after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Off the queue: the other server took it, or it failed for good and the sender was told.
    Done,
    /// Tried again at `next_attempt` (unix seconds).
    Later { next_attempt: i64, error: String, delay_warned: bool },
}

/// Queues a message in the caller's transaction (`ingest`).
pub(crate) async fn insert_outbound(
    tx: &mut SqliteConnection,
    blob_hash: &str,
    size: i64,
    outbound: &Outbound,
) -> Result<OutboundId> {
    let now = now_unix();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO outbound_messages (blob_hash, size, sender, account_id, created_at) VALUES (?, ?, ?, ?, ?)
         RETURNING id",
    )
    .bind(blob_hash)
    .bind(size)
    .bind(&outbound.sender)
    .bind(outbound.account.map(|a| a.0))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    for address in &outbound.recipients {
        let domain = address.rsplit_once('@').map_or("", |(_, domain)| domain).to_ascii_lowercase();
        sqlx::query(
            "INSERT OR IGNORE INTO outbound_recipients (message_id, address, domain, next_attempt) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(address)
        .bind(domain)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(OutboundId(id))
}

const QUEUE_COLUMNS: &str = "m.id, m.blob_hash, m.size, m.sender, m.account_id, m.created_at,
    r.id AS rid, r.address, r.domain, r.attempts, r.next_attempt, r.last_error, r.delay_warned";

/// Groups rows ordered by message into messages.
fn group(rows: Vec<sqlx::sqlite::SqliteRow>) -> Vec<QueuedMessage> {
    let mut messages: Vec<QueuedMessage> = Vec::new();
    for row in rows {
        let id = OutboundId(row.get("id"));
        let recipient = QueuedRecipient {
            id: row.get("rid"),
            address: row.get("address"),
            domain: row.get("domain"),
            attempts: row.get::<i64, _>("attempts") as u32,
            next_attempt: row.get("next_attempt"),
            last_error: row.get("last_error"),
            delay_warned: row.get::<i64, _>("delay_warned") != 0,
        };
        match messages.last_mut() {
            Some(last) if last.id == id => last.recipients.push(recipient),
            _ => messages.push(QueuedMessage {
                id,
                blob_hash: row.get("blob_hash"),
                size: row.get::<i64, _>("size") as u64,
                sender: row.get("sender"),
                account: row.get::<Option<i64>, _>("account_id").map(AccountId),
                created_at: row.get("created_at"),
                recipients: vec![recipient],
            }),
        }
    }
    messages
}

impl Store {
    /// The recipients due at `now` and not being tried, by message, the longest waiting
    /// first; at most `limit` messages. Recipients in `skip_domains` (destinations that take
    /// no more attempts for now) are left out, so a blocked destination's backlog cannot fill
    /// every batch and starve the others.
    pub async fn due_outbound(&self, now: i64, limit: usize, skip_domains: &[String]) -> Result<Vec<QueuedMessage>> {
        let skipped: Vec<String> = (0..skip_domains.len()).map(|i| format!("?{}", i + 3)).collect();
        let skipped = skipped.join(", ");
        let sql = format!(
            "SELECT {QUEUE_COLUMNS} FROM outbound_recipients r JOIN outbound_messages m ON m.id = r.message_id
             WHERE r.message_id IN (SELECT message_id FROM outbound_recipients
                                    WHERE next_attempt <= ?1 AND leased = 0 AND domain NOT IN ({skipped})
                                    GROUP BY message_id ORDER BY MIN(next_attempt) LIMIT ?2)
               AND r.next_attempt <= ?1 AND r.leased = 0 AND r.domain NOT IN ({skipped})
             ORDER BY m.id, r.id"
        );
        let mut query = sqlx::query(&sql).bind(now).bind(limit as i64);
        for domain in skip_domains {
            query = query.bind(domain);
        }
        Ok(group(query.fetch_all(&self.reader).await?))
    }

    /// When the next recipient not being tried is due (unix seconds), if any is queued.
    pub async fn next_outbound_attempt(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(next_attempt) FROM outbound_recipients WHERE leased = 0")
            .fetch_one(&self.reader)
            .await?)
    }

    /// Takes these recipients for an attempt, those still due and not taken: returns their
    /// ids. In a write, so a recipient that an attempt ended meanwhile (delivered, or put off)
    /// is not taken again from the caller's older read.
    pub async fn lease_outbound(&self, recipients: &[i64], now: i64) -> Result<Vec<i64>> {
        let ids = json_array(recipients.iter());
        let mut writer = self.relaxed_writer().await?;
        Ok(sqlx::query_scalar(
            "UPDATE outbound_recipients SET leased = 1
             WHERE id IN (SELECT value FROM json_each(?)) AND leased = 0 AND next_attempt <= ? RETURNING id",
        )
        .bind(ids)
        .bind(now)
        .fetch_all(&mut *writer)
        .await?)
    }

    /// Frees every lease: the server starting, attempts of a process that is gone are not
    /// running.
    pub async fn release_outbound_leases(&self) -> Result<()> {
        sqlx::query("UPDATE outbound_recipients SET leased = 0 WHERE leased = 1").execute(&self.writer).await?;
        Ok(())
    }

    /// Every queued message with all its recipients (`facteur admin queue list`).
    pub async fn list_outbound(&self) -> Result<Vec<QueuedMessage>> {
        let rows = sqlx::query(&format!(
            "SELECT {QUEUE_COLUMNS} FROM outbound_recipients r JOIN outbound_messages m ON m.id = r.message_id
             ORDER BY m.id, r.id"
        ))
        .fetch_all(&self.reader)
        .await?;
        Ok(group(rows))
    }

    /// The bytes of a queued message.
    pub async fn outbound_raw(&self, message: &QueuedMessage) -> Result<Vec<u8>> {
        self.blobs.get(&message.blob_hash).await
    }

    /// Records what an attempt did to each recipient (by [`QueuedRecipient::id`]), and takes
    /// messages with no recipient left off the queue, their files with them.
    pub async fn finish_outbound(&self, outcomes: &[(i64, AttemptOutcome)]) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut finished_in = Vec::new();
        for (recipient, outcome) in outcomes {
            match outcome {
                AttemptOutcome::Done => {
                    let message: Option<i64> =
                        sqlx::query_scalar("DELETE FROM outbound_recipients WHERE id = ? RETURNING message_id")
                            .bind(recipient)
                            .fetch_optional(&mut *tx)
                            .await?;
                    finished_in.extend(message);
                }
                AttemptOutcome::Later { next_attempt, error, delay_warned } => {
                    sqlx::query(
                        "UPDATE outbound_recipients SET attempts = attempts + 1, next_attempt = ?, last_error = ?,
                            delay_warned = ?, leased = 0 WHERE id = ?",
                    )
                    .bind(next_attempt)
                    .bind(error)
                    .bind(*delay_warned as i64)
                    .bind(recipient)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        let emptied = remove_if_empty(&mut tx, &finished_in).await?;
        tx.commit().await?;
        self.remove_unreferenced_blobs_logged(emptied).await;
        Ok(())
    }

    /// Makes the recipients of one queued message (or of all) due now: `facteur admin queue
    /// retry`. Returns how many recipients that made due.
    pub async fn retry_outbound(&self, message: Option<OutboundId>) -> Result<u64> {
        let done = sqlx::query("UPDATE outbound_recipients SET next_attempt = ? WHERE ? IS NULL OR message_id = ?")
            .bind(now_unix())
            .bind(message.map(|m| m.0))
            .bind(message.map(|m| m.0))
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// Takes a message off the queue without sending it or telling anyone (`facteur admin
    /// queue delete`). Returns whether it was queued.
    pub async fn delete_outbound(&self, message: OutboundId) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let hash: Option<String> = sqlx::query_scalar("DELETE FROM outbound_messages WHERE id = ? RETURNING blob_hash")
            .bind(message.0)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        let found = hash.is_some();
        self.remove_unreferenced_blobs_logged(hash.into_iter().collect()).await;
        Ok(found)
    }
}

/// Deletes those of these messages no recipient is waiting for any more (only these: a look
/// at the whole queue on every attempt would grow with it); returns their blobs, for clean-up.
async fn remove_if_empty(tx: &mut SqliteConnection, messages: &[i64]) -> Result<Vec<String>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let ids = json_array(messages.iter());
    Ok(sqlx::query_scalar(
        "DELETE FROM outbound_messages
         WHERE id IN (SELECT value FROM json_each(?))
           AND NOT EXISTS (SELECT 1 FROM outbound_recipients r WHERE r.message_id = outbound_messages.id)
         RETURNING blob_hash",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_queued_message_keeps_its_file_until_its_last_recipient_is_done() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).await.expect("store opens");
        let outbound = Outbound {
            sender: "ana@example.org".into(),
            account: None,
            recipients: vec!["b@example.net".into(), "c@example.com".into(), "b@example.net".into()],
        };
        let delivery = store.deliver_and_queue(&[], Some(outbound), b"Subject: x\r\n\r\nbody\r\n".to_vec()).await;
        assert!(delivery.expect("queued").stored());
        let now = now_unix();
        let due = store.due_outbound(now, 10, &[]).await.expect("due");
        assert_eq!(due.len(), 1);
        let message = &due[0];
        assert_eq!(message.recipients.len(), 2, "each recipient once");
        // A destination taking no more attempts is left out, the others not.
        let others = store.due_outbound(now, 10, &["example.net".to_string()]).await.expect("due");
        let addresses: Vec<&str> = others[0].recipients.iter().map(|r| r.address.as_str()).collect();
        assert_eq!(addresses, ["c@example.com"]);
        let none = store.due_outbound(now, 10, &["example.net".into(), "example.com".into()]).await.expect("due");
        assert!(none.is_empty());
        assert_eq!(message.recipients[1].domain, "example.com");
        // The blob sweeper leaves a queued message's file alone.
        assert_eq!(store.remove_unreferenced_blobs(vec![message.blob_hash.clone()]).await.expect("sweep"), 0);
        let later = AttemptOutcome::Later { next_attempt: now + 60, error: "451 later".into(), delay_warned: false };
        store
            .finish_outbound(&[(message.recipients[0].id, AttemptOutcome::Done), (message.recipients[1].id, later)])
            .await
            .expect("recorded");
        assert!(store.due_outbound(now, 10, &[]).await.expect("due").is_empty());
        assert_eq!(store.next_outbound_attempt().await.expect("next"), Some(now + 60));
        let listed = store.list_outbound().await.expect("list");
        assert_eq!(listed[0].recipients[0].attempts, 1);
        assert_eq!(listed[0].recipients[0].last_error.as_deref(), Some("451 later"));
        assert!(store.outbound_raw(message).await.is_ok());
        store.finish_outbound(&[(message.recipients[1].id, AttemptOutcome::Done)]).await.expect("recorded");
        assert!(store.list_outbound().await.expect("list").is_empty());
        assert!(store.outbound_raw(message).await.is_err(), "the file went with the last recipient");
    }
}
