//! The index's fields, and a message as a document of them.
//!
//! Text fields are given already cut into words ([`crate::text::words`]), so the index and the
//! queries fold words one way, ours. Nothing is stored but keys and numbers: results are shown
//! from the store's rows, and a message's flags and tags are read from the store when a query
//! names them, so a flag change costs the index nothing.

use facts::text::Searchable;
use store::{FolderId, MessageKey};
use tantivy::TantivyDocument;
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{PreTokenizedString, Token};

use crate::text::{MAX_WORD_BYTES, words};

/// Raised when the fields or the way words are cut change: an index of another version is
/// rebuilt rather than read.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// A message's place as one number: its folder id above its UID.
pub(crate) fn key_of(folder: FolderId, uid: u32) -> u64 {
    ((folder.0 as u64) << 32) | u64::from(uid)
}

pub(crate) fn place_of(key: u64) -> (FolderId, u32) {
    (FolderId((key >> 32) as i64), key as u32)
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// [`key_of`]: indexed to delete a message, fast to read results.
    pub key: Field,
    pub account: Field,
    pub folder: Field,
    /// The date the list shows: the Date: field, else the arrival (Unix seconds).
    pub date: Field,
    pub size: Field,
    /// 1 when the message has attachments.
    pub attachment: Field,
    /// 1 when a word was too long to index ([`MAX_WORD_BYTES`]): substring searches read it.
    pub overlong: Field,
    pub from: Field,
    /// To and Cc.
    pub to: Field,
    pub subject: Field,
    pub body: Field,
    /// Attachment names.
    pub names: Field,
    /// Every header field's value, for IMAP's TEXT and HEADER (words only, no positions).
    pub headers: Field,
}

impl Fields {
    /// The fields a word without a field name is looked for in.
    pub(crate) fn anywhere(&self) -> [Field; 5] {
        [self.from, self.to, self.subject, self.body, self.names]
    }
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = |record: IndexRecordOption| {
        TextOptions::default()
            .set_indexing_options(TextFieldIndexing::default().set_tokenizer("raw").set_index_option(record))
    };
    let phrases = words(IndexRecordOption::WithFreqsAndPositions);
    let fields = Fields {
        key: builder.add_u64_field("key", INDEXED | FAST),
        account: builder.add_u64_field("account", INDEXED),
        folder: builder.add_u64_field("folder", INDEXED),
        date: builder.add_i64_field("date", INDEXED | FAST),
        size: builder.add_u64_field("size", INDEXED),
        attachment: builder.add_u64_field("attachment", INDEXED),
        overlong: builder.add_u64_field("overlong", INDEXED),
        from: builder.add_text_field("from", phrases.clone()),
        to: builder.add_text_field("to", phrases.clone()),
        subject: builder.add_text_field("subject", phrases.clone()),
        body: builder.add_text_field("body", phrases.clone()),
        names: builder.add_text_field("names", phrases),
        headers: builder.add_text_field("headers", words(IndexRecordOption::Basic)),
    };
    (builder.build(), fields)
}

/// A message to index: where it is, its numbers, its text.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: MessageKey,
    pub internal_date: i64,
    pub size: u64,
    pub text: Searchable,
}

/// `text` as the index's words; `overlong` set when a word had to be left out.
fn pre_tokenized(text: &str, overlong: &mut bool) -> PreTokenizedString {
    let tokens = words(text)
        .into_iter()
        .enumerate()
        .filter_map(|(position, word)| {
            if word.folded.len() > MAX_WORD_BYTES {
                *overlong = true;
                return None;
            }
            // Positions keep counting over a word left out, so a phrase never jumps it.
            Some(Token { offset_from: word.from, offset_to: word.to, position, text: word.folded, position_length: 1 })
        })
        .collect();
    PreTokenizedString { text: String::new(), tokens }
}

pub(crate) fn document(fields: &Fields, entry: &Entry) -> TantivyDocument {
    let text = &entry.text;
    let mut overlong = false;
    let mut document = TantivyDocument::default();
    document.add_u64(fields.key, key_of(entry.key.folder, entry.key.uid));
    document.add_u64(fields.account, entry.key.account.0 as u64);
    document.add_u64(fields.folder, entry.key.folder.0 as u64);
    document.add_i64(fields.date, text.sent_at.unwrap_or(entry.internal_date));
    document.add_u64(fields.size, entry.size);
    document.add_u64(fields.attachment, u64::from(!text.attachment_names.is_empty()));
    for value in text.values("from") {
        document.add_pre_tokenized_text(fields.from, pre_tokenized(value, &mut overlong));
    }
    for value in text.values("to").chain(text.values("cc")) {
        document.add_pre_tokenized_text(fields.to, pre_tokenized(value, &mut overlong));
    }
    for value in text.values("subject") {
        document.add_pre_tokenized_text(fields.subject, pre_tokenized(value, &mut overlong));
    }
    document.add_pre_tokenized_text(fields.body, pre_tokenized(&text.body, &mut overlong));
    for name in &text.attachment_names {
        document.add_pre_tokenized_text(fields.names, pre_tokenized(name, &mut overlong));
    }
    for (_, value) in &text.headers {
        document.add_pre_tokenized_text(fields.headers, pre_tokenized(value, &mut overlong));
    }
    document.add_u64(fields.overlong, u64::from(overlong));
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_folder_and_uid() {
        assert_eq!(place_of(key_of(FolderId(7), 42)), (FolderId(7), 42));
        assert_eq!(place_of(key_of(FolderId(1 << 20), u32::MAX)), (FolderId(1 << 20), u32::MAX));
    }

    #[test]
    fn long_words_are_left_out_and_marked() {
        let mut overlong = false;
        let long = "x".repeat(MAX_WORD_BYTES + 1);
        let tokens = pre_tokenized(&format!("a {long} b"), &mut overlong).tokens;
        assert!(overlong);
        assert_eq!(tokens.iter().map(|t| (t.text.as_str(), t.position)).collect::<Vec<_>>(), [("a", 0), ("b", 2)]);
    }
}
