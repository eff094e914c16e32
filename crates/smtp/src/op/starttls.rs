//! STARTTLS (RFC 3207): switch the connection to TLS and start over.

use std::io;

use tokio::time::timeout;

use crate::codec::CommandFramer;
use crate::reply::Reply;
use crate::session::{COMMAND_TIMEOUT, Session};
use crate::{Error, Result};

impl Session {
    /// Replies 220 itself and has nothing to say after the handshake (`Ok(None)`): the client
    /// speaks first again, with EHLO.
    pub(crate) async fn handle_starttls(&mut self) -> Result<Option<Reply>> {
        if self.tls {
            return Err(Error::BadSequence("TLS is already active"));
        }
        let Some(acceptor) = self.services.tls.clone() else {
            return Err(Error::NotImplemented);
        };
        self.push(&Reply::new(220, "2.0.0", "Ready to start TLS"));
        self.flush().await?;
        // CVE-2011-0411: bytes pipelined after STARTTLS came in clear text and could be
        // injected by a man in the middle; they must not run as if they came over TLS.
        if !self.inbuf.is_empty() {
            tracing::info!(n_bytes = self.inbuf.len(), "discarding plaintext sent after STARTTLS");
        }
        self.inbuf.clear();
        self.framer = CommandFramer::default();
        let plain = std::mem::replace(&mut self.stream, Box::new(tokio::io::empty()));
        let tls = timeout(COMMAND_TIMEOUT, acceptor.accept(plain))
            .await
            .map_err(|_| Error::Tls(io::ErrorKind::TimedOut.into()))?
            .map_err(Error::Tls)?;
        self.stream = Box::new(tls);
        self.tls = true;
        // RFC 3207 §4.2: the server must forget everything learnt before TLS, EHLO included.
        self.hello = None;
        self.transaction = None;
        self.account = None;
        Ok(None)
    }
}
