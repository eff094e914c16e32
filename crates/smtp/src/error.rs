//! The crate's one error type, and the one place that turns an error into a reply.
//!
//! Three classes (as mox does): the client's syntax (500/501/555), the client's request
//! refused (4xx/5xx with a precise enhanced code), and our own failures (logged, answered with
//! a generic 451 that leaks nothing).

use crate::codec::SyntaxError;
use crate::reply::Reply;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line does not parse.
    #[error("syntax error: {0}")]
    Syntax(#[from] SyntaxError),
    /// A command line ended with a bare LF (RFC 5321 §2.3.8).
    #[error("command line ended with a bare LF")]
    BareLfInCommand,
    /// A command line was longer than [`crate::codec::MAX_COMMAND_LINE`].
    #[error("command line too long")]
    CommandLineTooLong,
    /// The command is not valid in this state (RFC 5321 §4.1.4); the text says what to do.
    #[error("bad sequence of commands: {0}")]
    BadSequence(&'static str),
    /// We do not offer this command.
    #[error("command not implemented")]
    NotImplemented,
    /// The recipient address does not parse as `local@domain`.
    #[error("bad recipient address syntax")]
    BadRecipientSyntax,
    /// A non-ASCII address in a transaction without SMTPUTF8 (RFC 6531 §3.5).
    #[error("non-ASCII address without SMTPUTF8")]
    NeedsSmtpUtf8,
    /// The message is larger than [`store::MAX_MESSAGE_BYTES`].
    #[error("message too big")]
    MessageTooBig,
    /// The domain is ours but nobody has this address.
    #[error("unknown user")]
    UnknownUser,
    /// The domain is not ours and the client is not authenticated.
    #[error("relaying denied")]
    RelayDenied,
    /// Only the owners of this distribution list (A7) post to it.
    #[error("not an owner of the list")]
    NotListOwner,
    /// A list's own post came back to it (a member's address forwards to the list).
    #[error("list loop")]
    ListLoop,
    /// MX: more `Received:` fields than [`crate::MAX_HOPS`]: a mail loop (RFC 5321 §6.3).
    #[error("too many hops")]
    TooManyHops,
    /// MX: the author's domain (the text) publishes DMARC `p=reject` and the message fails it
    /// (RFC 7489 §6.7).
    #[error("DMARC policy rejects the message")]
    DmarcReject(String),
    /// MX: `From:` twice, or naming several domains: DMARC cannot judge it (RFC 7489 §6.6.1).
    #[error("ambiguous author")]
    AmbiguousAuthor,
    /// MX: the sender checks' lookups took too long for a domain with a strict DMARC policy.
    #[error("sender checks timed out")]
    ChecksDeferred,
    /// MX: a header section beyond `sender_checks::MAX_HEADER_BYTES` or `MAX_HEADER_FIELDS`.
    #[error("header section too large")]
    HeaderTooLarge,
    /// Submission: MAIL before AUTH (RFC 4954 §6, RFC 6409 §4.3).
    #[error("authentication required")]
    AuthRequired,
    /// Submission: AUTH before TLS; passwords travel only encrypted (RFC 8314 §3, RFC 4954 §4).
    #[error("encryption required before authentication")]
    EncryptionRequired,
    /// Wrong login or password, or a malformed or refused SASL exchange.
    #[error("authentication failed")]
    AuthFailed,
    /// Too many failed logins lately for this login or client (F8).
    #[error("authentication throttled")]
    AuthThrottled,
    /// The client answered a SASL challenge with `*` (RFC 4954 §4).
    #[error("authentication cancelled")]
    AuthCancelled,
    /// A SASL mechanism other than PLAIN and LOGIN.
    #[error("unsupported authentication mechanism")]
    UnsupportedMechanism,
    /// Submission: an envelope sender that is not one of the account's own addresses.
    #[error("sender address not owned")]
    SenderNotOwned,
    /// Submission: a `From:` or `Sender:` address that is not one of the account's own.
    #[error("author address not owned")]
    AuthorNotOwned,
    /// Submission: the account sent as many messages this hour as it may.
    #[error("hourly sending limit reached")]
    SendingLimit(u32),
    /// RFC 5321 §4.5.3.1.8: more than 100 recipients.
    #[error("too many recipients")]
    TooManyRecipients,
    /// DATA with no accepted recipient.
    #[error("no valid recipients")]
    NoValidRecipients,
    /// The message contains a bare CR or LF (see [`crate::data_receiver`]).
    #[error("message contains a bare CR or LF")]
    BareNewlineInData,
    /// A message line is longer than [`crate::data_receiver::MAX_DATA_LINE`].
    #[error("message line too long")]
    DataLineTooLong,
    /// A mailbox has no room for the message (A10): at RCPT for that recipient, at DATA for
    /// the whole message (nothing is stored).
    #[error("mailbox full")]
    MailboxFull,
    /// Too many messages are being received at once; the client should retry later.
    #[error("too many DATA phases at once")]
    InsufficientResources,
    /// The client was silent longer than RFC 5321 §4.5.3.2 allows.
    #[error("timed out")]
    Timeout,
    /// The client made too many mistakes; we close the connection.
    #[error("too many bad commands")]
    TooManyErrors,
    /// The connection failed or the client went away.
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    /// The TLS handshake failed after STARTTLS.
    #[error("TLS handshake: {0}")]
    Tls(std::io::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] store::Error),
}

impl Error {
    /// The reply to send for this error, or `None` when the connection is unusable. Internal
    /// failures are logged here, in the session's span, and answered generically.
    pub(crate) fn reply(&self) -> Option<Reply> {
        use Error::*;
        let reply = match self {
            Syntax(err) => Reply::new(err.code, err.enhanced, err.message),
            BareLfInCommand => Reply::new(500, "5.5.2", "Command lines must end with CRLF (RFC 5321 section 2.3.8)"),
            CommandLineTooLong => Reply::new(500, "5.5.6", "Line too long"),
            BadSequence(what) => Reply::new(503, "5.5.1", *what),
            NotImplemented => Reply::new(502, "5.5.1", "Command not implemented"),
            BadRecipientSyntax => Reply::new(501, "5.1.3", "Bad recipient address syntax"),
            NeedsSmtpUtf8 => Reply::new(553, "5.6.7", "Non-ASCII addresses require the SMTPUTF8 parameter"),
            MessageTooBig => Reply::new(
                552,
                "5.3.4",
                format!("Message size exceeds the limit of {} bytes", store::MAX_MESSAGE_BYTES),
            ),
            UnknownUser => Reply::new(550, "5.1.1", "No such user here"),
            RelayDenied => Reply::new(550, "5.7.1", "Relaying denied"),
            NotListOwner => Reply::new(550, "5.7.1", "Only the owners of this list post to it"),
            ListLoop => Reply::new(554, "5.4.6", "Mail loop: this message already went through this list"),
            AuthRequired => Reply::new(530, "5.7.0", "Authentication required"),
            EncryptionRequired => Reply::new(538, "5.7.11", "Encryption required: use STARTTLS first"),
            AuthFailed => Reply::new(535, "5.7.8", "Authentication credentials invalid"),
            AuthThrottled => Reply::new(454, "4.7.0", "Too many failed logins, try again later"),
            AuthCancelled => Reply::new(501, "5.0.0", "Authentication cancelled"),
            UnsupportedMechanism => Reply::new(504, "5.5.4", "Unsupported mechanism: use PLAIN or LOGIN"),
            SenderNotOwned => Reply::new(553, "5.7.1", "Sender address is not one of the account's own"),
            AuthorNotOwned => Reply::new(550, "5.7.1", "The From: address is not one of the account's own"),
            SendingLimit(per_hour) => {
                Reply::new(450, "4.7.1", format!("Sending limit reached ({per_hour} messages an hour), try later"))
            }
            TooManyRecipients => Reply::new(452, "4.5.3", "Too many recipients"),
            NoValidRecipients => Reply::new(554, "5.5.1", "No valid recipients"),
            BareNewlineInData => {
                Reply::new(550, "5.6.0", "Message refused: bare CR or LF found, lines must end with CRLF")
            }
            DataLineTooLong => Reply::new(550, "5.6.0", "Message refused: a line is too long"),
            // A full mailbox is temporary (its owner can make room), so 452 rather than 552
            // (RFC 5321 §4.2.2): the sender keeps the message and retries. RFC 3463 §3.3: X.2.2.
            MailboxFull => Reply::new(452, "4.2.2", "Mailbox full"),
            // RFC 3463 §3.4: X.3.1 the mail system has no room for more right now.
            InsufficientResources => Reply::new(452, "4.3.1", "Insufficient system resources, try later"),
            TooManyHops => Reply::new(554, "5.4.6", "Too many hops: mail loop detected"),
            // RFC 7372 §3.1: X.7.1 delivery not authorised, as the DMARC policy asks.
            DmarcReject(domain) => {
                Reply::new(550, "5.7.1", format!("Rejected by the DMARC policy of {domain}: not authenticated"))
            }
            AmbiguousAuthor => {
                Reply::new(550, "5.7.1", "A message needs one From: field naming one domain (RFC 5322, RFC 7489)")
            }
            ChecksDeferred => Reply::new(451, "4.7.0", "Sender checks timed out, try again later"),
            HeaderTooLarge => Reply::new(552, "5.3.4", "Header section too large"),
            Timeout => Reply::new(421, "4.4.2", "Timeout, closing connection"),
            TooManyErrors => Reply::new(421, "4.7.0", "Too many errors, closing connection"),
            Io(_) | Tls(_) => return None,
            Store(err) => {
                tracing::error!(error = %err, "smtp: store failure");
                Reply::new(451, "4.3.0", "Local error in processing, try again later")
            }
        };
        Some(reply)
    }

    /// Whether this counts towards the bad-command limit: mistakes and probing, not our own
    /// failures nor refusals of a message's content.
    pub(crate) fn is_bad_command(&self) -> bool {
        use Error::*;
        matches!(
            self,
            Syntax(_)
                | BareLfInCommand
                | CommandLineTooLong
                | BadSequence(_)
                | NotImplemented
                | BadRecipientSyntax
                | NeedsSmtpUtf8
                | UnknownUser
                | RelayDenied
                | NoValidRecipients
                | AuthRequired
                | EncryptionRequired
                | AuthCancelled
                | UnsupportedMechanism
        )
    }
}
