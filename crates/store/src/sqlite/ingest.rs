//! Group commit for deliveries (issue 11): deliveries that arrive while one is being committed
//! wait for it, then are committed together, in one transaction with one fsync of the
//! database and one of each blob folder they use, instead of one each.
//!
//! Nothing is skipped: each delivery's file is written and fsynced before it joins a batch,
//! its folder is fsynced before the batch's transaction, and its caller is answered only once
//! that transaction is committed. Each delivery keeps its own all-or-nothing rule inside the
//! batch (a savepoint each): a full mailbox rolls back that delivery alone.
//!
//! One task commits, so batches form by themselves under load (they are as large as the
//! deliveries that queued during the previous commit) and a lone delivery is not delayed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use facts::Facts;
use tokio::sync::{mpsc, oneshot};

use crate::sqlite::lists::{insert_list_copy, insert_list_post};
use crate::sqlite::messages::{Copies, NewMessage, insert_facts, insert_into_inboxes};
use crate::sqlite::queue::insert_outbound;
use crate::{Delivery, Error, Flags, Result, Store};

/// Deliveries committed in one transaction at most.
const MAX_BATCH: usize = 64;
/// Deliveries waiting for the committer at most; past it, delivering waits for room.
const QUEUE: usize = 256;

/// One delivery whose file is written, waiting for its rows.
pub(crate) struct Pending {
    pub(crate) copies: Copies,
    pub(crate) blob_hash: String,
    pub(crate) raw: Arc<Vec<u8>>,
    pub(crate) facts: Facts,
    pub(crate) internal_date: i64,
    pub(crate) reply: oneshot::Sender<Result<Delivery>>,
}

/// The queue between deliveries and the committer (`commit_loop`).
pub(crate) fn channel() -> (mpsc::Sender<Pending>, mpsc::Receiver<Pending>) {
    mpsc::channel(QUEUE)
}

/// How many batches and deliveries were committed, for tests and the log.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) batches: AtomicU64,
    pub(crate) deliveries: AtomicU64,
}

/// Commits queued deliveries in batches, for as long as the queue is open.
pub(crate) async fn commit_loop(store: Store, mut queue: mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(pending) => batch.push(pending),
                Err(_) => break,
            }
        }
        store.ingest_counts.batches.fetch_add(1, Ordering::Relaxed);
        store.ingest_counts.deliveries.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let outcomes = match store.commit_batch(&batch).await {
            Ok(outcomes) => outcomes,
            Err(error) => {
                // The transaction failed as a whole: every delivery of it failed.
                tracing::error!(%error, n = batch.len(), "committing deliveries failed");
                batch
                    .iter()
                    .map(|_| Err(Error::io("committing deliveries", std::io::Error::other(error.to_string()))))
                    .collect()
            }
        };
        for (pending, outcome) in batch.into_iter().zip(outcomes) {
            // A caller that went away (its connection dropped) gets no answer; its message is
            // committed all the same, as after any reply lost in transit.
            let _ = pending.reply.send(outcome);
        }
    }
}

impl Store {
    /// Batches and deliveries committed since the store was opened.
    pub fn ingest_counts(&self) -> (u64, u64) {
        (self.ingest_counts.batches.load(Ordering::Relaxed), self.ingest_counts.deliveries.load(Ordering::Relaxed))
    }

    /// One transaction for the batch, a savepoint for each delivery. The error is the
    /// transaction's own; a delivery's failure is its outcome.
    async fn commit_batch(&self, batch: &[Pending]) -> Result<Vec<Result<Delivery>>> {
        self.blobs.sync_folders(batch.iter().map(|p| p.blob_hash.clone()).collect()).await?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut outcomes = Vec::with_capacity(batch.len());
        for pending in batch {
            sqlx::query("SAVEPOINT delivery").execute(&mut *tx).await?;
            let outcome = async {
                // Ordered with clean-ups by the write lock: see `Store::append`.
                self.blobs.put_if_missing(&pending.blob_hash, Arc::clone(&pending.raw)).await?;
                insert_facts(&mut tx, &pending.blob_hash, &pending.facts).await?;
                let new = NewMessage {
                    blob_hash: &pending.blob_hash,
                    size: pending.raw.len() as i64,
                    facts: &pending.facts,
                    flags: Flags::empty(),
                    keywords: &[],
                    internal_date: pending.internal_date,
                };
                let copies = &pending.copies;
                let mut delivery = insert_into_inboxes(&mut tx, &copies.accounts, &new).await?;
                if !delivery.over_quota.is_empty() {
                    return Ok(delivery);
                }
                let size = pending.raw.len() as i64;
                if let Some(outbound) = &copies.outbound {
                    delivery.queued = Some(insert_outbound(&mut tx, &pending.blob_hash, size, outbound).await?);
                }
                for post in &copies.list_posts {
                    delivery.list_posts.push(insert_list_post(&mut tx, &pending.blob_hash, size, post).await?);
                }
                if let Some(copy) = copies.list_copy {
                    insert_list_copy(&mut tx, copy).await?;
                }
                Ok(delivery)
            }
            .await;
            if !outcome.as_ref().is_ok_and(Delivery::stored) {
                sqlx::query("ROLLBACK TO delivery").execute(&mut *tx).await?;
            }
            sqlx::query("RELEASE delivery").execute(&mut *tx).await?;
            outcomes.push(outcome);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}
