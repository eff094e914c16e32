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
    /// An alias names a target in one of our domains that nobody has. Safe to show.
    #[error("nobody has the address {0} here")]
    UnknownTarget(String),
    /// The server's only administrator cannot be deleted or disabled. Safe to show.
    #[error("{0} is the server's last administrator")]
    LastAdministrator(String),
    /// A limit on what one account or message may hold was reached (keywords...). Safe to show.
    #[error("{0}")]
    Limit(String),
    /// The mailbox is over its quota (A10).
    #[error("mailbox full")]
    QuotaExceeded,
    /// The database failed. Log it; tell the client only something generic.
    #[error("database error: {0}")]
    Db(DbError),
    /// The file system failed (full disk...). Log it; tell the client only something generic.
    #[error("{context}: {source}")]
    Io { context: &'static str, source: std::io::Error },
}

/// A database failure, whatever the database: its text is for the log. No sqlx type appears in
/// the store's API, so a second database backend changes no caller.
#[derive(Debug)]
pub struct DbError(pub(crate) Box<dyn std::error::Error + Send + Sync>);

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DbError {}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Error {
        Error::Db(DbError(Box::new(error)))
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(error: sqlx::migrate::MigrateError) -> Error {
        Error::Db(DbError(Box::new(error)))
    }
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
