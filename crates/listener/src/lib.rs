//! Accepting TCP connections for the protocol servers (SMTP, IMAP, and the ones to come):
//! one task per connection, at most so many connections per listener and per client, and the
//! stream type sessions run over. The protocol crates share this instead of each keeping a copy;
//! they never depend on each other.
//!
//! Why per client: a listener-wide cap alone lets one address take every slot and shut
//! everyone else out. IPv6 clients are counted per /64, the block one subscriber usually holds,
//! or a single host could pick a fresh address for every connection.

mod budget;

pub use budget::{ByteBudget, OUTPUT_BURST_BYTES, OUTPUT_BYTES_PER_SECOND};

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use types::client_of;

/// A byte stream a session runs over: plain TCP, TLS over TCP, or an in-memory pipe in tests.
/// Sessions box it, so STARTTLS can swap the plain stream for a TLS one in place.
pub trait AsyncStream: AsyncRead + AsyncWrite + Unpin + Send {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send> AsyncStream for T {}

/// How long a client of an implicit-TLS port (IMAPS, submissions) has to finish the handshake
/// (IMAP's STARTTLS takes it too).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// The TLS handshake of a connection to an implicit-TLS port, within
/// [`TLS_HANDSHAKE_TIMEOUT`] (a client that never finishes it must not hold a task for ever):
/// the stream the session runs over, or `None`, logged, when there is no certificate or the
/// handshake failed. Callers box this future: its state is large and short-lived.
pub async fn accept_tls(
    acceptor: Option<&tokio_rustls::TlsAcceptor>,
    socket: TcpStream,
    listener: &'static str,
    peer: IpAddr,
) -> Option<Box<dyn AsyncStream>> {
    let Some(acceptor) = acceptor else {
        tracing::error!(listener, "implicit-TLS listener without a TLS certificate");
        return None;
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(socket)).await {
        Ok(Ok(tls)) => Some(Box::new(tls)),
        Ok(Err(error)) => {
            tracing::debug!(listener, %peer, %error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(listener, %peer, "TLS handshake timed out");
            None
        }
    }
}

/// How many connections a listener serves at once, in all and per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub total: usize,
    pub per_client: usize,
}

/// Why a connection is turned away; the protocol says so in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The listener is full.
    Busy,
    /// This client already has its share.
    ClientBusy,
}

/// Accepts connections until the task is dropped, running `serve` in a task for each one
/// within `limits`, and `refuse` (also in a task) for the others. `name` goes into the log.
pub async fn accept_loop<S, SF, R, RF>(listener: TcpListener, name: &'static str, limits: Limits, serve: S, refuse: R)
where
    S: Fn(TcpStream, SocketAddr) -> SF,
    SF: Future<Output = ()> + Send + 'static,
    R: Fn(TcpStream, Refusal) -> RF,
    RF: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limits.total));
    let clients = ClientCounts::new(limits.per_client);
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Typically running out of file descriptors, which passes: wait, then go on.
                tracing::warn!(%error, listener = name, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // Both taken before spawning, so the counts are exact; dropping them frees the slots.
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(listener = name, %peer, "connection refused: {} connections already", limits.total);
            tokio::spawn(refuse(socket, Refusal::Busy));
            continue;
        };
        let Some(client_slot) = clients.try_acquire(peer.ip()) else {
            tracing::warn!(listener = name, %peer, "connection refused: {} from this client already", limits.per_client);
            tokio::spawn(refuse(socket, Refusal::ClientBusy));
            continue;
        };
        let _ = socket.set_nodelay(true);
        tokio::spawn(Holding { session: serve(socket, peer), _slots: (slot, client_slot) });
    }
}

pin_project_lite::pin_project! {
    /// A session's future with the slots it holds, freed when it ends. A struct rather than
    /// `async move { session.await; drop(slots) }`: that block would hold the session's
    /// future twice (the captured one and the one being awaited), and every idle connection's
    /// task with it.
    struct Holding<F> {
        #[pin]
        session: F,
        _slots: (tokio::sync::OwnedSemaphorePermit, ClientSlot),
    }
}

impl<F: Future<Output = ()>> Future for Holding<F> {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.project().session.poll(cx)
    }
}

/// Open connections per client, each counted until its [`ClientSlot`] is dropped.
#[derive(Clone)]
struct ClientCounts {
    per_client: usize,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

struct ClientSlot {
    client: IpAddr,
    counts: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ClientCounts {
    fn new(per_client: usize) -> ClientCounts {
        ClientCounts { per_client, counts: Arc::default() }
    }

    fn try_acquire(&self, address: IpAddr) -> Option<ClientSlot> {
        let client = client_of(address);
        let mut counts = self.counts.lock().expect("client counts lock");
        let count = counts.entry(client).or_insert(0);
        if *count >= self.per_client {
            return None;
        }
        *count += 1;
        Some(ClientSlot { client, counts: Arc::clone(&self.counts) })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().expect("client counts lock");
        if let Some(count) = counts.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn clients_are_counted_per_address_and_ipv6_per_64() {
        let counts = ClientCounts::new(2);
        let a1 = counts.try_acquire(ip("192.0.2.1")).unwrap();
        let _a2 = counts.try_acquire(ip("::ffff:192.0.2.1")).unwrap();
        assert!(counts.try_acquire(ip("192.0.2.1")).is_none(), "IPv4-mapped is the same client");
        assert!(counts.try_acquire(ip("192.0.2.2")).is_some());
        drop(a1);
        assert!(counts.try_acquire(ip("192.0.2.1")).is_some(), "a closed connection frees its slot");

        let _b1 = counts.try_acquire(ip("2001:db8:1:2::1")).unwrap();
        let _b2 = counts.try_acquire(ip("2001:db8:1:2:ffff::9")).unwrap();
        assert!(counts.try_acquire(ip("2001:db8:1:2:dead:beef::")).is_none(), "one /64, one client");
        assert!(counts.try_acquire(ip("2001:db8:1:3::1")).is_some());
    }

    #[test]
    fn freed_clients_leave_no_entry_behind() {
        let counts = ClientCounts::new(3);
        let slots: Vec<_> = (0..3).map(|_| counts.try_acquire(ip("192.0.2.9")).unwrap()).collect();
        drop(slots);
        assert!(counts.counts.lock().unwrap().is_empty());
    }

    /// Over real loopback sockets: the second connection from the one client is refused while
    /// the first is served, and accepted once the first has closed.
    #[tokio::test]
    async fn the_loop_refuses_past_the_per_client_limit() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let limits = Limits { total: 10, per_client: 1 };
        let server = tokio::spawn(accept_loop(
            listener,
            "test",
            limits,
            |mut socket, _| async move {
                let _ = socket.write_all(b"hello\n").await;
                // Served until the client hangs up.
                let _ = socket.read(&mut [0u8; 16]).await;
            },
            |mut socket, refusal| async move {
                let _ = socket.write_all(format!("refused {refusal:?}\n").as_bytes()).await;
            },
        ));
        let first_line = |mut stream: TcpStream| async move {
            let mut text = Vec::new();
            let mut byte = [0u8; 1];
            while stream.read(&mut byte).await.unwrap() == 1 && byte[0] != b'\n' {
                text.push(byte[0]);
            }
            (String::from_utf8(text).unwrap(), stream)
        };
        let (greeting, first) = first_line(TcpStream::connect(address).await.unwrap()).await;
        assert_eq!(greeting, "hello");
        let (refused, _) = first_line(TcpStream::connect(address).await.unwrap()).await;
        assert_eq!(refused, "refused ClientBusy");
        drop(first);
        // The slot is freed when the served task ends, a moment after the hang-up.
        let mut again = String::new();
        for _ in 0..100 {
            (again, _) = first_line(TcpStream::connect(address).await.unwrap()).await;
            if again == "hello" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(again, "hello");
        server.abort();
    }
}
