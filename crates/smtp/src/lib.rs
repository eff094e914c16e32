//! Facteur's inbound SMTP server: the MX role on port 25 (FEATURES K4, RFC 5321).
//!
//! Mail from other servers arrives here, is routed through the mail domain (A3 aliases, A5
//! postmaster, A9 plus addressing) and delivered to local Inboxes; nothing is relayed
//! (authenticated submission and the outbound queue come later).
//!
//! Code map:
//! - [`codec`]: command-line framing and parsing, pure (no I/O), split-tested.
//! - [`data_receiver`]: the DATA state machine (end of data, dot-unstuffing, size cap, bare
//!   CR/LF detection), pure, split-tested.
//! - `session`: one connection: reads, pipelining-aware flushing, timeouts, state, dispatch.
//! - `op/*`: one file per command family (`handle_<command>`).
//! - `error` + `reply`: the one error enum and the one place that turns it into a reply.
//! - `trace`: the `Return-Path:` and `Received:` header fields added before storing.
//!
//! Invariants:
//! - A message is answered `250` only after [`mail::Mail::deliver`] returned `Ok`, which
//!   means the blob is fsynced and the rows are committed.
//! - No recipient is accepted whose copy we could not keep (RFC 5321 §6.1): a recipient that
//!   forwards to another server is deferred with 451 (no outbound queue yet) and a full mailbox
//!   with 452, at RCPT; at DATA, a mailbox without room for the real size defers the whole
//!   message, and the store's delivery is all or nothing, so a mailbox filled meanwhile by a
//!   concurrent delivery defers it too.
//! - Messages being received hold memory only within `data_budget`'s fair shares: so many
//!   DATA phases per client (one client cannot stop everyone's mail), and a byte budget for
//!   the whole process reserved before the buffer grows; past it a message is deferred (452).
//! - Only `<CRLF>.<CRLF>` ends DATA; a message with a bare CR or LF is refused as a whole
//!   (SMTP smuggling, CVE-2023-51764/51765/51766), so no other reading of its end can ever
//!   deliver a second message.
//! - Bytes pipelined after STARTTLS are dropped before the handshake (CVE-2011-0411).

pub mod codec;
mod data_budget;
pub mod data_receiver;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod op;
mod reply;
mod session;
mod trace;

use std::sync::Arc;

use tokio::net::TcpListener;

pub use error::{Error, Result};

/// What an SMTP session needs from the rest of the server.
pub struct SmtpServices {
    /// Delivery goes through here; lookups use its store.
    pub mail: mail::Mail,
    /// Offered as STARTTLS (RFC 3207) when present.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Our name in the greeting and in `Received:` fields.
    pub hostname: String,
}

impl SmtpServices {
    /// The store, for lookups (delivery goes through [`SmtpServices::mail`]).
    pub(crate) fn store(&self) -> &store::Store {
        self.mail.store()
    }
}

pub use listener::AsyncStream;

/// Connections served at once, in all and per client; past these a newcomer gets `421`
/// (RFC 5321 §3.8) and is closed, so a flood cannot exhaust memory or file descriptors, nor one
/// client take every slot. Big senders open a handful of connections; 50 is Postfix's default.
pub const LIMITS: listener::Limits = listener::Limits { total: 1000, per_client: 50 };

/// Accepts connections until the task is dropped, one task per connection, within [`LIMITS`].
pub async fn serve(listener: TcpListener, services: Arc<SmtpServices>) {
    let hostname = services.hostname.clone();
    listener::accept_loop(
        listener,
        "smtp",
        LIMITS,
        |stream, peer| session::run(Box::new(stream), peer.ip(), Arc::clone(&services)),
        move |stream, _| {
            let hostname = hostname.clone();
            async move { session::refuse_busy(Box::new(stream), &hostname).await }
        },
    )
    .await;
}

/// Runs one session over any stream (tests use `tokio::io::duplex`); `peer` goes into the
/// `Received:` field.
pub async fn serve_stream(stream: Box<dyn AsyncStream>, peer: std::net::IpAddr, services: Arc<SmtpServices>) {
    session::run(stream, peer, services).await;
}
