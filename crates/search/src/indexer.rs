//! Keeping the index true: it follows the store's change log from the last change it applied
//! (kept in its own commits, so a restart or a crash resumes there), and is built again from
//! every stored message when it has none or the log was pruned past it.
//!
//! It never blocks delivery: it reads committed rows behind the writers, on its own time, and
//! parses on a blocking thread one batch at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use facts::text::searchable;
use store::{ChangeKind, FactsWanted, FolderId, MessageKey, Store};
use tantivy::{IndexWriter, Term};
use tokio::sync::broadcast;

use crate::Error;
use crate::index::{Payload, SearchIndex};
use crate::schema::{Entry, Fields, SCHEMA_VERSION, document, key_of};

/// Changes applied per commit.
const CHANGES_PER_COMMIT: usize = 1000;
/// Messages read from the store at once while building.
const BUILD_PAGE: u32 = 500;
/// Messages indexed between two commits while building (a crash loses at most these).
const BUILD_COMMIT_EVERY: u64 = 20_000;
/// How often the log is looked at when the feed says nothing.
const POLL: Duration = Duration::from_secs(1);
/// How long changes gather after the feed woke the indexer, so a stream of deliveries makes
/// one commit every so often rather than one each (a commit writes files and syncs them).
const GATHER: Duration = Duration::from_millis(300);

/// Follows the store's changes for as long as the server runs: `wake` is the mail core's
/// change feed, which says when to look (the log itself is read, so a lagging feed loses
/// nothing).
pub async fn follow(index: Arc<SearchIndex>, store: Store, mut wake: broadcast::Receiver<types::Change>) {
    let mut feed_open = true;
    loop {
        match index.catch_up(&store).await {
            Ok(Progress::More) => continue,
            Ok(Progress::UpToDate) => {}
            Err(error) => tracing::warn!(%error, "search index: applying changes failed; retrying"),
        }
        if feed_open {
            tokio::select! {
                received = wake.recv() => {
                    feed_open = !matches!(received, Err(broadcast::error::RecvError::Closed));
                    tokio::time::sleep(GATHER).await;
                    // What came meanwhile is read from the log: no reason to wake for it again.
                    wake = wake.resubscribe();
                }
                _ = tokio::time::sleep(POLL) => {}
            }
        } else {
            tokio::time::sleep(POLL).await;
        }
    }
}

/// Whether [`SearchIndex::catch_up`] left changes to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    More,
    UpToDate,
}

impl SearchIndex {
    /// Applies the next changes of the log (building the index first when it must be).
    pub async fn catch_up(&self, store: &Store) -> Result<Progress, Error> {
        let applied = match self.applied() {
            Some(applied) if !pruned_past(store, applied).await? => applied,
            _ => {
                self.rebuild(store, &mut |_, _| {}).await?;
                return Ok(Progress::More);
            }
        };
        let changes = store.changes_after(applied, CHANGES_PER_COMMIT).await?;
        let Some(last) = changes.last().map(|change| change.id) else { return Ok(Progress::UpToDate) };
        let new: Vec<MessageKey> = changes
            .iter()
            .filter(|change| change.kind == ChangeKind::New)
            .map(|change| MessageKey { account: change.account, folder: change.folder, uid: change.uid })
            .collect();
        let mut entries: HashMap<(FolderId, u32), Entry> = read_entries(store, &new)
            .await?
            .into_iter()
            .map(|entry| ((entry.key.folder, entry.key.uid), entry))
            .collect();
        // In log order, so a message added then expunged in one batch ends up gone.
        let mut steps = Vec::with_capacity(changes.len());
        for change in &changes {
            match change.kind {
                ChangeKind::New => {
                    if let Some(entry) = entries.remove(&(change.folder, change.uid)) {
                        steps.push(Step::Add(entry));
                    }
                }
                ChangeKind::Expunged => steps.push(Step::Remove(change.folder, change.uid)),
                // Flags and tags are read from the store when a query names them.
                ChangeKind::Flags => {}
            }
        }
        let more = changes.len() == CHANGES_PER_COMMIT;
        self.write(steps, Some(last)).await?;
        if more {
            // Far behind (after a restart, or a burst): say how far.
            let newest = store.last_change_id().await?;
            tracing::info!(applied = last, behind = newest - last, "search index: catching up");
        }
        Ok(if more { Progress::More } else { Progress::UpToDate })
    }

    /// Builds the index again from every stored message, telling `progress` (done, total) as
    /// it goes. Changes made meanwhile are applied by the next [`SearchIndex::catch_up`].
    pub async fn rebuild(&self, store: &Store, progress: &mut (dyn FnMut(u64, u64) + Send)) -> Result<u64, Error> {
        let started_at = store.last_change_id().await?;
        let total = store.message_count().await?;
        tracing::info!(messages = total, "search index: building");
        self.applied.store(-1, Ordering::Release);
        self.on_writer(|writer, _| {
            writer.delete_all_documents()?;
            Ok(())
        })
        .await?;
        self.write(Vec::new(), None).await?;
        let mut after = (FolderId(0), 0);
        let mut done = 0u64;
        let mut since_commit = 0u64;
        loop {
            let keys = store.message_keys_after(after, BUILD_PAGE).await?;
            let Some(last) = keys.last() else { break };
            after = (last.folder, last.uid);
            let entries = read_entries(store, &keys).await?;
            done += keys.len() as u64;
            since_commit += keys.len() as u64;
            let commit = since_commit >= BUILD_COMMIT_EVERY;
            self.add(entries, commit).await?;
            if commit {
                since_commit = 0;
            }
            progress(done, total.max(done));
        }
        self.write(Vec::new(), Some(started_at)).await?;
        tracing::info!(messages = done, "search index: built");
        Ok(done)
    }

    /// Adds entries (replacing any of the same place), committing only when asked (while
    /// building: the commit says the index is not whole yet).
    async fn add(&self, entries: Vec<Entry>, commit: bool) -> Result<(), Error> {
        let steps = entries.into_iter().map(Step::Add).collect();
        if commit { self.write(steps, None).await } else { self.apply(steps).await }
    }

    async fn apply(&self, steps: Vec<Step>) -> Result<(), Error> {
        self.on_writer(move |writer, fields| apply_steps(writer, fields, steps)).await
    }

    /// Applies `steps` and commits, the commit saying which change the index now reflects
    /// (`None`: it is being built).
    async fn write(&self, steps: Vec<Step>, applied: Option<i64>) -> Result<(), Error> {
        let payload =
            serde_json::to_string(&Payload { version: SCHEMA_VERSION, applied }).map_err(|_| Error::Poisoned)?;
        self.on_writer(move |writer, fields| {
            apply_steps(writer, fields, steps)?;
            let mut commit = writer.prepare_commit()?;
            commit.set_payload(&payload);
            commit.commit()?;
            Ok(())
        })
        .await?;
        self.reader.reload()?;
        self.applied.store(applied.unwrap_or(-1), Ordering::Release);
        Ok(())
    }

    /// Runs `work` with the writer on a blocking thread.
    async fn on_writer(
        &self,
        work: impl FnOnce(&mut IndexWriter, Fields) -> Result<(), Error> + Send + 'static,
    ) -> Result<(), Error> {
        let writer = Arc::clone(&self.writer);
        let fields = self.fields;
        tokio::task::spawn_blocking(move || {
            let mut writer = writer.lock().map_err(|_| Error::Poisoned)?;
            work(&mut writer, fields)
        })
        .await
        .map_err(|_| Error::Poisoned)?
    }
}

fn apply_steps(writer: &mut IndexWriter, fields: Fields, steps: Vec<Step>) -> Result<(), Error> {
    for step in steps {
        match step {
            Step::Add(entry) => {
                writer.delete_term(Term::from_field_u64(fields.key, key_of(entry.key.folder, entry.key.uid)));
                writer.add_document(document(&fields, &entry))?;
            }
            Step::Remove(folder, uid) => {
                writer.delete_term(Term::from_field_u64(fields.key, key_of(folder, uid)));
            }
        }
    }
    Ok(())
}

enum Step {
    Add(Entry),
    Remove(FolderId, u32),
}

/// Whether the log was pruned past `applied`: changes the index never saw are gone.
async fn pruned_past(store: &Store, applied: i64) -> Result<bool, Error> {
    Ok(store.oldest_change_id().await?.is_some_and(|oldest| oldest > applied + 1))
}

/// The messages at these places as entries to index (gone ones left out), parsed on a
/// blocking thread.
async fn read_entries(store: &Store, keys: &[MessageKey]) -> Result<Vec<Entry>, Error> {
    let mut raws = Vec::with_capacity(keys.len());
    let mut start = 0;
    while start < keys.len() {
        let first = keys[start];
        let end = keys[start..]
            .iter()
            .position(|key| key.account != first.account || key.folder != first.folder)
            .map_or(keys.len(), |n| start + n);
        let uids: Vec<u32> = keys[start..end].iter().map(|key| key.uid).collect();
        for row in store.fetch_rows(first.account, first.folder, &uids, FactsWanted::default()).await? {
            if let Some(raw) = store.read_fetched(&row).await? {
                let key = MessageKey { account: first.account, folder: first.folder, uid: row.uid };
                raws.push((key, row.internal_date, u64::from(row.size), raw));
            }
        }
        start = end;
    }
    tokio::task::spawn_blocking(move || {
        raws.into_iter()
            .map(|(key, internal_date, size, raw)| Entry { key, internal_date, size, text: searchable(&raw, true) })
            .collect()
    })
    .await
    .map_err(|_| Error::Poisoned)
}
