//! A folder's list as conversations (C11, the threads preference): one row per thread, its
//! newest message standing for it, unread while any of its messages is; the reading pane lists
//! the thread of the message open. Threads are `mail::threads`, as IMAP THREAD=REFERENCES.
//!
//! The whole folder is threaded for each list: a thread's messages may be anywhere in it.

use std::cmp::Ordering;

use types::{ListSort, SortKey};

use crate::error::AppError;

/// One conversation: its messages, oldest first (the last stands for it).
pub(crate) type Conversation = Vec<store::ThreadRow>;

/// The folder's conversations, in no particular order.
pub(crate) async fn folder_conversations(
    store: &store::Store,
    account: store::AccountId,
    folder: store::FolderId,
) -> Result<Vec<Conversation>, AppError> {
    let rows = store.thread_rows(account, folder).await?;
    // Threading a large folder is CPU work: off the async workers.
    tokio::task::spawn_blocking(move || {
        let groups = mail::threads::conversations(&rows);
        let mut rows: Vec<Option<store::ThreadRow>> = rows.into_iter().map(Some).collect();
        groups
            .into_iter()
            .map(|indexes| {
                let mut members: Conversation = indexes.into_iter().filter_map(|index| rows[index].take()).collect();
                members.sort_by(|a, b| a.date.cmp(&b.date).then(a.id.0.cmp(&b.id.0)));
                members
            })
            .filter(|members| !members.is_empty())
            .collect()
    })
    .await
    .map_err(|_| AppError::Internal)
}

/// Orders conversations as the list is ordered (C1), each by its newest message.
pub(crate) fn sort_conversations(conversations: &mut [Conversation], sort: ListSort) {
    // The text keys are lowered once per conversation, not at each comparison.
    let text = |newest: &store::ThreadRow| match sort.key {
        SortKey::Subject => newest.subject.to_lowercase(),
        SortKey::Sender => newest.sender.to_lowercase(),
        SortKey::Date | SortKey::Size => String::new(),
    };
    conversations.sort_by_cached_key(|conversation| conversation.last().map(|newest| (text(newest), newest.id.0)));
    conversations.sort_by(|a, b| {
        let (Some(a), Some(b)) = (a.last(), b.last()) else { return Ordering::Equal };
        let order = match sort.key {
            SortKey::Date => a.date.cmp(&b.date).then(a.id.0.cmp(&b.id.0)),
            SortKey::Size => a.size.cmp(&b.size).then(a.id.0.cmp(&b.id.0)),
            // Already in this order by the cached keys: keep it (the sort is stable).
            SortKey::Subject | SortKey::Sender => Ordering::Equal,
        };
        if sort.descending { order.reverse() } else { order }
    });
    if sort.descending && matches!(sort.key, SortKey::Subject | SortKey::Sender) {
        conversations.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, date: i64, subject: &str, sender: &str) -> store::ThreadRow {
        store::ThreadRow {
            id: store::MessageId(id),
            date,
            subject: subject.into(),
            sender: sender.into(),
            size: id as u32,
            message_id: None,
            in_reply_to: None,
            references: Vec::new(),
            unread: false,
        }
    }

    #[test]
    fn conversations_sort_by_their_newest_message() {
        let mut conversations = vec![
            vec![row(1, 10, "b", "Zoe"), row(4, 40, "Re: b", "Amy")],
            vec![row(2, 20, "a", "Bob")],
            vec![row(3, 30, "c", "Carl")],
        ];
        sort_conversations(&mut conversations, ListSort::default());
        let newest: Vec<i64> = conversations.iter().map(|c| c.last().unwrap().id.0).collect();
        assert_eq!(newest, [4, 3, 2], "newest first");
        sort_conversations(&mut conversations, ListSort { key: SortKey::Sender, descending: false });
        let senders: Vec<&str> = conversations.iter().map(|c| c.last().unwrap().sender.as_str()).collect();
        assert_eq!(senders, ["Amy", "Bob", "Carl"]);
    }
}
