//! The client side of SMTP (RFC 5321): one connection to another server, carrying one message
//! to some of its recipients, with a result for each.
//!
//! Written here rather than taken from a crate: `mail-send`, the maintained Rust SMTP client,
//! is made for submitting (it verifies certificates through the platform's verifier, where an
//! MX host must be taken with whatever certificate it has, RFC 7435, and it brings a second
//! copy of mail-parser). What a mail server needs of the protocol is small: replies, EHLO
//! keywords, STARTTLS, one AUTH mechanism and dot-stuffing.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;
use tokio_rustls::TlsConnector;

/// RFC 5321 §4.5.3.2: how long to wait for each reply. The final reply to the data may take
/// long: the other server may be filtering the message.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);
const DATA_END_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// A reply line longer than this is not SMTP (RFC 5321 §4.5.3.1.5 allows 512 octets).
const MAX_REPLY_BYTES: usize = 64 * 1024;
/// Lines of one reply at most (an EHLO reply has a dozen).
const MAX_REPLY_LINES: usize = 100;
/// RFC 5321 §4.5.3.2.5: each block of the data must be taken within 3 minutes.
const DATA_BLOCK_TIMEOUT: Duration = Duration::from_secs(3 * 60);
const DATA_BLOCK: usize = 64 * 1024;

/// A reply of the other server: its code and text (lines joined by spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    fn class(&self) -> u16 {
        self.code / 100
    }
}

/// The enhanced status code (RFC 3463) a reply's text starts with, if it has one.
pub fn enhanced_status(text: &str) -> Option<&str> {
    let first = text.split_whitespace().next()?;
    let mut parts = first.split('.');
    let valid = parts.next().is_some_and(|c| matches!(c, "2" | "4" | "5"))
        && parts.clone().count() == 2
        && parts.all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
    valid.then_some(first)
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text)
    }
}

/// What became of one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered(String),
    /// Worth trying again later (4xx, or the connection failed).
    Temporary(String),
    /// Never worth trying again (5xx): the sender is told.
    Permanent(String),
}

/// Why a whole attempt at one server failed before any recipient was decided.
#[derive(Debug)]
pub enum SessionError {
    /// The server could not be reached or spoke no SMTP we understand: try the next one.
    Unreachable(String),
    /// STARTTLS was offered but the handshake failed: the same server may be tried without.
    Tls(String),
    /// The server refused the whole transaction: every recipient has this outcome.
    Refused(Outcome),
}

/// Login for a relay (`--relay-user`).
#[derive(Clone)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("user", &self.user).finish_non_exhaustive()
    }
}

/// One message to deliver over one connection.
pub struct Transaction<'a> {
    /// Our name, for EHLO.
    pub hello: &'a str,
    /// The server's name, for TLS (SNI) and the log.
    pub server_name: &'a str,
    /// STARTTLS when offered, unless this attempt is the retry without it.
    pub tls: Option<&'a TlsConnector>,
    pub credentials: Option<&'a Credentials>,
    /// Whether passwords may go over this connection unencrypted (a relay on loopback).
    pub plaintext_auth_ok: bool,
    pub sender: &'a str,
    pub recipients: &'a [String],
    pub message: &'a [u8],
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

struct Connection {
    stream: Box<dyn Io>,
    buf: Vec<u8>,
}

/// What the server said it can do in its EHLO reply.
#[derive(Debug, Default)]
struct Extensions {
    starttls: bool,
    size: Option<u64>,
    eight_bit: bool,
    smtputf8: bool,
    auth_plain: bool,
}

impl Extensions {
    fn parse(lines: &[String]) -> Extensions {
        let mut found = Extensions::default();
        // The first line is the greeting; each other line a keyword and its parameters.
        for line in lines.iter().skip(1) {
            let mut words = line.split_whitespace();
            let Some(keyword) = words.next() else { continue };
            match keyword.to_ascii_uppercase().as_str() {
                "STARTTLS" => found.starttls = true,
                "SIZE" => found.size = words.next().and_then(|n| n.parse().ok()).filter(|&n| n > 0),
                "8BITMIME" => found.eight_bit = true,
                "SMTPUTF8" => found.smtputf8 = true,
                "AUTH" => found.auth_plain = words.any(|m| m.eq_ignore_ascii_case("PLAIN")),
                _ => {}
            }
        }
        found
    }
}

impl Connection {
    /// Reads one reply, its lines apart (EHLO needs them) and joined.
    async fn read_reply_lines(&mut self, wait: Duration) -> Result<(Reply, Vec<String>), String> {
        let mut lines = Vec::new();
        let mut code = None;
        loop {
            let line =
                timeout(wait, self.read_line()).await.map_err(|_| "timed out waiting for a reply".to_string())??;
            let bytes = line.as_bytes();
            if bytes.len() < 3 || !bytes[..3].iter().all(u8::is_ascii_digit) {
                return Err(format!("not an SMTP reply: {:?}", printable(&line)));
            }
            let this: u16 = line[..3].parse().expect("three digits");
            if code.is_some_and(|c| c != this) || !(200..600).contains(&this) {
                return Err(format!("not an SMTP reply: {:?}", printable(&line)));
            }
            code = Some(this);
            let last = bytes.get(3) != Some(&b'-');
            if lines.len() == MAX_REPLY_LINES {
                return Err("a reply of too many lines".to_string());
            }
            lines.push(line.get(4..).unwrap_or("").to_string());
            if last {
                break;
            }
        }
        let text = lines.iter().map(|l| printable(l)).collect::<Vec<_>>().join(" ");
        Ok((Reply { code: code.expect("a reply has a line"), text }, lines))
    }

    async fn read_reply(&mut self, wait: Duration) -> Result<Reply, String> {
        Ok(self.read_reply_lines(wait).await?.0)
    }

    async fn read_line(&mut self) -> Result<String, String> {
        loop {
            if let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.buf.len() > MAX_REPLY_BYTES {
                return Err("reply line too long".to_string());
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.map_err(|e| format!("reading: {e}"))?;
            if n == 0 {
                return Err("the server closed the connection".to_string());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), String> {
        timeout(COMMAND_TIMEOUT, async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        })
        .await
        .map_err(|_| "timed out sending".to_string())?
        .map_err(|e| format!("sending: {e}"))
    }

    /// The message text, in blocks each written within [`DATA_BLOCK_TIMEOUT`].
    async fn send_data(&mut self, data: &[u8]) -> Result<(), String> {
        for block in data.chunks(DATA_BLOCK) {
            timeout(DATA_BLOCK_TIMEOUT, self.stream.write_all(block))
                .await
                .map_err(|_| "timed out sending the message".to_string())?
                .map_err(|e| format!("sending the message: {e}"))?;
        }
        timeout(DATA_BLOCK_TIMEOUT, self.stream.flush())
            .await
            .map_err(|_| "timed out sending the message".to_string())?
            .map_err(|e| format!("sending the message: {e}"))
    }

    async fn command(&mut self, line: &str) -> Result<Reply, String> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.read_reply(COMMAND_TIMEOUT).await
    }

    async fn hello(&mut self, name: &str) -> Result<Extensions, SessionError> {
        self.send(format!("EHLO {name}\r\n").as_bytes()).await.map_err(SessionError::Unreachable)?;
        let (reply, lines) = self.read_reply_lines(COMMAND_TIMEOUT).await.map_err(SessionError::Unreachable)?;
        if reply.class() == 2 {
            return Ok(Extensions::parse(&lines));
        }
        // RFC 5321 §3.2: a server that does not know EHLO gets HELO.
        let reply = self.command(&format!("HELO {name}")).await.map_err(SessionError::Unreachable)?;
        if reply.class() != 2 {
            return Err(SessionError::Unreachable(format!("refused our greeting: {reply}")));
        }
        Ok(Extensions::default())
    }
}

/// Makes printable what a server said, for the log and bounces.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

/// Opens a TCP connection, within [`CONNECT_TIMEOUT`].
pub async fn connect(address: std::net::SocketAddr) -> Result<tokio::net::TcpStream, String> {
    match timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(format!("connecting to {address}: {e}")),
        Err(_) => Err(format!("connecting to {address}: timed out")),
    }
}

/// Carries one message over a fresh connection: greeting, EHLO, STARTTLS when offered, AUTH
/// when asked for, the envelope, the data. Returns an outcome per recipient, in order.
pub async fn deliver(
    stream: tokio::net::TcpStream,
    transaction: &Transaction<'_>,
) -> Result<Vec<Outcome>, SessionError> {
    let mut connection = Connection { stream: Box::new(stream), buf: Vec::new() };
    let greeting = connection.read_reply(COMMAND_TIMEOUT).await.map_err(SessionError::Unreachable)?;
    if greeting.class() != 2 {
        return Err(SessionError::Unreachable(format!("greeting: {greeting}")));
    }
    let mut extensions = connection.hello(transaction.hello).await?;
    let mut encrypted = false;
    if let Some(tls) = transaction.tls.filter(|_| extensions.starttls) {
        let reply = connection.command("STARTTLS").await.map_err(SessionError::Unreachable)?;
        if reply.class() == 2 {
            // Anything the server sent before the handshake is not covered by it (RFC 3207 §6).
            if !connection.buf.is_empty() {
                return Err(SessionError::Tls("data after the STARTTLS reply".to_string()));
            }
            connection = upgrade(connection, tls, transaction.server_name).await?;
            encrypted = true;
            extensions = connection.hello(transaction.hello).await?;
        }
    }
    if let Some(credentials) = transaction.credentials {
        authenticate(&mut connection, credentials, &extensions, encrypted || transaction.plaintext_auth_ok).await?;
    }
    envelope_and_data(&mut connection, transaction, &extensions).await
}

async fn upgrade(connection: Connection, tls: &TlsConnector, server_name: &str) -> Result<Connection, SessionError> {
    let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
        .unwrap_or_else(|_| rustls::pki_types::ServerName::try_from("invalid.invalid").expect("a valid name"));
    let handshake = timeout(COMMAND_TIMEOUT, tls.connect(name, connection.stream)).await;
    match handshake {
        Ok(Ok(stream)) => Ok(Connection { stream: Box::new(stream), buf: Vec::new() }),
        Ok(Err(e)) => Err(SessionError::Tls(format!("TLS handshake: {e}"))),
        Err(_) => Err(SessionError::Tls("TLS handshake timed out".to_string())),
    }
}

async fn authenticate(
    connection: &mut Connection,
    credentials: &Credentials,
    extensions: &Extensions,
    may_send_password: bool,
) -> Result<(), SessionError> {
    // A refusal here is our configuration's fault, not the message's: kept and retried.
    let refuse = |why: String| SessionError::Refused(Outcome::Temporary(why));
    if !may_send_password {
        return Err(refuse("the relay offers no TLS: the password is not sent in clear".to_string()));
    }
    if !extensions.auth_plain {
        return Err(refuse("the relay does not offer AUTH PLAIN".to_string()));
    }
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("\0{}\0{}", credentials.user, credentials.password));
    let reply = connection.command(&format!("AUTH PLAIN {token}")).await.map_err(SessionError::Unreachable)?;
    if reply.code != 235 {
        return Err(refuse(format!("the relay refused our login: {reply}")));
    }
    Ok(())
}

async fn envelope_and_data(
    connection: &mut Connection,
    transaction: &Transaction<'_>,
    extensions: &Extensions,
) -> Result<Vec<Outcome>, SessionError> {
    let message = transaction.message;
    let needs_utf8 = !transaction.sender.is_ascii() || transaction.recipients.iter().any(|r| !r.is_ascii());
    // RFC 6531 §3.4: a message with UTF-8 header fields goes with SMTPUTF8 where it is offered
    // (where it is not, it goes as it is, as Postfix does, rather than not at all).
    let utf8_headers = !mail::header::header_section(message).is_ascii();
    if needs_utf8 && !extensions.smtputf8 {
        // RFC 6531 §3.2: such a message cannot go to this server as it is.
        return Err(SessionError::Refused(Outcome::Permanent(
            "553 5.6.7 the receiving server does not accept internationalised addresses (SMTPUTF8)".to_string(),
        )));
    }
    if extensions.size.is_some_and(|limit| message.len() as u64 > limit) {
        return Err(SessionError::Refused(Outcome::Permanent(format!(
            "552 5.3.4 the message ({} bytes) is larger than the receiving server accepts",
            message.len()
        ))));
    }
    let mut mail = format!("MAIL FROM:<{}>", transaction.sender);
    if extensions.size.is_some() {
        mail.push_str(&format!(" SIZE={}", message.len()));
    }
    if extensions.eight_bit && !message.is_ascii() {
        mail.push_str(" BODY=8BITMIME");
    }
    if needs_utf8 || (utf8_headers && extensions.smtputf8) {
        mail.push_str(" SMTPUTF8");
    }
    let reply = connection.command(&mail).await.map_err(SessionError::Unreachable)?;
    match reply.class() {
        2 => {}
        5 => return Err(SessionError::Refused(Outcome::Permanent(reply.to_string()))),
        // 4xx, and a 3xx no server should send here: not a refusal for good.
        _ => return Err(SessionError::Refused(Outcome::Temporary(reply.to_string()))),
    }
    let mut outcomes = Vec::with_capacity(transaction.recipients.len());
    for recipient in transaction.recipients {
        let reply = connection.command(&format!("RCPT TO:<{recipient}>")).await.map_err(SessionError::Unreachable)?;
        outcomes.push(match reply.class() {
            2 => None,
            5 => Some(Outcome::Permanent(reply.to_string())),
            _ => Some(Outcome::Temporary(reply.to_string())),
        });
    }
    if outcomes.iter().all(Option::is_some) {
        let _ = connection.command("QUIT").await;
        return Ok(outcomes.into_iter().flatten().collect());
    }
    let reply = connection.command("DATA").await.map_err(SessionError::Unreachable)?;
    let data_outcome = if reply.code == 354 {
        // Once the data is on its way this server may have taken the message: a failure now
        // ends the attempt (tried again later, here) rather than moving to another server.
        let uncertain = |why: String| SessionError::Refused(Outcome::Temporary(why));
        connection.send_data(&dot_stuffed(message)).await.map_err(uncertain)?;
        let reply = connection.read_reply(DATA_END_TIMEOUT).await.map_err(uncertain)?;
        match reply.class() {
            2 => Outcome::Delivered(reply.to_string()),
            5 => Outcome::Permanent(reply.to_string()),
            _ => Outcome::Temporary(reply.to_string()),
        }
    } else if reply.class() == 5 {
        Outcome::Permanent(reply.to_string())
    } else {
        Outcome::Temporary(reply.to_string())
    };
    let _ = connection.command("QUIT").await;
    Ok(outcomes.into_iter().map(|o| o.unwrap_or_else(|| data_outcome.clone())).collect())
}

/// The message as DATA sends it (RFC 5321 §4.5.2): every line ending in CRLF (a bare LF is
/// made one), a dot doubled at the start of a line, and the final `.` line.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 5);
    let mut at_line_start = true;
    for (i, &byte) in message.iter().enumerate() {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        if byte == b'\n' && (i == 0 || message[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
    }
    if !at_line_start {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// A TLS client for opportunistic STARTTLS (RFC 7435, RFC 3207): encrypts with whatever
/// certificate the server has, as Postfix's `may` level does, since most MX hosts' names and
/// certificates do not match anything a sender could check without DANE or MTA-STS (later).
/// The handshake's signatures are still checked, so the session is encrypted to whoever holds
/// the key it presented.
pub fn opportunistic_tls() -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// A TLS client that checks the server's certificate against the system's trusted roots
/// (`SSL_CERT_FILE`, else Debian's bundle): for a relay we log in to, whose password must
/// reach that relay and nobody in between.
pub fn verified_tls() -> Result<TlsConnector, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let bundle = std::env::var("SSL_CERT_FILE").unwrap_or_else(|_| "/etc/ssl/certs/ca-certificates.crt".to_string());
    let mut roots = rustls::RootCertStore::empty();
    let certificates = CertificateDer::pem_file_iter(&bundle).map_err(|e| format!("reading {bundle}: {e}"))?;
    for certificate in certificates.flatten() {
        let _ = roots.add(certificate);
    }
    if roots.is_empty() {
        return Err(format!("no trusted certificate in {bundle}"));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_and_ends_with_the_dot_line() {
        assert_eq!(dot_stuffed(b"a\r\n.b\r\n..\r\n"), b"a\r\n..b\r\n...\r\n.\r\n");
        assert_eq!(dot_stuffed(b".x"), b"..x\r\n.\r\n");
        assert_eq!(dot_stuffed(b"a\nb\n"), b"a\r\nb\r\n.\r\n", "bare LF made CRLF");
        assert_eq!(dot_stuffed(b""), b".\r\n");
    }

    #[test]
    fn enhanced_status_codes_are_recognised() {
        assert_eq!(enhanced_status("5.1.1 No such user"), Some("5.1.1"));
        assert_eq!(enhanced_status("No such user"), None);
        assert_eq!(enhanced_status("5.1 x"), None);
        assert_eq!(enhanced_status("6.1.1 x"), None);
    }

    #[test]
    fn ehlo_keywords_are_read() {
        let lines: Vec<String> =
            ["mx.example greets you", "PIPELINING", "SIZE 1000", "starttls", "AUTH LOGIN PLAIN", "8BITMIME"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let found = Extensions::parse(&lines);
        assert!(found.starttls && found.auth_plain && found.eight_bit && !found.smtputf8);
        assert_eq!(found.size, Some(1000));
    }
}
