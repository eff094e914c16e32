//! A folder's list as conversations (C11, the threads preference): one row per thread, its
//! newest message standing for it, unread while any of its messages is; the reading pane lists
//! the thread of the message open. Threads are `mail::threads`, as IMAP THREAD=REFERENCES.
//!
//! The whole folder is threaded for each list: a thread's messages may be anywhere in it.

use chrono::{DateTime, FixedOffset};
use types::{ListSort, SortKey, Tag};

use crate::dto::{ConversationEntry, MessageListItem};
use crate::error::AppError;
use crate::i18n::Lang;

use super::ReaderZone;

/// The reading pane lists at most this many of a conversation's messages, the newest.
const MAX_CONVERSATION_SHOWN: usize = 100;

/// What a list asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    pub(crate) sort: ListSort,
    pub(crate) unread_only: bool,
    /// From 1; none: the first.
    pub(crate) page: Option<u32>,
    pub(crate) page_size: u32,
}

/// How the list is written for this reader: their zone, clock, language, and the account's
/// tags (for the rows' chips).
pub(crate) struct ListContext<'t> {
    pub(crate) zone: ReaderZone,
    pub(crate) now: DateTime<FixedOffset>,
    pub(crate) lang: Lang,
    pub(crate) tags: &'t [Tag],
}

impl ListContext<'_> {
    /// The rows of a list of messages.
    pub(crate) fn items(&self, rows: &[store::MessageRow]) -> Vec<MessageListItem> {
        rows.iter().map(|row| super::list_item(row, self.zone, &self.now, self.lang, self.tags)).collect()
    }

    /// The conversation of message `id`, oldest first, as the reading pane lists it (empty when
    /// it has no other message).
    pub(crate) fn conversation_of(&self, conversations: &[Conversation], id: i64) -> Vec<ConversationEntry> {
        let Some(conversation) = conversations.iter().find(|c| c.iter().any(|m| m.id.0 == id)) else {
            return Vec::new();
        };
        if conversation.len() < 2 {
            return Vec::new();
        }
        // The newest of a long conversation (subjects merge threads): the list stays short.
        let newest = conversation.iter().skip(conversation.len().saturating_sub(MAX_CONVERSATION_SHOWN));
        newest
            .map(|m| {
                let date = self.zone.at(m.date);
                ConversationEntry {
                    id: m.id.0,
                    sender: m.sender.clone(),
                    short_date: super::short_date(&date, &self.now, self.lang),
                    full_date: super::full_date(&date, self.lang),
                    unread: m.unread,
                    current: m.id.0 == id,
                }
            })
            .collect()
    }

    /// One page of the conversations in the order asked, each as the row of its newest
    /// message, unread while any of its messages is: (rows, conversations in all, page, pages).
    pub(crate) async fn conversation_page(
        &self,
        store: &store::Store,
        account: store::AccountId,
        mut conversations: Vec<Conversation>,
        asked: Asked,
    ) -> Result<(Vec<MessageListItem>, u32, u32, u32), AppError> {
        if asked.unread_only {
            conversations.retain(|c| c.iter().any(|m| m.unread));
        }
        sort_conversations(&mut conversations, asked.sort);
        let total = conversations.len() as u32;
        let pages = total.div_ceil(asked.page_size).max(1);
        let page = asked.page.unwrap_or(1).clamp(1, pages);
        let shown: Vec<&Conversation> =
            conversations.iter().skip(((page - 1) * asked.page_size) as usize).take(asked.page_size as usize).collect();
        let newest: Vec<store::MessageId> = shown.iter().filter_map(|c| c.last().map(|m| m.id)).collect();
        let rows = store.messages_by_ids(account, &newest).await?;
        let items = shown
            .iter()
            .filter_map(|c| {
                let newest = c.last()?;
                let row = rows.iter().find(|row| row.id == newest.id)?;
                let mut item = super::list_item(row, self.zone, &self.now, self.lang, self.tags);
                item.thread_count = c.len() as u32;
                item.unread = c.iter().any(|m| m.unread);
                Some(item)
            })
            .collect();
        Ok((items, total, page, pages))
    }
}

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

/// Orders conversations as the list is ordered (C1), each by its newest message; ties by
/// that message's id. The text keys are lowered once per conversation, not at each comparison.
pub(crate) fn sort_conversations(conversations: &mut [Conversation], sort: ListSort) {
    conversations.sort_by_cached_key(|conversation| {
        conversation.last().map(|newest| match sort.key {
            SortKey::Date => (String::new(), newest.date, newest.id.0),
            SortKey::Size => (String::new(), i64::from(newest.size), newest.id.0),
            SortKey::Subject => (newest.subject.to_lowercase(), 0, newest.id.0),
            SortKey::Sender => (newest.sender.to_lowercase(), 0, newest.id.0),
        })
    });
    if sort.descending {
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
