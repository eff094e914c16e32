//! What people set for themselves and the administrator for everyone (issue 17): each
//! account's signatures (B13), by the address they send from, and its other settings (the undo
//! delay of B15); the server's settings, such as the footer every message written in the web
//! client ends with.

use crate::{AccountId, Result, Store};

/// The server setting holding the footer of messages written in the web client (B13).
pub const FOOTER_SETTING: &str = "footer";

/// The longest signature or setting kept: generous for text, a bound for a database row.
pub const MAX_SETTING_BYTES: usize = 10_000;

/// The longest rich text signature kept: room for a logo (its pictures are in it).
pub const MAX_SIGNATURE_HTML_BYTES: usize = 512 * 1024;

impl Store {
    /// The account's signatures: (address, text), by address.
    pub async fn signatures(&self, account: AccountId) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as("SELECT address, body FROM signatures WHERE account_id = ? ORDER BY address")
            .bind(account.0)
            .fetch_all(&self.reader)
            .await?)
    }

    /// Sets the signature of one of the account's addresses; an empty one is removed. The
    /// caller checks the address is the account's.
    pub async fn set_signature(&self, account: AccountId, address: &str, body: &str) -> Result<()> {
        if body.len() > MAX_SETTING_BYTES {
            return Err(crate::Error::invalid("signature", "it is too long"));
        }
        let address = address.to_ascii_lowercase();
        if body.trim().is_empty() {
            sqlx::query("DELETE FROM signatures WHERE account_id = ? AND address = ?")
                .bind(account.0)
                .bind(&address)
                .execute(&self.writer)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO signatures (account_id, address, body) VALUES (?, ?, ?)
                 ON CONFLICT (account_id, address) DO UPDATE SET body = excluded.body",
            )
            .bind(account.0)
            .bind(&address)
            .bind(body)
            .execute(&self.writer)
            .await?;
        }
        Ok(())
    }

    /// The account's rich text signatures: (address, HTML), by address.
    pub async fn signatures_html(&self, account: AccountId) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT address, html FROM signatures WHERE account_id = ? AND html IS NOT NULL ORDER BY address",
        )
        .bind(account.0)
        .fetch_all(&self.reader)
        .await?)
    }

    /// Sets the rich text of a signature kept with [`Store::set_signature`] (`None`: plain
    /// text only); nothing when the address has no signature.
    pub async fn set_signature_html(&self, account: AccountId, address: &str, html: Option<&str>) -> Result<()> {
        if html.is_some_and(|html| html.len() > MAX_SIGNATURE_HTML_BYTES) {
            return Err(crate::Error::invalid("signature", "it is too long"));
        }
        sqlx::query("UPDATE signatures SET html = ? WHERE account_id = ? AND address = ?")
            .bind(html)
            .bind(account.0)
            .bind(address.to_ascii_lowercase())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// One of the account's own settings, if set.
    pub async fn account_setting(&self, account: AccountId, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM account_settings WHERE account_id = ? AND name = ?")
            .bind(account.0)
            .bind(name)
            .fetch_optional(&self.reader)
            .await?)
    }

    /// Sets one of the account's own settings; `None` puts the default back.
    pub async fn set_account_setting(&self, account: AccountId, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(value) if value.len() > MAX_SETTING_BYTES => Err(crate::Error::invalid("setting", "it is too long")),
            Some(value) => {
                sqlx::query(
                    "INSERT INTO account_settings (account_id, name, value) VALUES (?, ?, ?)
                     ON CONFLICT (account_id, name) DO UPDATE SET value = excluded.value",
                )
                .bind(account.0)
                .bind(name)
                .bind(value)
                .execute(&self.writer)
                .await?;
                Ok(())
            }
            None => {
                sqlx::query("DELETE FROM account_settings WHERE account_id = ? AND name = ?")
                    .bind(account.0)
                    .bind(name)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }
        }
    }

    /// A server setting, if set.
    pub async fn server_setting(&self, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM server_settings WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?)
    }

    /// Sets a server setting; `None` (or empty text) removes it.
    pub async fn set_server_setting(&self, name: &str, value: Option<&str>) -> Result<()> {
        match value.filter(|v| !v.trim().is_empty()) {
            Some(value) if value.len() > MAX_SETTING_BYTES => Err(crate::Error::invalid("setting", "it is too long")),
            Some(value) => {
                sqlx::query(
                    "INSERT INTO server_settings (name, value) VALUES (?, ?)
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                )
                .bind(name)
                .bind(value)
                .execute(&self.writer)
                .await?;
                Ok(())
            }
            None => {
                sqlx::query("DELETE FROM server_settings WHERE name = ?").bind(name).execute(&self.writer).await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn signatures_and_settings_are_kept_replaced_and_removed() {
        let (_dir, store, ana, bob) = crate::sqlite::store_with_ana_and_bob().await;
        store.set_signature(ana, "Ana@Example.org", "Ana\nTrésorière").await.expect("set");
        store.set_signature(ana, "contact@example.org", "L'équipe").await.expect("set");
        store.set_signature(ana, "ana@example.org", "Ana").await.expect("replaced");
        assert_eq!(
            store.signatures(ana).await.expect("read"),
            [("ana@example.org".to_string(), "Ana".to_string()), ("contact@example.org".into(), "L'équipe".into())]
        );
        store.set_signature(ana, "contact@example.org", "  ").await.expect("removed");
        assert_eq!(store.signatures(ana).await.expect("read").len(), 1);
        assert!(store.signatures(bob).await.expect("read").is_empty(), "per account");
        assert!(store.set_signature(ana, "ana@example.org", &"x".repeat(MAX_SETTING_BYTES + 1)).await.is_err());
        store.set_signature_html(ana, "ANA@example.org", Some("<div>Ana</div>")).await.expect("rich");
        store.set_signature_html(ana, "nobody@example.org", Some("<div>x</div>")).await.expect("no signature: nothing");
        assert_eq!(
            store.signatures_html(ana).await.expect("read"),
            [("ana@example.org".to_string(), "<div>Ana</div>".to_string())]
        );
        store.set_signature(ana, "ana@example.org", "Ana B").await.expect("text again");
        assert_eq!(store.signatures_html(ana).await.expect("read").len(), 1, "the text leaves the rich text be");
        store.set_signature_html(ana, "ana@example.org", None).await.expect("plain");
        assert!(store.signatures_html(ana).await.expect("read").is_empty());
        assert!(store.signatures_html(bob).await.expect("read").is_empty(), "per account");

        store.set_account_setting(ana, "undo_send_seconds", Some("10")).await.expect("set");
        store.set_account_setting(ana, "undo_send_seconds", Some("20")).await.expect("replaced");
        assert_eq!(store.account_setting(ana, "undo_send_seconds").await.expect("read").as_deref(), Some("20"));
        assert_eq!(store.account_setting(bob, "undo_send_seconds").await.expect("read"), None, "per account");
        store.set_account_setting(ana, "undo_send_seconds", None).await.expect("default again");
        assert_eq!(store.account_setting(ana, "undo_send_seconds").await.expect("read"), None);

        assert_eq!(store.server_setting("footer").await.expect("read"), None);
        store.set_server_setting("footer", Some("-- Association")).await.expect("set");
        assert_eq!(store.server_setting("footer").await.expect("read").as_deref(), Some("-- Association"));
        store.set_server_setting("footer", None).await.expect("cleared");
        assert_eq!(store.server_setting("footer").await.expect("read"), None);
    }
}
