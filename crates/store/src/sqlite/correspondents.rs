//! The addresses an account has exchanged mail with (B8: the composer's suggestions, until
//! contacts exist): the senders of its messages and the recipients of what it sent, most
//! recent first. Read from the messages' stored facts; nothing is kept beside them.

use crate::{AccountId, Result, Store};

/// Up to this many recipient lists of sent messages are looked at per query.
const SENT_LISTS_READ: i64 = 200;

/// What [`Store::correspondents`] found: `(name, address)` of senders, and the `To:` lists
/// (display form) of sent messages that mention the text, for the caller to split.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correspondents {
    pub senders: Vec<(String, String)>,
    pub sent_to: Vec<String>,
}

impl Store {
    /// Correspondents whose address starts with `text` or whose name contains it (no case),
    /// at most `limit` senders, newest first.
    pub async fn correspondents(&self, account: AccountId, text: &str, limit: u32) -> Result<Correspondents> {
        let escaped: String =
            text.chars().flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] }).collect();
        let senders: Vec<(String, String)> = sqlx::query_as(
            "SELECT from_name, from_addr FROM messages
             WHERE account_id = ?1 AND from_addr != ''
               AND (from_addr LIKE ?2 || '%' ESCAPE '\\' OR from_name LIKE '%' || ?2 || '%' ESCAPE '\\')
             GROUP BY lower(from_addr) ORDER BY MAX(internal_date) DESC LIMIT ?3",
        )
        .bind(account.0)
        .bind(&escaped)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        let sent_to: Vec<String> = sqlx::query_scalar(
            "SELECT m.to_addrs FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE m.account_id = ?1 AND f.special_use = 'sent' AND m.to_addrs LIKE '%' || ?2 || '%' ESCAPE '\\'
             ORDER BY m.internal_date DESC LIMIT ?3",
        )
        .bind(account.0)
        .bind(&escaped)
        .bind(SENT_LISTS_READ)
        .fetch_all(&self.reader)
        .await?;
        Ok(Correspondents { senders, sent_to })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Flags, SpecialUse};

    #[tokio::test]
    async fn senders_and_recipients_are_found_by_address_or_name() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        let inbox = store.folder_by_name(ana, "INBOX").await.expect("inbox").expect("there").id;
        let sent = store.special_folder(ana, SpecialUse::Sent).await.expect("sent").id;
        for (folder, raw) in [
            (inbox, "From: Jo Martin <jo@example.net>\r\nSubject: a\r\n\r\nx\r\n"),
            (inbox, "From: jo@example.net\r\nSubject: b\r\n\r\nx\r\n"),
            (inbox, "From: Joëlle <joelle@example.com>\r\nSubject: c\r\n\r\nx\r\n"),
            (inbox, "From: 100%_sure@example.com\r\nSubject: d\r\n\r\nx\r\n"),
            (
                sent,
                "From: ana@example.org\r\nTo: Marc Jolivet <marc@example.net>, eve@example.net\r\nSubject: e\r\n\r\nx\r\n",
            ),
        ] {
            store.append(ana, folder, raw.as_bytes().to_vec(), Flags::empty(), &[], None).await.expect("append");
        }
        let found = store.correspondents(ana, "jo", 10).await.expect("query");
        let addresses: Vec<&str> = found.senders.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(addresses.len(), 2, "jo@ once, joelle@: {addresses:?}");
        assert!(addresses.contains(&"jo@example.net") && addresses.contains(&"joelle@example.com"));
        assert_eq!(found.sent_to.len(), 1, "Marc Jolivet's list");
        assert_eq!(store.correspondents(ana, "100%", 10).await.expect("query").senders.len(), 1);
        assert_eq!(store.correspondents(ana, "1_0", 10).await.expect("query").senders.len(), 0, "_ is a character");
        assert_eq!(store.correspondents(bob, "jo", 10).await.expect("query"), Correspondents::default(), "per account");
    }
}
