//! Facteur's SMTP server in its two roles (RFC 5321): the MX on port 25 (FEATURES K4), and
//! message submission on 587 with STARTTLS and 465 with implicit TLS (K3, RFC 6409, RFC 8314).
//!
//! On the MX, mail from other servers arrives, is routed through the mail domain (A3 aliases,
//! A5 postmaster, A9 plus addressing) and delivered to local Inboxes; nothing is relayed. On
//! submission, a logged-in account sends from its own addresses through `mail::Mail::submit`
//! (Bcc removed, Message-ID and Date added, a copy in Sent); recipients on other servers wait
//! for the outbound queue (issue 14).
//!
//! Code map:
//! - [`codec`]: command-line framing and parsing, pure (no I/O), split-tested.
//! - [`data_receiver`]: the DATA state machine (end of data, dot-unstuffing, size cap, bare
//!   CR/LF detection), pure, split-tested.
//! - `session`: one connection: reads, pipelining-aware flushing, timeouts, state, dispatch.
//! - `op/*`: one file per command family (`handle_<command>`).
//! - `error` + `reply`: the one error enum and the one place that turns it into a reply.
//! - `trace`: the `Return-Path:` and `Received:` header fields added before storing.
//! - [`sender_checks`]: SPF, DKIM, DMARC and ARC on the MX, the `Authentication-Results:`
//!   field, DMARC `p=reject`.
//!
//! Invariants:
//! - A message is answered `250` only after [`mail::Mail::deliver`] returned `Ok`, which
//!   means the blob is fsynced and the rows are committed.
//! - No recipient is accepted whose copy we could not keep (RFC 5321 §6.1): a full mailbox is
//!   deferred with 452 at RCPT; copies for other servers (an alias's external targets) are
//!   queued in the same transaction as the local ones; at DATA, a mailbox without room for the
//!   real size defers the whole message, and the store's delivery is all or nothing, so a
//!   mailbox filled meanwhile by a concurrent delivery defers it too.
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
pub mod sender_checks;
mod session;
mod trace;

use std::sync::Arc;

use tokio::net::TcpListener;

pub use error::{Error, Result};

/// What an SMTP session needs from the rest of the server.
pub struct SmtpServices {
    /// Delivery goes through here; lookups use its store.
    pub mail: mail::Mail,
    /// Checks submission logins (AUTH).
    pub auth: auth::Auth,
    /// Offered as STARTTLS (RFC 3207) when present; needed for submission.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Our name in the greeting and in `Received:` fields.
    pub hostname: String,
    /// MX: SPF, DKIM, DMARC and ARC checks of arriving mail; `None` turns them off.
    pub sender_checks: Option<sender_checks::SenderChecks>,
}

/// The role a listener plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Port 25: mail for our domains from anyone, no AUTH.
    Mx,
    /// Port 587: STARTTLS, then AUTH, then mail from the account's addresses to anyone.
    Submission,
    /// Port 465: as [`Role::Submission`], over TLS from the first byte (RFC 8314).
    Submissions,
}

impl SmtpServices {
    pub fn new(
        mail: mail::Mail,
        auth: auth::Auth,
        tls: Option<tokio_rustls::TlsAcceptor>,
        hostname: String,
    ) -> SmtpServices {
        SmtpServices { mail, auth, tls, hostname, sender_checks: None }
    }

    /// The store, for lookups (delivery goes through [`SmtpServices::mail`]).
    pub(crate) fn store(&self) -> &store::Store {
        self.mail.store()
    }
}

pub use listener::AsyncStream;

/// RFC 5321 §6.3: a message that went through more servers than this is in a loop (the RFC
/// asks for at least 100; Postfix's `hopcount_limit` is 50).
pub const MAX_HOPS: usize = 100;

/// Connections served at once, in all and per client; past these a newcomer gets `421`
/// (RFC 5321 §3.8) and is closed, so a flood cannot exhaust memory or file descriptors, nor one
/// client take every slot. Big senders open a handful of connections; 50 is Postfix's default.
pub const LIMITS: listener::Limits = listener::Limits { total: 1000, per_client: 50 };

/// Accepts connections until the task is dropped, one task per connection, within [`LIMITS`].
pub async fn serve(listener: TcpListener, services: Arc<SmtpServices>, role: Role) {
    let hostname = services.hostname.clone();
    let name = match role {
        Role::Mx => "smtp",
        Role::Submission => "submission",
        Role::Submissions => "submissions",
    };
    listener::accept_loop(
        listener,
        name,
        LIMITS,
        |stream, peer| session::run(stream, peer.ip(), Arc::clone(&services), role),
        move |stream, _| {
            let hostname = hostname.clone();
            async move {
                // On port 465 a plaintext 421 would be noise to a client expecting TLS.
                if role != Role::Submissions {
                    session::refuse_busy(Box::new(stream), &hostname).await;
                }
            }
        },
    )
    .await;
}

/// Runs one MX session over any stream (tests use `tokio::io::duplex`); `peer` goes into the
/// `Received:` field.
pub async fn serve_stream(stream: Box<dyn AsyncStream>, peer: std::net::IpAddr, services: Arc<SmtpServices>) {
    session::run_stream(stream, peer, services, Role::Mx, false).await;
}
