//! Raw messages as content-addressed files: `blobs/<first two hex digits>/<sha-256 hex>`.
//!
//! A blob is written to `blobs/tmp/`, fsynced and renamed into place, so a reader never sees
//! half a file; once `sync_folders` has fsynced its folder too, it survives a crash. The two
//! are apart so that deliveries committed together share their folders' fsyncs.
//! Identical messages (an alias fanning out to several mailboxes) share one file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::{Error, Result};

#[derive(Clone)]
pub(crate) struct BlobStore {
    root: Arc<PathBuf>,
    tmp_counter: Arc<AtomicU64>,
}

impl BlobStore {
    pub(crate) fn open(root: &Path) -> Result<BlobStore> {
        fs::create_dir_all(root.join("tmp")).map_err(|e| Error::io("creating the blob folder", e))?;
        sweep_stale_temporaries(&root.join("tmp"));
        Ok(BlobStore { root: Arc::new(root.to_path_buf()), tmp_counter: Arc::new(AtomicU64::new(0)) })
    }

    pub(crate) fn hash(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    fn path_of(&self, hash: &str) -> PathBuf {
        self.root.join(&hash[..2]).join(hash)
    }

    /// Stores `bytes` and returns their hash. The file's content is on disk; its name is only
    /// once [`BlobStore::sync_folders`] has run for it.
    pub(crate) async fn put(&self, bytes: Arc<Vec<u8>>) -> Result<String> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.put_blocking(&bytes))
            .await
            .map_err(|e| Error::io("blob writer task", std::io::Error::other(e)))?
    }

    fn put_blocking(&self, bytes: &[u8]) -> Result<String> {
        let hash = Self::hash(bytes);
        let final_path = self.path_of(&hash);
        let dir = final_path.parent().expect("blob paths have a parent");
        if fs::metadata(&final_path).map(|m| m.len() == bytes.len() as u64).unwrap_or(false) {
            // Another delivery may have renamed this file in and not yet synced the folder:
            // our caller syncs it before relying on the file, as for a new one.
            return Ok(hash);
        }
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(|e| Error::io("creating a blob folder", e))?;
            // The new folder's own entry must reach the disk too, or the file could vanish
            // with it after a crash.
            File::open(&*self.root).and_then(|d| d.sync_all()).map_err(|e| Error::io("syncing the blob folder", e))?;
        }
        let tmp_name = format!("{}-{}", std::process::id(), self.tmp_counter.fetch_add(1, Ordering::Relaxed));
        let tmp_path = self.root.join("tmp").join(tmp_name);
        let write = || -> std::io::Result<()> {
            let mut file = File::create(&tmp_path)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp_path, &final_path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp_path);
            Error::io("writing a message file", e)
        })?;
        Ok(hash)
    }

    /// Fsyncs the folders of these blobs, each once: after it, files `put` there survive a
    /// crash.
    pub(crate) async fn sync_folders(&self, hashes: Vec<String>) -> Result<()> {
        let mut folders: Vec<PathBuf> = hashes
            .iter()
            .map(|hash| self.path_of(hash).parent().expect("blob paths have a parent").to_path_buf())
            .collect();
        folders.sort();
        folders.dedup();
        tokio::task::spawn_blocking(move || {
            for folder in folders {
                File::open(&folder).and_then(|d| d.sync_all()).map_err(|e| Error::io("syncing a blob folder", e))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| Error::io("blob folder sync task", std::io::Error::other(e)))?
    }

    /// Writes the blob again if it is gone (see `Store::append`): a file of the right
    /// size is the one `put` wrote, already durable.
    pub(crate) async fn put_if_missing(&self, hash: &str, bytes: Arc<Vec<u8>>) -> Result<()> {
        let present = tokio::fs::metadata(self.path_of(hash)).await.is_ok_and(|m| m.len() == bytes.len() as u64);
        if !present {
            tracing::info!(%hash, "a message file was cleaned up before its row was written; writing it again");
            self.put(bytes).await?;
            self.sync_folders(vec![hash.to_string()]).await?;
        }
        Ok(())
    }

    pub(crate) async fn get(&self, hash: &str) -> Result<Vec<u8>> {
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::invalid("blob hash", hash));
        }
        tokio::fs::read(self.path_of(hash)).await.map_err(|e| Error::io("reading a message file", e))
    }

    /// The hashes of the blobs in one prefix folder (`00` to `ff`) last written more than
    /// `min_age` ago. Anything that is not a blob name is left alone.
    pub(crate) async fn old_blobs_in(&self, prefix: u8, min_age: std::time::Duration) -> Vec<String> {
        let dir = self.root.join(format!("{prefix:02x}"));
        tokio::task::spawn_blocking(move || {
            let Ok(entries) = fs::read_dir(&dir) else { return Vec::new() };
            entries
                .flatten()
                .filter(|entry| {
                    entry
                        .metadata()
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > min_age))
                })
                .filter_map(|entry| entry.file_name().into_string().ok())
                .filter(|name| {
                    name.len() == 64 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                })
                .collect()
        })
        .await
        .unwrap_or_default()
    }

    /// Removes a blob no row refers to any more. Missing files are not an error.
    pub(crate) async fn remove(&self, hash: &str) {
        if let Err(e) = tokio::fs::remove_file(self.path_of(hash)).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(%hash, error = %e, "could not remove an unreferenced blob");
        }
    }
}

/// Removes temporary files left by a crash mid-write. Only old ones: another process (the
/// admin command) may be writing a fresh one right now.
fn sweep_stale_temporaries(tmp: &Path) {
    let Ok(entries) = fs::read_dir(tmp) else { return };
    let one_hour = std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let stale =
            entry.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|age| age > one_hour));
        if stale && let Err(e) = fs::remove_file(entry.path()) {
            tracing::warn!(path = %entry.path().display(), error = %e, "could not remove a stale temporary file");
        }
    }
}
