//! Facteur's IMAP server (K1): sessions on imap-codec for desktop and mobile mail clients.
//!
//! Layers, from the socket in:
//! - [`serve`] accepts connections (through the shared `listener` crate, within [`LIMITS`]) and
//!   runs one [`session::Session`] task per client, after a TLS handshake for IMAPS (implicit
//!   TLS, RFC 8314).
//! - `framing` cuts bytes into commands with size caps; it does no I/O (tested by splitting
//!   transcripts at every byte).
//! - `session` owns the connection state (RFC 9051 §3), gates commands by state, and
//!   dispatches to `op/<command>.rs`; `error` turns every failure into BAD / NO [CODE] in one
//!   place; `response` encodes what goes back.
//! - `selected` is the session's view of the selected folder (UIDs vs sequence numbers);
//!   `fetch` computes ENVELOPE, BODYSTRUCTURE and body sections from the stored bytes.
//!
//! Invariant: mail is changed only through [`mail::Mail`] and read from its store; this crate
//! has no SQL.

mod compress;
mod error;
mod extended;
mod fetch;
mod framing;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod op;
mod response;
mod selected;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

pub use error::{Code, Error};
pub use framing::LiteralForm;

/// What every IMAP session needs from the server.
pub struct ImapServices {
    /// Every change to mail goes through here; reads use its store.
    pub mail: mail::Mail,
    /// Logins, over the same store.
    pub auth: auth::Auth,
    /// The certificate for STARTTLS and IMAPS; `None` disables both.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// The name given in the greeting.
    pub hostname: String,
    /// Each account's share of the output (`listener::ByteBudget`), shared by its sessions.
    pub output_budget: listener::ByteBudget<store::AccountId>,
    /// Bytes of large literals (APPENDed messages) all sessions may hold at once: one permit
    /// per byte, taken before the client is asked to send them.
    pub(crate) literal_memory: Arc<tokio::sync::Semaphore>,
    /// Passwords accepted without TLS from loopback clients (benchmarks beside a reference
    /// server that allows it; a local proxy that already did TLS). Off by default.
    pub plaintext_login_on_loopback: bool,
    /// The full-text index, which narrows SEARCH's text keys down in large folders; without
    /// it every message is read.
    pub search: Option<Arc<search::SearchIndex>>,
}

/// What large literals may take in all, server-wide. A message is held twice for a moment (its
/// bytes and the parsed command), so this lets two 50 MB APPENDs, or hundreds of ordinary
/// ones, run at once; past it a client is asked to try again (NO [LIMIT]) before it sends.
pub const LITERAL_MEMORY_BYTES: usize = 256 * 1024 * 1024;

impl ImapServices {
    /// The services with the default output budget.
    pub fn new(mail: mail::Mail, auth: auth::Auth, tls: Option<tokio_rustls::TlsAcceptor>, hostname: String) -> Self {
        let output_budget = listener::ByteBudget::new(listener::OUTPUT_BYTES_PER_SECOND, listener::OUTPUT_BURST_BYTES);
        let literal_memory = Arc::new(tokio::sync::Semaphore::new(LITERAL_MEMORY_BYTES));
        ImapServices {
            mail,
            auth,
            tls,
            hostname,
            output_budget,
            literal_memory,
            plaintext_login_on_loopback: false,
            search: None,
        }
    }
}

impl ImapServices {
    /// The store, for reading (changes go through [`ImapServices::mail`]).
    pub(crate) fn store(&self) -> &store::Store {
        self.mail.store()
    }
}

pub use listener::AsyncStream;

/// Connections one listener serves at once, in all and per client. Past these a newcomer is
/// refused at once, so a flood cannot exhaust memory or file descriptors (each session may
/// buffer a command), nor one client take every slot. Per client is generous: an office behind
/// one NAT address runs a few desktop clients per person, each with several connections.
pub const LIMITS: listener::Limits = listener::Limits { total: 1000, per_client: 200 };

/// Accepts IMAP connections until the task is dropped, one task per connection, within
/// [`LIMITS`]. With `implicit_tls` (IMAPS, port 993) the TLS handshake comes first; otherwise
/// the session starts in plaintext and offers STARTTLS when `services.tls` is set.
pub async fn serve(listener: TcpListener, services: Arc<ImapServices>, implicit_tls: bool) {
    serve_with_limits(listener, services, implicit_tls, LIMITS).await;
}

async fn serve_with_limits(
    listener: TcpListener,
    services: Arc<ImapServices>,
    implicit_tls: bool,
    limits: listener::Limits,
) {
    let name = if implicit_tls { "imaps" } else { "imap" };
    listener::accept_loop(
        listener,
        name,
        limits,
        |socket, peer| handle_connection(socket, peer, Arc::clone(&services), implicit_tls),
        move |socket, _| refuse_busy(socket, implicit_tls),
    )
    .await;
}

/// RFC 9051 §7.1.5: a BYE instead of the greeting refuses a connection. On IMAPS the BYE would
/// need a TLS handshake first, the very work there is no room for, so the connection is only
/// closed.
async fn refuse_busy(mut socket: TcpStream, implicit_tls: bool) {
    if implicit_tls {
        return;
    }
    let bye = b"* BYE Too many connections; try again later\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.write_all(bye)).await;
}

async fn handle_connection(socket: TcpStream, peer: SocketAddr, services: Arc<ImapServices>, implicit_tls: bool) {
    let span = tracing::info_span!("imap", %peer);
    let stream: Box<dyn AsyncStream> = if implicit_tls {
        // Boxed: the handshake's state is large and short-lived; the task of a session that
        // then sits idle for hours need not keep room for it.
        let handshake = listener::accept_tls(services.tls.as_ref(), socket, "imaps", peer.ip());
        let Some(tls) = Box::pin(handshake).await else { return };
        tls
    } else {
        Box::new(socket)
    };
    let mut session = session::Session::new(stream, services, Some(peer), implicit_tls);
    tracing::Instrument::instrument(session.run(), span).await;
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, BufReader};

    use super::*;

    async fn services() -> (tempfile::TempDir, Arc<ImapServices>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store::Store::open(dir.path()).await.expect("store opens");
        let auth = auth::Auth::new(store.clone());
        (dir, Arc::new(ImapServices::new(mail::Mail::new(store), auth, None, "test".into())))
    }

    async fn first_line(stream: TcpStream) -> (String, BufReader<TcpStream>) {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).await.expect("read");
        (line, reader)
    }

    /// Review finding: connections were not limited. Past the limit a client gets BYE at once.
    #[tokio::test]
    async fn connections_past_the_limit_get_bye() {
        let (_dir, services) = services().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server =
            tokio::spawn(serve_with_limits(listener, services, false, listener::Limits { total: 1, per_client: 1 }));
        let (greeting, _first) = first_line(TcpStream::connect(address).await.expect("connect")).await;
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let (refusal, mut second) = first_line(TcpStream::connect(address).await.expect("connect")).await;
        assert_eq!(refusal, "* BYE Too many connections; try again later\r\n");
        let mut rest = String::new();
        assert_eq!(second.read_line(&mut rest).await.expect("read"), 0, "closed after BYE: {rest}");
        server.abort();
    }
}
