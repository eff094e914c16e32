//! What the full-text index (`crates/search`) reads of the store: every message to build it
//! from, where the change log starts, and the list rows of its results.

use crate::sqlite::messages::{MESSAGE_COLUMNS, json_array, message_from_row};
use crate::{AccountId, FolderId, MessageRow, Result, Store};

/// Where a message is: enough for the index to key it and read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageKey {
    pub account: AccountId,
    pub folder: FolderId,
    pub uid: u32,
}

impl Store {
    /// The id of the oldest change the log still holds (`None` when it is empty): a reader of
    /// the log that stopped before it missed changes.
    pub async fn oldest_change_id(&self) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(id) FROM changes").fetch_one(&self.reader).await?)
    }

    /// How many messages the server holds, in every account.
    pub async fn message_count(&self) -> Result<u64> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages").fetch_one(&self.reader).await?;
        Ok(count as u64)
    }

    /// Every account's messages, a page at a time, by folder then UID, after `(folder, uid)`.
    pub async fn message_keys_after(&self, after: (FolderId, u32), limit: u32) -> Result<Vec<MessageKey>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT account_id, folder_id, uid FROM messages WHERE (folder_id, uid) > (?, ?)
             ORDER BY folder_id, uid LIMIT ?",
        )
        .bind(after.0.0)
        .bind(i64::from(after.1))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(account, folder, uid)| MessageKey {
                account: AccountId(account),
                folder: FolderId(folder),
                uid: uid as u32,
            })
            .collect())
    }

    /// The list rows of the account's messages at these places, in no particular order (a
    /// search's results; gone ones are left out). One indexed lookup per folder named.
    pub async fn rows_at(&self, account: AccountId, places: &[(FolderId, u32)]) -> Result<Vec<MessageRow>> {
        let mut by_folder: Vec<(FolderId, Vec<u32>)> = Vec::new();
        for &(folder, uid) in places {
            match by_folder.iter_mut().find(|(f, _)| *f == folder) {
                Some((_, uids)) => uids.push(uid),
                None => by_folder.push((folder, vec![uid])),
            }
        }
        let mut rows = Vec::with_capacity(places.len());
        for (folder, uids) in by_folder {
            let found = sqlx::query(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.account_id = ? AND m.folder_id = ?
                 AND m.uid IN (SELECT value FROM json_each(?))"
            ))
            .bind(account.0)
            .bind(folder.0)
            .bind(json_array(uids.iter()))
            .fetch_all(&self.reader)
            .await?;
            rows.extend(found.iter().map(message_from_row));
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flags;

    #[tokio::test]
    async fn keys_page_through_every_account_and_rows_stay_in_theirs() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        let ana_inbox = store.special_folder(ana, crate::SpecialUse::Inbox).await.expect("inbox").id;
        let bob_inbox = store.special_folder(bob, crate::SpecialUse::Inbox).await.expect("inbox").id;
        for (account, folder) in [(ana, ana_inbox), (bob, bob_inbox), (ana, ana_inbox)] {
            let raw = b"From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n".to_vec();
            store.append(account, folder, raw, Flags::empty(), &[], None).await.expect("append");
        }
        assert_eq!(store.message_count().await.unwrap(), 3);
        let first = store.message_keys_after((FolderId(0), 0), 2).await.unwrap();
        assert_eq!(first.len(), 2);
        let last = *first.last().unwrap();
        let rest = store.message_keys_after((last.folder, last.uid), 2).await.unwrap();
        assert_eq!(rest.len(), 1);
        assert!(first.iter().chain(&rest).any(|key| key.account == bob));

        let places: Vec<(FolderId, u32)> = first.iter().chain(&rest).map(|key| (key.folder, key.uid)).collect();
        let rows = store.rows_at(ana, &places).await.unwrap();
        assert_eq!(rows.len(), 2, "Bob's message is not Ana's to read");
        assert!(rows.iter().all(|row| row.folder_id == ana_inbox));
        assert!(store.oldest_change_id().await.unwrap().is_some());
    }

    /// The change log's ids only grow, even when everything old was pruned: readers stand on
    /// the last id they saw.
    #[tokio::test]
    async fn pruning_keeps_the_newest_change() {
        let (_dir, store, ana, _) = crate::sqlite::store_with_ana_and_bob().await;
        let inbox = store.special_folder(ana, crate::SpecialUse::Inbox).await.expect("inbox").id;
        let raw = || b"Subject: s\r\n\r\nbody\r\n".to_vec();
        store.append(ana, inbox, raw(), Flags::empty(), &[], None).await.expect("append");
        store.append(ana, inbox, raw(), Flags::empty(), &[], None).await.expect("append");
        let last = store.last_change_id().await.unwrap();
        assert_eq!(store.prune_changes(std::time::Duration::ZERO).await.unwrap(), 1);
        assert_eq!(store.oldest_change_id().await.unwrap(), Some(last));
        store.append(ana, inbox, raw(), Flags::empty(), &[], None).await.expect("append");
        assert_eq!(store.last_change_id().await.unwrap(), last + 1);
    }
}
