//! Facteur's IMAP server (K1): sessions on imap-codec for desktop and mobile mail clients.
//!
//! Layers, from the socket in:
//! - [`serve`] accepts connections and runs one [`session::Session`] task per client, after a
//!   TLS handshake for IMAPS (implicit TLS, RFC 8314).
//! - `framing` cuts bytes into commands with size caps; it does no I/O (tested by splitting
//!   transcripts at every byte).
//! - `session` owns the connection state (RFC 9051 §3), gates commands by state, and
//!   dispatches to `op/<command>.rs`; `error` turns every failure into BAD / NO [CODE] in one
//!   place; `response` encodes what goes back.
//! - `selected` is the session's view of the selected folder (UIDs vs sequence numbers);
//!   `fetch` computes ENVELOPE, BODYSTRUCTURE and body sections from the stored bytes.
//!
//! Invariant: all data comes from [`store::Store`] methods; this crate has no SQL.

mod error;
mod fetch;
mod framing;
mod op;
mod response;
mod selected;
mod session;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

pub use error::{Code, Error};

/// What every IMAP session needs from the server.
pub struct ImapServices {
    pub store: store::Store,
    /// The certificate for STARTTLS and IMAPS; `None` disables both.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// The name given in the greeting.
    pub hostname: String,
}

/// A byte stream a session can run over: plain TCP, TLS, or an in-memory pipe in tests.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

/// Accepts IMAP connections until the listener fails, one task per connection.
/// With `implicit_tls` (IMAPS, port 993) the TLS handshake comes first; otherwise the session
/// starts in plaintext and offers STARTTLS when `services.tls` is set.
pub async fn serve(listener: TcpListener, services: Arc<ImapServices>, implicit_tls: bool) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Running out of file descriptors is transient: wait and go on accepting.
                tracing::warn!(%error, "IMAP accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let services = services.clone();
        tokio::spawn(async move {
            let _ = socket.set_nodelay(true);
            handle_connection(socket, peer, services, implicit_tls).await;
        });
    }
}

async fn handle_connection(
    socket: tokio::net::TcpStream,
    peer: SocketAddr,
    services: Arc<ImapServices>,
    implicit_tls: bool,
) {
    let span = tracing::info_span!("imap", %peer);
    let stream: Box<dyn AsyncStream> = if implicit_tls {
        let Some(acceptor) = services.tls.clone() else {
            tracing::error!("IMAPS listener without a TLS certificate");
            return;
        };
        // A client that never finishes the handshake must not hold a task forever.
        match tokio::time::timeout(session::HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
            Ok(Ok(tls)) => Box::new(tls),
            Ok(Err(error)) => {
                tracing::debug!(%peer, %error, "IMAPS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%peer, "IMAPS handshake timed out");
                return;
            }
        }
    } else {
        Box::new(socket)
    };
    let session = session::Session::new(stream, services, Some(peer), implicit_tls);
    tracing::Instrument::instrument(session.run(), span).await;
}
