//! The change log (issue 11): every new message, flag change and expunge, written by triggers
//! in the transaction that made it (migration 3), so no write path can forget one.
//!
//! Two ways to read it: in commit order after a change id (the change feed that IMAP IDLE, the
//! web client's live view, the indexer and ActiveSync follow, also across processes), and per
//! folder since a modseq (CONDSTORE/QRESYNC: what changed, what vanished). Entries older than a
//! horizon are pruned; a folder then remembers the highest expunge modseq it forgot, below which
//! a client is told to resynchronise (RFC 7162 §3.2.5.2 allows a server to).

use std::time::Duration;

use sqlx::Row;

use crate::sqlite::messages::split_keywords;
use crate::{AccountId, Change, ChangeKind, Error, Flags, FolderId, MessageState, Result, Store, now_unix};

/// What changed in a folder since a modseq.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderChanges {
    /// The messages whose state changed since (their current state, in UID order), and the UIDs
    /// expunged since, ascending.
    Since { changed: Vec<MessageState>, vanished: Vec<u32> },
    /// The log no longer reaches that far back: expunges up to `horizon` are forgotten.
    TooOld { horizon: u64 },
}

fn kind_from_db(kind: i64) -> Option<ChangeKind> {
    match kind {
        1 => Some(ChangeKind::New),
        2 => Some(ChangeKind::Flags),
        3 => Some(ChangeKind::Expunged),
        _ => None,
    }
}

impl Store {
    /// The id of the newest change, where a feed starts following (0 when there is none).
    pub async fn last_change_id(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM changes").fetch_one(&self.reader).await?)
    }

    /// The changes committed after change `after`, oldest first, at most `limit` of them.
    pub async fn changes_after(&self, after: i64, limit: usize) -> Result<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT id, account_id, folder_id, modseq, uid, kind FROM changes WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                Some(Change {
                    id: row.get("id"),
                    account: AccountId(row.get("account_id")),
                    folder: FolderId(row.get("folder_id")),
                    modseq: row.get::<i64, _>("modseq") as u64,
                    uid: row.get::<i64, _>("uid") as u32,
                    kind: kind_from_db(row.get("kind"))?,
                })
            })
            .collect())
    }

    /// What changed in one of the account's folders since `modseq`: the current state of each
    /// message changed since, and the UIDs expunged since.
    pub async fn folder_changes_since(
        &self,
        account: AccountId,
        folder: FolderId,
        modseq: u64,
    ) -> Result<FolderChanges> {
        let mut conn = self.reader.acquire().await?;
        let horizon: Option<i64> =
            sqlx::query_scalar("SELECT changes_horizon FROM folders WHERE id = ? AND account_id = ?")
                .bind(folder.0)
                .bind(account.0)
                .fetch_optional(&mut *conn)
                .await?;
        let horizon = horizon.ok_or_else(|| Error::NotFound("folder".into()))? as u64;
        if modseq < horizon {
            return Ok(FolderChanges::TooOld { horizon });
        }
        let changed: Vec<(i64, i64, i64, String, i64, i64)> = sqlx::query_as(
            "SELECT uid, flags, modseq, keywords, size, internal_date FROM messages
             WHERE account_id = ? AND folder_id = ? AND modseq > ? ORDER BY uid",
        )
        .bind(account.0)
        .bind(folder.0)
        .bind(modseq as i64)
        .fetch_all(&mut *conn)
        .await?;
        let vanished: Vec<i64> = sqlx::query_scalar(
            "SELECT DISTINCT uid FROM changes WHERE account_id = ? AND folder_id = ? AND kind = 3 AND modseq > ?
             ORDER BY uid",
        )
        .bind(account.0)
        .bind(folder.0)
        .bind(modseq as i64)
        .fetch_all(&mut *conn)
        .await?;
        Ok(FolderChanges::Since {
            changed: changed
                .into_iter()
                .map(|(uid, flags, modseq, keywords, size, internal_date)| MessageState {
                    uid: uid as u32,
                    flags: Flags(flags as u32),
                    keywords: split_keywords(Some(keywords)),
                    modseq: modseq as u64,
                    size: size as u32,
                    internal_date,
                })
                .collect(),
            vanished: vanished.into_iter().map(|uid| uid as u32).collect(),
        })
    }

    /// Forgets changes older than `horizon`, raising each folder's horizon past the expunges it
    /// forgets. Returns how many entries went.
    pub async fn prune_changes(&self, horizon: Duration) -> Result<u64> {
        let before = now_unix() - horizon.as_secs() as i64;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "UPDATE folders SET changes_horizon = MAX(changes_horizon,
                (SELECT MAX(c.modseq) FROM changes c WHERE c.folder_id = folders.id AND c.kind = 3 AND c.created_at <= ?))
             WHERE id IN (SELECT folder_id FROM changes WHERE kind = 3 AND created_at <= ?)",
        )
        .bind(before)
        .bind(before)
        .execute(&mut *tx)
        .await?;
        // The newest entry stays, whatever its age: ids are `MAX(id) + 1`, so an empty log would
        // hand out ids again from 1, below where its readers (the feed, the search index) stand.
        let done = sqlx::query("DELETE FROM changes WHERE created_at <= ? AND id < (SELECT MAX(id) FROM changes)")
            .bind(before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
