//! Sans-IO command framing: bytes in, whole commands (or framing problems) out.
//!
//! IMAP commands are lines that may carry literals (`{N}\r\n` followed by N bytes), so a
//! command cannot be handed to the parser until all its lines and literals have arrived.
//! This module cuts the incoming byte stream into complete commands *before* parsing, which is
//! where the size caps live, so that what one connection can make us hold is bounded:
//! - a line (the text between literals) holds at most [`MAX_LINE_BYTES`];
//! - a literal holds at most [`MAX_LITERAL_BYTES_BEFORE_LOGIN`] before authentication (nobody
//!   needs more to log in) and [`MAX_LITERAL_BYTES`] after it;
//! - a non-synchronizing literal (LITERAL+, RFC 7888) has the same caps; one over
//!   [`LARGE_LITERAL_BYTES`] is announced to the session ([`FrameEvent::AdmissionNeeded`]),
//!   which takes it from the server-wide budget or has it dropped as it arrives;
//! - a whole command holds at most one line plus one literal's worth ([`Framer`] keeps the
//!   total), however many literals it chains.
//!
//! A refused command is discarded without being buffered. When the client already sends the
//! refused bytes (a non-synchronizing literal), they are counted and dropped, and the discarding
//! follows the literal announcements at the ends of the discarded lines (RFC 7888 §3), so the
//! next command is framed from its first byte and the connection stays usable.
//!
//! Only a complete command reaches imap-codec's `CommandCodec`, whose
//! `Incomplete`/`LiteralFound` outcomes therefore cannot happen on a well-framed command and are
//! reported as syntax errors.
//!
//! Invariant: this module does no I/O, no logging and no allocation beyond the caps, so it can
//! be tested by feeding transcripts split at every byte offset.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::core::Tag;

use crate::extended::{self, Extras, Lifted};

/// The longest command line (without its literals) we accept. Real clients stay far below it;
/// a longer line is answered BAD and discarded up to its CRLF.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// The largest literal we accept after login: a message for APPEND (APPENDLIMIT, RFC 7889).
/// Literals above [`LARGE_LITERAL_BYTES`] are also held against the server-wide
/// `LITERAL_MEMORY_BYTES` before the client is told to send them (the session decides, see
/// [`Framer::announced_literal`]), so 1000 connections cannot each make us hold 50 MB.
pub(crate) const MAX_LITERAL_BYTES: u64 = store::MAX_MESSAGE_BYTES as u64;

/// Literals up to this size are taken without asking the server-wide budget: a connection
/// holds at most a line and one of these besides it.
pub(crate) const LARGE_LITERAL_BYTES: u64 = 64 * 1024;

/// The largest literal we accept before login: a login name or a password never needs more, and
/// an unauthenticated client must not make us hold megabytes.
pub(crate) const MAX_LITERAL_BYTES_BEFORE_LOGIN: u64 = 8 * 1024;

/// The longest literal announcement: `{` + 19 digits + `+}` + CRLF. Discarding keeps this many
/// bytes of a line's end to recognize an announcement there.
const MAX_ANNOUNCEMENT_BYTES: usize = 24;

/// Whether the client waits for our continuation request before sending a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralForm {
    /// `{N}`: the client waits for `+` (RFC 9051 §7.5), so a refusal costs it nothing.
    Synchronizing,
    /// `{N+}` (RFC 7888): the bytes follow at once.
    NonSynchronizing,
}

/// What the framer has to tell the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameEvent {
    /// A complete, parsed command, with the extension syntax `extended` lifted off it.
    Command(Command<'static>, Extras),
    /// The client announced a synchronizing literal we accept: RFC 9051 §7.5 says the server
    /// must send a continuation request (`+ ...`) before the client sends the literal.
    ContinuationNeeded,
    /// The client is sending a non-synchronizing literal over [`LARGE_LITERAL_BYTES`]: the
    /// session takes it from the server-wide budget, or calls
    /// [`Framer::refuse_announced_literal`] and gets [`FrameEvent::Busy`] once it is dropped.
    AdmissionNeeded,
    /// A command whose non-synchronizing literal the session refused was dropped: `NO [LIMIT]`.
    Busy { tag: Option<Tag<'static>> },
    /// The bytes of one command could not be parsed. Answer BAD (tagged when the tag is known).
    Syntax { tag: Option<Tag<'static>> },
    /// A command line exceeded [`MAX_LINE_BYTES`], or the command's lines exceeded its total
    /// cap; it was discarded.
    LineTooLong { tag: Option<Tag<'static>> },
    /// A literal exceeded its cap (or would have made the command exceed its total). For a
    /// synchronizing literal the client sends nothing more for this command (it waits for our
    /// `+`), so the connection stays in sync. A non-synchronizing one was read and thrown away
    /// with the rest of its command.
    LiteralTooLarge { tag: Option<Tag<'static>>, form: LiteralForm },
}

/// What the framer is doing with the bytes it receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Collecting the lines and literals of one command.
    Collecting,
    /// Waiting for this many more literal bytes of the current command.
    InLiteral(u64),
    /// Dropping this many bytes of a refused non-synchronizing literal, then the rest of the line.
    DiscardingLiteral(u64),
    /// Dropping bytes up to the next LF (and the literal it may announce).
    DiscardingLine,
}

/// Why bytes are being discarded, to report once the discarding ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiscardReason {
    LineTooLong,
    LiteralTooLarge(LiteralForm),
    Busy,
}

impl DiscardReason {
    fn event(self, tag: Option<Tag<'static>>) -> FrameEvent {
        match self {
            DiscardReason::LineTooLong => FrameEvent::LineTooLong { tag },
            DiscardReason::LiteralTooLarge(form) => FrameEvent::LiteralTooLarge { tag, form },
            DiscardReason::Busy => FrameEvent::Busy { tag },
        }
    }
}

/// Cuts a byte stream into commands. Feed it with [`Framer::push`], then call
/// [`Framer::next_event`] until it returns `None`.
#[derive(Debug)]
pub(crate) struct Framer {
    /// The bytes of the command being collected (and possibly the start of the next ones).
    /// The current command always starts at index 0.
    buf: Vec<u8>,
    /// Bytes of `buf` already known to belong to the current command (whole lines and literals).
    framed: usize,
    /// Where the current line starts in `buf` (after the last literal).
    line_start: usize,
    /// How far `buf` was searched for LF from `line_start`, so long lines are scanned once.
    scanned: usize,
    mode: Mode,
    discard_reason: DiscardReason,
    /// The tag of the command being discarded, when it could be read.
    discard_tag: Option<Tag<'static>>,
    /// The last bytes of the line being discarded (at most [`MAX_ANNOUNCEMENT_BYTES`]), to see
    /// whether it announces a non-synchronizing literal whose bytes must be dropped too.
    discard_tail: Vec<u8>,
    /// The largest synchronizing literal accepted now: it grows after login.
    max_literal: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            buf: Vec::new(),
            framed: 0,
            line_start: 0,
            scanned: 0,
            mode: Mode::Collecting,
            discard_reason: DiscardReason::LineTooLong,
            discard_tag: None,
            discard_tail: Vec::new(),
            max_literal: MAX_LITERAL_BYTES_BEFORE_LOGIN,
        }
    }
}

impl Framer {
    /// How many bytes are held now.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing of a next command has arrived: no bytes held, none being discarded.
    pub(crate) fn is_between_commands(&self) -> bool {
        self.buf.is_empty() && self.mode == Mode::Collecting
    }

    /// Adds bytes received from the client.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Where to read the client's next bytes: they are appended (as [`Framer::push`] would),
    /// with room for `read_size` more.
    pub(crate) fn receive_into(&mut self, read_size: usize) -> &mut Vec<u8> {
        self.buf.reserve(read_size);
        &mut self.buf
    }

    /// Gives the buffer back when it holds nothing: an idle session keeps no command's room.
    pub(crate) fn release_memory(&mut self) {
        if self.buf.is_empty() {
            self.buf = Vec::new();
        }
    }

    /// Forgets everything buffered. STARTTLS needs it: RFC 9051 §6.2.1 (and RFC 3207's
    /// injection attack) forbid acting on plaintext bytes pipelined after the command.
    /// The literal cap goes back to the one before login (STARTTLS is only valid then).
    pub(crate) fn clear(&mut self) {
        *self = Framer::default();
    }

    /// Raises the literal cap to [`MAX_LITERAL_BYTES`]: the client has authenticated, and may
    /// now send messages (APPEND). Applies from the next command on.
    pub(crate) fn set_authenticated(&mut self) {
        self.max_literal = MAX_LITERAL_BYTES;
    }

    /// The most bytes one command may hold: a line's worth of text plus one literal's worth,
    /// however they are spread over lines and literals.
    pub(crate) fn max_command_bytes(&self) -> usize {
        MAX_LINE_BYTES + self.max_literal as usize
    }

    /// Takes one whole line (for AUTHENTICATE continuation data), CRLF included. `Err` when
    /// the line is longer than [`MAX_LINE_BYTES`] (the line is then discarded up to its LF).
    pub(crate) fn next_line(&mut self) -> Option<Result<Vec<u8>, ()>> {
        debug_assert_eq!(self.framed, 0, "a raw line is only read between commands");
        if let Some(event) = self.continue_discarding() {
            return event.map(|_| Err(()));
        }
        match self.buf.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                let line: Vec<u8> = self.buf.drain(..=lf).collect();
                self.reset_positions();
                if line.len() > MAX_LINE_BYTES { Some(Err(())) } else { Some(Ok(line)) }
            }
            None if self.buf.len() > MAX_LINE_BYTES => {
                self.buf.clear();
                self.reset_positions();
                self.discard_reason = DiscardReason::LineTooLong;
                self.discard_tag = None;
                // A SASL response line carries no literal, whatever its last bytes are.
                self.discard_tail.clear();
                self.mode = Mode::DiscardingLine;
                None
            }
            None => None,
        }
    }

    /// The next thing the session must act on, or `None` when more bytes are needed.
    pub(crate) fn next_event(&mut self) -> Option<FrameEvent> {
        loop {
            if let Some(done) = self.continue_discarding() {
                return done;
            }
            match self.mode {
                Mode::Collecting => {}
                Mode::InLiteral(remaining) => {
                    let available = (self.buf.len() - self.framed) as u64;
                    if available < remaining {
                        return None;
                    }
                    self.framed += remaining as usize;
                    self.line_start = self.framed;
                    self.scanned = self.framed;
                    self.mode = Mode::Collecting;
                }
                // `continue_discarding` has returned for these modes already.
                Mode::DiscardingLiteral(_) | Mode::DiscardingLine => return None,
            }
            let Some(lf) = self.buf[self.scanned..].iter().position(|&b| b == b'\n').map(|i| self.scanned + i) else {
                self.scanned = self.buf.len();
                // `buf` holds only the current command here: every earlier one was taken.
                if self.buf.len() - self.line_start > MAX_LINE_BYTES || self.buf.len() > self.max_command_bytes() {
                    let everything = self.buf.len();
                    self.start_discarding(DiscardReason::LineTooLong, Mode::DiscardingLine, everything);
                }
                return None;
            };
            let line_end = lf + 1;
            if line_end - self.line_start > MAX_LINE_BYTES || line_end > self.max_command_bytes() {
                match self.refuse_through(line_end, DiscardReason::LineTooLong) {
                    Some(event) => return Some(event),
                    None => continue,
                }
            }
            match literal_announcement(&self.buf[self.line_start..line_end]) {
                Some((length, form)) => {
                    let command_bytes = (line_end as u64).saturating_add(length);
                    if length > self.max_literal || command_bytes > self.max_command_bytes() as u64 {
                        match self.refuse_through(line_end, DiscardReason::LiteralTooLarge(form)) {
                            Some(event) => return Some(event),
                            None => continue,
                        }
                    }
                    self.framed = line_end;
                    self.line_start = self.framed;
                    self.scanned = self.framed;
                    self.mode = Mode::InLiteral(length);
                    match form {
                        LiteralForm::Synchronizing => return Some(FrameEvent::ContinuationNeeded),
                        LiteralForm::NonSynchronizing if length > LARGE_LITERAL_BYTES => {
                            return Some(FrameEvent::AdmissionNeeded);
                        }
                        LiteralForm::NonSynchronizing => {}
                    }
                }
                None => {
                    let lifted = extended::lift(&self.buf[..line_end]);
                    let (bytes, extras) = match lifted {
                        Some(Lifted { ref bytes, ref extras }) => (&bytes[..], extras.clone()),
                        None => (&self.buf[..line_end], Extras::default()),
                    };
                    let event = match CommandCodec::default().decode(bytes) {
                        Ok(([], command)) => FrameEvent::Command(command.into_static(), extras),
                        _ => FrameEvent::Syntax { tag: self.current_tag() },
                    };
                    self.drop_through(line_end);
                    return Some(event);
                }
            }
        }
    }

    /// Refuses the current command, whose bytes so far end with the line ending at `end`.
    /// When that line announces a non-synchronizing literal, the literal is already on its way:
    /// it is dropped as it comes, with the line after it, and `None` is returned (the event
    /// comes when the discarding ends). Otherwise the client sends nothing more for this
    /// command (a synchronizing literal waits for our `+`), so the event is returned now.
    fn refuse_through(&mut self, end: usize, reason: DiscardReason) -> Option<FrameEvent> {
        match literal_announcement(&self.buf[self.line_start..end]) {
            Some((length, LiteralForm::NonSynchronizing)) => {
                self.start_discarding(reason, Mode::DiscardingLiteral(length), end);
                None
            }
            Some((_, LiteralForm::Synchronizing)) | None => {
                let tag = self.current_tag();
                self.drop_through(end);
                Some(reason.event(tag))
            }
        }
    }

    /// Drops bytes while in a discarding mode. `None`: not discarding. `Some(None)`: still
    /// discarding, more bytes needed. `Some(Some(event))`: discarding finished.
    fn continue_discarding(&mut self) -> Option<Option<FrameEvent>> {
        loop {
            match self.mode {
                Mode::DiscardingLiteral(remaining) => {
                    let dropped = (self.buf.len() as u64).min(remaining);
                    self.buf.drain(..dropped as usize);
                    if dropped < remaining {
                        self.mode = Mode::DiscardingLiteral(remaining - dropped);
                        return Some(None);
                    }
                    // The command goes on after the literal, on a line of its own end.
                    self.discard_tail.clear();
                    self.mode = Mode::DiscardingLine;
                }
                Mode::DiscardingLine => match self.buf.iter().position(|&b| b == b'\n') {
                    Some(lf) => {
                        let start = (lf + 1).saturating_sub(MAX_ANNOUNCEMENT_BYTES);
                        let line_end = self.buf[start..=lf].to_vec();
                        self.remember_tail(&line_end);
                        let announced = literal_announcement(&self.discard_tail);
                        self.drop_through(lf + 1);
                        // RFC 7888 §3: the literal's bytes and the line after it belong to the
                        // same command, so they are dropped too instead of being framed.
                        if let Some((length, LiteralForm::NonSynchronizing)) = announced {
                            self.mode = Mode::DiscardingLiteral(length);
                            continue;
                        }
                        let tag = self.discard_tag.take();
                        self.mode = Mode::Collecting;
                        return Some(Some(self.discard_reason.event(tag)));
                    }
                    None => {
                        // Everything buffered belongs to the discarded line.
                        let tail = self.buf[self.buf.len().saturating_sub(MAX_ANNOUNCEMENT_BYTES)..].to_vec();
                        self.remember_tail(&tail);
                        self.buf.clear();
                        return Some(None);
                    }
                },
                Mode::Collecting | Mode::InLiteral(_) => return None,
            }
        }
    }

    /// Appends `bytes` to the discarded line's tail, keeping only its last bytes.
    fn remember_tail(&mut self, bytes: &[u8]) {
        let bytes = &bytes[bytes.len().saturating_sub(MAX_ANNOUNCEMENT_BYTES)..];
        self.discard_tail.extend_from_slice(bytes);
        let excess = self.discard_tail.len().saturating_sub(MAX_ANNOUNCEMENT_BYTES);
        self.discard_tail.drain(..excess);
    }

    /// Remembers the command's tag, drops its first `consumed` bytes (what was read of it) and
    /// switches to a discarding mode for the rest.
    fn start_discarding(&mut self, reason: DiscardReason, mode: Mode, consumed: usize) {
        self.discard_tag = self.current_tag();
        self.discard_reason = reason;
        self.discard_tail.clear();
        if mode == Mode::DiscardingLine {
            // The line goes on: its end may still announce a literal.
            let start = self.line_start.max(consumed.saturating_sub(MAX_ANNOUNCEMENT_BYTES));
            let line_so_far = self.buf[start..consumed].to_vec();
            self.remember_tail(&line_so_far);
        }
        self.drop_through(consumed);
        self.mode = mode;
    }

    /// The length of the literal just announced, after [`FrameEvent::ContinuationNeeded`] or
    /// [`FrameEvent::AdmissionNeeded`]; 0 otherwise.
    pub(crate) fn announced_literal(&self) -> u64 {
        match self.mode {
            Mode::InLiteral(length) => length,
            _ => 0,
        }
    }

    /// Makes room for the literal just announced at once, rather than doubling the buffer as
    /// its bytes come (a 50 MB message would take 64 MB).
    pub(crate) fn reserve_announced_literal(&mut self) {
        let arrived = self.buf.len() - self.framed;
        let missing = (self.announced_literal() as usize).saturating_sub(arrived);
        self.buf.reserve_exact(missing);
    }

    /// Refuses the non-synchronizing literal just announced ([`FrameEvent::AdmissionNeeded`]):
    /// its bytes are dropped as they come, with the rest of the command, and
    /// [`FrameEvent::Busy`] follows.
    pub(crate) fn refuse_announced_literal(&mut self) {
        if let Mode::InLiteral(length) = self.mode {
            let consumed = self.framed;
            self.start_discarding(DiscardReason::Busy, Mode::DiscardingLiteral(length), consumed);
        }
    }

    /// Drops the command whose synchronizing literal was just announced, because the session
    /// will not take it now. The client waits for our `+` before sending the literal, so
    /// nothing more of the command comes. Returns its tag.
    pub(crate) fn abandon_command(&mut self) -> Option<Tag<'static>> {
        let tag = self.current_tag();
        let end = self.framed;
        self.drop_through(end);
        self.mode = Mode::Collecting;
        tag
    }

    /// Removes the first `end` bytes (one finished command) and restarts framing after them.
    /// A buffer a large literal grew is given back.
    fn drop_through(&mut self, end: usize) {
        self.buf.drain(..end);
        if self.buf.capacity() > 2 * MAX_LINE_BYTES {
            self.buf.shrink_to(MAX_LINE_BYTES);
        }
        self.reset_positions();
    }

    fn reset_positions(&mut self) {
        self.framed = 0;
        self.line_start = 0;
        self.scanned = 0;
    }

    /// The tag at the start of the current command, if it is a valid tag.
    fn current_tag(&self) -> Option<Tag<'static>> {
        let end = self.buf.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n')?;
        Tag::try_from(&self.buf[..end]).ok().map(IntoStatic::into_static)
    }
}

/// If the line ends with a literal announcement (`{N}\r\n` or `{N+}\r\n`), returns N and its
/// form. RFC 9051 §4.3 and RFC 7888 §3 (the server checks the end of every line). Only the last
/// [`MAX_ANNOUNCEMENT_BYTES`] bytes matter, so a long line costs nothing more.
fn literal_announcement(line: &[u8]) -> Option<(u64, LiteralForm)> {
    let line = &line[line.len().saturating_sub(MAX_ANNOUNCEMENT_BYTES)..];
    let line = line.strip_suffix(b"\r\n")?;
    let line = line.strip_suffix(b"}")?;
    let (line, form) = match line.strip_suffix(b"+") {
        Some(rest) => (rest, LiteralForm::NonSynchronizing),
        None => (line, LiteralForm::Synchronizing),
    };
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = &line[open + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let length = std::str::from_utf8(digits).ok()?.parse::<u64>().ok()?;
    Some((length, form))
}

#[cfg(test)]
mod tests {
    use imap_codec::imap_types::command::CommandBody;

    use super::*;

    /// Feeds `input` in the given chunks and collects every event.
    fn events_for(chunks: &[&[u8]]) -> Vec<FrameEvent> {
        let mut framer = Framer::default();
        let mut events = Vec::new();
        for chunk in chunks {
            framer.push(chunk);
            while let Some(event) = framer.next_event() {
                events.push(event);
            }
        }
        events
    }

    const TRANSCRIPTS: [&[u8]; 6] = [
        b"a1 CAPABILITY\r\n",
        b"a2 LOGIN ana@example.org \"secret pw\"\r\na3 SELECT INBOX\r\n",
        b"a4 LOGIN {15}\r\nana@example.org {8}\r\npassword\r\n",
        b"a5 LOGIN {15+}\r\nana@example.org {8+}\r\npassword\r\n",
        b"a6 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)]<0.100>)\r\n",
        b"a7 STORE 2,4:* +FLAGS.SILENT (\\Seen $Forwarded)\r\na8 NOOP\r\n",
    ];

    #[test]
    fn every_split_point_gives_the_same_commands() {
        for transcript in TRANSCRIPTS {
            let whole = events_for(&[transcript]);
            assert!(
                whole.iter().any(|e| matches!(e, FrameEvent::Command(_, _))),
                "no command in {:?}",
                String::from_utf8_lossy(transcript)
            );
            assert!(!whole.iter().any(|e| matches!(e, FrameEvent::Syntax { .. })), "{whole:?}");
            for split in 0..=transcript.len() {
                let (head, tail) = transcript.split_at(split);
                assert_eq!(events_for(&[head, tail]), whole, "split at {split}");
            }
            // Byte by byte: nothing before the last byte of each command.
            let bytes: Vec<&[u8]> = transcript.chunks(1).collect();
            assert_eq!(events_for(&bytes), whole);
        }
    }

    #[test]
    fn incomplete_until_the_last_byte() {
        let transcript = b"a4 LOGIN {15}\r\nana@example.org {8}\r\npassword\r\n";
        let mut framer = Framer::default();
        let mut n_continuations = 0;
        for (i, byte) in transcript.iter().enumerate() {
            framer.push(&[*byte]);
            while let Some(event) = framer.next_event() {
                match event {
                    FrameEvent::ContinuationNeeded => n_continuations += 1,
                    FrameEvent::Command(command, _) => {
                        assert_eq!(i, transcript.len() - 1, "command before the end");
                        let CommandBody::Login { username, password } = command.body else {
                            panic!("not a LOGIN: {command:?}")
                        };
                        assert_eq!(username.as_ref(), b"ana@example.org");
                        assert_eq!(password.declassify().as_ref(), b"password");
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        assert_eq!(n_continuations, 2);
    }

    #[test]
    fn synchronizing_literals_ask_for_continuation_non_synchronizing_do_not() {
        let sync = events_for(&[b"a LOGIN {1}\r\nx {1}\r\ny\r\n"]);
        assert_eq!(sync.iter().filter(|e| **e == FrameEvent::ContinuationNeeded).count(), 2);
        let non_sync = events_for(&[b"a LOGIN {1+}\r\nx {1+}\r\ny\r\n"]);
        assert_eq!(non_sync.iter().filter(|e| **e == FrameEvent::ContinuationNeeded).count(), 0);
        assert!(matches!(non_sync.last(), Some(FrameEvent::Command(_, _))));
    }

    #[test]
    fn a_long_line_is_refused_and_framing_recovers() {
        let mut long = b"t1 NOOP ".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        long.extend_from_slice(b"\r\nt2 NOOP\r\n");
        for chunks in [vec![&long[..]], long.chunks(1000).collect::<Vec<_>>()] {
            let events = events_for(&chunks);
            assert_eq!(events.len(), 2, "{events:?}");
            assert_eq!(events[0], FrameEvent::LineTooLong { tag: Some(Tag::try_from("t1").unwrap()) });
            assert!(matches!(&events[1], FrameEvent::Command(c, _) if c.tag.as_ref() == "t2"));
        }
    }

    fn tag(text: &str) -> Option<Tag<'static>> {
        Some(Tag::try_from(text).expect("valid tag in test").into_static())
    }

    #[test]
    fn an_oversized_literal_is_refused_and_framing_recovers() {
        let sync = events_for(&[b"t1 APPEND INBOX {999999999999}\r\nt2 NOOP\r\n"]);
        assert_eq!(sync[0], FrameEvent::LiteralTooLarge { tag: tag("t1"), form: LiteralForm::Synchronizing });
        assert!(matches!(&sync[1], FrameEvent::Command(c, _) if c.tag.as_ref() == "t2"));
        assert_eq!(sync.len(), 2);

        // After login, a synchronizing literal may be as large as MAX_LITERAL_BYTES, not larger.
        let mut framer = Framer::default();
        framer.set_authenticated();
        framer.push(format!("t3 APPEND INBOX {{{MAX_LITERAL_BYTES}}}\r\n").as_bytes());
        assert_eq!(framer.next_event(), Some(FrameEvent::ContinuationNeeded));
        let mut framer = Framer::default();
        framer.set_authenticated();
        framer.push(format!("t3 APPEND INBOX {{{}}}\r\nt4 NOOP\r\n", MAX_LITERAL_BYTES + 1).as_bytes());
        assert_eq!(
            framer.next_event(),
            Some(FrameEvent::LiteralTooLarge { tag: tag("t3"), form: LiteralForm::Synchronizing })
        );
        assert!(matches!(framer.next_event(), Some(FrameEvent::Command(c, _)) if c.tag.as_ref() == "t4"));

        // A large non-synchronizing literal's bytes are on their way: they are read and dropped
        // as they come, never buffered.
        let n = MAX_LITERAL_BYTES + 1;
        let mut framer = Framer::default();
        framer.set_authenticated();
        framer.push(format!("t5 APPEND INBOX {{{n}+}}\r\n").as_bytes());
        assert_eq!(framer.next_event(), None);
        let chunk = vec![b'a'; 1 << 20];
        let mut sent = 0u64;
        while sent < n {
            let part = (n - sent).min(chunk.len() as u64) as usize;
            framer.push(&chunk[..part]);
            sent += part as u64;
            assert_eq!(framer.next_event(), None);
            assert!(framer.buf.len() <= MAX_ANNOUNCEMENT_BYTES, "discarded bytes are not kept");
        }
        framer.push(b" rest\r\nt6 NOOP\r\n");
        assert_eq!(
            framer.next_event(),
            Some(FrameEvent::LiteralTooLarge { tag: tag("t5"), form: LiteralForm::NonSynchronizing })
        );
        assert!(matches!(framer.next_event(), Some(FrameEvent::Command(c, _)) if c.tag.as_ref() == "t6"));
    }

    /// Review finding: before login, a literal could be 50 MB. Now 8 KiB, and 50 MB after.
    #[test]
    fn literals_before_login_are_small() {
        let over = MAX_LITERAL_BYTES_BEFORE_LOGIN + 1;
        let events = events_for(&[format!("t1 LOGIN {{{over}}}\r\nt2 NOOP\r\n").as_bytes()]);
        assert_eq!(
            events,
            vec![
                FrameEvent::LiteralTooLarge { tag: tag("t1"), form: LiteralForm::Synchronizing },
                events_for(&[b"t2 NOOP\r\n"])[0].clone(),
            ]
        );
        let fits = events_for(&[format!("t1 LOGIN {{{MAX_LITERAL_BYTES_BEFORE_LOGIN}}}\r\n").as_bytes()]);
        assert_eq!(fits, vec![FrameEvent::ContinuationNeeded]);
        let mut framer = Framer::default();
        framer.set_authenticated();
        framer.push(format!("t1 LOGIN {{{over}}}\r\n").as_bytes());
        assert_eq!(framer.next_event(), Some(FrameEvent::ContinuationNeeded));
    }

    /// Review finding: one command could chain any number of literals, each under the cap.
    /// Now the command as a whole is capped, and framing resumes after the refused command.
    #[test]
    fn a_command_chaining_literals_is_capped_as_a_whole() {
        let literal = vec![b'x'; MAX_LITERAL_BYTES_BEFORE_LOGIN as usize];
        let mut command = b"t1 LOGIN".to_vec();
        let mut events = Vec::new();
        let mut framer = Framer::default();
        let mut n_literals = 0;
        // Synchronizing: the client sends each literal after our `+` only.
        loop {
            command.extend_from_slice(format!(" {{{}}}\r\n", literal.len()).as_bytes());
            framer.push(&command);
            command.clear();
            let event = framer.next_event();
            if event != Some(FrameEvent::ContinuationNeeded) {
                events.extend(event);
                break;
            }
            framer.push(&literal);
            n_literals += 1;
            assert!(n_literals < 100, "the command was never refused");
        }
        let n_allowed = framer.max_command_bytes() / literal.len();
        assert!((1..=n_allowed).contains(&n_literals), "{n_literals} literals accepted");
        assert_eq!(events, vec![FrameEvent::LiteralTooLarge { tag: tag("t1"), form: LiteralForm::Synchronizing }]);
        framer.push(b"t2 NOOP\r\n");
        assert!(matches!(framer.next_event(), Some(FrameEvent::Command(c, _)) if c.tag.as_ref() == "t2"));

        // Non-synchronizing: everything comes at once, and the excess is dropped, not kept.
        let small = vec![b'y'; 4096];
        let mut framer = Framer::default();
        framer.push(b"t3 LOGIN");
        let mut events = Vec::new();
        for _ in 0..100 {
            framer.push(format!(" {{{}+}}\r\n", small.len()).as_bytes());
            framer.push(&small);
            events.extend(std::iter::from_fn(|| framer.next_event()));
            assert!(framer.buf.len() <= framer.max_command_bytes(), "{} bytes held", framer.buf.len());
        }
        framer.push(b"\r\nt4 NOOP\r\n");
        events.extend(std::iter::from_fn(|| framer.next_event()));
        assert_eq!(events.len(), 2, "{events:?}");
        assert_eq!(events[0], FrameEvent::LiteralTooLarge { tag: tag("t3"), form: LiteralForm::NonSynchronizing });
        assert!(matches!(&events[1], FrameEvent::Command(c, _) if c.tag.as_ref() == "t4"));

        // Lines between literals count too.
        let line = format!("t5 LOGIN \"{}\" {{0}}\r\n", "z".repeat(MAX_LINE_BYTES - 30));
        let mut framer = Framer::default();
        framer.push(line.as_bytes());
        assert_eq!(framer.next_event(), Some(FrameEvent::ContinuationNeeded));
        framer.push(format!("\"{}\" {{0}}\r\n", "z".repeat(MAX_LINE_BYTES - 30)).as_bytes());
        assert_eq!(framer.next_event(), Some(FrameEvent::LineTooLong { tag: tag("t5") }));
    }

    /// A non-synchronizing literal over the cap (8 KiB before login) is refused with its whole
    /// command, including literals announced at the ends of the lines that follow it.
    #[test]
    fn a_large_non_synchronizing_literal_is_refused_and_framing_recovers() {
        let mut transcript = b"t1 LOGIN {9000+}\r\n".to_vec();
        transcript.extend(std::iter::repeat_n(b'p', 9000));
        // The 12 bytes after `{12+}` are a literal, not a command.
        transcript.extend_from_slice(b" {12+}\r\nt9 NOOP\r\nabc\r\n");
        transcript.extend_from_slice(b"t2 NOOP\r\n");
        let whole = events_for(&[&transcript]);
        assert_eq!(
            whole,
            vec![
                FrameEvent::LiteralTooLarge { tag: tag("t1"), form: LiteralForm::NonSynchronizing },
                events_for(&[b"t2 NOOP\r\n"])[0].clone(),
            ]
        );
        for split in 0..=transcript.len() {
            let (head, tail) = transcript.split_at(split);
            assert_eq!(events_for(&[head, tail]), whole, "split at {split}");
        }
        // A too-long line ending with a non-synchronizing literal: the literal goes too.
        let mut long = format!("t3 LOGIN \"{}\" {{12+}}\r\n", "q".repeat(MAX_LINE_BYTES)).into_bytes();
        long.extend_from_slice(b"t9 NOOP\r\nabc\r\nt4 NOOP\r\n");
        for chunks in [vec![&long[..]], long.chunks(1000).collect::<Vec<_>>(), long.chunks(7).collect()] {
            let events = events_for(&chunks);
            assert_eq!(events.len(), 2, "{events:?}");
            assert_eq!(events[0], FrameEvent::LineTooLong { tag: tag("t3") });
            assert!(matches!(&events[1], FrameEvent::Command(c, _) if c.tag.as_ref() == "t4"), "{events:?}");
        }
    }

    #[test]
    fn garbage_is_a_syntax_error_with_its_tag() {
        for (input, tag) in [
            (&b"x1 FROBNICATE\r\n"[..], Some("x1")),
            (b"x2 SELECT\r\n", Some("x2")),
            (b"\r\n", None),
            (b"(bad\r\n", None),
        ] {
            let events = events_for(&[input]);
            assert_eq!(events, vec![FrameEvent::Syntax { tag: tag.map(|t| Tag::try_from(t).unwrap()) }]);
        }
    }

    #[test]
    fn raw_lines_for_authenticate() {
        let mut framer = Framer::default();
        framer.push(b"AGFuYQBwdw==\r\nt NOOP\r\n");
        assert_eq!(framer.next_line(), Some(Ok(b"AGFuYQBwdw==\r\n".to_vec())));
        assert!(matches!(framer.next_event(), Some(FrameEvent::Command(_, _))));
    }

    #[test]
    fn literal_announcements() {
        for (line, want) in [
            (&b"a LOGIN {5}\r\n"[..], Some((5, LiteralForm::Synchronizing))),
            (b"a LOGIN {5+}\r\n", Some((5, LiteralForm::NonSynchronizing))),
            (b"a LOGIN {}\r\n", None),
            (b"a LOGIN {x}\r\n", None),
            (b"a LOGIN {5}\n", None),
            (b"a NOOP\r\n", None),
        ] {
            assert_eq!(literal_announcement(line), want, "{}", String::from_utf8_lossy(line));
        }
    }
}
