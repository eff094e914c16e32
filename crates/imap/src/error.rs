//! The crate's one error type, and the one place where errors become IMAP responses.
//!
//! Three classes, as in mox's `imapserver/error.go`: a syntax or protocol-use problem is the
//! client's bug (`BAD`); a refused but well-formed request is `NO` with a response code the
//! client can act on (RFC 9051 §7.1); anything else is ours, so it is logged and the client only
//! learns `NO [SERVERBUG]`, never the database's text.

use crate::framing::LiteralForm;
use crate::response::Response;

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

/// RFC 9051 §7.1 response codes we send with `NO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    AuthenticationFailed,
    /// RFC 9051 §7.1: authenticated, but not allowed to act as the identity asked for.
    AuthorizationFailed,
    Unavailable,
    Nonexistent,
    Cannot,
    /// RFC 9051 §7.1: the command needs a protected connection (LOGIN before STARTTLS).
    PrivacyRequired,
    /// RFC 9051 §7.1, RFC 4469: a literal or command larger than the server takes.
    TooBig,
    /// RFC 9051 §7.1: a server limit was reached (for now: too many large literals at once).
    Limit,
    /// RFC 9051 §7.1: not allowed for this user (SETQUOTA).
    NoPerm,
    /// RFC 9051 §7.1: SEARCH in a charset we do not take; the code lists those we do.
    BadCharset,
    /// RFC 9051 §7.1: DELETE of a folder that has subfolders.
    HasChildren,
    /// RFC 9051 §7.1: APPEND or COPY to a folder that does not exist, which CREATE may make.
    TryCreate,
    /// RFC 4978 §3: COMPRESS once compression is on.
    CompressionActive,
    /// RFC 3516 §4.3, §4.4: content in an encoding the server cannot undo or store.
    UnknownCte,
    /// RFC 6154 §3: CREATE with a special use the server cannot give that folder.
    UseAttr,
}

impl Code {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Code::AuthenticationFailed => "AUTHENTICATIONFAILED",
            Code::AuthorizationFailed => "AUTHORIZATIONFAILED",
            Code::Unavailable => "UNAVAILABLE",
            Code::Nonexistent => "NONEXISTENT",
            Code::Cannot => "CANNOT",
            Code::CompressionActive => "COMPRESSIONACTIVE",
            Code::PrivacyRequired => "PRIVACYREQUIRED",
            Code::TooBig => "TOOBIG",
            Code::Limit => "LIMIT",
            Code::NoPerm => "NOPERM",
            Code::BadCharset => "BADCHARSET (US-ASCII UTF-8)",
            Code::HasChildren => "HASCHILDREN",
            Code::TryCreate => "TRYCREATE",
            Code::UnknownCte => "UNKNOWN-CTE",
            Code::UseAttr => "USEATTR",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command is malformed or not allowed in this state: tagged `BAD`.
    #[error("bad command: {0}")]
    Bad(String),
    /// The command is refused: tagged `NO [code] text`. The text is shown to the user.
    #[error("refused: {text}")]
    No { code: Option<Code>, text: String },
    /// A literal (or the command holding it) is over our size caps. A client that waited for
    /// our go-ahead gets `NO [TOOBIG]`; one that sent a non-synchronizing literal over them
    /// gets `BAD [TOOBIG]` (RFC 7888 §4: the server may refuse it, having read it).
    #[error("literal too large")]
    TooBig(LiteralForm),
    /// The store failed. Logged; the client gets `NO [SERVERBUG]`.
    #[error("store: {0}")]
    Store(#[from] store::Error),
    /// A bug on our side outside the store (a task that panicked). Logged; `NO [SERVERBUG]`.
    #[error("internal: {0}")]
    Internal(String),
    /// The connection failed (reset, TLS error, timeout): the session ends.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub(crate) fn bad(text: impl Into<String>) -> Error {
        Error::Bad(text.into())
    }

    pub(crate) fn no(code: Option<Code>, text: impl Into<String>) -> Error {
        Error::No { code, text: text.into() }
    }

    /// The tagged response for this error, or `None` when the connection is gone and nothing
    /// can be sent. This is the only place errors are turned into protocol text.
    pub(crate) fn into_response(self, tag: &str) -> Option<Response> {
        match self {
            Error::Bad(text) => Some(Response::tagged(tag, "BAD", None, &text)),
            Error::No { code, text } => Some(Response::tagged(tag, "NO", code.map(Code::as_str), &text)),
            Error::TooBig(LiteralForm::Synchronizing) => {
                Some(Response::tagged(tag, "NO", Some(Code::TooBig.as_str()), "Literal or command too large"))
            }
            Error::TooBig(LiteralForm::NonSynchronizing) => Some(Response::tagged(
                tag,
                "BAD",
                Some(Code::TooBig.as_str()),
                "Literal or command too large (8 KiB before login, APPENDLIMIT after)",
            )),
            Error::Store(error) if error.is_user_error() => {
                // A store refusal (quota, not found...) has a text written to be shown.
                let code = match &error {
                    store::Error::NotFound(_) => Some(Code::Nonexistent.as_str()),
                    store::Error::Exists(_) => Some("ALREADYEXISTS"),
                    store::Error::QuotaExceeded => Some("OVERQUOTA"),
                    // RFC 9051 §7.1: LIMIT, a server limit was reached.
                    store::Error::Limit(_) => Some("LIMIT"),
                    _ => Some(Code::Cannot.as_str()),
                };
                Some(Response::tagged(tag, "NO", code, &error.to_string()))
            }
            Error::Store(error) => {
                tracing::error!(%error, "IMAP command failed in the store");
                Some(Response::tagged(tag, "NO", Some("SERVERBUG"), "internal error"))
            }
            Error::Internal(error) => {
                tracing::error!(%error, "IMAP command failed");
                Some(Response::tagged(tag, "NO", Some("SERVERBUG"), "internal error"))
            }
            Error::Io(_) => None,
        }
    }
}
