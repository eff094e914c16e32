//! The one error type of the web client's server functions.
//!
//! Each variant stands for something the reader can be told, in their language, through
//! [`AppError::message_key`]; internal failures are logged on the server and arrive here as
//! [`AppError::Internal`] with no detail, so database or file-system text never reaches a browser.

use std::fmt;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::i18n::Key;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// No valid session cookie: the page sends the reader to /login.
    NotLoggedIn,
    /// Wrong login or password (the two are not told apart).
    BadCredentials,
    /// Too many failed logins recently (F8).
    Throttled,
    /// The folder or message does not exist or belongs to someone else.
    NotFound,
    /// A name or value the reader typed is not acceptable.
    InvalidName,
    /// The reader already has something by that name.
    NameTaken,
    /// The composer: a message with no recipient.
    NoRecipient,
    /// The composer: this is not an address.
    BadRecipient(String),
    /// The composer: this address is in one of our domains, and nobody has it.
    UnknownRecipient(String),
    /// The composer: a local recipient's mailbox has no room for the message.
    RecipientMailboxFull,
    /// The composer: the account sent as many messages this hour as it may.
    SendingLimit,
    /// The composer: more recipients than one message may have.
    TooManyRecipients,
    /// The composer: an address to send from that is not the account's.
    NotYourAddress(String),
    /// The reader's own mailbox is full (a draft cannot be saved).
    MailboxFull,
    /// A text the reader wrote (a signature) is longer than what is kept.
    TooLong,
    /// The composer: an attached file is no longer there (its message was deleted).
    AttachmentGone,
    /// The composer: the attachments weigh more than a message may carry.
    AttachmentsTooLarge,
    /// More messages chosen than one action takes (a conversation counts all its messages).
    TooManyChosen,
    /// The composer: a time to send at that is past, or more than a year away.
    BadSendTime,
    /// "Undo" came after the message left.
    TooLateToUndo,
    /// C7: the attachment to remove is the whole message (its only part).
    WholeMessageAttachment,
    /// The account may not administer what it asked about (issue 18): `403 Forbidden`.
    Forbidden,
    /// A new password too short (at least 8 characters) or too long.
    WeakPassword,
    /// The administration: the reader's own mailbox cannot be deleted, disabled or turned
    /// into an alias from the web client (they would lock themselves out).
    OwnMailbox,
    /// The administration: the server's last administrator stays.
    LastAdministrator,
    /// The administration: a domain with mailboxes is not removed.
    DomainNotEmpty,
    /// The server failed; the details are in its log.
    Internal,
    /// The server function machinery failed (bad request encoding, network). The text comes from
    /// Leptos, never from our storage.
    Request(String),
}

impl AppError {
    /// The sentence to show for this error.
    pub fn message_key(&self) -> Key {
        match self {
            AppError::NotLoggedIn => Key::ErrNotLoggedIn,
            AppError::BadCredentials => Key::ErrBadCredentials,
            AppError::Throttled => Key::ErrThrottled,
            AppError::NotFound => Key::ErrNotFound,
            AppError::InvalidName => Key::ErrInvalidName,
            AppError::NameTaken => Key::ErrNameTaken,
            AppError::NoRecipient => Key::ErrNoRecipient,
            AppError::BadRecipient(_) => Key::ErrBadRecipient,
            AppError::UnknownRecipient(_) => Key::ErrUnknownRecipient,
            AppError::RecipientMailboxFull => Key::ErrRecipientMailboxFull,
            AppError::SendingLimit => Key::ErrSendingLimit,
            AppError::TooManyRecipients => Key::ErrTooManyRecipients,
            AppError::NotYourAddress(_) => Key::ErrNotYourAddress,
            AppError::MailboxFull => Key::ErrMailboxFull,
            AppError::TooLong => Key::ErrTooLong,
            AppError::AttachmentGone => Key::ErrAttachmentGone,
            AppError::AttachmentsTooLarge => Key::ErrAttachmentsTooLarge,
            AppError::TooManyChosen => Key::ErrTooManyChosen,
            AppError::BadSendTime => Key::ErrBadSendTime,
            AppError::TooLateToUndo => Key::ErrTooLateToUndo,
            AppError::WholeMessageAttachment => Key::ErrWholeMessageAttachment,
            AppError::Forbidden => Key::ErrForbidden,
            AppError::WeakPassword => Key::ErrWeakPassword,
            AppError::OwnMailbox => Key::ErrOwnMailbox,
            AppError::LastAdministrator => Key::ErrLastAdministrator,
            AppError::DomainNotEmpty => Key::ErrDomainNotEmpty,
            AppError::Internal => Key::ErrInternal,
            AppError::Request(_) => Key::ErrRequest,
        }
    }

    /// What the sentence is about, when it names something the reader typed (an address).
    pub fn detail(&self) -> Option<&str> {
        match self {
            AppError::BadRecipient(what) | AppError::UnknownRecipient(what) | AppError::NotYourAddress(what) => {
                Some(what)
            }
            _ => None,
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::NotLoggedIn => f.write_str("not logged in"),
            AppError::BadCredentials => f.write_str("wrong login or password"),
            AppError::Throttled => f.write_str("too many failed logins"),
            AppError::NotFound => f.write_str("not found"),
            AppError::InvalidName => f.write_str("invalid name"),
            AppError::NameTaken => f.write_str("name already used"),
            AppError::NoRecipient => f.write_str("no recipient"),
            AppError::BadRecipient(what) => write!(f, "not an address: {what}"),
            AppError::UnknownRecipient(what) => write!(f, "no such local address: {what}"),
            AppError::RecipientMailboxFull => f.write_str("a recipient's mailbox is full"),
            AppError::SendingLimit => f.write_str("hourly sending limit reached"),
            AppError::TooManyRecipients => f.write_str("too many recipients"),
            AppError::NotYourAddress(what) => write!(f, "not the account's address: {what}"),
            AppError::MailboxFull => f.write_str("mailbox full"),
            AppError::TooLong => f.write_str("too long"),
            AppError::AttachmentGone => f.write_str("an attached file is gone"),
            AppError::AttachmentsTooLarge => f.write_str("attachments too large"),
            AppError::TooManyChosen => f.write_str("too many messages chosen"),
            AppError::BadSendTime => f.write_str("bad time to send at"),
            AppError::TooLateToUndo => f.write_str("too late to undo"),
            AppError::WholeMessageAttachment => f.write_str("the attachment is the whole message"),
            AppError::Forbidden => f.write_str("forbidden"),
            AppError::WeakPassword => f.write_str("password too short or too long"),
            AppError::OwnMailbox => f.write_str("the reader's own mailbox"),
            AppError::LastAdministrator => f.write_str("the server's last administrator"),
            AppError::DomainNotEmpty => f.write_str("the domain has mailboxes"),
            AppError::Internal => f.write_str("internal error"),
            AppError::Request(text) => write!(f, "request failed: {text}"),
        }
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<store::Error> for AppError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::NotFound(_) => AppError::NotFound,
            other => {
                tracing::error!(error = %other, "web client: store failed");
                AppError::Internal
            }
        }
    }
}
