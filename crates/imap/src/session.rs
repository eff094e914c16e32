//! One client connection: the state machine of RFC 9051 §3, reading, dispatch and writing.
//!
//! The session runs over a boxed [`AsyncStream`] so STARTTLS can swap the plain stream for a
//! TLS one in place, and tests can use `tokio::io::duplex`. Commands come from the sans-IO
//! framer; each is checked against the state (RFC 9051 §6: which commands are valid where)
//! before its `handle_*` method runs. A handler returns its tagged completion; errors go
//! through `Error::into_response`, the one place that decides BAD vs NO vs internal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::core::Tag;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{Code, Error, Result};
use crate::extended::Extras;
use crate::framing::{FrameEvent, Framer, LARGE_LITERAL_BYTES, LiteralForm};
use crate::response::Response;
use crate::selected::{Addressing, Selected};
use crate::{AsyncStream, ImapServices};

/// RFC 9051 §5.4: an inactivity autologout timer must be at least 30 minutes.
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// Before login the client has nothing to lose by waiting: a short timer keeps idle
/// unauthenticated connections from filling the connection limit.
pub(crate) const LOGIN_TIMEOUT: Duration = Duration::from_secs(2 * 60);

/// The whole unauthenticated phase must end within this, however the client paces its bytes:
/// the idle timer alone let a client trickling a byte a minute keep its connection forever.
/// Clients log in within seconds; a person typing a password their client asked for needs
/// less than this too.
pub(crate) const LOGIN_DEADLINE: Duration = Duration::from_secs(3 * 60);

/// Once a command's first byte has arrived, the rest of its lines and literals must arrive
/// within this. Most commands arrive at once; a 50 MB APPEND over a slow uplink (1 Mbit/s)
/// takes about 7 minutes.
pub(crate) const COMMAND_DEADLINE: Duration = Duration::from_secs(10 * 60);

/// After this many malformed commands (or BAD answers before login) the session ends: a client
/// that speaks another protocol, or probes. Commands we do not support yet, sent by a logged-in
/// client, do not count.
pub(crate) const MAX_BAD_COMMANDS: u32 = 20;

/// How long writing one response may take. A client that stops reading (while FETCH sends it
/// a 50 MB message) would otherwise pin the response and the task forever.
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// Responses are gathered up to this size before they are written: a FETCH of 10,000 small
/// messages goes out in a few large writes (and TLS records) instead of one per line.
const OUTPUT_BUFFER_BYTES: usize = 64 * 1024;

/// Why a large literal is refused when the server-wide budget is spent.
const BUSY: &str = "Too many large messages are being received; try again in a moment";

/// The room a quiet session waits with: a short command comes in one read, a longer one's
/// rest is read at once after it.
const IDLE_READ_BYTES: usize = 64;

pub(crate) use types::loggable;

/// What the client may do now (RFC 9051 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateNeeded {
    Any,
    NotAuthenticated,
    Authenticated,
    Selected,
}

pub(crate) struct Session {
    /// `None` only while STARTTLS swaps streams.
    stream: Option<Box<dyn AsyncStream>>,
    pub(crate) services: Arc<ImapServices>,
    pub(crate) peer: Option<SocketAddr>,
    framer: Framer,
    pub(crate) tls_active: bool,
    /// COMPRESS=DEFLATE is on (RFC 4978).
    pub(crate) compressing: bool,
    state: State,
    /// Set by LOGOUT: the loop ends after the reply is written.
    logging_out: bool,
    /// [`WRITE_TIMEOUT`], shorter in tests.
    write_timeout: Duration,
    /// [`LOGIN_DEADLINE`] and [`COMMAND_DEADLINE`], shorter in tests.
    deadlines: (Duration, Duration),
    /// When the connection was accepted: the login deadline counts from here.
    connected_at: Instant,
    /// When the first byte of the command being received arrived (`None` between commands).
    command_started: Option<Instant>,
    /// Commands answered BAD so far; see [`MAX_BAD_COMMANDS`].
    bad_commands: u32,
    /// Response bytes not written yet (see [`Session::write_buffered`]).
    output: Vec<u8>,
    /// Failed LOGIN/AUTHENTICATE attempts on this connection.
    pub(crate) failed_logins: u32,
    /// The share of `ImapServices::literal_memory` the command being received holds.
    literal_permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// RFC 7162 §3.1: a CONDSTORE enabling command was seen; FETCH responses caused by flag
    /// changes now carry UID and MODSEQ.
    pub(crate) condstore: bool,
    /// RFC 7162 §3.2.3: QRESYNC was enabled; expunges are reported as VANISHED.
    pub(crate) qresync: bool,
    /// How folder names travel (UTF-8 once UTF8=ACCEPT or IMAP4rev2 is enabled).
    pub(crate) names: crate::op::list::Names,
    /// ENABLE IMAP4rev2 (RFC 9051): ESEARCH answers SEARCH, no \Recent, LIST in SELECT.
    pub(crate) rev2: bool,
}

/// The connection's state (RFC 9051 §3). A folder can only be selected by someone logged in:
/// the type says so, rather than an account and a folder each optional beside the other.
enum State {
    NotAuthenticated,
    Authenticated { account: store::Account },
    Selected { account: store::Account, selected: Selected },
}

/// The stream is `None` only while STARTTLS or COMPRESS swaps it: a failed swap ends the session.
fn stream_lost() -> Error {
    Error::Io(std::io::Error::other("the connection was lost while switching to TLS or compression"))
}

/// Whether the command loop goes on after an event.
#[derive(PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

/// What a handler wants done after its response is written.
pub(crate) enum After {
    Nothing,
    /// STARTTLS said OK: run the handshake now.
    StartTls,
    /// COMPRESS said OK: deflate from the next byte on (RFC 4978).
    Compress,
}

impl Session {
    pub(crate) fn new(
        stream: Box<dyn AsyncStream>,
        services: Arc<ImapServices>,
        peer: Option<SocketAddr>,
        tls_active: bool,
    ) -> Session {
        Session {
            stream: Some(stream),
            services,
            peer,
            framer: Framer::default(),
            tls_active,
            compressing: false,
            state: State::NotAuthenticated,
            logging_out: false,
            write_timeout: WRITE_TIMEOUT,
            deadlines: (LOGIN_DEADLINE, COMMAND_DEADLINE),
            connected_at: Instant::now(),
            command_started: None,
            bad_commands: 0,
            output: Vec::new(),
            failed_logins: 0,
            literal_permit: None,
            condstore: false,
            qresync: false,
            names: crate::op::list::Names::ModifiedUtf7,
            rev2: false,
        }
    }

    /// Whether passwords are refused for now: on a plaintext connection that could be upgraded
    /// with STARTTLS. RFC 8314 §3 wants mail access over TLS, and RFC 9051 §6.2.3 (RFC 3501
    /// §6.2.3) says LOGIN must be refused, with LOGINDISABLED advertised, on an unprotected
    /// connection. Without a certificate there is nothing to upgrade to, so plaintext is all
    /// there is (tests and local setups).
    /// `plaintext_login_on_loopback` lifts this for clients on this machine.
    pub(crate) fn login_disabled(&self) -> bool {
        let trusted_loopback =
            self.services.plaintext_login_on_loopback && self.peer.is_some_and(|peer| peer.ip().is_loopback());
        !self.tls_active && self.services.tls.is_some() && !trusted_loopback
    }

    /// The capabilities offered now (RFC 9051 §7.2.2): STARTTLS and AUTH only before login,
    /// STARTTLS (and LOGINDISABLED instead of AUTH=PLAIN) only on a plaintext connection that
    /// can be upgraded.
    pub(crate) fn capabilities(&self) -> String {
        let mut capabilities = vec!["IMAP4rev1", "IMAP4rev2"];
        if !self.is_authenticated() {
            if self.login_disabled() {
                capabilities.extend(["STARTTLS", "LOGINDISABLED"]);
            } else {
                capabilities.extend(["AUTH=PLAIN", "AUTH=LOGIN", "SASL-IR"]);
            }
        }
        // RFC 7888: non-synchronizing literals of any size up to the caps; large ones are held
        // against the server-wide budget like synchronizing ones, or dropped as they arrive.
        capabilities.extend([
            "LITERAL+",
            "SPECIAL-USE",
            // RFC 6154 §3: every system folder exists already, so a USE is refused with USEATTR.
            "CREATE-SPECIAL-USE",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "ESEARCH",
            "ESORT",
            "ID",
            "UNSELECT",
            "NAMESPACE",
            "ENABLE",
            "STATUS=SIZE",
            "UIDPLUS",
            "IDLE",
            "CONDSTORE",
            "QRESYNC",
            "SORT",
            "SORT=DISPLAY",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
            "QUOTA",
            "QUOTA=RES-STORAGE",
            "MOVE",
            "CHILDREN",
            // RFC 7889: the largest message APPEND takes (`store::MAX_MESSAGE_BYTES`).
            "APPENDLIMIT=50000000",
            // RFC 3516: FETCH BINARY[...] and BINARY.SIZE, APPEND of literal8.
            "BINARY",
            // RFC 6855: folder names (and APPENDed headers) in UTF-8 once enabled.
            "UTF8=ACCEPT",
        ]);
        // RFC 4978 §3: offered only while it can still be turned on, and after login: before,
        // a client could make the server hold a compressor without being anyone.
        if self.is_authenticated() && !self.compressing {
            capabilities.push("COMPRESS=DEFLATE");
        }
        capabilities.join(" ")
    }

    /// Turns CONDSTORE on (RFC 7162 §3.1). The first command that does so while a folder is
    /// selected must tell the folder's HIGHESTMODSEQ: the returned line, to send before the
    /// command's other responses.
    pub(crate) fn enable_condstore(&mut self) -> Option<String> {
        if std::mem::replace(&mut self.condstore, true) {
            return None;
        }
        let highest = self.selected()?.highest_modseq();
        Some(format!("* OK [HIGHESTMODSEQ {highest}] CONDSTORE enabled\r\n"))
    }

    /// The session ends once the reply being built is written (LOGOUT, too many failures).
    pub(crate) fn end_after_reply(&mut self) {
        self.logging_out = true;
    }

    /// Whether the session ends after this reply.
    pub(crate) fn ending(&self) -> bool {
        self.logging_out
    }

    /// Enters the authenticated state (RFC 9051 §3.2): larger literals are accepted from now on.
    pub(crate) fn set_account(&mut self, account: store::Account) {
        self.state = State::Authenticated { account };
        self.framer.set_authenticated();
    }

    fn is_authenticated(&self) -> bool {
        !matches!(self.state, State::NotAuthenticated)
    }

    /// Enters the selected state with this folder; the previous one, if any, is closed.
    pub(crate) fn select(&mut self, selected: Selected) {
        self.unselect();
        if let State::Authenticated { account } = std::mem::replace(&mut self.state, State::NotAuthenticated) {
            self.state = State::Selected { account, selected };
        }
    }

    /// Back to the authenticated state; returns the folder that was selected.
    pub(crate) fn unselect(&mut self) -> Option<Selected> {
        match std::mem::replace(&mut self.state, State::NotAuthenticated) {
            State::Selected { account, selected } => {
                self.state = State::Authenticated { account };
                Some(selected)
            }
            other => {
                self.state = other;
                None
            }
        }
    }

    /// The selected folder, if any.
    pub(crate) fn selected(&self) -> Option<&Selected> {
        match &self.state {
            State::Selected { selected, .. } => Some(selected),
            _ => None,
        }
    }

    /// Runs the session until the client logs out, disconnects or stays idle too long.
    pub(crate) async fn run(&mut self) {
        let greeting = format!("OK [CAPABILITY {}] {} Facteur IMAP ready", self.capabilities(), self.services.hostname);
        let mut response = Response::default();
        response.untagged(&greeting);
        if self.write(&response.bytes).await.is_err() {
            return;
        }
        match self.command_loop().await {
            Ok(()) => {}
            Err(Error::Io(error)) => tracing::debug!(%error, "IMAP connection ended"),
            Err(error) => tracing::error!(%error, "IMAP session failed"),
        }
        if let Some(mut stream) = self.stream.take() {
            let _ = stream.shutdown().await;
        }
    }

    async fn command_loop(&mut self) -> Result<()> {
        loop {
            while let Some(event) = self.framer.next_event() {
                // Boxed: what answering needs (FETCH's future is large) lives only while it
                // runs, so the task of an idle session holds little more than the session and
                // its read.
                if Box::pin(self.handle_event(event)).await? == Flow::Stop {
                    return Ok(());
                }
            }
            if !self.read_some().await? {
                return Ok(());
            }
        }
    }

    /// Acts on one thing the framer found: a command is run and answered, a literal admitted
    /// or refused, bad input answered.
    async fn handle_event(&mut self, event: FrameEvent) -> Result<Flow> {
        if self.bad_commands >= MAX_BAD_COMMANDS {
            tracing::info!(peer = ?self.peer, "IMAP session closed after too many bad commands");
            self.write(b"* BYE Too many invalid commands\r\n").await?;
            return Ok(Flow::Stop);
        }
        let command_ends = !matches!(event, FrameEvent::ContinuationNeeded | FrameEvent::AdmissionNeeded);
        match event {
            FrameEvent::Command(command, extras) => {
                let tag = command.tag.clone();
                let (response, after) = self.execute(command, extras).await?;
                self.write(&response.bytes).await?;
                if self.logging_out {
                    return Ok(Flow::Stop);
                }
                match after {
                    After::StartTls => self.start_tls(&tag).await?,
                    After::Compress => self.start_compression()?,
                    After::Nothing => {}
                }
            }
            FrameEvent::ContinuationNeeded => {
                if self.admit_literal() {
                    self.write(b"+ Ready for literal\r\n").await?;
                } else {
                    let tag = self.framer.abandon_command();
                    self.write_error(tag, Error::no(Some(Code::Limit), BUSY)).await?;
                }
            }
            // LITERAL+: the bytes are already coming; without room they are dropped.
            FrameEvent::AdmissionNeeded => {
                if !self.admit_literal() {
                    self.framer.refuse_announced_literal();
                }
            }
            FrameEvent::Busy { tag } => self.write_error(tag, Error::no(Some(Code::Limit), BUSY)).await?,
            FrameEvent::Syntax { tag } => {
                self.write_error(tag, Error::bad("Syntax error or unknown command")).await?;
            }
            FrameEvent::LineTooLong { tag } => {
                self.write_error(tag, Error::bad("Command line too long")).await?;
            }
            FrameEvent::LiteralTooLarge { tag, form } => self.write_error(tag, Error::TooBig(form)).await?,
        }
        if command_ends {
            // The command is answered: its literals are no longer held.
            self.literal_permit = None;
        }
        Ok(Flow::Go)
    }

    /// Whether the synchronizing literal just announced may come now: a large one must fit in
    /// the server-wide literal memory (twice: its bytes, then the parsed command), taken here
    /// and held until the command is done.
    fn admit_literal(&mut self) -> bool {
        let length = self.framer.announced_literal();
        if length <= LARGE_LITERAL_BYTES {
            return true;
        }
        let permits = u32::try_from(length.saturating_mul(2)).unwrap_or(u32::MAX);
        match Arc::clone(&self.services.literal_memory).try_acquire_many_owned(permits) {
            Ok(permit) => {
                match &mut self.literal_permit {
                    Some(held) => held.merge(permit),
                    None => self.literal_permit = Some(permit),
                }
                self.framer.reserve_announced_literal();
                true
            }
            Err(_) => false,
        }
    }

    /// Reads what the client sent into the framer. `false` at end of stream; when a timer
    /// runs out it says BYE and returns `false` (RFC 9051 §7.1.5).
    ///
    /// Three timers, the earliest wins: idle (between reads), the login deadline (before
    /// authentication, from the connection's start) and the command deadline (from a
    /// command's first byte). The last two count whole phases, so a client cannot hold a
    /// connection by trickling bytes just inside the idle timer.
    ///
    /// Bytes go straight into the framer. Between commands, what a pipelining client sent
    /// already is read at once with the buffers as they are; a quiet client is waited for with
    /// the buffers given back and room for a short command only, so thousands of idle clients
    /// cost little more than their TLS state and folder snapshot. In a command (an APPEND),
    /// reads are 64 KiB.
    async fn read_some(&mut self) -> Result<bool> {
        let now = Instant::now();
        let (login_deadline, command_deadline) = self.deadlines;
        let read_size = if self.framer.is_between_commands() {
            self.command_started = None;
            if let Some(more) = self.read_ready(4 * 1024)? {
                return Ok(more);
            }
            self.framer.release_memory();
            if self.output.is_empty() {
                self.output = Vec::new();
            }
            IDLE_READ_BYTES
        } else {
            self.command_started.get_or_insert(now);
            64 * 1024
        };
        let mut deadline =
            (now + if self.is_authenticated() { IDLE_TIMEOUT } else { LOGIN_TIMEOUT }, "idle for too long");
        if !self.is_authenticated() {
            deadline = deadline.min((self.connected_at + login_deadline, "not logged in in time"));
        }
        if let Some(started) = self.command_started {
            deadline = deadline.min((started + command_deadline, "command not complete in time"));
        }
        let stream = self.stream.as_mut().ok_or_else(stream_lost)?;
        let into = self.framer.receive_into(read_size);
        match tokio::time::timeout_at(deadline.0.into(), stream.read_buf(into)).await {
            Ok(Ok(0)) => Ok(false),
            Ok(Ok(_)) => Ok(true),
            Ok(Err(error)) => Err(Error::Io(error)),
            Err(_) => {
                tracing::debug!(peer = ?self.peer, why = deadline.1, "IMAP session timed out");
                let _ = self.write(format!("* BYE Autologout; {}\r\n", deadline.1).as_bytes()).await;
                Ok(false)
            }
        }
    }

    /// Reads what has arrived already, without waiting: `Some(false)` at end of stream, `None`
    /// when nothing is there. Polled once with a waker that does nothing: a read that is not
    /// ready takes no bytes, and the next poll registers the task's own waker.
    fn read_ready(&mut self, read_size: usize) -> Result<Option<bool>> {
        let stream = self.stream.as_mut().ok_or_else(stream_lost)?;
        let read = std::pin::pin!(stream.read_buf(self.framer.receive_into(read_size)));
        match read.poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(Ok(n)) => Ok(Some(n > 0)),
            std::task::Poll::Ready(Err(error)) => Err(Error::Io(error)),
            std::task::Poll::Pending => Ok(None),
        }
    }

    /// Reads one line for an AUTHENTICATE exchange. `Ok(None)` at end of stream.
    pub(crate) async fn read_line(&mut self) -> Result<Option<Result<Vec<u8>, ()>>> {
        loop {
            if let Some(line) = self.framer.next_line() {
                return Ok(Some(line));
            }
            if !self.read_some().await? {
                return Ok(None);
            }
        }
    }

    fn stream(&mut self) -> Result<&mut Box<dyn AsyncStream>> {
        self.stream.as_mut().ok_or_else(stream_lost)
    }

    /// Writes what is buffered, then `bytes`, and flushes, within [`WRITE_TIMEOUT`]: a client
    /// that does not read ends its session (it would not read a BYE either).
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.write_out(bytes, true).await
    }

    /// Queues `bytes` behind what is buffered; they go out with the next [`Session::write`]
    /// (a command's tagged completion), or as soon as [`OUTPUT_BUFFER_BYTES`] are waiting. A
    /// command's output thus costs a few writes, not one per line, and never more memory than
    /// the buffer and the piece being added.
    pub(crate) async fn write_buffered(&mut self, bytes: &[u8]) -> Result<()> {
        if self.output.len() + bytes.len() <= OUTPUT_BUFFER_BYTES {
            self.output.extend_from_slice(bytes);
            return Ok(());
        }
        self.write_out(bytes, false).await
    }

    async fn write_out(&mut self, bytes: &[u8], flush: bool) -> Result<()> {
        let write_timeout = self.write_timeout;
        let mut pending = std::mem::take(&mut self.output);
        // Small pieces join the buffer, so they share its write.
        let joined = pending.len() + bytes.len() <= 2 * OUTPUT_BUFFER_BYTES;
        if joined {
            pending.extend_from_slice(bytes);
        }
        let stream = self.stream()?;
        let write = async {
            if !pending.is_empty() {
                stream.write_all(&pending).await?;
            }
            if !joined {
                stream.write_all(bytes).await?;
            }
            if flush {
                stream.flush().await?;
            }
            Ok::<_, std::io::Error>(())
        };
        tokio::time::timeout(write_timeout, write)
            .await
            .map_err(|_| Error::Io(std::io::ErrorKind::TimedOut.into()))??;
        // A logged-in account that has been sent more than its share waits for it to refill.
        if let Ok(account) = self.account() {
            let sent = pending.len() + if joined { 0 } else { bytes.len() };
            let wait = self.services.output_budget.spend(&account.id, sent);
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
        }
        // The buffer keeps its capacity for the next command, unless a huge piece grew it.
        pending.clear();
        if pending.capacity() <= 2 * OUTPUT_BUFFER_BYTES {
            self.output = pending;
        }
        Ok(())
    }

    /// Answers a command the framer refused; untagged (`*`) when its tag could not be read.
    async fn write_error(&mut self, tag: Option<Tag<'static>>, error: Error) -> Result<()> {
        if matches!(error, Error::Bad(_) | Error::TooBig(LiteralForm::NonSynchronizing)) {
            self.bad_commands += 1;
        }
        let Some(response) = error.into_response(tag.as_ref().map_or("*", |t| t.as_ref())) else { return Ok(()) };
        self.write(&response.bytes).await
    }

    /// Runs one command and returns everything to send back, tagged completion last.
    async fn execute(&mut self, command: Command<'static>, extras: Extras) -> Result<(Response, After)> {
        let tag = command.tag.as_ref().to_string();
        let name = command.body.name();
        tracing::debug!(command = name, "IMAP command");
        let outcome = match self.check_state(&command.body) {
            Ok(()) => self.dispatch(&tag, command.body, extras).await,
            Err(error) => Err(error),
        };
        match outcome {
            Ok(done) => Ok(done),
            Err(Error::Io(error)) => Err(Error::Io(error)),
            Err(error) => {
                // After login, BAD mostly means "not supported yet" to a real client (SEARCH,
                // COPY...): only a session that has not logged in is counted for it.
                if matches!(error, Error::Bad(_)) && !self.is_authenticated() {
                    self.bad_commands += 1;
                }
                let response = error.into_response(&tag).unwrap_or_default();
                Ok((response, After::Nothing))
            }
        }
    }

    fn check_state(&self, body: &CommandBody<'_>) -> Result<()> {
        let needed = match body {
            CommandBody::Capability | CommandBody::Noop | CommandBody::Logout | CommandBody::Id { .. } => {
                StateNeeded::Any
            }
            CommandBody::StartTLS | CommandBody::Login { .. } | CommandBody::Authenticate { .. } => {
                StateNeeded::NotAuthenticated
            }
            CommandBody::Fetch { .. }
            | CommandBody::Store { .. }
            | CommandBody::Expunge
            | CommandBody::ExpungeUid { .. }
            | CommandBody::Search { .. }
            | CommandBody::Sort { .. }
            | CommandBody::Thread { .. }
            | CommandBody::Copy { .. }
            | CommandBody::Move { .. }
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Check => StateNeeded::Selected,
            _ => StateNeeded::Authenticated,
        };
        match (needed, &self.state) {
            (StateNeeded::Any, _) => Ok(()),
            (StateNeeded::NotAuthenticated, State::NotAuthenticated) => Ok(()),
            (StateNeeded::NotAuthenticated, _) => Err(Error::bad("Already authenticated")),
            (StateNeeded::Authenticated | StateNeeded::Selected, State::NotAuthenticated) => {
                Err(Error::bad("Log in first"))
            }
            (StateNeeded::Authenticated, _) => Ok(()),
            (StateNeeded::Selected, State::Authenticated { .. }) => Err(Error::bad("No folder selected")),
            (StateNeeded::Selected, State::Selected { .. }) => Ok(()),
        }
    }

    async fn dispatch(&mut self, tag: &str, body: CommandBody<'static>, extras: Extras) -> Result<(Response, After)> {
        let response = match body {
            CommandBody::Capability => self.handle_capability(tag),
            CommandBody::Noop | CommandBody::Check => self.handle_noop(tag).await?,
            CommandBody::Logout => {
                self.logging_out = true;
                self.handle_logout(tag)
            }
            CommandBody::Id { parameters } => self.handle_id(tag, parameters)?,
            CommandBody::StartTLS => return self.handle_starttls(tag),
            CommandBody::Compress { .. } => return self.handle_compress(tag),
            CommandBody::Login { username, password } => self.handle_login(tag, username, password).await?,
            CommandBody::Authenticate { mechanism, initial_response } => {
                self.handle_authenticate(tag, mechanism, initial_response).await?
            }
            CommandBody::List { reference, mailbox_wildcard } => {
                let options = extras.list.map(|options| *options).unwrap_or_default();
                self.handle_list(tag, reference, mailbox_wildcard, crate::op::ListKind::List, options).await?
            }
            CommandBody::Lsub { reference, mailbox_wildcard } => {
                self.handle_list(tag, reference, mailbox_wildcard, crate::op::ListKind::Lsub, Default::default())
                    .await?
            }
            CommandBody::Status { mailbox, item_names } => self.handle_status(tag, mailbox, &item_names).await?,
            CommandBody::Select { mailbox, parameters } => {
                self.handle_select(tag, mailbox, crate::selected::Access::ReadWrite, parameters).await?
            }
            CommandBody::Examine { mailbox, parameters } => {
                self.handle_select(tag, mailbox, crate::selected::Access::ReadOnly, parameters).await?
            }
            CommandBody::Unselect => self.handle_unselect(tag),
            CommandBody::Idle => self.handle_idle(tag).await?,
            CommandBody::GetQuotaRoot { mailbox } => self.handle_getquotaroot(tag, mailbox).await?,
            CommandBody::GetQuota { root } => self.handle_getquota(tag, root).await?,
            CommandBody::SetQuota { .. } => {
                return Err(Error::no(Some(Code::NoPerm), "Quotas are set by the administrator"));
            }
            CommandBody::Append { mailbox, flags, date, message } => {
                self.handle_append(tag, mailbox, flags, date, message).await?
            }
            CommandBody::Copy { sequence_set, mailbox, uid } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_copy(tag, &sequence_set, mailbox, addressing, crate::op::copy::Transfer::Copy).await?
            }
            CommandBody::Move { sequence_set, mailbox, uid } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_copy(tag, &sequence_set, mailbox, addressing, crate::op::copy::Transfer::Move).await?
            }
            CommandBody::Search { charset, criteria, uid } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_search(tag, charset, criteria, addressing, extras.search_return).await?
            }
            CommandBody::Sort { sort_criteria, charset, search_criteria, uid } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_sort(tag, sort_criteria, charset, search_criteria, addressing, extras.search_return).await?
            }
            CommandBody::Thread { algorithm, charset, search_criteria, uid } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_thread(tag, algorithm, charset, search_criteria, addressing).await?
            }
            CommandBody::ExpungeUid { sequence_set } => self.handle_expunge(tag, Some(&sequence_set)).await?,
            CommandBody::Create { mailbox } => self.handle_create(tag, mailbox, extras.create_use).await?,
            CommandBody::Delete { mailbox } => self.handle_delete(tag, mailbox).await?,
            CommandBody::Rename { from, to } => self.handle_rename(tag, from, to).await?,
            CommandBody::Subscribe { mailbox } => self.handle_subscribe(tag, mailbox, true).await?,
            CommandBody::Unsubscribe { mailbox } => self.handle_subscribe(tag, mailbox, false).await?,
            CommandBody::Namespace => self.handle_namespace(tag),
            CommandBody::Enable { capabilities } => self.handle_enable(tag, capabilities.as_ref()),
            CommandBody::Close => self.handle_close(tag).await?,
            CommandBody::Expunge => self.handle_expunge(tag, None).await?,
            CommandBody::Fetch { sequence_set, macro_or_item_names, uid, modifiers } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_fetch(tag, &sequence_set, macro_or_item_names, addressing, modifiers).await?
            }
            CommandBody::Store { sequence_set, kind, response, flags, uid, modifiers } => {
                let addressing = if uid { Addressing::Uid } else { Addressing::Sequence };
                self.handle_store(tag, &sequence_set, kind, response, &flags, addressing, &modifiers).await?
            }
        };
        Ok((response, After::Nothing))
    }

    /// RFC 9051 §6.2.1: after the tagged OK the TLS negotiation starts at once; bytes the
    /// client pipelined after STARTTLS are discarded (they could be an injection, RFC 3207 §6).
    async fn start_tls(&mut self, tag: &Tag<'_>) -> Result<()> {
        let Some(acceptor) = self.services.tls.clone() else {
            return Err(Error::Io(std::io::Error::other("STARTTLS without a certificate")));
        };
        self.framer.clear();
        let plain = self.stream.take().ok_or_else(stream_lost)?;
        let tls = tokio::time::timeout(listener::TLS_HANDSHAKE_TIMEOUT, acceptor.accept(plain))
            .await
            .map_err(|_| Error::Io(std::io::Error::other("STARTTLS handshake timed out")))??;
        self.stream = Some(Box::new(tls));
        self.tls_active = true;
        tracing::debug!(tag = tag.as_ref(), "STARTTLS done");
        Ok(())
    }

    /// RFC 4978 §3: both sides deflate right after the OK. The client waits for that OK, so
    /// anything it pipelined is not part of the deflate stream: dropped, as after STARTTLS.
    fn start_compression(&mut self) -> Result<()> {
        self.framer.clear();
        let plain = self.stream.take().ok_or_else(stream_lost)?;
        self.stream = Some(Box::new(crate::compress::Deflated::new(plain)));
        self.compressing = true;
        Ok(())
    }

    /// The logged-in account; the state check guarantees it for authenticated commands.
    pub(crate) fn account(&self) -> Result<&store::Account> {
        match &self.state {
            State::Authenticated { account } | State::Selected { account, .. } => Ok(account),
            State::NotAuthenticated => Err(Error::bad("Log in first")),
        }
    }

    pub(crate) fn selected_mut(&mut self) -> Result<&mut Selected> {
        match &mut self.state {
            State::Selected { selected, .. } => Ok(selected),
            _ => Err(Error::bad("No folder selected")),
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, BufReader};

    use super::*;

    fn spawn_session(mut session: Session) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move { session.run().await })
    }

    /// A store with ana@example.org ("a long password") and one message in her Inbox.
    /// The services of a server whose store has ana, with this certificate (or none).
    async fn services_with_ana(dir: &tempfile::TempDir, tls: Option<tokio_rustls::TlsAcceptor>) -> Arc<ImapServices> {
        let store = store_with_ana(dir).await;
        Arc::new(ImapServices::new(mail::Mail::new(store.clone()), auth::Auth::new(store), tls, "test".into()))
    }

    async fn store_with_ana(dir: &tempfile::TempDir) -> store::Store {
        let store = store::Store::open(dir.path()).await.expect("store opens");
        store.add_domain("example.org").await.expect("domain");
        let address = store::parse_address("ana@example.org").expect("address");
        auth::Auth::new(store.clone()).add_user(&address, "a long password", None).await.expect("user");
        store.deliver(&[store::AccountId(1)], b"Subject: hi\r\n\r\nbody\r\n".to_vec()).await.expect("deliver");
        store
    }

    /// A TLS acceptor without a certificate: enough for the session to offer STARTTLS, and no
    /// handshake happens in these tests.
    fn acceptor_without_certificate() -> tokio_rustls::TlsAcceptor {
        use tokio_rustls::rustls;

        #[derive(Debug)]
        struct NoCertificate;
        impl rustls::server::ResolvesServerCert for NoCertificate {
            fn resolve(&self, _: rustls::server::ClientHello<'_>) -> Option<Arc<rustls::sign::CertifiedKey>> {
                None
            }
        }
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(NoCertificate));
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }

    /// Review finding: passwords were accepted in clear on the STARTTLS port. RFC 9051 §6.2.3:
    /// LOGINDISABLED is advertised and LOGIN/AUTHENTICATE get NO [PRIVACYREQUIRED].
    #[tokio::test]
    async fn no_password_in_clear_when_starttls_is_possible() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = services_with_ana(&dir, Some(acceptor_without_certificate())).await;
        let (client, server) = tokio::io::duplex(64 * 1024);
        let session = spawn_session(Session::new(Box::new(server), services, None, false));
        let (read_half, mut write_half) = tokio::io::split(client);
        let mut lines = BufReader::new(read_half).lines();
        let greeting = lines.next_line().await.expect("read").expect("greeting");
        assert!(
            greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 STARTTLS LOGINDISABLED LITERAL+"),
            "{greeting}"
        );
        assert!(!greeting.contains("AUTH="), "{greeting}");
        let credentials = "AGFuYUBleGFtcGxlLm9yZwBhIGxvbmcgcGFzc3dvcmQ=";
        write_half
            .write_all(
                format!(
                    "1 LOGIN ana@example.org \"a long password\"\r\n2 AUTHENTICATE PLAIN\r\n\
                     3 AUTHENTICATE PLAIN {credentials}\r\n4 SELECT INBOX\r\n5 CAPABILITY\r\n6 LOGOUT\r\n"
                )
                .as_bytes(),
            )
            .await
            .expect("write");
        let mut transcript = Vec::new();
        while let Some(line) = lines.next_line().await.expect("read") {
            transcript.push(line);
        }
        session.await.expect("session ends");
        for tag in 1..=3 {
            let prefix = format!("{tag} NO [PRIVACYREQUIRED] ");
            assert!(transcript.iter().any(|line| line.starts_with(&prefix)), "{prefix}: {transcript:?}");
        }
        assert!(!transcript.iter().any(|line| line.starts_with('+')), "no SASL challenge: {transcript:?}");
        assert!(transcript.iter().any(|line| line.starts_with("4 BAD")), "not logged in: {transcript:?}");
        assert!(
            transcript.iter().any(|line| line.starts_with("* CAPABILITY IMAP4rev1 IMAP4rev2 STARTTLS LOGINDISABLED"))
        );
        assert_eq!(transcript.last().map(String::as_str), Some("6 OK LOGOUT completed"));
    }

    /// `plaintext_login_on_loopback` lets a loopback client log in without STARTTLS, and no one
    /// else: the same LOGIN from another address is still refused.
    #[tokio::test]
    async fn plaintext_login_only_from_loopback_when_allowed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut services = services_with_ana(&dir, Some(acceptor_without_certificate())).await;
        Arc::get_mut(&mut services).expect("not shared yet").plaintext_login_on_loopback = true;
        for (peer, wanted) in
            [("127.0.0.1:40000", "1 OK "), ("[::1]:40000", "1 OK "), ("203.0.113.9:40000", "1 NO [PRIVACYREQUIRED]")]
        {
            let (client, server) = tokio::io::duplex(64 * 1024);
            let peer = Some(peer.parse().expect("address"));
            let session = spawn_session(Session::new(Box::new(server), Arc::clone(&services), peer, false));
            let (read_half, mut write_half) = tokio::io::split(client);
            let mut lines = BufReader::new(read_half).lines();
            lines.next_line().await.expect("read").expect("greeting");
            write_half.write_all(b"1 LOGIN ana@example.org \"a long password\"\r\n2 LOGOUT\r\n").await.expect("write");
            let mut transcript = Vec::new();
            while let Some(line) = lines.next_line().await.expect("read") {
                transcript.push(line);
            }
            session.await.expect("session ends");
            assert!(transcript.iter().any(|line| line.starts_with(wanted)), "{peer:?}: {transcript:?}");
        }
    }

    /// Issue 12: an account that has been sent more than its output budget waits for it. With
    /// 500 bytes of burst and 10,000 bytes a second, 80 CAPABILITY answers (about 7 KB) take
    /// at least half a second; without the budget they take milliseconds.
    #[tokio::test]
    async fn an_account_past_its_output_budget_waits_for_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_with_ana(&dir).await;
        let mut services =
            ImapServices::new(mail::Mail::new(store.clone()), auth::Auth::new(store), None, "test".into());
        services.output_budget = listener::ByteBudget::new(10_000, 500);
        let (client, server) = tokio::io::duplex(64 * 1024);
        let session = spawn_session(Session::new(Box::new(server), Arc::new(services), None, false));
        let (read_half, mut write_half) = tokio::io::split(client);
        let mut lines = BufReader::new(read_half).lines();
        lines.next_line().await.expect("read").expect("greeting");
        write_half.write_all(b"a LOGIN ana@example.org \"a long password\"\r\n").await.expect("write");
        while !lines.next_line().await.expect("read").expect("line").starts_with("a ") {}
        let start = std::time::Instant::now();
        let mut sent = 0;
        for n in 0..80 {
            write_half.write_all(format!("c{n} CAPABILITY\r\n").as_bytes()).await.expect("write");
            loop {
                let line = lines.next_line().await.expect("read").expect("line");
                sent += line.len() + 2;
                if line.starts_with(&format!("c{n} ")) {
                    break;
                }
            }
        }
        let elapsed = start.elapsed();
        assert!(sent > 6_000, "{sent} bytes");
        assert!(elapsed >= Duration::from_millis(500), "{sent} bytes in {elapsed:?}");
        write_half.write_all(b"z LOGOUT\r\n").await.expect("write");
        drop(write_half);
        let _ = session.await;
    }

    /// Issue 13: large literals are held against a server-wide budget before the client is
    /// told to send them (or, non-synchronizing, as they arrive); past it the APPEND is refused
    /// (NO [LIMIT]) and the session goes on, and the budget comes back when the command is done.
    #[tokio::test]
    async fn large_literals_wait_for_the_server_wide_budget() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store_with_ana(&dir).await;
        let mut services =
            ImapServices::new(mail::Mail::new(store.clone()), auth::Auth::new(store), None, "test".into());
        // Room for one 300 KB message (held twice), not for a 600 KB one.
        services.literal_memory = Arc::new(tokio::sync::Semaphore::new(1_000_000));
        let budget = Arc::clone(&services.literal_memory);
        let (client, server) = tokio::io::duplex(1 << 20);
        let session = spawn_session(Session::new(Box::new(server), Arc::new(services), None, false));
        let (read_half, mut write_half) = tokio::io::split(client);
        let mut lines = BufReader::new(read_half).lines();
        lines.next_line().await.expect("read").expect("greeting");
        write_half.write_all(b"a LOGIN ana@example.org \"a long password\"\r\n").await.expect("write");
        while !lines.next_line().await.expect("read").expect("line").starts_with("a ") {}
        write_half.write_all(b"b APPEND INBOX {600000}\r\n").await.expect("write");
        let refused = lines.next_line().await.expect("read").expect("line");
        assert!(refused.starts_with("b NO [LIMIT]"), "{refused}");
        let mut message = b"Subject: big\r\n\r\n".to_vec();
        message.resize(300_000, b'x');
        for tag in ["c", "d"] {
            write_half
                .write_all(format!("{tag} APPEND INBOX {{{}}}\r\n", message.len()).as_bytes())
                .await
                .expect("write");
            assert_eq!(lines.next_line().await.expect("read").as_deref(), Some("+ Ready for literal"));
            assert!(budget.available_permits() < 500_000, "the literal is held");
            write_half.write_all(&message).await.expect("write");
            write_half.write_all(b"\r\n").await.expect("write");
            let done = lines.next_line().await.expect("read").expect("line");
            assert!(done.starts_with(&format!("{tag} OK [APPENDUID ")), "{done}");
        }
        assert_eq!(budget.available_permits(), 1_000_000, "given back");
        // LITERAL+: the same with non-synchronizing literals. Too large for the budget: the
        // bytes are read and dropped, NO [LIMIT], and the next command is framed as usual.
        let mut too_big = b"e APPEND INBOX {600000+}\r\n".to_vec();
        too_big.resize(too_big.len() + 600_000, b'y');
        too_big.extend_from_slice(b"\r\nf NOOP\r\n");
        write_half.write_all(&too_big).await.expect("write");
        let refused = lines.next_line().await.expect("read").expect("line");
        assert!(refused.starts_with("e NO [LIMIT]"), "{refused}");
        assert_eq!(lines.next_line().await.expect("read").as_deref(), Some("f OK NOOP completed"));
        let mut fits = format!("g APPEND INBOX {{{}+}}\r\n", message.len()).into_bytes();
        fits.extend_from_slice(&message);
        fits.extend_from_slice(b"\r\n");
        write_half.write_all(&fits).await.expect("write");
        let done = lines.next_line().await.expect("read").expect("line");
        assert!(done.starts_with("g OK [APPENDUID "), "{done}");
        assert_eq!(budget.available_permits(), 1_000_000, "given back");
        write_half.write_all(b"z LOGOUT\r\n").await.expect("write");
        drop(write_half);
        let _ = session.await;
    }

    /// Review finding: writes had no timeout, so a client that never reads kept its session
    /// (and the response being written) forever. Now the session ends.
    #[tokio::test]
    async fn a_client_that_never_reads_is_dropped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = services_with_ana(&dir, None).await;
        // The pipe holds 16 bytes: the greeting alone does not fit.
        let (client, server) = tokio::io::duplex(16);
        let mut session = Session::new(Box::new(server), services, None, false);
        session.write_timeout = Duration::from_millis(50);
        // Only a guard against hanging forever, far above the write timeout.
        let ended = tokio::time::timeout(Duration::from_secs(120), session.run()).await;
        assert!(ended.is_ok(), "the session still waits for a client that does not read");
        drop(client);
    }

    /// Issue 12: a client trickling bytes just inside the idle timer kept its connection
    /// forever, before login and with a command that never ends. Both phases now have a
    /// deadline of their own.
    #[tokio::test]
    async fn trickling_clients_meet_the_deadlines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = services_with_ana(&dir, None).await;
        // Before login: whole NOOPs, each within the command deadline, and still the session
        // ends. After login: one NOOP line that never ends.
        // (logs in, deadlines in ms, bytes trickled, the last line)
        type Case = (bool, (u64, u64), &'static [u8], &'static str);
        let cases: [Case; 2] = [
            (false, (600, 10_000), b"a NOOP\r\n", "* BYE Autologout; not logged in in time"),
            (true, (600, 300), b"2 NOOP NOOP NOOP ", "* BYE Autologout; command not complete in time"),
        ];
        for (logs_in, (login_ms, command_ms), trickled, bye) in cases {
            let (client, server) = tokio::io::duplex(64 * 1024);
            let mut session = Session::new(Box::new(server), Arc::clone(&services), None, false);
            session.deadlines = (Duration::from_millis(login_ms), Duration::from_millis(command_ms));
            let session = spawn_session(session);
            let (read_half, mut write_half) = tokio::io::split(client);
            let mut lines = BufReader::new(read_half).lines();
            lines.next_line().await.expect("read").expect("greeting");
            if logs_in {
                write_half.write_all(b"1 LOGIN ana@example.org {15}\r\n").await.expect("write");
                assert_eq!(lines.next_line().await.expect("read").as_deref(), Some("+ Ready for literal"));
                write_half.write_all(b"a long password\r\n").await.expect("write");
                let answer = lines.next_line().await.expect("read").expect("answer");
                assert!(answer.starts_with("1 OK"), "{answer}");
            }
            let started = Instant::now();
            // A byte every 20 ms: each read is far inside every idle timer.
            let trickled = trickled.to_vec();
            let trickle = tokio::spawn(async move {
                for byte in trickled.iter().cycle().take(500) {
                    if write_half.write_all(&[*byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            });
            let mut last = None;
            while let Some(line) = lines.next_line().await.expect("read") {
                last = Some(line);
            }
            assert_eq!(last.as_deref(), Some(bye));
            assert!(started.elapsed() < Duration::from_secs(5), "ended after {:?}", started.elapsed());
            session.await.expect("session ends");
            trickle.abort();
        }
    }

    /// A whole session over `tokio::io::duplex`, no socket: the stream abstraction at work.
    #[tokio::test]
    async fn a_session_over_an_in_memory_pipe() {
        let dir = tempfile::tempdir().expect("temp dir");
        let services = services_with_ana(&dir, None).await;
        let (client, server) = tokio::io::duplex(64 * 1024);
        let session = spawn_session(Session::new(Box::new(server), services, None, false));
        let (read_half, mut write_half) = tokio::io::split(client);
        let mut lines = BufReader::new(read_half).lines();
        let greeting = lines.next_line().await.expect("read").expect("greeting");
        assert!(greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN"), "{greeting}");
        assert!(!greeting.contains("STARTTLS"), "no certificate, no STARTTLS: {greeting}");
        write_half.write_all(b"1 LOGIN ana@example.org {15}\r\n").await.expect("write");
        assert_eq!(lines.next_line().await.expect("read").as_deref(), Some("+ Ready for literal"));
        write_half.write_all(b"a long password\r\n2 SELECT inbox\r\n3 LOGOUT\r\n").await.expect("write");
        let mut transcript = Vec::new();
        while let Some(line) = lines.next_line().await.expect("read") {
            transcript.push(line);
        }
        session.await.expect("session ends");
        assert!(transcript[0].starts_with("1 OK [CAPABILITY IMAP4rev1 IMAP4rev2 LITERAL+"), "{transcript:?}");
        assert!(transcript.contains(&"* 1 EXISTS".to_string()), "{transcript:?}");
        assert!(transcript.contains(&"2 OK [READ-WRITE] SELECT completed".to_string()), "{transcript:?}");
        assert_eq!(transcript.last().map(String::as_str), Some("3 OK LOGOUT completed"));
    }
}
