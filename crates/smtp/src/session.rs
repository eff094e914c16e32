//! One SMTP connection: reading, writing, timeouts, the session state and command dispatch.
//!
//! The session owns the only I/O of the crate. It frames lines with [`CommandFramer`], parses
//! them with [`parse_command`], gates them by state and calls `handle_<command>` (in `op/`).
//!
//! Pipelining (RFC 2920 §3.2): replies are collected in `outbuf` and written when no complete
//! command is left in the input, so a client that sends a batch gets its replies in order and
//! in as few packets as possible, and a client that waits for each reply is never stalled.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::Instrument;

use crate::codec::{Command, CommandFramer, Frame, MailParameters, parse_command};
use crate::reply::Reply;
use crate::{AsyncStream, Error, Result, Role, SmtpServices};

/// RFC 5321 §4.5.3.2.7: a server SHOULD wait at least 5 minutes for the next command.
pub(crate) const COMMAND_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// RFC 5321 §4.5.3.2.5: 3 minutes for each block of data.
pub(crate) const DATA_BLOCK_TIMEOUT: Duration = Duration::from_secs(3 * 60);
/// The longest a whole DATA phase may take, however steadily the bytes trickle in: DATA phases
/// share a few slots, and a client sending one byte a minute must not hold one for ever. A
/// 50 MB message still fits over a 0.5 Mbit/s line.
pub(crate) const DATA_TOTAL_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// How long we wait for the client to take our replies before giving up on it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
/// After this many bad commands the client is told 421 and disconnected.
const MAX_BAD_COMMANDS: u32 = 20;
/// How much we ask the socket for at once in DATA.
pub(crate) const READ_CHUNK: usize = 64 * 1024;
/// How much between commands: a burst of pipelined commands, without holding a message's
/// worth of buffer for every idle client.
const COMMAND_READ: usize = 4 * 1024;

/// What the client said in EHLO/HELO.
#[derive(Debug, Clone)]
pub(crate) struct Hello {
    pub(crate) domain: String,
    /// EHLO (true) or HELO (false).
    pub(crate) extended: bool,
}

/// One mail transaction, from MAIL to the end of DATA (RFC 5321 §3.3).
#[derive(Debug, Default)]
pub(crate) struct Transaction {
    /// Empty for the null sender.
    pub(crate) sender: String,
    pub(crate) params: MailParameters,
    pub(crate) n_recipients: usize,
    /// Local mailboxes, each once however many recipients or aliases lead to it.
    pub(crate) accounts: Vec<store::AccountId>,
    /// Submission: recipients on other servers, each once, for the outbound queue (an alias's
    /// external targets among them).
    pub(crate) remote: Vec<String>,
    /// MX: the external targets of aliases among the recipients (A3), each once, forwarded
    /// through the outbound queue under an SRS sender.
    pub(crate) forwards: Vec<String>,
    /// MX: the domain whose alias forwards first, the SRS sender's domain.
    pub(crate) forwarded_by: Option<String>,
    /// Mailing lists among the recipients (A7, A8), each once: the message is a post to each.
    pub(crate) lists: Vec<store::MailingList>,
    /// Lists' VERP bounce addresses among the recipients: (list, tag).
    pub(crate) list_bounces: Vec<(store::ListId, String)>,
    /// Submission: the message's place in the account's hourly count, given back if the
    /// transaction ends without it being sent.
    pub(crate) sending: Option<mail::SendingSlot>,
}

pub(crate) struct Session {
    pub(crate) stream: Box<dyn AsyncStream>,
    pub(crate) services: Arc<SmtpServices>,
    pub(crate) peer: IpAddr,
    pub(crate) inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    pub(crate) framer: CommandFramer,
    pub(crate) tls: bool,
    pub(crate) hello: Option<Hello>,
    pub(crate) transaction: Option<Transaction>,
    n_bad_commands: u32,
    pub(crate) role: Role,
    /// Submission: the account that logged in with AUTH.
    pub(crate) account: Option<store::Account>,
    /// Submission: failed AUTH attempts on this connection.
    pub(crate) failed_auths: u32,
}

/// Runs one session on an accepted connection: on port 465, after the TLS handshake.
pub(crate) async fn run(socket: tokio::net::TcpStream, peer: IpAddr, services: Arc<SmtpServices>, role: Role) {
    if role != Role::Submissions {
        return run_stream(Box::new(socket), peer, services, role, false).await;
    }
    // Boxed: the handshake's state is large and short-lived.
    let handshake = listener::accept_tls(services.tls.as_ref(), socket, "submissions", peer);
    if let Some(tls) = Box::pin(handshake).await {
        run_stream(tls, peer, services, role, true).await;
    }
}

/// Runs one session to its end, logging how it ended.
pub(crate) async fn run_stream(
    stream: Box<dyn AsyncStream>,
    peer: IpAddr,
    services: Arc<SmtpServices>,
    role: Role,
    tls: bool,
) {
    let span = tracing::info_span!("smtp", %peer, ?role);
    async move {
        tracing::debug!("connected");
        let mut session = Session {
            stream,
            services,
            peer,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            framer: CommandFramer::default(),
            tls,
            hello: None,
            transaction: None,
            n_bad_commands: 0,
            role,
            account: None,
            failed_auths: 0,
        };
        match session.serve().await {
            Ok(()) => tracing::debug!("closed"),
            Err(err) => tracing::debug!(error = %err, "connection ended"),
        }
    }
    .instrument(span)
    .await;
}

/// Tells a client we have no room for it (RFC 5321 §3.8: 421 instead of the greeting).
pub(crate) async fn refuse_busy(mut stream: Box<dyn AsyncStream>, hostname: &str) {
    let mut out = Vec::new();
    Reply::new(421, "4.3.2", format!("{hostname} too busy, try again later")).encode(&mut out);
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.write_all(&out)).await;
}

impl Session {
    async fn serve(&mut self) -> Result<()> {
        // RFC 5321 §4.2: the greeting; RFC 2034 §3 keeps enhanced codes out of it.
        let greeting = format!("{} ESMTP Facteur", self.services.hostname);
        self.push(&Reply::plain(220, vec![greeting]));
        // When the first byte of the command line being received arrived.
        let mut command_started: Option<tokio::time::Instant> = None;
        loop {
            let result = match self.next_line() {
                None => {
                    // No complete command left: this is the moment to send pending replies.
                    self.flush().await?;
                    // The timer counts from a command line's first byte, not from the last
                    // read: a line trickled a byte every few minutes must not hold the
                    // connection for ever.
                    if self.inbuf.is_empty() && !self.framer.is_discarding() {
                        command_started = None;
                    }
                    let started = *command_started.get_or_insert_with(tokio::time::Instant::now);
                    let left = COMMAND_TIMEOUT.saturating_sub(started.elapsed());
                    // A quiet client is waited for without the last message's buffer.
                    if self.inbuf.is_empty() && self.inbuf.capacity() > COMMAND_READ {
                        self.inbuf = Vec::new();
                    }
                    match self.read_more(left, COMMAND_READ).await {
                        Ok(()) => continue,
                        Err(err) => Err(err),
                    }
                }
                Some(Err(err)) => Err(err),
                Some(Ok(line)) => match parse_command(&line) {
                    // Boxed: a command's future (DATA's is large) lives only while it runs,
                    // so an idle session's task stays small.
                    Ok(command) => Box::pin(self.dispatch(command)).await,
                    Err(err) => Err(err.into()),
                },
            };
            let reply = match result {
                Ok(None) => continue,
                Ok(Some(reply)) => reply,
                Err(err) => {
                    tracing::debug!(error = %err, "command refused");
                    if err.is_bad_command() {
                        self.n_bad_commands += 1;
                    }
                    let Some(reply) = err.reply() else { return Err(err) };
                    if self.n_bad_commands >= MAX_BAD_COMMANDS && !reply.closes_connection() {
                        self.push(&reply);
                        Error::TooManyErrors.reply().expect("TooManyErrors has a reply")
                    } else {
                        reply
                    }
                }
            };
            self.push(&reply);
            if reply.closes_connection() {
                self.flush().await?;
                // A polite close; the client may already be gone, which is fine.
                let _ = tokio::time::timeout(Duration::from_secs(10), self.stream.shutdown()).await;
                return Ok(());
            }
        }
    }

    /// Gates a command by state and runs its handler. `Ok(None)`: nothing more to say.
    async fn dispatch(&mut self, command: Command) -> Result<Option<Reply>> {
        let reply = match command {
            Command::Ehlo { domain } => self.handle_hello(domain, true),
            Command::Helo { domain } => self.handle_hello(domain, false),
            Command::Mail { reverse_path, params } => self.handle_mail(reverse_path, params).await?,
            Command::Rcpt { forward_path } => self.handle_rcpt(forward_path).await?,
            Command::Data => self.handle_data().await?,
            Command::StartTls => return self.handle_starttls().await,
            Command::Auth { mechanism, initial } => self.handle_auth(&mechanism, initial).await?,
            Command::Rset => {
                // RFC 5321 §4.1.1.5: abort the transaction, keep the EHLO.
                self.transaction = None;
                Reply::new(250, "2.0.0", "OK")
            }
            Command::Noop => Reply::new(250, "2.0.0", "OK"),
            // RFC 5321 §3.5.3: 252 when we will not verify but will accept mail.
            Command::Vrfy => Reply::new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery"),
            Command::Help => {
                let auth = if self.is_submission() { " AUTH" } else { "" };
                Reply::new(
                    214,
                    "2.0.0",
                    format!("Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS{auth}"),
                )
            }
            Command::Quit => Reply::new(221, "2.0.0", format!("{} closing connection", self.services.hostname)),
            Command::NotImplemented { verb } => {
                tracing::debug!(%verb, "command not implemented");
                return Err(Error::NotImplemented);
            }
        };
        Ok(Some(reply))
    }

    /// Whether this is a submission session (port 587 or 465) rather than the MX.
    pub(crate) fn is_submission(&self) -> bool {
        self.role != Role::Mx
    }

    /// Reads one line outside the command loop (a SASL exchange), after sending what is queued,
    /// by `deadline`: the whole exchange has one, so it cannot be trickled out.
    pub(crate) async fn read_line(&mut self, deadline: tokio::time::Instant) -> Result<Vec<u8>> {
        loop {
            if let Some(line) = self.next_line() {
                return line;
            }
            self.flush().await?;
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout);
            }
            self.read_more(left, COMMAND_READ).await?;
        }
    }

    /// The next line of input (without its CRLF), taken out of `inbuf`; `None` when no whole
    /// line is there yet (what an over-long line's discarding consumed is dropped all the
    /// same). A line too long or ended by a bare LF is an error.
    fn next_line(&mut self) -> Option<Result<Vec<u8>>> {
        let (consumed, frame) = self.framer.next_frame(&self.inbuf);
        let line = frame.map(|frame| match frame {
            Frame::Line { len } => Ok(self.inbuf[..len].to_vec()),
            Frame::TooLong => Err(Error::CommandLineTooLong),
            Frame::BareLf => Err(Error::BareLfInCommand),
        });
        self.inbuf.drain(..consumed);
        line
    }

    /// Queues a reply; it is written at the next [`Session::flush`].
    pub(crate) fn push(&mut self, reply: &Reply) {
        reply.encode(&mut self.outbuf);
    }

    /// Writes the queued replies.
    pub(crate) async fn flush(&mut self) -> Result<()> {
        if self.outbuf.is_empty() {
            return Ok(());
        }
        let write = async {
            self.stream.write_all(&self.outbuf).await?;
            self.stream.flush().await
        };
        // A client that does not read its replies gets no 421: it would not read that either.
        tokio::time::timeout(WRITE_TIMEOUT, write)
            .await
            .map_err(|_| Error::Io(std::io::ErrorKind::TimedOut.into()))??;
        self.outbuf.clear();
        Ok(())
    }

    /// Reads up to `size` more bytes into `inbuf`. The end of the stream is an error: every
    /// caller was waiting for more.
    pub(crate) async fn read_more(&mut self, limit: Duration, size: usize) -> Result<()> {
        self.inbuf.reserve(size);
        let n_read =
            tokio::time::timeout(limit, self.stream.read_buf(&mut self.inbuf)).await.map_err(|_| Error::Timeout)??;
        if n_read == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        Ok(())
    }
}
