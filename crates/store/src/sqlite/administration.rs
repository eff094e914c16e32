//! Who administers what, and the rows the administration pages page through (issue 18, A2,
//! A10). A server administrator (`accounts.is_admin`) manages every domain; a domain
//! administrator manages the domains they are listed for. The checks themselves are the web
//! client's and the CLI's; the store answers who is listed.

use super::accounts::{USER_INFO_COLUMNS, domain_id, found_account, user_info_from_row};
use super::domain_aliases::like_pattern;
use crate::{AccountId, Address, Error, Result, Store, UserInfo, parse_domain};

/// The most mailboxes one page of the administration lists.
pub const MAX_MAILBOXES_PAGE: u32 = 200;

impl Store {
    /// Makes the mailbox `address` an administrator of `domain` (no change when it is one).
    pub async fn add_domain_admin(&self, domain: &str, address: &Address) -> Result<()> {
        let domain = parse_domain(domain)?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &domain).await?;
        let account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE login = ?")
            .bind(address.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {address}")))?;
        sqlx::query("INSERT OR IGNORE INTO domain_admins (domain_id, account_id) VALUES (?, ?)")
            .bind(domain_id)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes `domain` from the mailbox's administration; false when it had no such role.
    pub async fn remove_domain_admin(&self, domain: &str, address: &Address) -> Result<bool> {
        let domain = parse_domain(domain)?;
        let done = sqlx::query(
            "DELETE FROM domain_admins WHERE domain_id = (SELECT id FROM domains WHERE name = ?)
             AND account_id = (SELECT id FROM accounts WHERE login = ?)",
        )
        .bind(&domain)
        .bind(address.to_string())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The names of the domains an account is listed as administrator of, in order.
    pub async fn administered_domains(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT d.name FROM domain_admins a JOIN domains d ON d.id = a.domain_id
             WHERE a.account_id = ? ORDER BY d.name",
        )
        .bind(account.0)
        .fetch_all(&self.reader)
        .await?)
    }

    /// The logins of a domain's administrators, in order.
    pub async fn domain_admins(&self, domain: &str) -> Result<Vec<String>> {
        let domain = parse_domain(domain)?;
        Ok(sqlx::query_scalar(
            "SELECT c.login FROM domain_admins a JOIN domains d ON d.id = a.domain_id
             JOIN accounts c ON c.id = a.account_id WHERE d.name = ? ORDER BY c.login",
        )
        .bind(&domain)
        .fetch_all(&self.reader)
        .await?)
    }

    /// One page of a domain's mailboxes by login, those whose login or name holds `filter`
    /// (any case), and how many match in all.
    pub async fn domain_mailboxes(
        &self,
        domain: &str,
        filter: &str,
        offset: u32,
        limit: u32,
    ) -> Result<(Vec<UserInfo>, u32)> {
        let domain = parse_domain(domain)?;
        let domain_id: i64 = sqlx::query_scalar("SELECT id FROM domains WHERE name = ?")
            .bind(&domain)
            .fetch_optional(&self.reader)
            .await?
            .ok_or_else(|| Error::NotFound(format!("domain {domain}")))?;
        let pattern = like_pattern(filter);
        const MATCHING: &str =
            "domain_id = ?1 AND (login LIKE ?2 ESCAPE '\\' OR lower(display_name) LIKE ?2 ESCAPE '\\')";
        let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM accounts WHERE {MATCHING}"))
            .bind(domain_id)
            .bind(&pattern)
            .fetch_one(&self.reader)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {USER_INFO_COLUMNS} FROM accounts WHERE {MATCHING}
             ORDER BY login LIMIT ?3 OFFSET ?4"
        ))
        .bind(domain_id)
        .bind(&pattern)
        .bind(i64::from(limit.min(MAX_MAILBOXES_PAGE)))
        .bind(i64::from(offset))
        .fetch_all(&self.reader)
        .await?;
        let mailboxes = rows.iter().map(user_info_from_row).collect();
        Ok((mailboxes, u32::try_from(total).unwrap_or(u32::MAX)))
    }

    /// One mailbox as the administration lists it.
    pub async fn mailbox_info(&self, address: &Address) -> Result<Option<UserInfo>> {
        let row = sqlx::query(&format!("SELECT {USER_INFO_COLUMNS} FROM accounts WHERE login = ?"))
            .bind(address.to_string())
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(user_info_from_row))
    }

    /// Sets a mailbox's quota (A10) in megabytes; `None` is unlimited.
    pub async fn set_quota(&self, address: &Address, quota_mb: Option<u64>) -> Result<()> {
        let quota_bytes = quota_mb.map(|mb| i64::try_from(mb).unwrap_or(i64::MAX).saturating_mul(1024 * 1024));
        let done = sqlx::query("UPDATE accounts SET quota_bytes = ? WHERE login = ?")
            .bind(quota_bytes)
            .bind(address.to_string())
            .execute(&self.writer)
            .await?;
        found_account(&done, address)
    }

    /// Sets the name shown for a mailbox.
    pub async fn set_display_name(&self, address: &Address, name: &str) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET display_name = ? WHERE login = ?")
            .bind(name.trim())
            .bind(address.to_string())
            .execute(&self.writer)
            .await?;
        found_account(&done, address)
    }
}

#[cfg(test)]
mod tests {
    use crate::{Store, parse_address};

    #[tokio::test]
    async fn domain_administrators_and_pages_of_mailboxes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        for domain in ["example.org", "example.net"] {
            store.add_domain(domain).await.unwrap();
        }
        for n in 0..30 {
            let address = parse_address(&format!("user{n:02}@example.org")).unwrap();
            store.add_user(&address, "hash", None).await.unwrap();
        }
        let zoe = parse_address("zoe_x@example.net").unwrap();
        let zoe_id = store.add_user(&zoe, "hash", None).await.unwrap().id;
        store.set_display_name(&zoe, "Zoé Martin").await.unwrap();

        // Pages in order, and a filter on the login or the name (LIKE's `_` taken as itself).
        let (page, total) = store.domain_mailboxes("example.org", "", 10, 10).await.unwrap();
        assert_eq!(total, 30);
        assert_eq!(page.first().map(|u| u.login.as_str()), Some("user10@example.org"));
        assert_eq!(page.len(), 10);
        let (found, total) = store.domain_mailboxes("example.org", "USER2", 0, 50).await.unwrap();
        assert_eq!((found.len(), total), (10, 10));
        assert_eq!(store.domain_mailboxes("example.org", "r_1", 0, 50).await.unwrap().1, 0);
        assert_eq!(store.domain_mailboxes("example.net", "e_x", 0, 50).await.unwrap().1, 1);
        assert_eq!(store.domain_mailboxes("example.net", "zoé mar", 0, 50).await.unwrap().1, 1);
        assert!(store.domain_mailboxes("example.com", "", 0, 50).await.is_err());

        // A domain administrator is listed for their domain only; removing the role says so.
        store.add_domain_admin("example.net", &zoe).await.unwrap();
        store.add_domain_admin("example.net", &zoe).await.unwrap();
        assert_eq!(store.administered_domains(zoe_id).await.unwrap(), ["example.net"]);
        assert_eq!(store.domain_admins("example.net").await.unwrap(), ["zoe_x@example.net"]);
        assert!(store.domain_admins("example.org").await.unwrap().is_empty());
        assert!(store.add_domain_admin("example.org", &parse_address("nobody@example.org").unwrap()).await.is_err());
        assert!(store.remove_domain_admin("example.net", &zoe).await.unwrap());
        assert!(!store.remove_domain_admin("example.net", &zoe).await.unwrap());
        assert!(store.administered_domains(zoe_id).await.unwrap().is_empty());

        // Quotas in megabytes; unlimited again.
        let user = parse_address("user00@example.org").unwrap();
        store.set_quota(&user, Some(250)).await.unwrap();
        let (page, _) = store.domain_mailboxes("example.org", "user00", 0, 1).await.unwrap();
        assert_eq!(page[0].quota_bytes, Some(250 * 1024 * 1024));
        store.set_quota(&user, None).await.unwrap();
        let (page, _) = store.domain_mailboxes("example.org", "user00", 0, 1).await.unwrap();
        assert_eq!(page[0].quota_bytes, None);
        assert!(store.set_quota(&parse_address("ghost@example.org").unwrap(), None).await.is_err());
    }
}
