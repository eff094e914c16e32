//! Full-text search (issue 15, FEATURES E1–E5): one Tantivy index of every account's
//! messages in the data folder, kept by [`follow`]ing the store's change log.
//!
//! - [`text`]: how text is cut into words and folded (case and accents), for the index and for
//!   queries alike.
//! - [`query`]: the search box's language (E2) read into a [`Query`].
//! - [`SearchIndex`]: opening (rebuilt when missing, unreadable or of another version),
//!   [`SearchIndex::search`] for the web client, [`SearchIndex::narrow`] for IMAP SEARCH, which
//!   reads only the messages the index cannot rule out, so its answers never change.
//!
//! Invariant: a search never crosses accounts; every query is ANDed with the account's term.

mod index;
mod indexer;
pub mod query;
mod schema;
pub mod text;

pub use index::{Hit, MAX_RESULTS, Narrowed, Needle, Scope, SearchIndex};
pub use indexer::{Progress, follow};
pub use query::{Query, QueryError, parse};
pub use schema::Entry;

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index folder: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the search index is in use by another process (a running server)")]
    InUse,
    #[error("search index: a writing task failed")]
    Poisoned,
    #[error("search index: a search task failed")]
    Task,
}
