//! The index in the data folder: opening it (rebuilt when missing, unreadable or of another
//! version), and asking it (the search box's queries, IMAP SEARCH's narrowing).

use std::collections::HashSet;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use store::{AccountId, FolderId, Store};
use tantivy::collector::{Collector, SegmentCollector, TopDocs};
use tantivy::directory::error::LockError;
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query as TantivyQuery, RangeQuery, RegexQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, TantivyError, Term};

use crate::Error;
use crate::query::{Condition, Query, Text};
use crate::schema::{Fields, SCHEMA_VERSION, key_of, place_of, schema};
use crate::text::{Piece, needle_pieces};

/// Memory the writer may fill before it writes a segment.
const WRITER_MEMORY_BYTES: usize = 50_000_000;
/// The most results a search gives (E4).
pub const MAX_RESULTS: usize = 200;

/// What the index's last commit says about itself.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Payload {
    pub version: u32,
    /// The last change of the store's log the index reflects; `None` while it is being built.
    pub applied: Option<i64>,
}

/// The full-text index of every account's messages.
pub struct SearchIndex {
    pub(crate) reader: IndexReader,
    /// Writes run on blocking threads (`spawn_blocking`, which a shutting-down runtime lets
    /// finish), one at a time.
    pub(crate) writer: Arc<Mutex<IndexWriter>>,
    pub(crate) fields: Fields,
    /// [`Payload::applied`], or -1 while the index is being built.
    pub(crate) applied: AtomicI64,
}

/// One result of the search box: where the message is, how well it matched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub folder: FolderId,
    pub uid: u32,
    pub score: f32,
    /// The date the list shows (the Date: field, else the arrival).
    pub date: i64,
}

/// What a search looks through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every folder of the account.
    All,
    /// These folders only.
    Folders(Vec<FolderId>),
}

/// An IMAP search key the index can narrow (which fields it looks in), its string lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needle {
    Body(String),
    /// Body or any header field.
    Text(String),
    From(String),
    /// To, and also Cc: the index keeps them together, so it answers a little more.
    ToOrCc(String),
    Subject(String),
    /// Any header field.
    Header(String),
}

/// What the index says an IMAP search must read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowed {
    /// UIDs of the folder the index holds that may match.
    pub maybe: HashSet<u32>,
    /// Every UID of the folder the index holds: the others are not indexed yet and may match.
    pub indexed: HashSet<u32>,
}

impl Narrowed {
    /// Whether the message with this UID must be read to be judged.
    pub fn may_match(&self, uid: u32) -> bool {
        self.maybe.contains(&uid) || !self.indexed.contains(&uid)
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, making a new empty one when there is none, or when the one
    /// there cannot be read or is of another version (it is then built again from the store by
    /// [`crate::follow`]). Fails with [`Error::InUse`] when another process writes it.
    pub fn open(dir: &Path) -> Result<SearchIndex, Error> {
        std::fs::create_dir_all(dir)?;
        match Self::open_existing(dir) {
            Ok(Some(index)) => return Ok(index),
            Ok(None) => {}
            Err(Error::InUse) => return Err(Error::InUse),
            Err(error) => tracing::warn!(%error, "search index unreadable: it is built again"),
        }
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() { std::fs::remove_dir_all(&path)? } else { std::fs::remove_file(&path)? }
        }
        let (schema, fields) = schema();
        let index = Index::create_in_dir(dir, schema)?;
        Self::with_writer(index, fields, -1)
    }

    /// The index in `dir` if it is there, readable and of this version. The writer's lock is
    /// taken first, so an index another process holds is never judged (nor thrown away).
    fn open_existing(dir: &Path) -> Result<Option<SearchIndex>, Error> {
        if !dir.join("meta.json").exists() {
            return Ok(None);
        }
        let index = Index::open_in_dir(dir)?;
        let (schema, fields) = schema();
        let payload: Option<Payload> =
            index.load_metas()?.payload.and_then(|payload| serde_json::from_str(&payload).ok());
        let same_schema = index.schema() == schema;
        let opened = Self::with_writer(index, fields, -1)?;
        match payload.filter(|payload| payload.version == SCHEMA_VERSION && same_schema) {
            Some(payload) => {
                opened.applied.store(payload.applied.unwrap_or(-1), Ordering::Release);
                Ok(Some(opened))
            }
            None => Ok(None),
        }
    }

    fn with_writer(index: Index, fields: Fields, applied: i64) -> Result<SearchIndex, Error> {
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY_BYTES).map_err(|error| match error {
            TantivyError::LockFailure(LockError::LockBusy, _) => Error::InUse,
            error => Error::Index(error),
        })?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex { reader, writer: Arc::new(Mutex::new(writer)), fields, applied: AtomicI64::new(applied) })
    }

    /// The last change of the store's log the index reflects (`None` while it is being built).
    pub fn applied(&self) -> Option<i64> {
        Some(self.applied.load(Ordering::Acquire)).filter(|&id| id >= 0)
    }

    /// How many messages the index holds.
    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The search box: at most [`MAX_RESULTS`] of the account's messages matching `query`
    /// within `scope`, best first, the newest first among equals. Tags and folders the query
    /// names are read from the store.
    pub async fn search(
        &self,
        store: &Store,
        account: AccountId,
        query: &Query,
        scope: &Scope,
    ) -> Result<Vec<Hit>, Error> {
        let mut resolved = Vec::with_capacity(query.clauses.len());
        for clause in &query.clauses {
            let mut any_of: Vec<Box<dyn TantivyQuery>> = Vec::new();
            for condition in &clause.any_of {
                any_of.push(self.condition_query(store, account, condition).await?);
            }
            let query: Box<dyn TantivyQuery> =
                if any_of.len() == 1 { any_of.remove(0) } else { Box::new(BooleanQuery::union(any_of)) };
            resolved.push((if clause.excluded { Occur::MustNot } else { Occur::Must }, query));
        }
        resolved.push((Occur::Must, self.account_query(account)));
        if let Scope::Folders(folders) = scope {
            let terms = folders.iter().map(|folder| Term::from_field_u64(self.fields.folder, folder.0 as u64));
            resolved.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        let query = BooleanQuery::new(resolved);
        // Scoring walks posting lists: CPU work, kept off the async workers.
        let reader = self.reader.clone();
        tokio::task::spawn_blocking(move || best_hits(&reader, &query)).await.map_err(|_| Error::Task)?
    }

    fn account_query(&self, account: AccountId) -> Box<dyn TantivyQuery> {
        Box::new(TermQuery::new(Term::from_field_u64(self.fields.account, account.0 as u64), IndexRecordOption::Basic))
    }

    async fn condition_query(
        &self,
        store: &Store,
        account: AccountId,
        condition: &Condition,
    ) -> Result<Box<dyn TantivyQuery>, Error> {
        let fields = &self.fields;
        let number = |field: Field, value: u64| Term::from_field_u64(field, value);
        Ok(match condition {
            Condition::Anywhere(text) => {
                Box::new(BooleanQuery::union(fields.anywhere().iter().map(|&field| text_query(field, text)).collect()))
            }
            Condition::From(text) => text_query(fields.from, text),
            Condition::To(text) => text_query(fields.to, text),
            Condition::Subject(text) => text_query(fields.subject, text),
            Condition::Body(text) => text_query(fields.body, text),
            Condition::HasAttachment => {
                Box::new(TermQuery::new(number(fields.attachment, 1), IndexRecordOption::Basic))
            }
            Condition::Before(day) => {
                Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(Term::from_field_i64(fields.date, *day))))
            }
            Condition::After(day) => {
                Box::new(RangeQuery::new(Bound::Included(Term::from_field_i64(fields.date, *day)), Bound::Unbounded))
            }
            Condition::Larger(bytes) => {
                Box::new(RangeQuery::new(Bound::Excluded(number(fields.size, *bytes)), Bound::Unbounded))
            }
            Condition::Smaller(bytes) => {
                Box::new(RangeQuery::new(Bound::Unbounded, Bound::Excluded(number(fields.size, *bytes))))
            }
            Condition::Tag(name) => {
                // A tag's name, or the keyword itself (set by an IMAP client, with no tag row).
                let wanted = crate::text::fold(name);
                let mut keywords: Vec<String> = store
                    .tag_rows(account)
                    .await?
                    .into_iter()
                    .filter(|(_, name, _)| crate::text::fold(name) == wanted)
                    .map(|(keyword, _, _)| keyword)
                    .collect();
                keywords.extend(
                    store
                        .account_keywords(account)
                        .await?
                        .into_iter()
                        .filter(|keyword| crate::text::fold(keyword) == wanted),
                );
                keywords.sort();
                keywords.dedup();
                let mut keys = Vec::new();
                for keyword in keywords {
                    for (folder, uids) in store.keyword_holders(account, &keyword).await? {
                        keys.extend(uids.into_iter().map(|uid| number(fields.key, key_of(folder, uid))));
                    }
                }
                Box::new(TermSetQuery::new(keys))
            }
            Condition::Folder(name) => {
                let wanted = crate::text::fold(name);
                let folders = store.folders(account).await?;
                let terms = folders
                    .iter()
                    .filter(|folder| {
                        let last = folder.name.rsplit('/').next().unwrap_or(&folder.name);
                        crate::text::fold(&folder.name) == wanted || crate::text::fold(last) == wanted
                    })
                    .map(|folder| number(fields.folder, folder.id.0 as u64))
                    .collect::<Vec<_>>();
                Box::new(TermSetQuery::new(terms))
            }
        })
    }

    /// IMAP SEARCH's narrowing: the messages of the folder that may match every needle (and
    /// which messages the index holds at all). `None` when no needle has a word to look for.
    pub fn narrow(&self, account: AccountId, folder: FolderId, needles: &[Needle]) -> Result<Option<Narrowed>, Error> {
        let fields = &self.fields;
        let mut must: Vec<Box<dyn TantivyQuery>> = Vec::new();
        for needle in needles {
            let query = match needle {
                Needle::Body(text) => pieces_query(&[fields.body], text),
                Needle::Text(text) => pieces_query(&[fields.body, fields.headers], text),
                Needle::From(text) => pieces_query(&[fields.from], text),
                Needle::ToOrCc(text) => pieces_query(&[fields.to], text),
                Needle::Subject(text) => pieces_query(&[fields.subject], text),
                Needle::Header(text) => pieces_query(&[fields.headers], text),
            };
            must.extend(query);
        }
        if must.is_empty() {
            return Ok(None);
        }
        let in_folder = || -> Vec<(Occur, Box<dyn TantivyQuery>)> {
            vec![
                (Occur::Must, self.account_query(account)),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_u64(fields.folder, folder.0 as u64),
                        IndexRecordOption::Basic,
                    )),
                ),
            ]
        };
        // A message with a word too long to index is read whatever the needles.
        let overlong: Box<dyn TantivyQuery> =
            Box::new(TermQuery::new(Term::from_field_u64(fields.overlong, 1), IndexRecordOption::Basic));
        let matching: Box<dyn TantivyQuery> = Box::new(BooleanQuery::intersection(must));
        let mut maybe = in_folder();
        maybe.push((Occur::Must, Box::new(BooleanQuery::union(vec![matching, overlong]))));
        let mut all = in_folder();
        all.push((Occur::Must, Box::new(AllQuery)));
        let searcher = self.reader.searcher();
        let collector = Uids;
        Ok(Some(Narrowed {
            maybe: searcher.search(&BooleanQuery::new(maybe), &collector)?,
            indexed: searcher.search(&BooleanQuery::new(all), &collector)?,
        }))
    }
}

/// The best [`MAX_RESULTS`] documents for `query`: by score, then newest first.
fn best_hits(reader: &IndexReader, query: &BooleanQuery) -> Result<Vec<Hit>, Error> {
    let searcher = reader.searcher();
    let top = searcher.search(query, &TopDocs::with_limit(MAX_RESULTS).order_by_score())?;
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let segment = searcher.segment_reader(address.segment_ord);
        let fast = segment.fast_fields();
        let (Some(key), Some(date)) = (fast.u64("key")?.first(address.doc_id), fast.i64("date")?.first(address.doc_id))
        else {
            continue;
        };
        let (folder, uid) = place_of(key);
        hits.push(Hit { folder, uid, score, date });
    }
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.date.cmp(&a.date)));
    Ok(hits)
}

/// A word or phrase in one field.
fn text_query(field: Field, text: &Text) -> Box<dyn TantivyQuery> {
    let terms = |words: &[String]| words.iter().map(|word| Term::from_field_text(field, word)).collect::<Vec<_>>();
    match text {
        Text::Phrase(words) if words.len() == 1 => {
            Box::new(TermQuery::new(Term::from_field_text(field, &words[0]), IndexRecordOption::WithFreqs))
        }
        Text::Phrase(words) => Box::new(PhraseQuery::new(terms(words))),
        Text::Prefix(words) => {
            let mut query = PhrasePrefixQuery::new_with_offset(terms(words).into_iter().enumerate().collect());
            // Every word with the prefix: the default stops at 50, which loses matches.
            query.set_max_expansions(u32::MAX);
            Box::new(query)
        }
    }
}

/// What a text containing `needle` must have, in one of `fields` (all pieces in the same one).
fn pieces_query(fields: &[Field], needle: &str) -> Option<Box<dyn TantivyQuery>> {
    let pieces = needle_pieces(needle);
    if pieces.is_empty() {
        return None;
    }
    let in_field = |field: Field| -> Box<dyn TantivyQuery> {
        let parts = pieces.iter().map(|piece| piece_query(field, piece)).collect();
        Box::new(BooleanQuery::intersection(parts))
    };
    Some(Box::new(BooleanQuery::union(fields.iter().map(|&field| in_field(field)).collect())))
}

fn piece_query(field: Field, piece: &Piece) -> Box<dyn TantivyQuery> {
    let regex = |pattern: String| -> Box<dyn TantivyQuery> {
        match RegexQuery::from_pattern(&pattern, field) {
            Ok(query) => Box::new(query),
            // Words are letters and digits only; should the pattern still be refused, the
            // piece narrows nothing rather than losing a match.
            Err(_) => Box::new(AllQuery),
        }
    };
    match piece {
        Piece::Whole(word) => Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::Basic)),
        Piece::Start(word) => regex(format!("{}.*", escape(word))),
        Piece::End(word) => regex(format!(".*{}", escape(word))),
        Piece::Inside(word) => regex(format!(".*{}.*", escape(word))),
    }
}

/// A word as a literal in the term dictionary's regular expressions.
fn escape(word: &str) -> String {
    let mut escaped = String::with_capacity(word.len());
    for c in word.chars() {
        if !c.is_alphanumeric() {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Collects the UIDs of the documents matched (from their key).
struct Uids;

struct SegmentUids {
    keys: tantivy::columnar::Column<u64>,
    uids: HashSet<u32>,
}

impl Collector for Uids {
    type Fruit = HashSet<u32>;
    type Child = SegmentUids;

    fn for_segment(&self, _: u32, segment: &SegmentReader) -> tantivy::Result<SegmentUids> {
        Ok(SegmentUids { keys: segment.fast_fields().u64("key")?, uids: HashSet::new() })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<HashSet<u32>>) -> tantivy::Result<HashSet<u32>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentUids {
    type Fruit = HashSet<u32>;

    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(key) = self.keys.first(doc) {
            self.uids.insert(place_of(key).1);
        }
    }

    fn harvest(self) -> HashSet<u32> {
        self.uids
    }
}
