//! The composer's attachments (B1), as its form carries them: one hidden field listing a key
//! per file, so a plain form post (no WASM) keeps them, and removing one is dropping its key.
//! A key names an uploaded file (`u12`), a part of one of the account's messages (`m34.1`:
//! a forwarded message's or a template's attachment) or one of its messages whole (`e34`: a
//! forward as a `.eml` file). The server checks every key against the
//! account when the message is sent or saved.

use std::fmt;

/// Where the composer uploads a file: `POST` with the file as the body, its name in the query
/// and its type as `Content-Type`. The answer is the file's attachment key (`u12`). Bodies
/// here may be as large as [`types::MAX_ATTACHMENTS_BYTES`], where every other request is
/// held to a few kilobytes' worth.
pub const UPLOAD_PATH: &str = "/compose/upload";

/// What an upload answers when it is refused, for the page to say it in the reader's words:
/// the file is too large, or the account has too many waiting.
pub const UPLOAD_TOO_LARGE: &str = "too-large";
pub const UPLOAD_TOO_MANY: &str = "too-many";
/// The server is reading as many uploads as it takes at once: try again shortly.
pub const UPLOAD_BUSY: &str = "busy";

/// Where an attachment's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttachmentKey {
    /// A file uploaded from the composer.
    Upload(i64),
    /// Attachment `index` of one of the account's messages.
    Part { message: i64, index: u32 },
    /// One of the account's messages, whole (`message/rfc822`).
    Message(i64),
}

impl fmt::Display for AttachmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachmentKey::Upload(id) => write!(f, "u{id}"),
            AttachmentKey::Part { message, index } => write!(f, "m{message}.{index}"),
            AttachmentKey::Message(id) => write!(f, "e{id}"),
        }
    }
}

impl AttachmentKey {
    /// Reads one key; `None` for anything else.
    pub fn parse(text: &str) -> Option<AttachmentKey> {
        let text = text.trim();
        if let Some(id) = text.strip_prefix('u') {
            return id.parse().ok().map(AttachmentKey::Upload);
        }
        if let Some(id) = text.strip_prefix('e') {
            return id.parse().ok().map(AttachmentKey::Message);
        }
        let (message, index) = text.strip_prefix('m')?.split_once('.')?;
        Some(AttachmentKey::Part { message: message.parse().ok()?, index: index.parse().ok()? })
    }
}

/// The keys of the hidden field, in order, each once; unreadable ones are dropped (the form is
/// the browser's, anything can come back).
pub fn parse_keys(field: &str) -> Vec<AttachmentKey> {
    let mut keys: Vec<AttachmentKey> = Vec::new();
    for key in field.split(',').filter_map(AttachmentKey::parse) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// The hidden field's value for these keys.
pub fn join_keys<'k>(keys: impl IntoIterator<Item = &'k str>) -> String {
    keys.into_iter().collect::<Vec<_>>().join(",")
}

/// A key's new name once the draft was saved: the saved draft (`draft`) carries the files of
/// `saved` (the keys the save was given) in that order, so each of them is now one of its
/// parts; a key the save did not carry (a file uploaded meanwhile) stays as it is.
pub fn renumbered(saved: &[AttachmentKey], draft: i64, key: AttachmentKey) -> AttachmentKey {
    match saved.iter().position(|k| *k == key) {
        Some(index) => AttachmentKey::Part { message: draft, index: index as u32 },
        None => key,
    }
}

/// A size as people read it: "820 B", "14 kB", "2.4 MB" (decimal units, as the limit is said).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} kB", bytes.div_ceil(1_000)),
        _ => format!("{:.1} MB", bytes as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back_what_they_write() {
        for key in [AttachmentKey::Upload(12), AttachmentKey::Part { message: 34, index: 1 }, AttachmentKey::Message(5)]
        {
            assert_eq!(AttachmentKey::parse(&key.to_string()), Some(key));
        }
        assert_eq!(
            parse_keys("u1, m2.0,,u1,x9,m3,m4.-1,u,m5.2,e7,e"),
            [
                AttachmentKey::Upload(1),
                AttachmentKey::Part { message: 2, index: 0 },
                AttachmentKey::Part { message: 5, index: 2 },
                AttachmentKey::Message(7)
            ]
        );
        assert_eq!(join_keys(["u1", "m2.0"]), "u1,m2.0");
    }

    #[test]
    fn a_saved_draft_renames_the_keys_it_carries() {
        let saved = parse_keys("m3.0,u7,m3.2");
        assert_eq!(renumbered(&saved, 9, AttachmentKey::Upload(7)), AttachmentKey::Part { message: 9, index: 1 });
        assert_eq!(
            renumbered(&saved, 9, AttachmentKey::Part { message: 3, index: 2 }),
            AttachmentKey::Part { message: 9, index: 2 }
        );
        assert_eq!(renumbered(&saved, 9, AttachmentKey::Upload(8)), AttachmentKey::Upload(8), "uploaded meanwhile");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(820), "820 B");
        assert_eq!(human_size(14_200), "15 kB");
        assert_eq!(human_size(2_400_000), "2.4 MB");
    }
}
