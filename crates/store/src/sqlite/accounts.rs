//! Domains, accounts, addresses, aliases, and the rows behind passwords and web sessions
//! (A1-A3, A5, F8). Hashing, checking and token making are the `auth` crate's: the store only
//! keeps what it is given.

use super::domain_aliases::insert_alias;
use super::folders::insert_folder;
use sqlx::Row;

use crate::{
    Account, AccountId, Address, AliasInfo, Domain, Error, Result, SpecialUse, Store, UserInfo, now_unix, parse_domain,
};

fn account_from_row(row: &sqlx::sqlite::SqliteRow) -> Account {
    Account {
        id: AccountId(row.get("id")),
        login: row.get("login"),
        display_name: row.get("display_name"),
        is_admin: row.get::<i64, _>("is_admin") != 0,
        quota_bytes: row.get("quota_bytes"),
        language: row.get("language"),
    }
}

const ACCOUNT_COLUMNS: &str = "id, login, display_name, is_admin, quota_bytes, language";

/// [`ACCOUNT_COLUMNS`] of the table aliased `alias`, for joins.
fn account_columns_of(alias: &str) -> String {
    ACCOUNT_COLUMNS.split(", ").map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
}

impl Store {
    // ----- Domains (A1) -----

    pub async fn add_domain(&self, name: &str) -> Result<String> {
        let name = parse_domain(name)?;
        let result = sqlx::query("INSERT INTO domains (name, created_at) VALUES (?, ?)")
            .bind(&name)
            .bind(now_unix())
            .execute(&self.writer)
            .await;
        match result {
            Ok(_) => Ok(name),
            Err(e) if is_unique_violation(&e) => Err(Error::Exists(format!("domain {name}"))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_domains(&self) -> Result<Vec<Domain>> {
        let rows = sqlx::query(
            "SELECT d.name, d.postmaster_target, (SELECT COUNT(*) FROM accounts a WHERE a.domain_id = d.id) AS n
             FROM domains d ORDER BY d.name",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Domain {
                name: r.get("name"),
                postmaster_target: r.get("postmaster_target"),
                n_accounts: r.get("n"),
            })
            .collect())
    }

    /// Removes a domain that has no mailboxes left; its aliases go with it.
    pub async fn remove_domain(&self, name: &str) -> Result<()> {
        let name = parse_domain(name)?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &name).await?;
        let n_accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE domain_id = ?")
            .bind(domain_id)
            .fetch_one(&mut *tx)
            .await?;
        if n_accounts > 0 {
            return Err(Error::Refused(format!("domain {name} still has {n_accounts} mailbox(es); remove them first")));
        }
        sqlx::query("DELETE FROM addresses WHERE domain_id = ?").bind(domain_id).execute(&mut *tx).await?;
        // Its lists and groups go with it (their posts' files with the next sweep).
        sqlx::query("DELETE FROM lists WHERE domain_id = ?").bind(domain_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM groups WHERE domain_id = ?").bind(domain_id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM domains WHERE id = ?").bind(domain_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A5: sets where postmaster@ and abuse@ of a domain go (None: the domain's first admin).
    pub async fn set_postmaster_target(&self, domain: &str, target: Option<&Address>) -> Result<()> {
        let domain = parse_domain(domain)?;
        let done = sqlx::query("UPDATE domains SET postmaster_target = ? WHERE name = ?")
            .bind(target.map(|t| t.to_string()))
            .bind(&domain)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("domain {domain}")));
        }
        Ok(())
    }

    // ----- Accounts (A2) -----

    /// Creates a mailbox: an account, its address and its system folders (D1). The first
    /// account on the server is an administrator. `password_hash` is a PHC string from `auth`.
    pub async fn add_user(&self, address: &Address, password_hash: &str, quota_mb: Option<u64>) -> Result<Account> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        ensure_address_free(&mut tx, domain_id, address).await?;
        let account_id = insert_account(&mut tx, domain_id, address, password_hash, quota_mb).await?;
        tx.commit().await?;
        self.account_by_id(account_id).await?.ok_or_else(|| Error::NotFound(address.to_string()))
    }

    /// Replaces an account's password hash (a PHC string from `auth`).
    pub async fn set_password_hash(&self, address: &Address, password_hash: &str) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET password_hash = ? WHERE login = ?")
            .bind(password_hash)
            .bind(address.to_string())
            .execute(&self.writer)
            .await?;
        found_account(&done, address)
    }

    pub async fn list_users(&self) -> Result<Vec<UserInfo>> {
        let rows = sqlx::query(&format!("SELECT {USER_INFO_COLUMNS} FROM accounts ORDER BY login"))
            .fetch_all(&self.reader)
            .await?;
        Ok(rows.iter().map(user_info_from_row).collect())
    }

    pub async fn account_by_id(&self, id: AccountId) -> Result<Option<Account>> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?"))
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(account_from_row))
    }

    pub async fn account_by_login(&self, address: &Address) -> Result<Option<Account>> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?"))
            .bind(address.to_string())
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(account_from_row))
    }

    /// The account with this login (already lowercased) and its password hash, unless the
    /// mailbox is disabled: then nobody signs in to it, by any protocol or session.
    pub async fn account_with_password_hash(&self, login: &str) -> Result<Option<(Account, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE login = ? AND disabled = 0"
        ))
        .bind(login)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|row| (account_from_row(&row), row.get("password_hash"))))
    }

    /// Whether what the account sends is copied to its Sent folder (on by default).
    pub async fn keeps_sent_copies(&self, account: AccountId) -> Result<bool> {
        let keeps: Option<i64> = sqlx::query_scalar("SELECT keeps_sent_copies FROM accounts WHERE id = ?")
            .bind(account.0)
            .fetch_optional(&self.reader)
            .await?;
        keeps.map(|keeps| keeps != 0).ok_or_else(|| Error::NotFound(format!("account {}", account.0)))
    }

    /// Turns the Sent copies of [`Store::keeps_sent_copies`] on or off.
    pub async fn set_keeps_sent_copies(&self, account: AccountId, keeps: bool) -> Result<()> {
        let done = sqlx::query("UPDATE accounts SET keeps_sent_copies = ? WHERE id = ?")
            .bind(i64::from(keeps))
            .bind(account.0)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("account {}", account.0)));
        }
        Ok(())
    }

    // ----- Aliases (A3) -----

    /// Creates an alias with one or more targets (local or external addresses: mail for an
    /// external one is forwarded through the outbound queue, A3).
    pub async fn add_alias(&self, address: &Address, targets: &[Address]) -> Result<()> {
        self.check_alias_targets(address, targets).await?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        ensure_address_free(&mut tx, domain_id, address).await?;
        insert_alias(&mut tx, domain_id, &address.local, targets).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_aliases(&self) -> Result<Vec<AliasInfo>> {
        let rows = sqlx::query(
            "SELECT ad.local_part || '@' || d.name AS address, t.target
             FROM addresses ad JOIN domains d ON d.id = ad.domain_id
             JOIN alias_targets t ON t.address_id = ad.id
             WHERE ad.kind = 'alias' ORDER BY address, t.target",
        )
        .fetch_all(&self.reader)
        .await?;
        let mut aliases: Vec<AliasInfo> = Vec::new();
        for row in rows {
            let address: String = row.get("address");
            let target: String = row.get("target");
            match aliases.last_mut() {
                Some(last) if last.address == address => last.targets.push(target),
                _ => aliases.push(AliasInfo { address, targets: vec![target] }),
            }
        }
        Ok(aliases)
    }

    /// The aliases that have `target` among their targets (a mailbox's addresses to send
    /// from are among them: B6), by address.
    pub async fn aliases_targeting(&self, target: &Address) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT ad.local_part || '@' || d.name AS address
             FROM addresses ad JOIN domains d ON d.id = ad.domain_id
             JOIN alias_targets t ON t.address_id = ad.id
             WHERE ad.kind = 'alias' AND t.target = ? ORDER BY address",
        )
        .bind(target.to_string())
        .fetch_all(&self.reader)
        .await?)
    }

    pub async fn remove_alias(&self, address: &Address) -> Result<()> {
        let done = sqlx::query(
            "DELETE FROM addresses WHERE kind = 'alias' AND local_part = ?
               AND domain_id = (SELECT id FROM domains WHERE name = ?)",
        )
        .bind(&address.local)
        .bind(&address.domain)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("alias {address}")));
        }
        Ok(())
    }

    // ----- Web sessions (F8) -----

    /// Records a web session by the hash of its token, alive for `lifetime_seconds`; expired
    /// ones are removed on the way.
    pub async fn insert_web_session(&self, token_hash: &str, account: AccountId, lifetime_seconds: i64) -> Result<()> {
        let now = now_unix();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < ?").bind(now).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO web_sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(token_hash)
            .bind(account.0)
            .bind(now)
            .bind(now + lifetime_seconds)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account behind a live session, by the hash of its token.
    pub async fn web_session_account(&self, token_hash: &str) -> Result<Option<Account>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM web_sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = ? AND s.expires_at >= ? AND a.disabled = 0",
            account_columns_of("a")
        ))
        .bind(token_hash)
        .bind(now_unix())
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(account_from_row))
    }

    pub async fn delete_web_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = ?").bind(token_hash).execute(&self.writer).await?;
        Ok(())
    }
}

impl Store {
    // ----- App passwords (F8) -----

    /// Records an app password by the hash of its token, under a name its owner chose.
    pub async fn add_app_password(&self, account: AccountId, name: &str, token_hash: &str) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(Error::invalid("app password name", "1 to 100 characters, no control characters"));
        }
        let result =
            sqlx::query("INSERT INTO app_passwords (account_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)")
                .bind(account.0)
                .bind(name)
                .bind(token_hash)
                .bind(now_unix())
                .execute(&self.writer)
                .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => Err(Error::Exists(format!("app password {name}"))),
            Err(e) => Err(e.into()),
        }
    }

    /// The account with this login (already lowercased) that has an app password with this
    /// hash; notes when it was used, to the hour: a client logging in every minute does not
    /// take the writer every minute, and the note may be lost in a power cut (relaxed writer).
    pub async fn account_by_app_password(&self, login: &str, token_hash: &str) -> Result<Option<Account>> {
        const LAST_USED_PRECISION: i64 = 3600;
        let row = sqlx::query(&format!(
            "SELECT p.id AS app_password_id, p.last_used_at, {} FROM app_passwords p JOIN accounts a ON a.id = p.account_id
             WHERE a.login = ? AND p.token_hash = ? AND a.disabled = 0",
            account_columns_of("a")
        ))
        .bind(login)
        .bind(token_hash)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = now_unix();
        if row.get::<Option<i64>, _>("last_used_at").is_none_or(|used| now - used >= LAST_USED_PRECISION) {
            sqlx::query("UPDATE app_passwords SET last_used_at = ? WHERE id = ?")
                .bind(now)
                .bind(row.get::<i64, _>("app_password_id"))
                .execute(&mut *self.relaxed_writer().await?)
                .await?;
        }
        Ok(Some(account_from_row(&row)))
    }

    /// An account's app passwords: name, created and last used (Unix seconds), by name.
    pub async fn app_passwords(&self, account: AccountId) -> Result<Vec<(String, i64, Option<i64>)>> {
        Ok(sqlx::query_as(
            "SELECT name, created_at, last_used_at FROM app_passwords WHERE account_id = ? ORDER BY name",
        )
        .bind(account.0)
        .fetch_all(&self.reader)
        .await?)
    }

    pub async fn remove_app_password(&self, account: AccountId, name: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM app_passwords WHERE account_id = ? AND name = ?")
            .bind(account.0)
            .bind(name.trim())
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("app password {}", name.trim())));
        }
        Ok(())
    }
}

pub(crate) async fn domain_id(conn: &mut sqlx::SqliteConnection, name: &str) -> Result<i64> {
    sqlx::query_scalar("SELECT id FROM domains WHERE name = ?")
        .bind(name)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| Error::NotFound(format!("domain {name}")))
}

/// A mailbox's rows: its account, its address, its system folders (D1) and its sending
/// identity, on the free `address` of the domain `domain_id`.
pub(crate) async fn insert_account(
    tx: &mut sqlx::SqliteConnection,
    domain_id: i64,
    address: &Address,
    password_hash: &str,
    quota_mb: Option<u64>,
) -> Result<AccountId> {
    let login = address.to_string();
    let n_accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&mut *tx).await?;
    let quota_bytes = quota_mb.map(|mb| i64::try_from(mb).unwrap_or(i64::MAX).saturating_mul(1024 * 1024));
    let account_id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (domain_id, login, password_hash, quota_bytes, is_admin, created_at)
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(domain_id)
    .bind(&login)
    .bind(password_hash)
    .bind(quota_bytes)
    .bind(n_accounts == 0)
    .bind(now_unix())
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO addresses (domain_id, local_part, kind, account_id) VALUES (?, ?, 'mailbox', ?)")
        .bind(domain_id)
        .bind(&address.local)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
    for special in SpecialUse::ALL {
        insert_folder(&mut *tx, AccountId(account_id), special.default_name(), None, Some(special), true).await?;
    }
    sqlx::query("INSERT INTO identities (account_id, address, is_default) VALUES (?, ?, 1)")
        .bind(account_id)
        .bind(&login)
        .execute(&mut *tx)
        .await?;
    Ok(AccountId(account_id))
}

pub(crate) async fn ensure_address_free(
    conn: &mut sqlx::SqliteConnection,
    domain_id: i64,
    address: &Address,
) -> Result<()> {
    if matches!(address.local.as_str(), "postmaster" | "abuse") {
        return Err(Error::Refused(format!("{address} is reserved; route it with `facteur admin domain postmaster`")));
    }
    let taken: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM addresses WHERE domain_id = ?1 AND local_part = ?2
         UNION ALL SELECT id FROM lists WHERE domain_id = ?1 AND local_part = ?2",
    )
    .bind(domain_id)
    .bind(&address.local)
    .fetch_optional(conn)
    .await?;
    match taken {
        Some(_) => Err(Error::Exists(format!("address {address}"))),
        None => Ok(()),
    }
}

/// The columns [`user_info_from_row`] reads.
pub(crate) const USER_INFO_COLUMNS: &str = "login, display_name, is_admin, quota_bytes, used_bytes, disabled";

/// A [`UserInfo`] from a row with the [`USER_INFO_COLUMNS`].
pub(crate) fn user_info_from_row(row: &sqlx::sqlite::SqliteRow) -> UserInfo {
    UserInfo {
        login: row.get("login"),
        display_name: row.get("display_name"),
        is_admin: row.get::<i64, _>("is_admin") != 0,
        quota_bytes: row.get("quota_bytes"),
        used_bytes: row.get("used_bytes"),
        disabled: row.get::<i64, _>("disabled") != 0,
    }
}

/// `NotFound` when an UPDATE of the account with this login changed no row.
pub(crate) fn found_account(done: &sqlx::sqlite::SqliteQueryResult, address: &Address) -> Result<()> {
    match done.rows_affected() {
        0 => Err(Error::NotFound(format!("user {address}"))),
        _ => Ok(()),
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
