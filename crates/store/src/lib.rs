//! Facteur's store: the only crate that speaks SQL or touches blob files.
//!
//! Metadata (domains, accounts, addresses, folders, messages, flags, session rows) lives in SQLite
//! through sqlx; raw messages live in content-addressed blob files under `DATA/blobs/`.
//! Callers (SMTP, IMAP, the web app, the admin command line) use the methods of [`Store`] and
//! never see a query.
//!
//! Invariant: a message's blob is written and fsynced, then its rows are committed
//! (synchronous=FULL), before any delivery or append method returns `Ok`.
//!
//! Writes go through a pool of one connection, so writers in this process queue in Rust instead
//! of racing for SQLite's lock; readers use a pool of their own (WAL lets them run alongside).
//! Another process (the admin command line) waits on SQLite's busy timeout.

mod blobs;
mod error;
mod facts_cache;
mod sqlite;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use error::{DbError, Error, Result};
pub use facts_cache::{CachedFacts, FACTS_CACHE_BYTES};
pub use sqlite::administration::MAX_MAILBOXES_PAGE;
pub use sqlite::changes::FolderChanges;
pub use sqlite::compose::{MAX_PENDING_UPLOADS_BYTES, ScheduledSend, Upload};
pub use sqlite::correspondents::Correspondents;
pub use sqlite::dkim::DkimKey;
pub use sqlite::domain_aliases::{MAX_ALIAS_TARGETS, MAX_ALIASES_PAGE, REQUIRED_LOCAL_PARTS};
pub use sqlite::folders::{
    FolderDeletion, MAX_FOLDER_DEPTH, MAX_FOLDER_NAME_BYTES, MAX_FOLDERS_PER_ACCOUNT, folder_path,
};
pub use sqlite::lists::{Confirmed, ListCopy, ListPost, NewListPost};
pub use sqlite::messages::{
    BlobRef, Copies, Delivery, FactsWanted, FetchRow, MAX_KEYWORD_BYTES, MAX_KEYWORDS_PER_ACCOUNT,
    MAX_KEYWORDS_PER_MESSAGE,
};
// The plain data the store hands out lives in `types`, so the WASM side can use it too;
// re-exported so callers can name it through the store they use.
pub use facts::{Summary, display_addresses};
pub use sqlite::queue::{AttemptOutcome, Outbound, OutboundId, QueuedMessage, QueuedRecipient};
pub use sqlite::routing::Route;
pub use sqlite::search::MessageKey;
pub use sqlite::settings::{FOOTER_SETTING, MAX_SETTING_BYTES, MAX_SIGNATURE_HTML_BYTES};
pub use sqlite::tags::{MAX_COMMENT_BYTES, StoredTag};
pub use sqlite::threads::ThreadRow;
pub use sqlite::transfer::UidMapping;
pub use types::*;

use blobs::BlobStore;

/// The largest message Facteur accepts (A10: 50 MB).
pub const MAX_MESSAGE_BYTES: usize = 50 * 1000 * 1000;

/// Handle on one data folder. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    blobs: BlobStore,
    data_dir: PathBuf,
    /// Deliveries waiting to be committed together (`ingest`).
    committer: tokio::sync::mpsc::Sender<sqlite::ingest::Pending>,
    ingest_counts: std::sync::Arc<sqlite::ingest::Counts>,
    /// Shared by every clone: one cache per process and data folder.
    facts_cache: std::sync::Arc<facts_cache::FactsCache>,
}

/// Mail, password hashes and keys live in the data folder: only its owner may enter it, so
/// nothing inside depends on the umask the files were created with.
fn make_private(data_dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data_dir).map_err(|e| Error::io("reading the data folder", e))?.permissions();
        // Only the group and others' bits are looked at; the owner's are the owner's business.
        if mode.mode() & 0o077 != 0
            && let Err(error) = std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))
        {
            // A folder someone else owns (a packaged /var/lib/facteur) is theirs to set up.
            tracing::warn!(%error, path = %data_dir.display(), "could not make the data folder private (mode 0700)");
        }
    }
    Ok(())
}

/// Rows a reader's query may have ready ahead of its caller.
const READER_ROW_BUFFER: usize = 1024;

impl Store {
    /// Opens (creating if needed) the database and blob folder in `data_dir`, and brings the
    /// schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| Error::io("creating the data folder", e))?;
        make_private(data_dir)?;
        let db_path = data_dir.join("facteur.db");
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(Error::from)?
            .filename(&db_path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before it returns, so "250 OK" survives a power cut.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Every write commits FULL unless it asks otherwise (`sqlite::relaxed_writer`), and
            // that holds even if the one that asked was cancelled before it was done: the
            // setting is put back each time the connection is handed out.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(&mut *conn, "PRAGMA synchronous = FULL").await?;
                    Ok(true)
                })
            })
            .connect_with(options.clone())
            .await
            .map_err(Error::from)?;
        sqlite::migrate::run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            // sqlx hands rows from its SQLite thread through a channel of 50 by default: a
            // FETCH 1:* of 10,000 rows made the two threads wake each other 200 times. With
            // room for 1024 the reader runs ahead and the handoffs are few.
            .connect_with(options.read_only(true).row_buffer_size(READER_ROW_BUFFER))
            .await
            .map_err(Error::from)?;
        let blobs = BlobStore::open(&data_dir.join("blobs"))?;
        let (committer, queue) = sqlite::ingest::channel();
        let store = Store {
            writer,
            reader,
            blobs,
            data_dir: data_dir.to_path_buf(),
            committer,
            ingest_counts: std::sync::Arc::default(),
            facts_cache: std::sync::Arc::new(facts_cache::FactsCache::new(FACTS_CACHE_BYTES)),
        };
        tokio::spawn(sqlite::ingest::commit_loop(store.clone(), queue));
        Ok(store)
    }

    /// The data folder this store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Closes the pools, waiting for running queries.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

pub(crate) fn now_unix() -> i64 {
    chrono::Utc::now().timestamp()
}
