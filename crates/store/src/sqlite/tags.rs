//! Tags (D6) and comments (D7). A tag is an IMAP keyword with a name and a colour: messages
//! carry the keyword (`messages.keywords`), the `tags` table its name and colour. Keywords an
//! IMAP client set without a tag row are tags too; `mail::tags` decides how they are named.

use super::messages::{MESSAGE_COLUMNS, message_from_row, order_by, remember_keywords, uids_by};
use crate::{AccountId, Error, FolderId, ListWindow, MessageId, MessageRow, Result, Store};

/// The longest comment kept (D7): a note, not a document.
pub const MAX_COMMENT_BYTES: usize = 4000;

/// A tag row as stored: keyword, name, colour (a `types::TagColour` name).
pub type StoredTag = (String, String, String);

/// `keywords` (space-separated) holds `keyword`, as an exact word: `instr` rather than `LIKE`,
/// whose `_` and case folding would match other keywords.
const HAS_KEYWORD: &str = "instr(' ' || m.keywords || ' ', ' ' || ? || ' ') > 0";

impl Store {
    /// The account's tag rows, by name.
    pub async fn tag_rows(&self, account: AccountId) -> Result<Vec<StoredTag>> {
        Ok(sqlx::query_as("SELECT keyword, name, colour FROM tags WHERE account_id = ? ORDER BY name")
            .bind(account.0)
            .fetch_all(&self.reader)
            .await?)
    }

    /// Every keyword the account's messages have carried (kept until forgotten), sorted.
    pub async fn account_keywords(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT keyword FROM account_keywords WHERE account_id = ? ORDER BY keyword")
            .bind(account.0)
            .fetch_all(&self.reader)
            .await?)
    }

    /// Adds a tag; its keyword counts against the account's keywords at once. A name or
    /// keyword already taken is [`Error::Exists`].
    pub async fn create_tag(&self, account: AccountId, keyword: &str, name: &str, colour: &str) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM tags WHERE account_id = ? AND (keyword = ? OR name = ?)")
                .bind(account.0)
                .bind(keyword)
                .bind(name)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Err(Error::Exists("tag".into()));
        }
        sqlx::query("INSERT INTO tags (account_id, keyword, name, colour) VALUES (?, ?, ?, ?)")
            .bind(account.0)
            .bind(keyword)
            .bind(name)
            .bind(colour)
            .execute(&mut *tx)
            .await?;
        remember_keywords(&mut tx, account, &[keyword.to_string()]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a tag's colour, writing its row when the keyword had none (a keyword an IMAP
    /// client set, named `name`).
    pub async fn set_tag_colour(&self, account: AccountId, keyword: &str, name: &str, colour: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO tags (account_id, keyword, name, colour) VALUES (?, ?, ?, ?)
             ON CONFLICT (account_id, keyword) DO UPDATE SET colour = excluded.colour",
        )
        .bind(account.0)
        .bind(keyword)
        .bind(name)
        .bind(colour)
        .execute(&self.writer)
        .await
        .map_err(|error| match error {
            // Another tag already has that name (the unique index on names).
            sqlx::Error::Database(db) if db.is_unique_violation() => Error::Exists("tag".into()),
            other => Error::from(other),
        })?;
        Ok(())
    }

    /// Forgets a tag: its row and the keyword among the account's. The caller removes the
    /// keyword from the messages first (through `Mail`, so IMAP hears of it).
    pub async fn forget_tag(&self, account: AccountId, keyword: &str) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        for table in ["tags", "account_keywords"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE account_id = ? AND keyword = ?"))
                .bind(account.0)
                .bind(keyword)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where the account's messages carrying `keyword` are: (folder, UIDs), by folder.
    pub async fn keyword_holders(&self, account: AccountId, keyword: &str) -> Result<Vec<(FolderId, Vec<u32>)>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
            "SELECT m.folder_id, m.uid FROM messages m WHERE m.account_id = ? AND {HAS_KEYWORD}
             ORDER BY m.folder_id, m.uid"
        ))
        .bind(account.0)
        .bind(keyword)
        .fetch_all(&self.reader)
        .await?;
        Ok(uids_by(rows.into_iter().map(|(folder, uid)| (FolderId(folder), uid as u32))))
    }

    /// D6: a page of the account's messages carrying `keyword`, in every folder, and how many
    /// there are in all. A scan of the account's rows: tags mark few messages, and a keyword
    /// index would cost every flag change.
    pub async fn list_tagged(
        &self,
        account: AccountId,
        keyword: &str,
        window: &ListWindow,
    ) -> Result<(Vec<MessageRow>, u32)> {
        let unread = if window.unread_only { "AND (m.flags & 1) = 0" } else { "" };
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM messages m WHERE m.account_id = ? AND {HAS_KEYWORD} {unread}"
        ))
        .bind(account.0)
        .bind(keyword)
        .fetch_one(&self.reader)
        .await?;
        let order = order_by(window.sort, "m.id");
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.account_id = ? AND {HAS_KEYWORD} {unread}
             ORDER BY {order} LIMIT ? OFFSET ?"
        ))
        .bind(account.0)
        .bind(keyword)
        .bind(i64::from(window.limit))
        .bind(i64::from(window.offset))
        .fetch_all(&self.reader)
        .await?;
        Ok((rows.iter().map(message_from_row).collect(), total as u32))
    }

    /// D7: sets the comment on one of the account's messages (`None` or blank text removes
    /// it). False when the message is not the account's or is gone.
    pub async fn set_comment(&self, account: AccountId, message: MessageId, comment: Option<&str>) -> Result<bool> {
        let comment = comment.map(str::trim).filter(|text| !text.is_empty());
        if comment.is_some_and(|text| text.len() > MAX_COMMENT_BYTES) {
            return Err(Error::invalid("comment", "it is too long"));
        }
        let changed = sqlx::query("UPDATE messages SET comment = ? WHERE id = ? AND account_id = ?")
            .bind(comment)
            .bind(message.0)
            .bind(account.0)
            .execute(&self.writer)
            .await?
            .rows_affected();
        Ok(changed == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FlagOp, Flags, ListSort};

    async fn append(store: &Store, account: AccountId, folder: FolderId, subject: &str, keywords: &[&str]) -> u32 {
        let raw = format!("From: a@example.org\r\nSubject: {subject}\r\n\r\nbody\r\n");
        let keywords: Vec<String> = keywords.iter().map(|k| k.to_string()).collect();
        store.append(account, folder, raw.into_bytes(), Flags::empty(), &keywords, None).await.expect("append").0
    }

    #[tokio::test]
    async fn tags_are_kept_listed_and_forgotten_per_account() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        store.create_tag(ana, "urgent", "urgent", "red").await.expect("create");
        assert!(matches!(store.create_tag(ana, "urgent", "other", "red").await, Err(Error::Exists(_))));
        assert!(matches!(store.create_tag(ana, "x", "urgent", "red").await, Err(Error::Exists(_))), "names unique");
        store.create_tag(bob, "urgent", "urgent", "blue").await.expect("bob has his own");
        assert_eq!(store.account_keywords(ana).await.unwrap(), ["urgent"], "the keyword counts at once");
        store.set_tag_colour(ana, "urgent", "urgent", "green").await.expect("recolour");
        store.set_tag_colour(ana, "$label1", "Important", "orange").await.expect("an IMAP keyword gets a row");
        assert_eq!(
            store.tag_rows(ana).await.unwrap(),
            [
                ("$label1".to_string(), "Important".to_string(), "orange".to_string()),
                ("urgent".into(), "urgent".into(), "green".into())
            ]
        );
        assert!(store.set_tag_colour(ana, "other", "urgent", "red").await.is_err(), "a name taken");

        let inbox = store.special_folder(ana, crate::SpecialUse::Inbox).await.unwrap().id;
        let trash = store.special_folder(ana, crate::SpecialUse::Trash).await.unwrap().id;
        append(&store, ana, inbox, "one", &["urgent"]).await;
        append(&store, ana, inbox, "two", &["urgent_2"]).await;
        let third = append(&store, ana, trash, "three", &["a", "urgent"]).await;
        let window = ListWindow { sort: ListSort::default(), unread_only: false, offset: 0, limit: 100 };
        let (rows, total) = store.list_tagged(ana, "urgent", &window).await.unwrap();
        let mut subjects: Vec<&str> = rows.iter().map(|row| row.subject.as_str()).collect();
        subjects.sort();
        assert_eq!((subjects, total), (vec!["one", "three"], 2), "exact keywords, every folder");
        assert_eq!(store.list_tagged(bob, "urgent", &window).await.unwrap().1, 0, "never another account's");
        store.store_flags(ana, trash, &[third], FlagOp::Add, Flags::SEEN, &[]).await.unwrap();
        let unread = ListWindow { unread_only: true, ..window };
        assert_eq!(store.list_tagged(ana, "urgent", &unread).await.unwrap().1, 1);
        assert_eq!(store.keyword_holders(ana, "urgent").await.unwrap(), [(inbox, vec![1]), (trash, vec![third])]);

        store.forget_tag(ana, "urgent").await.unwrap();
        assert_eq!(store.tag_rows(ana).await.unwrap().len(), 1);
        assert!(!store.account_keywords(ana).await.unwrap().contains(&"urgent".to_string()));
        assert_eq!(store.tag_rows(bob).await.unwrap().len(), 1, "bob's stays");
    }

    #[tokio::test]
    async fn comments_are_set_and_removed_on_the_owners_messages_only() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        let inbox = store.special_folder(ana, crate::SpecialUse::Inbox).await.unwrap().id;
        let uid = append(&store, ana, inbox, "one", &[]).await;
        let id = store.message_states(ana, inbox).await.unwrap()[0].uid;
        assert_eq!(id, uid);
        let row = store
            .list_messages(
                ana,
                inbox,
                &ListWindow { sort: ListSort::default(), unread_only: false, offset: 0, limit: 10 },
            )
            .await
            .unwrap()
            .remove(0);
        assert!(store.set_comment(ana, row.id, Some("  call Bob back  ")).await.unwrap());
        assert!(!store.set_comment(bob, row.id, Some("mine now")).await.unwrap(), "not bob's");
        assert_eq!(store.message(ana, row.id).await.unwrap().unwrap().comment.as_deref(), Some("call Bob back"));
        assert!(store.set_comment(ana, row.id, Some(&"x".repeat(MAX_COMMENT_BYTES + 1))).await.is_err());
        assert!(store.set_comment(ana, row.id, Some(" ")).await.unwrap());
        assert_eq!(store.message(ana, row.id).await.unwrap().unwrap().comment, None);
    }
}
