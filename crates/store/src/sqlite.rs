//! The SQLite backend: every SQL statement of the store, in SQLite's dialect (json_each,
//! UPDATE ... FROM, triggers, savepoints). The `Store` methods are defined here; nothing of
//! sqlx leaves the crate. A PostgreSQL backend will be a sibling module with its own
//! migrations (`migrations/postgres/`), chosen inside `Store`, so callers do not change.

pub(crate) mod accounts;
pub(crate) mod administration;
pub(crate) mod changes;
pub(crate) mod compose;
pub(crate) mod correspondents;
pub(crate) mod dkim;
pub(crate) mod domain_aliases;
pub(crate) mod folders;
pub(crate) mod groups;
pub(crate) mod ingest;
pub(crate) mod lists;
pub(crate) mod mailbox_lifecycle;
pub(crate) mod messages;
pub(crate) mod migrate;
pub(crate) mod queue;
pub(crate) mod routing;
pub(crate) mod search;
pub(crate) mod secrets;
pub(crate) mod settings;
pub(crate) mod tags;
pub(crate) mod threads;
pub(crate) mod transfer;

use sqlx::Sqlite;
use sqlx::pool::PoolConnection;

use crate::{Result, Store};

impl Store {
    /// The writer, for a change that may commit without waiting for the disk
    /// (synchronous=NORMAL): flag changes. In WAL mode such a commit is atomic and survives the
    /// process being killed; a power cut may lose the last of them, as Dovecot's default does,
    /// never a message: deliveries, appends and expunges commit FULL, and their fsync of the
    /// WAL carries every change written before. A client flooding STOREs thus holds the writer
    /// for a moment each instead of an fsync each (deliveries' 99th percentile went 2.5 times
    /// up under such a flood). The writer pool puts FULL back whenever it hands the connection
    /// out again.
    pub(crate) async fn relaxed_writer(&self) -> Result<PoolConnection<Sqlite>> {
        let mut writer = self.writer.acquire().await?;
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *writer).await?;
        Ok(writer)
    }
}

/// For tests: a store in a temporary folder (kept while the returned guard lives) with the
/// domain example.org and two accounts in it, ana and bob.
#[cfg(test)]
pub(crate) async fn store_with_ana_and_bob() -> (tempfile::TempDir, Store, crate::AccountId, crate::AccountId) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("open");
    store.add_domain("example.org").await.expect("domain");
    let user = |local: &str| crate::parse_address(&format!("{local}@example.org")).expect("address");
    let ana = store.add_user(&user("ana"), "hash", None).await.expect("ana").id;
    let bob = store.add_user(&user("bob"), "hash", None).await.expect("bob").id;
    (dir, store, ana, bob)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn synchronous(conn: &mut sqlx::SqliteConnection) -> i64 {
        sqlx::query_scalar("PRAGMA synchronous").fetch_one(conn).await.expect("pragma")
    }

    /// Deliveries must commit FULL whatever came before: a relaxed change dropped half-way (a
    /// web request cancelled, say) must not leave the writer relaxed.
    #[tokio::test]
    async fn the_writer_commits_full_again_after_a_relaxed_change() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).await.expect("store opens");
        let mut relaxed = store.relaxed_writer().await.expect("writer");
        assert_eq!(synchronous(&mut relaxed).await, 1, "NORMAL");
        drop(relaxed);
        let mut writer = store.writer.acquire().await.expect("writer");
        assert_eq!(synchronous(&mut writer).await, 2, "FULL again");
        drop(writer);
        let mut tx = store.writer.begin_with("BEGIN IMMEDIATE").await.expect("transaction");
        assert_eq!(synchronous(&mut tx).await, 2);
    }
}
