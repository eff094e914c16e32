//! What a folder's conversations (C11) are made of: each message's threading fields and what
//! its list row is ordered by, read in one pass over the folder's rows.

use super::messages::{SHOWN_DATE, SHOWN_SENDER};
use crate::{AccountId, FolderId, MessageId, Result, Store};

/// One message as threading and ordering see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadRow {
    pub id: MessageId,
    /// The `Date:` field, else the arrival (Unix seconds), as the list shows it.
    pub date: i64,
    pub subject: String,
    /// The sender's name, else address, as the list shows it.
    pub sender: String,
    pub size: u32,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// The References ids, oldest first (empty for messages stored before they were kept).
    pub references: Vec<String>,
    pub unread: bool,
}

type Row = (i64, i64, String, String, i64, Option<String>, Option<String>, String, i64);

impl Store {
    /// Every message of one of the account's folders, in UID order.
    pub async fn thread_rows(&self, account: AccountId, folder: FolderId) -> Result<Vec<ThreadRow>> {
        let rows: Vec<Row> = sqlx::query_as(&format!(
            "SELECT m.id, {SHOWN_DATE}, m.subject, {SHOWN_SENDER}, m.size, m.message_id, m.in_reply_to, m.refs,
                m.flags & 1
             FROM messages m WHERE m.account_id = ? AND m.folder_id = ? ORDER BY m.uid"
        ))
        .bind(account.0)
        .bind(folder.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, date, subject, sender, size, message_id, in_reply_to, refs, seen)| ThreadRow {
                id: MessageId(id),
                date,
                subject,
                sender,
                size: size as u32,
                message_id,
                in_reply_to,
                references: refs.split(' ').filter(|id| !id.is_empty()).map(str::to_string).collect(),
                unread: seen == 0,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::Flags;

    #[tokio::test]
    async fn rows_carry_references_and_stay_with_their_account() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        let inbox = store.special_folder(ana, crate::SpecialUse::Inbox).await.unwrap().id;
        let first = "From: Bob <bob@example.org>\r\nSubject: Plans\r\nMessage-ID: <a@x>\r\n\r\nhi\r\n";
        let reply = "From: carl@example.org\r\nSubject: Re: Plans\r\nMessage-ID: <c@x>\r\nIn-Reply-To: <b@x>\r\n\
References: <a@x> <b@x>\r\n\r\nho\r\n";
        store.append(ana, inbox, first.as_bytes().to_vec(), Flags::SEEN, &[], None).await.unwrap();
        store.append(ana, inbox, reply.as_bytes().to_vec(), Flags::empty(), &[], None).await.unwrap();
        let rows = store.thread_rows(ana, inbox).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].sender.as_str(), rows[0].unread, rows[0].references.len()), ("Bob", false, 0));
        assert_eq!(rows[1].sender, "carl@example.org");
        assert_eq!(rows[1].in_reply_to.as_deref(), Some("b@x"));
        assert_eq!(rows[1].references, ["a@x", "b@x"]);
        assert!(rows[1].unread);
        assert!(store.thread_rows(bob, inbox).await.unwrap().is_empty(), "not bob's");
    }
}
