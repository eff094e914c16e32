//! Facteur's IMAP server (K1): sessions on imap-codec for desktop and mobile mail clients.
//!
//! Layers, from the socket in:
//! - [`serve`] accepts connections and runs one [`session::Session`] task per client, after a
//!   TLS handshake for IMAPS (implicit TLS, RFC 8314), up to [`MAX_CONNECTIONS`] at once.
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
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

pub use error::{Code, Error};
pub use framing::LiteralForm;

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

/// Connections one listener serves at once. Past this a newcomer is refused at once, so a
/// flood cannot exhaust memory or file descriptors (each session may buffer a command).
pub const MAX_CONNECTIONS: usize = 1000;

/// Accepts IMAP connections until the listener fails, one task per connection, at most
/// [`MAX_CONNECTIONS`] at once. With `implicit_tls` (IMAPS, port 993) the TLS handshake comes
/// first; otherwise the session starts in plaintext and offers STARTTLS when `services.tls` is
/// set.
pub async fn serve(listener: TcpListener, services: Arc<ImapServices>, implicit_tls: bool) {
    serve_with_limit(listener, services, implicit_tls, MAX_CONNECTIONS).await;
}

async fn serve_with_limit(
    listener: TcpListener,
    services: Arc<ImapServices>,
    implicit_tls: bool,
    max_connections: usize,
) {
    let slots = Arc::new(Semaphore::new(max_connections));
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Running out of file descriptors is transient: wait and go on accepting.
                tracing::warn!(%error, "IMAP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let services = services.clone();
        // Taken before spawning, so the count is exact; the slot is freed when the task ends.
        let slot = slots.clone().try_acquire_owned();
        tokio::spawn(async move {
            let Ok(_slot) = slot else {
                refuse_busy(socket, implicit_tls).await;
                return;
            };
            let _ = socket.set_nodelay(true);
            handle_connection(socket, peer, services, implicit_tls).await;
        });
    }
}

/// RFC 9051 §7.1.5: a BYE instead of the greeting refuses a connection. On IMAPS the BYE would
/// need a TLS handshake first, the very work there is no room for, so the connection is only
/// closed.
async fn refuse_busy(mut socket: TcpStream, implicit_tls: bool) {
    tracing::warn!("IMAP connection refused: {MAX_CONNECTIONS} connections already");
    if implicit_tls {
        return;
    }
    let bye = b"* BYE Too many connections; try again later\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.write_all(bye)).await;
}

async fn handle_connection(socket: TcpStream, peer: SocketAddr, services: Arc<ImapServices>, implicit_tls: bool) {
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

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, BufReader};

    use super::*;

    async fn services() -> (tempfile::TempDir, Arc<ImapServices>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store::Store::open(dir.path()).await.expect("store opens");
        (dir, Arc::new(ImapServices { store, tls: None, hostname: "test".into() }))
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
        let server = tokio::spawn(serve_with_limit(listener, services, false, 1));
        let (greeting, _first) = first_line(TcpStream::connect(address).await.expect("connect")).await;
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let (refusal, mut second) = first_line(TcpStream::connect(address).await.expect("connect")).await;
        assert_eq!(refusal, "* BYE Too many connections; try again later\r\n");
        let mut rest = String::new();
        assert_eq!(second.read_line(&mut rest).await.expect("read"), 0, "closed after BYE: {rest}");
        server.abort();
    }
}
