//! A mailbox's life after its creation (issue 18, A2, A4): disabled and enabled again, renamed,
//! deleted with its mail, turned into an alias (its mail deleted), and an alias turned into a
//! mailbox.
//! Each is one transaction: mail arriving meanwhile finds either the old address or the new.

use super::accounts::{domain_id, ensure_address_free, found_account, insert_account};
use super::domain_aliases::{REQUIRED_LOCAL_PARTS, insert_alias};
use crate::{Account, AccountId, Address, Error, Result, Store};

impl Store {
    /// How many messages a mailbox holds, and their bytes: what deleting it loses (A4).
    pub async fn mailbox_contents(&self, address: &Address) -> Result<(u64, u64)> {
        let found: Option<(i64, i64)> = sqlx::query_as(
            "SELECT COALESCE(SUM(f.n_messages), 0), COALESCE(SUM(f.size_bytes), 0)
             FROM accounts a LEFT JOIN folders f ON f.account_id = a.id WHERE a.login = ? GROUP BY a.id",
        )
        .bind(address.to_string())
        .fetch_optional(&self.reader)
        .await?;
        let (messages, bytes) = found.ok_or_else(|| Error::NotFound(format!("user {address}")))?;
        Ok((u64::try_from(messages).unwrap_or(0), u64::try_from(bytes).unwrap_or(0)))
    }

    /// Disables a mailbox (nobody signs in to it; it keeps its mail and still receives) or
    /// enables it again. The server's last administrator stays enabled.
    pub async fn set_mailbox_disabled(&self, address: &Address, disabled: bool) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        if disabled {
            refuse_last_administrator(&mut tx, address).await?;
        }
        let done = sqlx::query("UPDATE accounts SET disabled = ? WHERE login = ?")
            .bind(i64::from(disabled))
            .bind(address.to_string())
            .execute(&mut *tx)
            .await?;
        found_account(&done, address)?;
        // A disabled mailbox's web sessions end now, not when they expire.
        if disabled {
            sqlx::query("DELETE FROM web_sessions WHERE account_id = (SELECT id FROM accounts WHERE login = ?)")
                .bind(address.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Renames a mailbox within its domain: its login, its address, its sending identity and
    /// signature, the aliases and postmaster setting that name it follow. With `keep_old`, the
    /// old address stays as an alias to the new one, so mail sent to it still arrives.
    pub async fn rename_mailbox(&self, address: &Address, new: &Address, keep_old: bool) -> Result<()> {
        if new.domain != address.domain {
            return Err(Error::invalid("address", "a mailbox is renamed within its domain"));
        }
        let (old_login, new_login) = (address.to_string(), new.to_string());
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        let account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE login = ?")
            .bind(&old_login)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| Error::NotFound(format!("user {address}")))?;
        ensure_address_free(&mut tx, domain_id, new).await?;
        sqlx::query("UPDATE accounts SET login = ? WHERE id = ?")
            .bind(&new_login)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE addresses SET local_part = ? WHERE account_id = ? AND kind = 'mailbox'")
            .bind(&new.local)
            .bind(account)
            .execute(&mut *tx)
            .await?;
        for table in ["identities", "signatures"] {
            sqlx::query(&format!("UPDATE OR IGNORE {table} SET address = ?1 WHERE account_id = ?2 AND address = ?3"))
                .bind(&new_login)
                .bind(account)
                .bind(&old_login)
                .execute(&mut *tx)
                .await?;
        }
        // Aliases naming it now name the new address (once, if one named both).
        sqlx::query("UPDATE OR IGNORE alias_targets SET target = ? WHERE target = ?")
            .bind(&new_login)
            .bind(&old_login)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM alias_targets WHERE target = ?").bind(&old_login).execute(&mut *tx).await?;
        sqlx::query("UPDATE domains SET postmaster_target = ? WHERE postmaster_target = ?")
            .bind(&new_login)
            .bind(&old_login)
            .execute(&mut *tx)
            .await?;
        if keep_old {
            insert_alias(&mut tx, domain_id, &address.local, std::slice::from_ref(new)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a mailbox with all its mail, folders and settings; returns how many messages
    /// went. Aliases pointing to it are left as they are (their other targets still get mail).
    pub async fn delete_mailbox(&self, address: &Address) -> Result<u64> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let (deleted, hashes) = remove_account(&mut tx, address).await?;
        tx.commit().await?;
        self.remove_unreferenced_blobs_logged(hashes).await;
        Ok(deleted)
    }

    /// A4: turns a mailbox into an alias to `targets`, deleting its mail (the caller has shown
    /// how much and asked); returns how many messages went.
    pub async fn mailbox_to_alias(&self, address: &Address, targets: &[Address]) -> Result<u64> {
        self.check_alias_targets(address, targets).await?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        let (deleted, hashes) = remove_account(&mut tx, address).await?;
        insert_alias(&mut tx, domain_id, &address.local, targets).await?;
        tx.commit().await?;
        self.remove_unreferenced_blobs_logged(hashes).await;
        Ok(deleted)
    }

    /// A4: turns an alias into a mailbox; an alias holds no mail, so none is lost, and from
    /// the commit on its mail is delivered to the new mailbox.
    pub async fn alias_to_mailbox(
        &self,
        address: &Address,
        password_hash: &str,
        quota_mb: Option<u64>,
    ) -> Result<Account> {
        if REQUIRED_LOCAL_PARTS.contains(&address.local.as_str()) {
            return Err(Error::Refused(format!("{address} is reserved; it can only be redirected")));
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        let done = sqlx::query("DELETE FROM addresses WHERE domain_id = ? AND local_part = ? AND kind = 'alias'")
            .bind(domain_id)
            .bind(&address.local)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("alias {address}")));
        }
        let account: AccountId = insert_account(&mut tx, domain_id, address, password_hash, quota_mb).await?;
        tx.commit().await?;
        self.account_by_id(account).await?.ok_or_else(|| Error::NotFound(address.to_string()))
    }
}

/// `Refused` when `address` is the server's only administrator: without one, nobody could
/// administer the server from the web client.
async fn refuse_last_administrator(tx: &mut sqlx::SqliteConnection, address: &Address) -> Result<()> {
    let (is_admin, admins): (bool, i64) = sqlx::query_as(
        "SELECT COALESCE((SELECT is_admin FROM accounts WHERE login = ?), 0),
                (SELECT COUNT(*) FROM accounts WHERE is_admin = 1 AND disabled = 0)",
    )
    .bind(address.to_string())
    .fetch_one(&mut *tx)
    .await?;
    if is_admin && admins <= 1 {
        return Err(Error::LastAdministrator(address.to_string()));
    }
    Ok(())
}

/// Deletes an account and everything of it; returns how many messages went and their blobs,
/// to remove once committed.
async fn remove_account(tx: &mut sqlx::SqliteConnection, address: &Address) -> Result<(u64, Vec<String>)> {
    refuse_last_administrator(tx, address).await?;
    let account: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE login = ?")
        .bind(address.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| Error::NotFound(format!("user {address}")))?;
    // The messages first, to learn their blobs; the rest goes by ON DELETE CASCADE.
    let mut hashes: Vec<String> = sqlx::query_scalar("DELETE FROM messages WHERE account_id = ? RETURNING blob_hash")
        .bind(account)
        .fetch_all(&mut *tx)
        .await?;
    let deleted = hashes.len() as u64;
    hashes.sort_unstable();
    hashes.dedup();
    sqlx::query("DELETE FROM accounts WHERE id = ?").bind(account).execute(&mut *tx).await?;
    Ok((deleted, hashes))
}

#[cfg(test)]
mod tests {
    use crate::{Route, Store, parse_address};

    #[tokio::test]
    async fn mailboxes_disabled_deleted_and_turned_into_aliases_and_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.org").await.unwrap();
        let admin = parse_address("admin@example.org").unwrap();
        let ana = parse_address("ana@example.org").unwrap();
        store.add_user(&admin, "hash", None).await.unwrap();
        let ana_id = store.add_user(&ana, "hash", None).await.unwrap().id;
        for n in 0..3 {
            let raw = format!("Subject: {n}\r\n\r\nHello\r\n");
            store.deliver(&[ana_id], raw.into_bytes()).await.unwrap();
        }
        let (messages, bytes) = store.mailbox_contents(&ana).await.unwrap();
        assert_eq!(messages, 3);
        assert!(bytes > 0);

        // Disabled: no sign-in, mail still comes; enabled again.
        store.set_mailbox_disabled(&ana, true).await.unwrap();
        assert!(store.account_with_password_hash("ana@example.org").await.unwrap().is_none());
        assert!(matches!(store.route(&ana).await.unwrap(), Route::Local { .. }));
        store.set_mailbox_disabled(&ana, false).await.unwrap();
        assert!(store.account_with_password_hash("ana@example.org").await.unwrap().is_some());
        // The last administrator is neither disabled nor deleted.
        assert!(store.set_mailbox_disabled(&admin, true).await.is_err());
        assert!(store.delete_mailbox(&admin).await.is_err());

        // A mailbox becomes an alias: its mail goes, its address now forwards.
        let outside = parse_address("ana@elsewhere.test").unwrap();
        assert_eq!(store.mailbox_to_alias(&ana, std::slice::from_ref(&outside)).await.unwrap(), 3);
        assert!(store.account_by_login(&ana).await.unwrap().is_none());
        assert_eq!(
            store.route(&ana).await.unwrap(),
            Route::Local { accounts: vec![], external: vec![outside.to_string()] }
        );
        assert_eq!(store.message_count().await.unwrap(), 0);

        // And a mailbox again, empty, receiving.
        let account = store.alias_to_mailbox(&ana, "hash", Some(10)).await.unwrap();
        assert_eq!(store.route(&ana).await.unwrap(), Route::Local { accounts: vec![account.id], external: vec![] });
        assert!(store.alias_to_mailbox(&ana, "hash", None).await.is_err(), "no longer an alias");
        assert!(store.alias_to_mailbox(&parse_address("postmaster@example.org").unwrap(), "h", None).await.is_err());

        // Renamed, the old address kept as an alias: mail to either arrives; an alias naming it
        // follows; a taken or reserved name, or another domain, is refused.
        let team = parse_address("team@example.org").unwrap();
        store.add_alias(&team, std::slice::from_ref(&ana)).await.unwrap();
        let anna = parse_address("anna@example.org").unwrap();
        store.rename_mailbox(&ana, &anna, true).await.unwrap();
        assert!(store.account_by_login(&anna).await.unwrap().is_some_and(|a| a.id == account.id));
        let to_account = Route::Local { accounts: vec![account.id], external: vec![] };
        assert_eq!(store.route(&ana).await.unwrap(), to_account);
        assert_eq!(store.route(&anna).await.unwrap(), to_account);
        assert_eq!(store.aliases_targeting(&anna).await.unwrap(), ["ana@example.org", "team@example.org"]);
        for taken in ["admin@example.org", "postmaster@example.org", "anna@example.net"] {
            assert!(store.rename_mailbox(&anna, &parse_address(taken).unwrap(), false).await.is_err(), "{taken}");
        }
        store.remove_alias(&ana).await.unwrap();
        store.rename_mailbox(&anna, &ana, false).await.unwrap();
        assert_eq!(store.route(&anna).await.unwrap(), Route::UnknownUser);

        // Deleted: gone, its address unknown.
        assert_eq!(store.delete_mailbox(&ana).await.unwrap(), 0);
        assert_eq!(store.route(&ana).await.unwrap(), Route::UnknownUser);
        assert!(store.delete_mailbox(&ana).await.is_err());
    }
}
