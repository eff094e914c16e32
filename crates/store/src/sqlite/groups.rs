//! Groups of a domain (issue 18, A11): mailboxes of the domain gathered under a name, some of
//! them the group's administrators (who change who is in it). Groups will own shared boxes,
//! contacts, documents and calendars; today they are their members.

use sqlx::Row;

use super::accounts::domain_id;
use crate::{AccountId, Address, Error, GroupId, GroupInfo, GroupMember, Result, Store, now_unix, parse_domain};

/// A group's name: one line, 1 to 100 characters.
fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid("group name", "one line of 1 to 100 characters"));
    }
    Ok(name.to_string())
}

const GROUP_COLUMNS: &str = "g.id, g.name, g.description, d.name AS domain,
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS members";

fn group_of(row: &sqlx::sqlite::SqliteRow) -> GroupInfo {
    GroupInfo {
        id: GroupId(row.get("id")),
        name: row.get("name"),
        description: row.get("description"),
        domain: row.get("domain"),
        members: row.get::<i64, _>("members") as u32,
    }
}

impl Store {
    /// Makes a group in one of our domains; its name is unique there (any case).
    pub async fn create_group(&self, domain: &str, name: &str, description: &str) -> Result<GroupInfo> {
        let domain = parse_domain(domain)?;
        let name = clean_name(name)?;
        let description: String = description.trim().chars().filter(|c| !c.is_control()).take(500).collect();
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &domain).await?;
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO groups (domain_id, name, description, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        )
        .bind(domain_id)
        .bind(&name)
        .bind(&description)
        .bind(now_unix())
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                return Err(Error::Exists(format!("group {name}")));
            }
            Err(other) => return Err(other.into()),
        };
        tx.commit().await?;
        self.group(GroupId(id)).await?.ok_or_else(|| Error::NotFound(format!("group {name}")))
    }

    pub async fn group(&self, id: GroupId) -> Result<Option<GroupInfo>> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g JOIN domains d ON d.id = g.domain_id WHERE g.id = ?"
        ))
        .bind(id.0)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(group_of))
    }

    /// A domain's group called `name` (any case).
    pub async fn group_named(&self, domain: &str, name: &str) -> Result<Option<GroupInfo>> {
        let row = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g JOIN domains d ON d.id = g.domain_id
             WHERE d.name = ? AND g.name = ? COLLATE NOCASE"
        ))
        .bind(parse_domain(domain)?)
        .bind(name.trim())
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(group_of))
    }

    /// A domain's groups by name.
    pub async fn domain_groups(&self, domain: &str) -> Result<Vec<GroupInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g JOIN domains d ON d.id = g.domain_id
             WHERE d.name = ? ORDER BY g.name COLLATE NOCASE"
        ))
        .bind(parse_domain(domain)?)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(group_of).collect())
    }

    /// The groups an account is in, by name.
    pub async fn account_groups(&self, account: AccountId) -> Result<Vec<GroupInfo>> {
        let rows = sqlx::query(&format!(
            "SELECT {GROUP_COLUMNS} FROM groups g JOIN domains d ON d.id = g.domain_id
             JOIN group_members me ON me.group_id = g.id WHERE me.account_id = ? ORDER BY g.name COLLATE NOCASE"
        ))
        .bind(account.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(group_of).collect())
    }

    /// A group's members by login.
    pub async fn group_members(&self, id: GroupId) -> Result<Vec<GroupMember>> {
        let rows = sqlx::query(
            "SELECT a.login, a.display_name, m.is_admin FROM group_members m JOIN accounts a ON a.id = m.account_id
             WHERE m.group_id = ? ORDER BY a.login",
        )
        .bind(id.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|row| GroupMember {
                login: row.get("login"),
                name: row.get("display_name"),
                admin: row.get("is_admin"),
            })
            .collect())
    }

    /// Whether the account administers the group.
    pub async fn is_group_admin(&self, id: GroupId, account: AccountId) -> Result<bool> {
        let admin: Option<bool> =
            sqlx::query_scalar("SELECT is_admin FROM group_members WHERE group_id = ? AND account_id = ?")
                .bind(id.0)
                .bind(account.0)
                .fetch_optional(&self.reader)
                .await?;
        Ok(admin.unwrap_or(false))
    }

    /// Puts a mailbox of the group's domain in the group, as an administrator of it or not.
    pub async fn set_group_member(&self, id: GroupId, login: &Address, admin: bool) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO group_members (group_id, account_id, is_admin)
             SELECT g.id, a.id, ?3 FROM groups g JOIN accounts a ON a.domain_id = g.domain_id
             WHERE g.id = ?1 AND a.login = ?2
             ON CONFLICT (group_id, account_id) DO UPDATE SET is_admin = excluded.is_admin",
        )
        .bind(id.0)
        .bind(login.to_string())
        .bind(admin)
        .execute(&self.writer)
        .await?;
        if done.rows_affected() == 0 {
            // Not a mailbox of the group's domain (or no such group).
            return Err(Error::UnknownTarget(login.to_string()));
        }
        Ok(())
    }

    /// Takes a mailbox out of the group. Says whether it was in it.
    pub async fn remove_group_member(&self, id: GroupId, login: &Address) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM group_members WHERE group_id = ?
             AND account_id = (SELECT id FROM accounts WHERE login = ?)",
        )
        .bind(id.0)
        .bind(login.to_string())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Renames a group and changes its description.
    pub async fn update_group(&self, id: GroupId, name: &str, description: &str) -> Result<()> {
        let name = clean_name(name)?;
        let description: String = description.trim().chars().filter(|c| !c.is_control()).take(500).collect();
        let done = sqlx::query("UPDATE groups SET name = ?, description = ? WHERE id = ?")
            .bind(&name)
            .bind(&description)
            .bind(id.0)
            .execute(&self.writer)
            .await;
        match done {
            Ok(done) if done.rows_affected() == 0 => Err(Error::NotFound("group".into())),
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(Error::Exists(format!("group {name}"))),
            Err(other) => Err(other.into()),
        }
    }

    /// Deletes a group (its members stay mailboxes).
    pub async fn delete_group(&self, id: GroupId) -> Result<bool> {
        let done = sqlx::query("DELETE FROM groups WHERE id = ?").bind(id.0).execute(&self.writer).await?;
        Ok(done.rows_affected() > 0)
    }
}

#[cfg(test)]
mod tests {
    use crate::{GroupId, Store, parse_address};

    #[tokio::test]
    async fn groups_hold_mailboxes_of_their_domain_with_their_administrators() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        for domain in ["example.org", "example.net"] {
            store.add_domain(domain).await.unwrap();
        }
        let ana = parse_address("ana@example.org").unwrap();
        let bob = parse_address("bob@example.org").unwrap();
        let zoe = parse_address("zoe@example.net").unwrap();
        for user in [&ana, &bob, &zoe] {
            store.add_user(user, "hash", None).await.unwrap();
        }
        let board = store.create_group("example.org", " Bureau ", "Le bureau").await.unwrap();
        assert_eq!((board.name.as_str(), board.domain.as_str(), board.members), ("Bureau", "example.org", 0));
        assert!(store.create_group("example.org", "bureau", "").await.is_err(), "names are unique, any case");
        assert!(store.create_group("example.org", "  ", "").await.is_err());
        store.create_group("example.net", "Bureau", "").await.unwrap();

        store.set_group_member(board.id, &ana, true).await.unwrap();
        store.set_group_member(board.id, &bob, false).await.unwrap();
        assert!(store.set_group_member(board.id, &zoe, false).await.is_err(), "another domain's mailbox");
        assert!(store.set_group_member(GroupId(999), &ana, false).await.is_err());
        let members = store.group_members(board.id).await.unwrap();
        assert_eq!(
            members.iter().map(|m| (m.login.as_str(), m.admin)).collect::<Vec<_>>(),
            [("ana@example.org", true), ("bob@example.org", false)]
        );
        let bob_account = store.account_by_login(&bob).await.unwrap().unwrap().id;
        assert!(!store.is_group_admin(board.id, bob_account).await.unwrap());
        store.set_group_member(board.id, &bob, true).await.unwrap();
        assert!(store.is_group_admin(board.id, bob_account).await.unwrap());
        assert_eq!(store.account_groups(bob_account).await.unwrap()[0].name, "Bureau");
        assert_eq!(store.group_named("example.org", "BUREAU").await.unwrap().unwrap().members, 2);

        assert!(store.remove_group_member(board.id, &bob).await.unwrap());
        assert!(!store.remove_group_member(board.id, &bob).await.unwrap());
        store.update_group(board.id, "Conseil", "").await.unwrap();
        assert!(store.update_group(board.id, "  ", "").await.is_err());
        assert_eq!(store.domain_groups("example.org").await.unwrap()[0].name, "Conseil");
        assert!(store.delete_group(board.id).await.unwrap());
        assert!(store.domain_groups("example.org").await.unwrap().is_empty());
        assert!(store.account_by_login(&ana).await.unwrap().is_some(), "its members stay");
    }
}
