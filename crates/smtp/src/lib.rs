//! Facteur's inbound SMTP server: the MX role on port 25 (FEATURES K4, RFC 5321).
//!
//! Mail from other servers arrives here, is routed through the store (A3 aliases, A5
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
//! - A message is answered `250` only after [`store::Store::deliver`] returned `Ok`, which
//!   means the blob is fsynced and the rows are committed.
//! - No recipient is accepted whose copy we could not keep (RFC 5321 §6.1): a recipient that
//!   forwards to another server is deferred with 451 (no outbound queue yet) and a full mailbox
//!   with 452, at RCPT; at DATA, a mailbox without room for the real size defers the whole
//!   message. The one gap left: a mailbox filled by a concurrent delivery between that check
//!   and the commit misses the message, which is logged as an error (no bounces yet).
//! - At most `MAX_CONCURRENT_DATA` (16) messages are received at once in the process, each in
//!   a single buffer of at most [`store::MAX_MESSAGE_BYTES`]; past that, DATA gets 452.
//! - Only `<CRLF>.<CRLF>` ends DATA; a message with a bare CR or LF is refused as a whole
//!   (SMTP smuggling, CVE-2023-51764/51765/51766), so no other reading of its end can ever
//!   deliver a second message.
//! - Bytes pipelined after STARTTLS are dropped before the handshake (CVE-2011-0411).

pub mod codec;
pub mod data_receiver;
mod error;
mod op;
mod reply;
mod session;
mod trace;

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use error::{Error, Result};

/// What an SMTP session needs from the rest of the server.
pub struct SmtpServices {
    pub store: store::Store,
    /// Offered as STARTTLS (RFC 3207) when present.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Our name in the greeting and in `Received:` fields.
    pub hostname: String,
}

/// A byte stream a session runs over: plain TCP, TLS over TCP, or an in-memory duplex in tests.
/// Boxing it lets STARTTLS swap the plain stream for a TLS one in place.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

/// Connections served at once; past this a newcomer gets `421` (RFC 5321 §3.8) and is closed,
/// so a flood cannot exhaust memory or file descriptors.
const MAX_CONNECTIONS: usize = 1000;

/// Accepts connections forever, one task per connection.
pub async fn serve(listener: TcpListener, services: Arc<SmtpServices>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // Typically EMFILE: wait a little instead of spinning on the error.
                tracing::warn!(%err, "smtp accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let services = services.clone();
        let slot = slots.clone().try_acquire_owned();
        tokio::spawn(async move {
            let Ok(_slot) = slot else {
                session::refuse_busy(Box::new(stream), &services.hostname).await;
                return;
            };
            session::run(Box::new(stream), peer.ip(), services).await;
        });
    }
}

/// Runs one session over any stream (tests use `tokio::io::duplex`); `peer` goes into the
/// `Received:` field.
pub async fn serve_stream(stream: Box<dyn AsyncStream>, peer: std::net::IpAddr, services: Arc<SmtpServices>) {
    session::run(stream, peer, services).await;
}
