//! The change feed: the change log (`store::Store::changes_after`) followed and broadcast to
//! subscribers in this process (IMAP IDLE and NOOP, the web client's live view, the indexer,
//! ActiveSync Ping, as they come).
//!
//! One follower task reads the log in commit order and broadcasts each entry once, so every
//! subscriber sees the same order whoever made the change. It is woken at once after a change
//! made through this process's [`crate::Mail`], and looks every [`POLL_INTERVAL`] anyway, which
//! is how a change made by another process (`facteur admin` beside the server) reaches
//! subscribers within a second.

use std::sync::Arc;
use std::time::Duration;

use store::Store;
use tokio::sync::{Notify, broadcast};
use types::Change;

/// How often the log is looked at for changes made by other processes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Entries read from the log at once.
const BATCH: usize = 1000;
/// Entries a slow subscriber may fall behind before it is told it lagged (it then resyncs from
/// the store, as after a reconnection).
const CAPACITY: usize = 4096;

pub(crate) struct Feed {
    sender: broadcast::Sender<Change>,
    wake: Notify,
}

impl Feed {
    pub(crate) fn new() -> Arc<Feed> {
        let (sender, _) = broadcast::channel(CAPACITY);
        Arc::new(Feed { sender, wake: Notify::new() })
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Something was committed here: read the log now rather than at the next poll.
    pub(crate) fn committed(&self) {
        self.wake.notify_one();
    }

    /// Follows the log from its current end, for as long as the feed lives.
    pub(crate) async fn follow(self: Arc<Feed>, store: Store) {
        let mut last = loop {
            match store.last_change_id().await {
                Ok(id) => break id,
                Err(error) => {
                    tracing::warn!(%error, "change feed: reading the log failed; retrying");
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
            }
        };
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
            }
            loop {
                let changes = match store.changes_after(last, BATCH).await {
                    Ok(changes) => changes,
                    Err(error) => {
                        tracing::warn!(%error, "change feed: reading the log failed");
                        break;
                    }
                };
                let n = changes.len();
                for change in changes {
                    last = change.id;
                    // No subscriber is not an error: the log keeps everything anyway.
                    let _ = self.sender.send(change);
                }
                if n < BATCH {
                    break;
                }
            }
        }
    }
}
