//! Sans-IO command framing: bytes in, whole commands (or framing problems) out.
//!
//! IMAP commands are lines that may carry literals (`{N}\r\n` followed by N bytes), so a
//! command cannot be handed to the parser until all its lines and literals have arrived.
//! This module cuts the incoming byte stream into complete commands *before* parsing, which is
//! where the size caps live: a line without a literal may hold at most [`MAX_LINE_BYTES`] and a
//! literal at most [`store::MAX_MESSAGE_BYTES`]. Only a complete command reaches imap-codec's
//! `CommandCodec`, whose `Incomplete`/`LiteralFound` outcomes therefore cannot happen on a
//! well-framed command and are reported as syntax errors.
//!
//! Invariant: this module does no I/O, no logging and no allocation beyond the caps, so it can
//! be tested by feeding transcripts split at every byte offset.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::Command;
use imap_codec::imap_types::core::Tag;

/// The longest command line (without its literals) we accept. Real clients stay far below it;
/// a longer line is answered BAD and discarded up to its CRLF.
pub(crate) const MAX_LINE_BYTES: usize = 64 * 1024;

/// The largest literal we accept (the largest message the store takes).
pub(crate) const MAX_LITERAL_BYTES: u64 = store::MAX_MESSAGE_BYTES as u64;

/// What the framer has to tell the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FrameEvent {
    /// A complete, parsed command.
    Command(Command<'static>),
    /// The client announced a synchronizing literal we accept: RFC 9051 §7.5 says the server
    /// must send a continuation request (`+ ...`) before the client sends the literal.
    ContinuationNeeded,
    /// The bytes of one command could not be parsed. Answer BAD (tagged when the tag is known).
    Syntax { tag: Option<Tag<'static>> },
    /// A command line exceeded [`MAX_LINE_BYTES`]; it was discarded up to its CRLF.
    LineTooLong { tag: Option<Tag<'static>> },
    /// A literal exceeded [`MAX_LITERAL_BYTES`]. For a synchronizing literal the client sends
    /// nothing more for this command (it waits for our `+`), so the connection stays in sync.
    /// A non-synchronizing one (LITERAL+) was read and thrown away with the rest of its line.
    LiteralTooLarge { tag: Option<Tag<'static>> },
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
    /// Dropping bytes up to the next LF.
    DiscardingLine,
}

/// Why bytes are being discarded, to report once the discarding ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DiscardReason {
    LineTooLong,
    LiteralTooLarge,
}

/// Cuts a byte stream into commands. Feed it with [`Framer::push`], then call
/// [`Framer::next_event`] until it returns `None`.
#[derive(Debug)]
pub(crate) struct Framer {
    /// The bytes of the command being collected (and possibly the start of the next ones).
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
        }
    }
}

impl Framer {
    /// Adds bytes received from the client.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Forgets everything buffered. STARTTLS needs it: RFC 9051 §6.2.1 (and RFC 3207's
    /// injection attack) forbid acting on plaintext bytes pipelined after the command.
    pub(crate) fn clear(&mut self) {
        *self = Framer::default();
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
                match done {
                    Some(event) => return Some(event),
                    None => return None,
                }
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
                if self.buf.len() - self.line_start > MAX_LINE_BYTES {
                    let everything = self.buf.len();
                    self.start_discarding(DiscardReason::LineTooLong, Mode::DiscardingLine, everything);
                }
                return None;
            };
            if lf + 1 - self.line_start > MAX_LINE_BYTES {
                let tag = self.current_tag();
                self.drop_through(lf + 1);
                return Some(FrameEvent::LineTooLong { tag });
            }
            match literal_announcement(&self.buf[self.line_start..=lf]) {
                Some((length, synchronizing)) => {
                    if length > MAX_LITERAL_BYTES {
                        if synchronizing {
                            let tag = self.current_tag();
                            self.drop_through(lf + 1);
                            return Some(FrameEvent::LiteralTooLarge { tag });
                        }
                        self.start_discarding(DiscardReason::LiteralTooLarge, Mode::DiscardingLiteral(length), lf + 1);
                        continue;
                    }
                    self.framed = lf + 1;
                    self.line_start = self.framed;
                    self.scanned = self.framed;
                    self.mode = Mode::InLiteral(length);
                    if synchronizing {
                        return Some(FrameEvent::ContinuationNeeded);
                    }
                }
                None => {
                    let end = lf + 1;
                    let event = match CommandCodec::default().decode(&self.buf[..end]) {
                        Ok(([], command)) => FrameEvent::Command(command.into_static()),
                        _ => FrameEvent::Syntax { tag: self.current_tag() },
                    };
                    self.drop_through(end);
                    return Some(event);
                }
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
                    self.mode = Mode::DiscardingLine;
                }
                Mode::DiscardingLine => {
                    match self.buf.iter().position(|&b| b == b'\n') {
                        Some(lf) => {
                            self.drop_through(lf + 1);
                            let tag = self.discard_tag.take();
                            self.mode = Mode::Collecting;
                            return Some(Some(match self.discard_reason {
                                DiscardReason::LineTooLong => FrameEvent::LineTooLong { tag },
                                DiscardReason::LiteralTooLarge => FrameEvent::LiteralTooLarge { tag },
                            }));
                        }
                        None => {
                            // Everything buffered belongs to the discarded line.
                            self.buf.clear();
                            return Some(None);
                        }
                    }
                }
                Mode::Collecting | Mode::InLiteral(_) => return None,
            }
        }
    }

    /// Remembers the command's tag, drops its first `consumed` bytes (what was read of it) and
    /// switches to a discarding mode for the rest.
    fn start_discarding(&mut self, reason: DiscardReason, mode: Mode, consumed: usize) {
        self.discard_tag = self.current_tag();
        self.discard_reason = reason;
        self.drop_through(consumed);
        self.mode = mode;
    }

    /// Removes the first `end` bytes (one finished command) and restarts framing after them.
    fn drop_through(&mut self, end: usize) {
        self.buf.drain(..end);
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

/// If the line ends with a literal announcement (`{N}\r\n` or `{N+}\r\n`), returns N and whether
/// the literal is synchronizing. RFC 9051 §4.3 and RFC 7888 (LITERAL+).
fn literal_announcement(line: &[u8]) -> Option<(u64, bool)> {
    let line = line.strip_suffix(b"\r\n")?;
    let line = line.strip_suffix(b"}")?;
    let (line, synchronizing) = match line.strip_suffix(b"+") {
        Some(rest) => (rest, false),
        None => (line, true),
    };
    let open = line.iter().rposition(|&b| b == b'{')?;
    let digits = &line[open + 1..];
    if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let length = std::str::from_utf8(digits).ok()?.parse::<u64>().ok()?;
    Some((length, synchronizing))
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
                whole.iter().any(|e| matches!(e, FrameEvent::Command(_))),
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
                    FrameEvent::Command(command) => {
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
        assert!(matches!(non_sync.last(), Some(FrameEvent::Command(_))));
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
            assert!(matches!(&events[1], FrameEvent::Command(c) if c.tag.as_ref() == "t2"));
        }
    }

    #[test]
    fn an_oversized_literal_is_refused_and_framing_recovers() {
        let sync = events_for(&[b"t1 APPEND INBOX {999999999999}\r\nt2 NOOP\r\n"]);
        assert_eq!(sync[0], FrameEvent::LiteralTooLarge { tag: Some(Tag::try_from("t1").unwrap()) });
        assert!(matches!(&sync[1], FrameEvent::Command(c) if c.tag.as_ref() == "t2"));
        assert_eq!(sync.len(), 2);

        // A non-synchronizing literal's bytes are on their way: they are read and dropped.
        let n = MAX_LITERAL_BYTES + 1;
        let mut framer = Framer::default();
        framer.push(format!("t3 APPEND INBOX {{{n}+}}\r\n").as_bytes());
        assert_eq!(framer.next_event(), None);
        let chunk = vec![b'a'; 1 << 20];
        let mut sent = 0u64;
        while sent < n {
            let part = (n - sent).min(chunk.len() as u64) as usize;
            framer.push(&chunk[..part]);
            sent += part as u64;
            assert_eq!(framer.next_event(), None);
        }
        framer.push(b" rest\r\nt4 NOOP\r\n");
        assert_eq!(framer.next_event(), Some(FrameEvent::LiteralTooLarge { tag: Some(Tag::try_from("t3").unwrap()) }));
        assert!(matches!(framer.next_event(), Some(FrameEvent::Command(c)) if c.tag.as_ref() == "t4"));
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
        assert!(matches!(framer.next_event(), Some(FrameEvent::Command(_))));
    }

    #[test]
    fn literal_announcements() {
        for (line, want) in [
            (&b"a LOGIN {5}\r\n"[..], Some((5, true))),
            (b"a LOGIN {5+}\r\n", Some((5, false))),
            (b"a LOGIN {}\r\n", None),
            (b"a LOGIN {x}\r\n", None),
            (b"a LOGIN {5}\n", None),
            (b"a NOOP\r\n", None),
        ] {
            assert_eq!(literal_announcement(line), want, "{}", String::from_utf8_lossy(line));
        }
    }
}
