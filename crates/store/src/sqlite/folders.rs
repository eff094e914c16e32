//! Folders (D1, D2): reading them, and creating, renaming, deleting and subscribing them
//! (IMAP CREATE, RENAME, DELETE, SUBSCRIBE; the web client's folder tree).
//!
//! Rules every caller gets: a name is a '/'-separated path checked by [`folder_path`]; the
//! system folders cannot be renamed or deleted, and Sent and Spam take no subfolders (D1, D2);
//! a deleted folder's messages go to Trash with those of its subfolders, unless it is in Trash
//! already; ids and UIDVALIDITY values are never handed out twice (migration 0008).

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::{AccountId, Error, Folder, FolderId, Result, SpecialUse, Store, now_unix};

/// Folders one account may have: the folder tree, LIST and every session's view stay small.
pub const MAX_FOLDERS_PER_ACCOUNT: i64 = 1000;
/// The longest folder path, in bytes.
pub const MAX_FOLDER_NAME_BYTES: usize = 255;
/// How deep folders may nest.
pub const MAX_FOLDER_DEPTH: usize = 16;

const FOLDER_COLUMNS: &str = "f.id, f.account_id, f.name, f.parent_id, f.special_use, f.uidvalidity, f.uidnext,
    f.highest_modseq, f.subscribed, f.n_messages, f.n_unseen, f.size_bytes";

fn folder_from_row(row: &SqliteRow) -> Folder {
    Folder {
        id: FolderId(row.get("id")),
        account_id: AccountId(row.get("account_id")),
        name: row.get("name"),
        parent_id: row.get::<Option<i64>, _>("parent_id").map(FolderId),
        special_use: row.get::<Option<String>, _>("special_use").as_deref().and_then(SpecialUse::from_db),
        uidvalidity: row.get::<i64, _>("uidvalidity") as u32,
        uidnext: row.get::<i64, _>("uidnext") as u32,
        highest_modseq: row.get::<i64, _>("highest_modseq") as u64,
        subscribed: row.get::<i64, _>("subscribed") != 0,
        n_messages: row.get::<i64, _>("n_messages") as u32,
        n_unseen: row.get::<i64, _>("n_unseen") as u32,
        size_bytes: row.get("size_bytes"),
    }
}

impl Store {
    /// The account's folders: system folders first in their fixed order, then the others by name.
    pub async fn folders(&self, account: AccountId) -> Result<Vec<Folder>> {
        let rows = sqlx::query(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders f WHERE f.account_id = ?
             ORDER BY CASE f.special_use WHEN 'inbox' THEN 0 WHEN 'drafts' THEN 1 WHEN 'sent' THEN 2
                 WHEN 'templates' THEN 3 WHEN 'junk' THEN 4 WHEN 'trash' THEN 5 ELSE 6 END, f.name"
        ))
        .bind(account.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(folder_from_row).collect())
    }

    /// A folder by IMAP name; "INBOX" is matched case-insensitively (RFC 9051 §5.1).
    pub async fn folder_by_name(&self, account: AccountId, name: &str) -> Result<Option<Folder>> {
        let name = if name.eq_ignore_ascii_case("INBOX") { "INBOX" } else { name };
        let row = sqlx::query(&format!("SELECT {FOLDER_COLUMNS} FROM folders f WHERE f.account_id = ? AND f.name = ?"))
            .bind(account.0)
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(folder_from_row))
    }

    pub async fn folder(&self, account: AccountId, id: FolderId) -> Result<Option<Folder>> {
        let row = sqlx::query(&format!("SELECT {FOLDER_COLUMNS} FROM folders f WHERE f.account_id = ? AND f.id = ?"))
            .bind(account.0)
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(folder_from_row))
    }

    /// C1: the order the web client's list of this folder is kept in, as it wrote it.
    pub async fn folder_list_sort(&self, account: AccountId, folder: FolderId) -> Result<Option<String>> {
        let sort: Option<Option<String>> =
            sqlx::query_scalar("SELECT list_sort FROM folders WHERE account_id = ? AND id = ?")
                .bind(account.0)
                .bind(folder.0)
                .fetch_optional(&self.reader)
                .await?;
        Ok(sort.flatten())
    }

    /// Keeps the order of the web client's list of this folder (at most 32 bytes).
    pub async fn set_folder_list_sort(&self, account: AccountId, folder: FolderId, sort: &str) -> Result<()> {
        if sort.len() > 32 {
            return Err(Error::invalid("list order", "it is too long"));
        }
        sqlx::query("UPDATE folders SET list_sort = ? WHERE account_id = ? AND id = ?")
            .bind(sort)
            .bind(account.0)
            .bind(folder.0)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    pub async fn special_folder(&self, account: AccountId, special_use: SpecialUse) -> Result<Folder> {
        let row = sqlx::query(&format!(
            "SELECT {FOLDER_COLUMNS} FROM folders f WHERE f.account_id = ? AND f.special_use = ?"
        ))
        .bind(account.0)
        .bind(special_use.as_db())
        .fetch_optional(&self.reader)
        .await?;
        row.as_ref().map(folder_from_row).ok_or_else(|| Error::NotFound(format!("{} folder", special_use.as_db())))
    }

    /// Creates a folder and the parents it needs (RFC 9051 §6.3.4), subscribed or not: an IMAP
    /// CREATE does not subscribe (clients send SUBSCRIBE themselves, RFC 9051 §6.3.7), the web
    /// client does, so the folder shows in desktop clients that list subscribed folders only.
    /// Returns the new folder.
    pub async fn create_folder(&self, account: AccountId, name: &str, subscribed: bool) -> Result<Folder> {
        let path = folder_path(name)?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        if folder_id_by_path(&mut tx, account, &path).await?.is_some() {
            return Err(Error::Exists(format!("folder {path}")));
        }
        let parent = ensure_parents(&mut tx, account, &path, true, subscribed).await?;
        let id = insert_folder(&mut tx, account, &path, parent, None, subscribed).await?;
        adopt_orphan_subscriptions(&mut tx, account).await?;
        let folder = read_folder(&mut tx, account, id).await?;
        tx.commit().await?;
        Ok(folder)
    }

    /// Renames a folder and its subfolders (RFC 9051 §6.3.6), creating the new parents it
    /// needs. The folders keep their ids, messages, UIDs and UIDVALIDITY.
    pub async fn rename_folder(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        let to = folder_path(to)?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let from = existing_path(from);
        let (id, special_use) =
            folder_by_path(&mut tx, account, &from).await?.ok_or_else(|| Error::NotFound(format!("folder {from}")))?;
        if special_use.is_some() {
            return Err(Error::Refused(format!("{from} is a system folder: it cannot be renamed")));
        }
        if to == from || to.starts_with(&format!("{from}/")) {
            return Err(Error::Refused("a folder cannot be moved into itself".into()));
        }
        if folder_id_by_path(&mut tx, account, &to).await?.is_some() {
            return Err(Error::Exists(format!("folder {to}")));
        }
        move_tree(&mut tx, account, id, &from, &to).await?;
        adopt_orphan_subscriptions(&mut tx, account).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a folder has subfolders (IMAP DELETE refuses those: RFC 9051 §6.3.5).
    pub async fn has_subfolders(&self, account: AccountId, name: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(&format!("SELECT 1 FROM folders WHERE {SUBFOLDERS} LIMIT 1"))
            .bind(account.0)
            .bind(existing_path(name))
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
    }

    /// Deletes a folder with its subfolders (D2): outside Trash it moves into Trash, whole
    /// (as `Trash/name`, or `Trash/name (2)`... when that is taken); in Trash it is removed
    /// for good with its messages.
    pub async fn delete_folder(&self, account: AccountId, name: &str) -> Result<FolderDeletion> {
        let path = existing_path(name);
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let (id, special_use) =
            folder_by_path(&mut tx, account, &path).await?.ok_or_else(|| Error::NotFound(format!("folder {path}")))?;
        if special_use.is_some() {
            return Err(Error::Refused(format!("{path} is a system folder: it cannot be deleted")));
        }
        // The subscribed names of the tree outlive it (RFC 9051 §6.3.7).
        let orphan = format!(
            "INSERT OR IGNORE INTO orphan_subscriptions (account_id, name)
             SELECT account_id, name FROM folders WHERE subscribed = 1 AND {IN_TREE}"
        );
        sqlx::query(&orphan).bind(account.0).bind(&path).execute(&mut *tx).await?;
        let trash: String =
            sqlx::query_scalar("SELECT name FROM folders WHERE account_id = ? AND special_use = 'trash'")
                .bind(account.0)
                .fetch_one(&mut *tx)
                .await?;
        if !path.starts_with(&format!("{trash}/")) {
            let leaf = path.rsplit('/').next().unwrap_or(&path);
            let mut target = format!("{trash}/{leaf}");
            let mut n = 2;
            while folder_id_by_path(&mut tx, account, &target).await?.is_some() {
                target = format!("{trash}/{leaf} ({n})");
                n += 1;
            }
            let target = folder_path(&target)?;
            move_tree(&mut tx, account, id, &path, &target).await?;
            // The subscription stays with the old name; the folder in Trash has none.
            let unsubscribe = format!("UPDATE folders SET subscribed = 0 WHERE {IN_TREE}");
            sqlx::query(&unsubscribe).bind(account.0).bind(&target).execute(&mut *tx).await?;
            // D5: its messages' days in Trash count from now, as a message's moved there would.
            let filed = format!(
                "UPDATE messages SET filed_at = ?3 WHERE account_id = ?1
                 AND folder_id IN (SELECT id FROM folders WHERE {IN_TREE})"
            );
            sqlx::query(&filed).bind(account.0).bind(&target).bind(crate::now_unix()).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(FolderDeletion::MovedTo(target));
        }
        // Deepest first: a folder's parent_id cascades, and its messages are deleted here,
        // through the triggers that keep the counts and the change log.
        let doomed = format!("SELECT id FROM folders WHERE {IN_TREE} ORDER BY length(name) DESC");
        let doomed: Vec<i64> = sqlx::query_scalar(&doomed).bind(account.0).bind(&path).fetch_all(&mut *tx).await?;
        let mut blobs = Vec::new();
        let mut removed = 0;
        for &id in &doomed {
            super::messages::bump_modseq(&mut tx, account, FolderId(id)).await?;
            let hashes: Vec<String> =
                sqlx::query_scalar("DELETE FROM messages WHERE account_id = ? AND folder_id = ? RETURNING blob_hash")
                    .bind(account.0)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            removed += hashes.len();
            blobs.extend(hashes);
            sqlx::query("DELETE FROM folders WHERE id = ? AND account_id = ?")
                .bind(id)
                .bind(account.0)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.remove_unreferenced_blobs_logged(blobs).await;
        Ok(FolderDeletion::Removed { messages: removed })
    }

    /// \Recent (RFC 3501 §2.3.2): the first UID of `folder` that is recent for a session that
    /// now sees the UIDs below `seen_below`. With `claim` (SELECT, and new mail seen by a
    /// read-write session) the UIDs from there to `seen_below` become this session's alone;
    /// without (EXAMINE) nothing changes. A compare-and-set, so two sessions never claim the
    /// same message, across processes too; on the relaxed writer, since \Recent is a hint.
    pub async fn recent_from(&self, account: AccountId, folder: FolderId, seen_below: u32, claim: bool) -> Result<u32> {
        loop {
            let first: Option<i64> =
                sqlx::query_scalar("SELECT first_recent_uid FROM folders WHERE id = ? AND account_id = ?")
                    .bind(folder.0)
                    .bind(account.0)
                    .fetch_optional(&self.reader)
                    .await?;
            let first = first.ok_or_else(|| Error::NotFound(format!("folder {}", folder.0)))?;
            if !claim || first >= i64::from(seen_below) {
                return Ok(u32::try_from(first).unwrap_or(u32::MAX));
            }
            let mut writer = self.relaxed_writer().await?;
            let claimed = sqlx::query("UPDATE folders SET first_recent_uid = ? WHERE id = ? AND first_recent_uid = ?")
                .bind(i64::from(seen_below))
                .bind(folder.0)
                .bind(first)
                .execute(&mut *writer)
                .await?
                .rows_affected();
            if claimed == 1 {
                return Ok(u32::try_from(first).unwrap_or(u32::MAX));
            }
        }
    }

    /// STATUS RECENT: the messages of a folder no session has claimed as recent yet.
    pub async fn unclaimed_recent(&self, account: AccountId, folder: FolderId) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id
             WHERE f.id = ? AND f.account_id = ? AND m.uid >= f.first_recent_uid",
        )
        .bind(folder.0)
        .bind(account.0)
        .fetch_one(&self.reader)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8): what LSUB lists.
    pub async fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
        let path = existing_path(name);
        let mut writer = self.relaxed_writer().await?;
        let changed = sqlx::query("UPDATE folders SET subscribed = ? WHERE account_id = ? AND name = ?")
            .bind(subscribed)
            .bind(account.0)
            .bind(&path)
            .execute(&mut *writer)
            .await?
            .rows_affected();
        if changed == 0 {
            // No such folder: UNSUBSCRIBE may still remove a name whose folder is gone.
            let forgotten = if subscribed {
                0
            } else {
                sqlx::query("DELETE FROM orphan_subscriptions WHERE account_id = ? AND name = ?")
                    .bind(account.0)
                    .bind(&path)
                    .execute(&mut *writer)
                    .await?
                    .rows_affected()
            };
            if forgotten == 0 {
                return Err(Error::NotFound(format!("folder {path}")));
            }
        }
        Ok(())
    }

    /// The subscribed names whose folder is gone (LIST's `\NonExistent`), sorted.
    pub async fn orphan_subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT name FROM orphan_subscriptions WHERE account_id = ? ORDER BY name")
            .bind(account.0)
            .fetch_all(&self.reader)
            .await?)
    }
}

/// Whether a row is below the folder whose path is `?2`. SQLite's `length` and `substr` count
/// characters, as paths are compared.
macro_rules! below {
    () => {
        "substr(name, 1, length(?2) + 1) = ?2 || '/'"
    };
}

/// A folder and its subfolders, for a statement bound with the account (`?1`) and the folder's
/// path (`?2`).
const IN_TREE: &str = concat!("account_id = ?1 AND (name = ?2 OR ", below!(), ")");

/// A folder's subfolders only, bound as [`IN_TREE`].
const SUBFOLDERS: &str = concat!("account_id = ?1 AND ", below!());

/// What deleting a folder did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderDeletion {
    /// It was moved into Trash, with its subfolders, under this name.
    MovedTo(String),
    /// It was in Trash and is gone, with this many messages.
    Removed { messages: usize },
}

/// A folder path given by a user, checked and in canonical form: '/'-separated names, none
/// empty, no control characters, no LIST wildcards (`*`, `%`), at most
/// [`MAX_FOLDER_NAME_BYTES`] long and [`MAX_FOLDER_DEPTH`] deep; one trailing '/' is dropped
/// (RFC 9051 §6.3.4); a first name spelled like INBOX in any case is INBOX.
pub fn folder_path(name: &str) -> Result<String> {
    let invalid = |why: &str| Error::Invalid { what: "folder name", why: why.to_string() };
    let name = name.strip_suffix('/').unwrap_or(name);
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > MAX_FOLDER_NAME_BYTES {
        return Err(invalid(&format!("it is longer than {MAX_FOLDER_NAME_BYTES} bytes")));
    }
    if name.chars().any(|c| c.is_control() || c == '*' || c == '%') {
        return Err(invalid("it may not contain control characters, '*' or '%'"));
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() > MAX_FOLDER_DEPTH {
        return Err(invalid(&format!("folders nest at most {MAX_FOLDER_DEPTH} deep")));
    }
    if parts.iter().any(|part| part.is_empty() || part.trim() != *part || *part == "." || *part == "..") {
        return Err(invalid("each name between '/' must be non-empty, without spaces around it, and not . or .."));
    }
    Ok(existing_path(name))
}

/// A name as stored: INBOX (any case) as the first name is INBOX (RFC 9051 §5.1).
fn existing_path(name: &str) -> String {
    match name.split_once('/') {
        Some((first, rest)) if first.eq_ignore_ascii_case("INBOX") => format!("INBOX/{rest}"),
        None if name.eq_ignore_ascii_case("INBOX") => "INBOX".to_string(),
        _ => name.to_string(),
    }
}

async fn folder_by_path(
    tx: &mut SqliteConnection,
    account: AccountId,
    path: &str,
) -> Result<Option<(FolderId, Option<SpecialUse>)>> {
    let row: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, special_use FROM folders WHERE account_id = ? AND name = ?")
            .bind(account.0)
            .bind(path)
            .fetch_optional(&mut *tx)
            .await?;
    Ok(row.map(|(id, special_use)| (FolderId(id), special_use.as_deref().and_then(SpecialUse::from_db))))
}

async fn folder_id_by_path(tx: &mut SqliteConnection, account: AccountId, path: &str) -> Result<Option<FolderId>> {
    Ok(folder_by_path(tx, account, path).await?.map(|(id, _)| id))
}

/// Finds or creates the parents of `path` (itself new, or a folder being renamed), and
/// returns the direct parent. Sent and Spam take
/// no subfolders (D2); the account's folder count is capped.
async fn ensure_parents(
    tx: &mut SqliteConnection,
    account: AccountId,
    path: &str,
    path_is_new: bool,
    subscribed: bool,
) -> Result<Option<FolderId>> {
    let parts: Vec<&str> = path.split('/').collect();
    let mut parent = None;
    let mut missing = Vec::new();
    for depth in 1..parts.len() {
        let ancestor = parts[..depth].join("/");
        match folder_by_path(tx, account, &ancestor).await? {
            Some((id, special_use)) if missing.is_empty() => {
                if matches!(special_use, Some(SpecialUse::Sent | SpecialUse::Junk)) {
                    return Err(Error::Refused(format!("{ancestor} takes no subfolders")));
                }
                parent = Some(id);
            }
            _ => missing.push(ancestor),
        }
    }
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM folders WHERE account_id = ?")
        .bind(account.0)
        .fetch_one(&mut *tx)
        .await?;
    if n + missing.len() as i64 + i64::from(path_is_new) > MAX_FOLDERS_PER_ACCOUNT {
        return Err(Error::Limit(format!("an account may have at most {MAX_FOLDERS_PER_ACCOUNT} folders")));
    }
    for ancestor in missing {
        parent = Some(insert_folder(tx, account, &ancestor, parent, None, subscribed).await?);
    }
    Ok(parent)
}

/// A folder now standing under a subscribed name whose folder was gone takes the subscription
/// back (RFC 9051 §6.3.7: subscriptions are names).
async fn adopt_orphan_subscriptions(tx: &mut SqliteConnection, account: AccountId) -> Result<()> {
    sqlx::query(
        "UPDATE folders SET subscribed = 1 WHERE account_id = ?1
         AND name IN (SELECT name FROM orphan_subscriptions WHERE account_id = ?1)",
    )
    .bind(account.0)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM orphan_subscriptions WHERE account_id = ?1
         AND name IN (SELECT name FROM folders WHERE account_id = ?1)",
    )
    .bind(account.0)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Renames the folder `id` from `from` to `to` with its subfolders, under `to`'s parent
/// (found or created).
async fn move_tree(tx: &mut SqliteConnection, account: AccountId, id: FolderId, from: &str, to: &str) -> Result<()> {
    let parent = ensure_parents(tx, account, to, false, true).await?;
    check_depth(tx, account, from, to).await?;
    // The new path, then what followed the old one (SQLite's substr counts from 1).
    sqlx::query(&format!("UPDATE folders SET name = ?3 || substr(name, length(?2) + 1) WHERE {IN_TREE}"))
        .bind(account.0)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE folders SET parent_id = ? WHERE id = ?")
        .bind(parent.map(|p| p.0))
        .bind(id.0)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// A rename must not push a subfolder past the depth or length caps.
async fn check_depth(tx: &mut SqliteConnection, account: AccountId, from: &str, to: &str) -> Result<()> {
    let names: Vec<String> = sqlx::query_scalar(&format!("SELECT name FROM folders WHERE {SUBFOLDERS}"))
        .bind(account.0)
        .bind(from)
        .fetch_all(&mut *tx)
        .await?;
    for name in names {
        folder_path(&format!("{to}{}", &name[from.len()..]))?;
    }
    Ok(())
}

/// Inserts one folder row with the next id and UIDVALIDITY (see migration 0008): the creation
/// second, or one more than the last handed out when that is later.
pub(crate) async fn insert_folder(
    tx: &mut SqliteConnection,
    account: AccountId,
    name: &str,
    parent: Option<FolderId>,
    special_use: Option<SpecialUse>,
    subscribed: bool,
) -> Result<FolderId> {
    let now = now_unix();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO folders (id, account_id, name, parent_id, special_use, uidvalidity, created_at, subscribed)
         VALUES ((SELECT value + 1 FROM counters WHERE name = 'folder_id'), ?, ?, ?, ?,
             max(?, (SELECT value + 1 FROM counters WHERE name = 'uidvalidity')), ?, ?)
         RETURNING id",
    )
    .bind(account.0)
    .bind(name)
    .bind(parent.map(|p| p.0))
    .bind(special_use.map(SpecialUse::as_db))
    .bind(now & 0xffff_ffff)
    .bind(now)
    .bind(subscribed)
    .fetch_one(&mut *tx)
    .await?;
    Ok(FolderId(id))
}

async fn read_folder(tx: &mut SqliteConnection, account: AccountId, id: FolderId) -> Result<Folder> {
    let row = sqlx::query(&format!("SELECT {FOLDER_COLUMNS} FROM folders f WHERE f.account_id = ? AND f.id = ?"))
        .bind(account.0)
        .bind(id.0)
        .fetch_one(&mut *tx)
        .await?;
    Ok(folder_from_row(&row))
}
