//! Copying and moving messages between folders (IMAP COPY and MOVE, RFC 9051 §6.4.7, RFC 6851;
//! the web client's moves, D4).
//!
//! A copy is a new row in the target folder sharing the source's blob and facts (no file is
//! written), with the next UIDs of the target in the source's UID order, so UIDPLUS can answer
//! the mapping (RFC 4315 COPYUID). A move is a copy and the removal of the source rows, in one
//! transaction: the triggers log it as new in the target and expunged in the source, keep the
//! counts, and nothing is ever in both folders or in neither.

use sqlx::SqliteConnection;

use super::messages::{bump_modseq, has_room, json_array};
use crate::{AccountId, Error, FolderId, Result, Store};

/// Source UID → new UID in the target, ascending by source UID.
pub type UidMapping = Vec<(u32, u32)>;

impl Store {
    /// Copies the messages with these UIDs (those that exist) from one folder to another, and
    /// with `remove_source` removes them from the source: a move. The target's UIDVALIDITY and
    /// the mapping are returned; over quota (copies only), nothing is copied.
    pub async fn copy_messages(
        &self,
        account: AccountId,
        from: FolderId,
        uids: &[u32],
        to: FolderId,
        remove_source: bool,
    ) -> Result<(u32, UidMapping)> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let uidvalidity: Option<i64> =
            sqlx::query_scalar("SELECT uidvalidity FROM folders WHERE id = ? AND account_id = ?")
                .bind(to.0)
                .bind(account.0)
                .fetch_optional(&mut *tx)
                .await?;
        let uidvalidity = uidvalidity.ok_or_else(|| Error::NotFound("target folder".into()))?;
        let mapping = transfer(&mut tx, account, from, Some(uids), to, remove_source).await?;
        if mapping.is_empty() {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok((uidvalidity as u32, mapping))
    }
}

/// Copies (and with `remove_source`, moves) messages of `from` to `to` inside a transaction:
/// those with `uids`, or all of them.
pub(crate) async fn transfer(
    tx: &mut SqliteConnection,
    account: AccountId,
    from: FolderId,
    uids: Option<&[u32]>,
    to: FolderId,
    remove_source: bool,
) -> Result<UidMapping> {
    let only = uids.map(|uids| json_array(uids.iter()));
    let named = "account_id = ? AND folder_id = ? AND (? IS NULL OR uid IN (SELECT value FROM json_each(?)))";
    let found: Vec<(i64, i64)> = sqlx::query_as(&format!("SELECT uid, size FROM messages WHERE {named} ORDER BY uid"))
        .bind(account.0)
        .bind(from.0)
        .bind(only.as_deref())
        .bind(only.as_deref())
        .fetch_all(&mut *tx)
        .await?;
    if found.is_empty() {
        let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM folders WHERE id = ? AND account_id = ?")
            .bind(from.0)
            .bind(account.0)
            .fetch_optional(&mut *tx)
            .await?;
        // Another account's folder is not found, even when empty.
        return owned.map(|_| Vec::new()).ok_or_else(|| Error::NotFound("folder".into()));
    }
    let n = found.len() as i64;
    if !remove_source && !has_room(tx, account, found.iter().map(|(_, size)| size).sum()).await? {
        return Err(Error::QuotaExceeded);
    }
    let (first_uid, modseq): (i64, i64) = sqlx::query_as(
        "UPDATE folders SET uidnext = uidnext + ?, highest_modseq = highest_modseq + 1
         WHERE id = ? AND account_id = ? RETURNING uidnext - ?, highest_modseq",
    )
    .bind(n)
    .bind(to.0)
    .bind(account.0)
    .bind(n)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound("target folder".into()))?;
    // UIDs in the target follow the source's order: row_number over the same UID order as
    // `found`, so the mapping below is exact.
    sqlx::query(&format!(
        "INSERT INTO messages (account_id, folder_id, uid, modseq, flags, blob_hash, size, internal_date,
            thread_id, message_id, in_reply_to, subject, from_name, from_addr, to_addrs, sent_date,
            has_attachments, priority_high, preview, comment, keywords, filed_at, refs)
         SELECT account_id, ?, ? + row_number() OVER (ORDER BY uid) - 1, ?, flags, blob_hash, size,
            internal_date, thread_id, message_id, in_reply_to, subject, from_name, from_addr, to_addrs,
            sent_date, has_attachments, priority_high, preview, comment, keywords, ?, refs
         FROM messages WHERE {named} ORDER BY uid"
    ))
    .bind(to.0)
    .bind(first_uid)
    .bind(modseq)
    .bind(crate::now_unix())
    .bind(account.0)
    .bind(from.0)
    .bind(only.as_deref())
    .bind(only.as_deref())
    .execute(&mut *tx)
    .await?;
    if remove_source {
        // The expunges take the source's next modseq (the delete trigger reads it).
        bump_modseq(tx, account, from).await?;
        let source_uids = json_array(found.iter().map(|(uid, _)| uid));
        sqlx::query(
            "DELETE FROM messages WHERE account_id = ? AND folder_id = ? AND uid IN (SELECT value FROM json_each(?))",
        )
        .bind(account.0)
        .bind(from.0)
        .bind(source_uids)
        .execute(&mut *tx)
        .await?;
    }
    Ok(found.iter().enumerate().map(|(i, (uid, _))| (*uid as u32, (first_uid + i as i64) as u32)).collect())
}
