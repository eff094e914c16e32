//! Shared by the SMTP integration tests: a real store in a temp folder, and a client that
//! talks to a session over an in-memory duplex stream.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use smtp::{SmtpServices, serve_stream};
use store::{AccountId, SpecialUse, Store, parse_address};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadHalf, WriteHalf};

pub struct World {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub ana: AccountId,
    pub bob: AccountId,
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).await.expect("open store");
    store.add_domain("example.org").await.expect("domain");
    let ana =
        store.add_user(&parse_address("ana@example.org").expect("address"), "correct horse", None).await.expect("ana");
    let bob =
        store.add_user(&parse_address("bob@example.org").expect("address"), "correct horse", None).await.expect("bob");
    World { _dir: dir, store, ana: ana.id, bob: bob.id }
}

pub fn services(world: &World, tls: Option<tokio_rustls::TlsAcceptor>) -> Arc<SmtpServices> {
    Arc::new(SmtpServices::new(
        mail::Mail::new(world.store.clone()),
        auth::Auth::new(world.store.clone()),
        tls,
        "mx.example.org".to_string(),
    ))
}

/// The raw messages in an account's Inbox, oldest first.
pub async fn inbox(world: &World, account: AccountId) -> Vec<Vec<u8>> {
    let folder = world.store.special_folder(account, SpecialUse::Inbox).await.expect("inbox");
    let mut raws = Vec::new();
    for row in world.store.messages(account, folder.id).await.expect("messages") {
        raws.push(world.store.read_raw(&row).await.expect("raw"));
    }
    raws
}

/// Strips the `Return-Path:` and `Received:` lines the server added.
pub fn without_trace(raw: &[u8]) -> &[u8] {
    let text = raw;
    assert!(text.starts_with(b"Return-Path: <"), "{}", String::from_utf8_lossy(raw));
    // Return-Path line + 3 lines of Received.
    let mut idx = 0;
    for _ in 0..4 {
        idx += text[idx..].iter().position(|&b| b == b'\n').expect("trace line") + 1;
    }
    &raw[idx..]
}

pub struct Client<S> {
    pub reader: BufReader<ReadHalf<S>>,
    pub writer: WriteHalf<S>,
}

impl<S: AsyncRead + AsyncWrite> Client<S> {
    pub fn new(stream: S) -> Client<S> {
        let (reader, writer) = tokio::io::split(stream);
        Client { reader: BufReader::new(reader), writer }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("send");
        self.writer.flush().await.expect("flush");
    }

    /// Reads one whole reply; its lines are joined with '\n'.
    pub async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).await.expect("read reply");
            assert!(n > 0, "connection closed after {lines:?}");
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end().to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    pub async fn is_closed(&mut self) -> bool {
        let mut line = String::new();
        matches!(self.reader.read_line(&mut line).await, Ok(0) | Err(_))
    }
}

pub async fn connect(services: Arc<SmtpServices>) -> Client<tokio::io::DuplexStream> {
    connect_from(services, "192.0.2.7").await
}

/// A session as if from the client at `ip`.
pub async fn connect_from(services: Arc<SmtpServices>, ip: &str) -> Client<tokio::io::DuplexStream> {
    let (client, server) = tokio::io::duplex(1 << 16);
    tokio::spawn(serve_stream(Box::new(server), ip.parse().expect("ip"), services));
    let mut client = Client::new(client);
    assert_eq!(client.reply().await, "220 mx.example.org ESMTP Facteur");
    client
}

pub fn assert_code(reply: &str, want: &str) {
    assert!(reply.starts_with(want), "expected {want:?}, got {reply:?}");
}
