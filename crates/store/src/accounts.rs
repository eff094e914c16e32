//! Domains, accounts, addresses, aliases, passwords and web sessions (A1-A3, A5, F8).

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::address::{Address, parse_domain};
use crate::{Account, AccountId, AliasInfo, Domain, Error, Result, SpecialUse, Store, UserInfo, now_unix};

/// How long a web session lives without being used again.
const WEB_SESSION_SECONDS: i64 = 14 * 24 * 3600;

/// The answer to a login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Ok(Account),
    /// Wrong login or password (the two are not told apart).
    BadCredentials,
    /// Too many recent failures for this login or client; try later.
    Throttled,
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::invalid("password", e))
}

fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 {
        return Err(Error::invalid("password", "it must have at least 8 characters"));
    }
    if password.len() > 1024 {
        return Err(Error::invalid("password", "it is longer than 1024 bytes"));
    }
    Ok(())
}

/// A random token for cookies, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A random password for a new account, 20 characters from an unambiguous alphabet.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of the alphabet's size; the bias this leaves is negligible here.
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

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
    /// account on the server is an administrator.
    pub async fn add_user(&self, address: &Address, password: &str, quota_mb: Option<u64>) -> Result<Account> {
        validate_password(password)?;
        let password_hash = hash_password(password)?;
        let login = address.to_string();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        ensure_address_free(&mut tx, domain_id, address).await?;
        let n_accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&mut *tx).await?;
        let now = now_unix();
        let quota_bytes = quota_mb.map(|mb| (mb as i64).saturating_mul(1024 * 1024));
        let account_id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (domain_id, login, password_hash, quota_bytes, is_admin, created_at)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(domain_id)
        .bind(&login)
        .bind(&password_hash)
        .bind(quota_bytes)
        .bind(n_accounts == 0)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO addresses (domain_id, local_part, kind, account_id) VALUES (?, ?, 'mailbox', ?)")
            .bind(domain_id)
            .bind(&address.local)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        // UIDVALIDITY only has to change when a name is reused for a new folder; the creation
        // time does that.
        let uidvalidity = (now as u64 & 0xffff_ffff).max(1) as i64;
        for special in SpecialUse::ALL {
            sqlx::query(
                "INSERT INTO folders (account_id, name, special_use, uidvalidity, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(account_id)
            .bind(special.default_name())
            .bind(special.as_db())
            .bind(uidvalidity)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO identities (account_id, address, is_default) VALUES (?, ?, 1)")
            .bind(account_id)
            .bind(&login)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.account_by_id(AccountId(account_id)).await?.ok_or_else(|| Error::NotFound(login))
    }

    pub async fn set_password(&self, address: &Address, password: &str) -> Result<()> {
        validate_password(password)?;
        let password_hash = hash_password(password)?;
        let done = sqlx::query("UPDATE accounts SET password_hash = ? WHERE login = ?")
            .bind(password_hash)
            .bind(address.to_string())
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound(format!("user {address}")));
        }
        Ok(())
    }

    pub async fn list_users(&self) -> Result<Vec<UserInfo>> {
        let rows = sqlx::query(
            "SELECT login, display_name, is_admin, quota_bytes, used_bytes AS used FROM accounts ORDER BY login",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|r| UserInfo {
                login: r.get("login"),
                display_name: r.get("display_name"),
                is_admin: r.get::<i64, _>("is_admin") != 0,
                quota_bytes: r.get("quota_bytes"),
                used_bytes: r.get("used"),
            })
            .collect())
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

    /// Checks a login and password, with throttling (F8). `ip` is the client's address when
    /// known. The error is only ever an internal one; a wrong password is an `Ok` outcome.
    pub async fn authenticate(&self, login: &str, password: &str, ip: Option<IpAddr>) -> Result<AuthOutcome> {
        let login = login.trim().to_lowercase();
        if !self.throttle.try_begin(&login, ip) {
            return Ok(AuthOutcome::Throttled);
        }
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE login = ?"))
            .bind(&login)
            .fetch_optional(&self.reader)
            .await?;
        // A hash is verified even for an unknown login, so timing does not tell which logins exist.
        const DUMMY_HASH: &str =
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Tnm1Iy2ZyMVGZyOBL5FVbrI7JpyJ7rY2vJUlhk1nyfE";
        let stored_hash: String = row.as_ref().map(|r| r.get("password_hash")).unwrap_or_else(|| DUMMY_HASH.into());
        let password = password.to_string();
        // Argon2 costs ~20 MB and tens of milliseconds each: bound how many run at once so a
        // flood of logins cannot take every core and all the memory.
        let _permit = self.argon2_permits.acquire().await.expect("the semaphore is never closed");
        let verified = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored_hash)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        match row {
            Some(row) if verified => {
                self.throttle.succeeded(&login, ip);
                Ok(AuthOutcome::Ok(account_from_row(&row)))
            }
            // try_begin already counted the failure.
            _ => Ok(AuthOutcome::BadCredentials),
        }
    }

    // ----- Aliases (A3) -----

    /// Creates an alias with one or more targets (local or external addresses).
    pub async fn add_alias(&self, address: &Address, targets: &[Address]) -> Result<()> {
        if targets.is_empty() {
            return Err(Error::invalid("alias", "it needs at least one target"));
        }
        if targets.contains(address) {
            return Err(Error::invalid("alias", "it cannot point to itself"));
        }
        // There is no outbound queue yet: a target outside our domains could not be reached,
        // so refuse it now rather than accept mail that cannot be forwarded.
        for target in targets {
            if !self.is_local_domain(&target.domain).await? {
                return Err(Error::Refused(format!(
                    "{target} is not in a local domain; forwarding to external addresses is not available yet"
                )));
            }
        }
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        ensure_address_free(&mut tx, domain_id, address).await?;
        let address_id: i64 = sqlx::query_scalar(
            "INSERT INTO addresses (domain_id, local_part, kind) VALUES (?, ?, 'alias') RETURNING id",
        )
        .bind(domain_id)
        .bind(&address.local)
        .fetch_one(&mut *tx)
        .await?;
        for target in targets {
            sqlx::query("INSERT OR IGNORE INTO alias_targets (address_id, target) VALUES (?, ?)")
                .bind(address_id)
                .bind(target.to_string())
                .execute(&mut *tx)
                .await?;
        }
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

    /// Opens a web session and returns the token to put in the cookie.
    pub async fn create_web_session(&self, account: AccountId) -> Result<String> {
        let token = random_token();
        let now = now_unix();
        sqlx::query("DELETE FROM web_sessions WHERE expires_at < ?").bind(now).execute(&self.writer).await?;
        sqlx::query("INSERT INTO web_sessions (token_hash, account_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
            .bind(sha256_hex(&token))
            .bind(account.0)
            .bind(now)
            .bind(now + WEB_SESSION_SECONDS)
            .execute(&self.writer)
            .await?;
        Ok(token)
    }

    /// The account behind a session cookie, if the session is alive.
    pub async fn web_session_account(&self, token: &str) -> Result<Option<Account>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM web_sessions s JOIN accounts a ON a.id = s.account_id
             WHERE s.token_hash = ? AND s.expires_at >= ?",
            ACCOUNT_COLUMNS.split(", ").map(|c| format!("a.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(sha256_hex(token))
        .bind(now_unix())
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(account_from_row))
    }

    pub async fn delete_web_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM web_sessions WHERE token_hash = ?")
            .bind(sha256_hex(token))
            .execute(&self.writer)
            .await?;
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

async fn ensure_address_free(conn: &mut sqlx::SqliteConnection, domain_id: i64, address: &Address) -> Result<()> {
    if matches!(address.local.as_str(), "postmaster" | "abuse") {
        return Err(Error::Refused(format!("{address} is reserved; route it with `facteur admin domain postmaster`")));
    }
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM addresses WHERE domain_id = ? AND local_part = ?")
        .bind(domain_id)
        .bind(&address.local)
        .fetch_optional(conn)
        .await?;
    match taken {
        Some(_) => Err(Error::Exists(format!("address {address}"))),
        None => Ok(()),
    }
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
