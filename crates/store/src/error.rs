//! The store's error type: variants say what the caller can do about it.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input is malformed (an address, a folder name...). The text is safe to show.
    #[error("invalid {what}: {why}")]
    Invalid { what: &'static str, why: String },
    /// The named object does not exist. The text is safe to show.
    #[error("{0} not found")]
    NotFound(String),
    /// The object already exists. The text is safe to show.
    #[error("{0} already exists")]
    Exists(String),
    /// The operation is refused as it stands (a domain still has mailboxes...). Safe to show.
    #[error("{0}")]
    Refused(String),
    /// A limit on what one account or message may hold was reached (keywords...). Safe to show.
    #[error("{0}")]
    Limit(String),
    /// The mailbox is over its quota (A10).
    #[error("mailbox full")]
    QuotaExceeded,
    /// The database failed. Log it; tell the client only something generic.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The file system failed (full disk...). Log it; tell the client only something generic.
    #[error("{context}: {source}")]
    Io { context: &'static str, source: std::io::Error },
}

impl From<types::InvalidAddress> for Error {
    fn from(error: types::InvalidAddress) -> Error {
        Error::Invalid { what: error.what, why: error.why }
    }
}

impl Error {
    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Error {
        Error::Io { context, source }
    }

    pub(crate) fn invalid(what: &'static str, why: impl fmt::Display) -> Error {
        Error::Invalid { what, why: why.to_string() }
    }

    /// True when the error comes from the client's input or the state of its objects, so its
    /// text may be shown; false for internal failures.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Db(_) | Error::Io { .. })
    }
}
