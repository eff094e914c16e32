//! Importing mail (D10): a `.zip` of `.eml` files, its subfolders mapped to folders (created
//! when missing, subscribed), each message appended read. What cannot be imported is listed
//! with the reason, and the rest still goes in.
//!
//! The archive is untrusted: its entries are read through a cap each (a zip bomb stops at the
//! cap), their names only ever become folder names checked by the store's rules (no file is
//! written), and the entries and the bytes taken in all are bounded.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use store::{AccountId, Flags, FolderId, MAX_MESSAGE_BYTES};

use crate::{Mail, header};

/// Entries looked at in one archive.
pub const MAX_ENTRIES: usize = 10_000;
/// Bytes taken from one archive, decompressed, in all.
pub const MAX_TOTAL_BYTES: u64 = 2_000_000_000;

/// Why an entry was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not named `*.eml`.
    NotEml,
    /// Over the largest message taken.
    TooLarge,
    /// No header fields: not a message.
    NotAMessage,
    /// Its folder cannot be: a name the rules refuse, or a folder that takes no subfolders.
    BadFolder,
    /// The mailbox is full.
    OverQuota,
    /// The archive could not give it (encrypted, an unknown compression, damaged).
    Unreadable,
    /// Past [`MAX_ENTRIES`] or [`MAX_TOTAL_BYTES`].
    TooMany,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Messages imported, by folder path, in the order first met.
    pub imported: Vec<(String, u32)>,
    /// Entries left out, by name, with why.
    pub rejected: Vec<(String, Rejection)>,
}

impl ImportSummary {
    pub fn imported_count(&self) -> u32 {
        self.imported.iter().map(|(_, n)| n).sum()
    }

    fn count(&mut self, folder: &str) {
        match self.imported.iter_mut().find(|(path, _)| path == folder) {
            Some((_, n)) => *n += 1,
            None => self.imported.push((folder.to_string(), 1)),
        }
    }
}

/// Why a whole archive could not be read.
#[derive(Debug)]
pub enum ImportError {
    /// Not a zip archive.
    NotAZip,
    Store(store::Error),
}

impl From<store::Error> for ImportError {
    fn from(error: store::Error) -> Self {
        ImportError::Store(error)
    }
}

/// The folder path an entry goes to: its directories joined by `/`, the Inbox at the top.
/// `None` when a directory is not a name a folder may have.
pub fn folder_of(entry: &str) -> Option<String> {
    let mut segments: Vec<&str> = entry.split(['/', '\\']).filter(|s| !s.is_empty()).collect();
    segments.pop();
    let fine = |segment: &&str| {
        let segment = segment.trim();
        !segment.is_empty()
            && segment != "."
            && segment != ".."
            && segment.chars().count() <= 100
            && !segment.chars().any(char::is_control)
    };
    if !segments.iter().all(fine) {
        return None;
    }
    if segments.is_empty() {
        return Some("INBOX".to_string());
    }
    // The Inbox is `INBOX` whatever its case, also as a parent (`Inbox/Sub`).
    let mut segments: Vec<&str> = segments.iter().map(|s| s.trim()).collect();
    if segments[0].eq_ignore_ascii_case("INBOX") {
        segments[0] = "INBOX";
    }
    Some(segments.join("/"))
}

impl Mail {
    /// Imports the `.eml` files of the zip archive `bytes` into the account's folders. Entries
    /// are read one at a time and each appended before the next is read, so what is held is
    /// one message, whatever the archive unpacks to.
    pub async fn import_zip(&self, account: AccountId, bytes: Vec<u8>) -> Result<ImportSummary, ImportError> {
        let mut summary = ImportSummary::default();
        let (sender, mut entries) = tokio::sync::mpsc::channel::<Entry>(1);
        // The reader stops when this side does (the receiver dropped: an error, a timeout).
        let reader =
            tokio::task::spawn_blocking(move || read_archive(bytes, |entry| sender.blocking_send(entry).is_ok()));
        let mut folders: HashMap<String, Option<FolderId>> = HashMap::new();
        while let Some(entry) = entries.recv().await {
            let (name, raw) = match entry {
                Entry::Message(name, raw) => (name, raw),
                Entry::Rejected(name, why) => {
                    summary.rejected.push((name, why));
                    continue;
                }
            };
            let Some(path) = folder_of(&name) else {
                summary.rejected.push((name, Rejection::BadFolder));
                continue;
            };
            let folder = match folders.get(&path) {
                Some(known) => *known,
                None => {
                    let found = self.import_folder(account, &path).await?;
                    folders.insert(path.clone(), found);
                    found
                }
            };
            let Some(folder) = folder else {
                summary.rejected.push((name, Rejection::BadFolder));
                continue;
            };
            match self.append(account, folder, raw, Flags::SEEN, &[], None).await {
                Ok(_) => {
                    let shown = self.store().folder(account, folder).await?.map_or(path, |f| f.name);
                    summary.count(&shown);
                }
                Err(store::Error::QuotaExceeded) => summary.rejected.push((name, Rejection::OverQuota)),
                Err(store::Error::Invalid { .. } | store::Error::Limit(_)) => {
                    summary.rejected.push((name, Rejection::NotAMessage))
                }
                Err(other) => return Err(other.into()),
            }
        }
        let read = reader.await.map_err(|error| {
            ImportError::Store(store::Error::Io { context: "reading an archive", source: std::io::Error::other(error) })
        })?;
        read.map(|()| summary)
    }

    /// The folder at `path`, made (with its parents) when missing; `None` when the rules refuse
    /// it (a subfolder of Sent, a name too long...).
    async fn import_folder(&self, account: AccountId, path: &str) -> Result<Option<FolderId>, ImportError> {
        if let Some(folder) = self.store().folder_by_name(account, path).await? {
            return Ok(Some(folder.id));
        }
        match self.create_folder(account, path, true).await {
            Ok(folder) => Ok(Some(folder.id)),
            Err(store::Error::Invalid { .. } | store::Error::Refused(_) | store::Error::Limit(_)) => Ok(None),
            Err(store::Error::Exists(_)) => Ok(self.store().folder_by_name(account, path).await?.map(|f| f.id)),
            Err(other) => Err(other.into()),
        }
    }
}

/// One entry of an archive, as the reader hands it over.
enum Entry {
    Message(String, Vec<u8>),
    Rejected(String, Rejection),
}

/// Reads the archive's entries in order and hands each to `take` (false: stop). Every byte
/// read counts towards [`MAX_TOTAL_BYTES`], those of entries left out too.
fn read_archive(bytes: Vec<u8>, mut take: impl FnMut(Entry) -> bool) -> Result<(), ImportError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| ImportError::NotAZip)?;
    let mut total: u64 = 0;
    let mut seen = 0;
    for index in 0..archive.len() {
        let entry = match archive.by_index(index) {
            Ok(mut entry) => {
                if entry.is_dir() {
                    continue;
                }
                seen += 1;
                let name = entry.name().to_string();
                if seen > MAX_ENTRIES || total >= MAX_TOTAL_BYTES {
                    Entry::Rejected(name, Rejection::TooMany)
                } else if !name.to_ascii_lowercase().ends_with(".eml") {
                    Entry::Rejected(name, Rejection::NotEml)
                } else {
                    // The size the archive declares may lie: read through the cap, whatever it says.
                    let mut raw = Vec::new();
                    let read = (&mut entry).take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut raw);
                    total += raw.len() as u64;
                    match read {
                        Ok(_) if raw.len() > MAX_MESSAGE_BYTES => Entry::Rejected(name, Rejection::TooLarge),
                        Ok(_) if header::header_fields(&raw).next().is_none() => {
                            Entry::Rejected(name, Rejection::NotAMessage)
                        }
                        Ok(_) => Entry::Message(name, raw),
                        Err(_) => Entry::Rejected(name, Rejection::Unreadable),
                    }
                }
            }
            Err(_) => Entry::Rejected(format!("#{}", index + 1), Rejection::Unreadable),
        };
        if !take(entry) {
            break;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_map_to_folders() {
        assert_eq!(folder_of("a.eml").as_deref(), Some("INBOX"));
        assert_eq!(folder_of("Inbox/Sub/a.eml").as_deref(), Some("INBOX/Sub"));
        assert_eq!(folder_of("Work/2026/a.eml").as_deref(), Some("Work/2026"));
        assert_eq!(folder_of("Work\\Old\\b.eml").as_deref(), Some("Work/Old"));
        assert_eq!(folder_of("/Projets/Été/c.eml").as_deref(), Some("Projets/Été"));
        for bad in ["../x.eml", "Work/../../x.eml", "./x.eml", "a\u{1}b/x.eml"] {
            assert_eq!(folder_of(bad), None, "{bad}");
        }
    }

    fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut out);
        for (name, bytes) in files {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("entry");
            std::io::Write::write_all(&mut writer, bytes).expect("write");
        }
        writer.finish().expect("finish");
        out.into_inner()
    }

    #[test]
    fn archives_give_their_messages_and_say_what_they_left_out() {
        let bytes = archive(&[
            ("Inbox/hello.eml", b"Subject: Hello\r\n\r\nHi\r\n"),
            ("notes.txt", b"not mail"),
            ("Work/empty.eml", b""),
            ("Work/b.EML", b"From: a@example.org\r\n\r\nbody\r\n"),
        ]);
        let (mut names, mut rejected) = (Vec::new(), Vec::new());
        read_archive(bytes, |entry| {
            match entry {
                Entry::Message(name, _) => names.push(name),
                Entry::Rejected(name, why) => rejected.push((name, why)),
            }
            true
        })
        .expect("a zip");
        assert_eq!(names, ["Inbox/hello.eml", "Work/b.EML"]);
        assert_eq!(
            rejected,
            [("notes.txt".to_string(), Rejection::NotEml), ("Work/empty.eml".to_string(), Rejection::NotAMessage)]
        );
        assert!(matches!(read_archive(b"PK not really".to_vec(), |_| true), Err(ImportError::NotAZip)));
    }
}
