//! The web listener: connections accepted like every other protocol's (`listener`: at most so
//! many in all and per client), each served by hyper with a timer, so a client that sends its
//! headers slowly, or keeps a connection open and silent, is dropped (issue 12, defect 2: 1,100
//! silent connections once used up the process's file descriptors, and SMTP and IMAP stopped
//! answering).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Connections served at once, in all and per client: browsers open about six per site; an
/// office behind one NAT address has many browsers.
pub(crate) const LIMITS: listener::Limits = listener::Limits { total: 1000, per_client: 100 };

/// How long a client may take to send a request's headers, and how long a kept-alive
/// connection may wait for its next request.
pub(crate) const HEADER_TIMEOUT: Duration = Duration::from_secs(20);

/// Accepts connections until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, router: Router) {
    listener::accept_loop(
        listener,
        "http",
        LIMITS,
        move |socket, peer| serve_connection(socket, peer, router.clone()),
        |socket, _| refuse_busy(socket),
    )
    .await;
}

async fn serve_connection(socket: TcpStream, peer: SocketAddr, router: Router) {
    // hyper's header timer starts with the first byte: a connection that never sends one is
    // timed here.
    let mut first = [0u8; 1];
    if !matches!(tokio::time::timeout(HEADER_TIMEOUT, socket.peek(&mut first)).await, Ok(Ok(1..))) {
        tracing::debug!(%peer, "HTTP connection closed: nothing sent, or gone");
        return;
    }
    // What `into_make_service_with_connect_info` would add: pages read the client's address.
    let service = TowerToHyperService::new(router.layer(axum::Extension(ConnectInfo(peer))));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_TIMEOUT);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(HEADER_TIMEOUT).keep_alive_timeout(HEADER_TIMEOUT);
    if let Err(error) = builder.serve_connection_with_upgrades(TokioIo::new(socket), service).await {
        tracing::debug!(%peer, %error, "HTTP connection ended");
    }
}

/// RFC 9110 §15.6.4: 503 with Retry-After when there is no room for the connection.
async fn refuse_busy(mut socket: TcpStream) {
    let answer =
        b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.write_all(answer)).await;
}
