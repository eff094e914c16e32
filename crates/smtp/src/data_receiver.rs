//! The DATA phase as a pure state machine: bytes in, message bytes out, and where the data
//! ended. No I/O, so every split of the input can be tested.
//!
//! Rules it enforces:
//! - RFC 5321 §4.1.1.4: the data ends with the line ".", that is `<CRLF>.<CRLF>`, where the first
//!   CRLF may be the one ending the DATA command. Nothing else ends it: a bare LF or bare CR is
//!   never a line end here, so `\n.\n`, `\n.\r\n`, `\r\n.\n` and `\r.\r` are plain content.
//!   Receivers that accepted those shapes let an attacker hide a second message inside the first
//!   (SMTP smuggling, CVE-2023-51764, CVE-2023-51765, CVE-2023-51766).
//! - Policy on bare CR and bare LF: RFC 5321 §2.3.8 forbids them outside CRLF, and another
//!   server relaying our mail may read them as line ends, so a message containing one is
//!   refused as a whole (550 5.6.2) once its real end has been read, as Postfix does with
//!   `smtpd_forbid_bare_newline`. The connection stays usable.
//! - RFC 5321 §4.5.2: a line starting with "." has that dot removed (dot-unstuffing).
//! - Size: message bytes past `cap` are not kept; reading goes on to the real end so the reply
//!   lands in step with the client (552 5.3.4, RFC 1870 §6.3).
//! - Lines longer than [`MAX_DATA_LINE`] make the message refused. RFC 5321 §4.5.3.1.6 allows
//!   1000 octets; we are lenient because real mail (long HTML lines) breaks that often.

/// The longest message line we accept, in bytes.
pub const MAX_DATA_LINE: usize = 1_000_000;

/// How the data of one message turned out, known once its end has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOutcome {
    /// The message is complete and within limits.
    Complete,
    /// The message is larger than the cap; what was kept is incomplete.
    TooBig,
    /// The message contains a CR or LF that is not part of a CRLF.
    BareNewline,
    /// A line is longer than [`MAX_DATA_LINE`].
    LineTooLong,
    /// The caller had no room to keep the message and told the receiver to drop the rest
    /// ([`DataReceiver::drop_the_rest`]).
    NoRoom,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a line (after a CRLF, or at the start of the data).
    LineStart,
    /// A "." started the line.
    Dot,
    /// ".\r" started the line.
    DotCr,
    /// Inside a line.
    InLine,
    /// A CR inside a line, waiting to see whether LF follows.
    Cr,
    /// The terminating `.<CRLF>` has been read.
    Done,
}

/// Receives the data of one message.
#[derive(Debug)]
pub struct DataReceiver {
    state: State,
    cap: usize,
    line_len: usize,
    /// The first reason to refuse the message; once set nothing more is kept, since the
    /// message will not be delivered.
    problem: Option<DataOutcome>,
}

impl DataReceiver {
    /// Starts right after the DATA command's CRLF. `cap` bounds the whole `message` buffer,
    /// including what the caller put in it before (the trace fields): bytes beyond it are not
    /// kept and the message is [`DataOutcome::TooBig`].
    pub fn new(cap: usize) -> DataReceiver {
        DataReceiver { state: State::LineStart, cap, line_len: 0, problem: None }
    }

    /// Consumes bytes from `input`, appending message bytes (unstuffed, CRLF line ends) to
    /// `message`. Returns how many input bytes were consumed and whether the end of data was
    /// reached; after the end, the unconsumed bytes are the client's next commands.
    pub fn feed(&mut self, input: &[u8], message: &mut Vec<u8>) -> (usize, bool) {
        let mut idx = 0;
        while idx < input.len() {
            if self.state == State::InLine {
                // Fast path: copy the run of ordinary bytes up to the next CR or LF at once.
                let rest = &input[idx..];
                let run = rest.iter().position(|&b| b == b'\r' || b == b'\n').unwrap_or(rest.len());
                if run > 0 {
                    self.count_line_bytes(run);
                    self.keep(message, &rest[..run]);
                    idx += run;
                    continue;
                }
            }
            let byte = input[idx];
            match (self.state, byte) {
                (State::Done, _) => return (idx, true),
                (State::LineStart, b'.') => {
                    self.count_line_bytes(1);
                    self.state = State::Dot;
                }
                (State::LineStart | State::InLine, _) => self.line_byte(byte, message),
                (State::Dot, b'\r') => self.state = State::DotCr,
                // RFC 5321 §4.5.2: "If the first character is a period and there are other
                // characters on the line, the first character is deleted."
                (State::Dot, _) => self.line_byte(byte, message),
                (State::DotCr, b'\n') => {
                    self.state = State::Done;
                    return (idx + 1, true);
                }
                (State::Cr, b'\n') => {
                    self.keep(message, b"\r\n");
                    self.line_len = 0;
                    self.state = State::LineStart;
                }
                (State::DotCr | State::Cr, _) => {
                    // A CR not followed by LF: content, never a line end.
                    self.refuse(DataOutcome::BareNewline);
                    self.keep(message, b"\r");
                    self.state = State::InLine;
                    self.line_byte(byte, message);
                }
            }
            idx += 1;
        }
        (idx, self.state == State::Done)
    }

    /// What to do with the message; meaningful once [`DataReceiver::feed`] reported the end.
    /// Keeps nothing more of this message (the caller has no memory for it); reading goes on
    /// to the real end, and the outcome is [`DataOutcome::NoRoom`] unless it was refused first.
    pub fn drop_the_rest(&mut self) {
        self.refuse(DataOutcome::NoRoom);
    }

    pub fn outcome(&self) -> DataOutcome {
        self.problem.unwrap_or(DataOutcome::Complete)
    }

    /// One byte inside a line (state LineStart, InLine, or Dot after dropping the dot).
    fn line_byte(&mut self, byte: u8, message: &mut Vec<u8>) {
        match byte {
            b'\r' => self.state = State::Cr,
            b'\n' => {
                // A bare LF: kept as content, and the next byte is still mid-line, so a "."
                // after it can never end the data.
                self.refuse(DataOutcome::BareNewline);
                self.keep(message, b"\n");
                self.count_line_bytes(1);
                self.state = State::InLine;
            }
            _ => {
                self.keep(message, &[byte]);
                self.count_line_bytes(1);
                self.state = State::InLine;
            }
        }
    }

    fn count_line_bytes(&mut self, n: usize) {
        self.line_len += n;
        if self.line_len > MAX_DATA_LINE {
            self.refuse(DataOutcome::LineTooLong);
        }
    }

    fn refuse(&mut self, why: DataOutcome) {
        self.problem.get_or_insert(why);
    }

    fn keep(&mut self, message: &mut Vec<u8>, bytes: &[u8]) {
        if self.problem.is_some() {
            return;
        }
        // Up to the cap exactly, whether the bytes come one at a time or as a run: found by
        // the smtp_data fuzzer, the kept part of a too-big message depended on the reads.
        let room = self.cap.saturating_sub(message.len());
        message.extend_from_slice(&bytes[..bytes.len().min(room)]);
        if bytes.len() > room {
            self.refuse(DataOutcome::TooBig);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in two pieces split at `split`, as the session does (a consumed prefix is
    /// dropped; after the end the rest stays). Returns (message, end offset, outcome).
    fn run(input: &[u8], split: usize, cap: usize) -> (Vec<u8>, Option<usize>, DataOutcome) {
        let mut receiver = DataReceiver::new(cap);
        let mut message = Vec::new();
        let mut offset = 0;
        for chunk in [&input[..split], &input[split..]] {
            let (consumed, ended) = receiver.feed(chunk, &mut message);
            offset += consumed;
            if ended {
                return (message, Some(offset), receiver.outcome());
            }
            assert_eq!(consumed, chunk.len(), "a chunk must be consumed whole until the end");
        }
        (message, None, receiver.outcome())
    }

    /// Also feeds one byte at a time, the harshest split.
    fn run_bytewise(input: &[u8], cap: usize) -> (Vec<u8>, Option<usize>, DataOutcome) {
        let mut receiver = DataReceiver::new(cap);
        let mut message = Vec::new();
        for (idx, byte) in input.iter().enumerate() {
            let (consumed, ended) = receiver.feed(std::slice::from_ref(byte), &mut message);
            if ended {
                assert_eq!(consumed, 1);
                return (message, Some(idx + 1), receiver.outcome());
            }
        }
        (message, None, receiver.outcome())
    }

    fn check(input: &[u8], cap: usize, want: (&[u8], Option<usize>, DataOutcome)) {
        for split in 0..=input.len() {
            let (message, end, outcome) = run(input, split, cap);
            assert_eq!(
                (message.as_slice(), end, outcome),
                want,
                "input {:?} split at {split}",
                String::from_utf8_lossy(input)
            );
        }
        let (message, end, outcome) = run_bytewise(input, cap);
        assert_eq!((message.as_slice(), end, outcome), want, "bytewise {:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn ends_only_at_crlf_dot_crlf_and_unstuffs() {
        use DataOutcome::Complete;
        let big = usize::MAX;
        for (input, message, end) in [
            (
                &b"Subject: a\r\n\r\nbody\r\n.\r\nMAIL FROM:<x@y.z>\r\n"[..],
                &b"Subject: a\r\n\r\nbody\r\n"[..],
                Some(23),
            ),
            (b".\r\n", b"", Some(3)),
            (b".\r\nQUIT\r\n", b"", Some(3)),
            (b"..\r\n.\r\n", b".\r\n", Some(7)),
            (b"..x\r\n.\r\n", b".x\r\n", Some(8)),
            (b".x\r\n.\r\n", b"x\r\n", Some(7)),
            (b"a\r\n...\r\n.\r\n", b"a\r\n..\r\n", Some(11)),
            (b"a\r\n. \r\n.\r\n", b"a\r\n \r\n", Some(10)),
            (b"a.\r\n.b\r\n.\r\n", b"a.\r\nb\r\n", Some(11)),
            (b"no end yet\r\n", b"no end yet\r\n", None),
            (b"no end yet\r\n.", b"no end yet\r\n", None),
            (b"no end yet\r\n.\r", b"no end yet\r\n", None),
        ] {
            check(input, big, (message, end, Complete));
        }
    }

    #[test]
    fn smuggling_shapes_never_end_the_data_and_refuse_the_message() {
        // Each shape would end the data for some broken receiver; here the data goes on to
        // the real <CRLF>.<CRLF> and the message is refused for its bare newline.
        for shape in [&b"\n.\n"[..], b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r.\r\n", b"\r\n.\r", b"\r\n.\rx", b"\n..\n"] {
            let mut input = b"Subject: one\r\n\r\nhello".to_vec();
            input.extend_from_slice(shape);
            input.extend_from_slice(
                b"MAIL FROM:<evil@x.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: two\r\n\r\n",
            );
            let real_end = input.len() + 5;
            input.extend_from_slice(b"\r\n.\r\nQUIT\r\n");
            for split in 0..=input.len() {
                let (_, end, outcome) = run(&input, split, usize::MAX);
                assert_eq!((end, outcome), (Some(real_end), DataOutcome::BareNewline), "shape {shape:?} split {split}");
            }
            let (_, end, outcome) = run_bytewise(&input, usize::MAX);
            assert_eq!((end, outcome), (Some(real_end), DataOutcome::BareNewline), "shape {shape:?} bytewise");
        }
    }

    #[test]
    fn a_cr_before_crlf_is_a_bare_cr() {
        // Nothing is kept after the problem: the message will be refused anyway.
        check(b"a\r\r\n.\r\n", usize::MAX, (b"a", Some(7), DataOutcome::BareNewline));
    }

    #[test]
    fn size_cap_stops_keeping_but_reads_to_the_end() {
        let input = b"0123456789\r\n0123456789\r\n.\r\nNOOP\r\n";
        check(input, 12, (b"0123456789\r\n", Some(27), DataOutcome::TooBig));
        // Exactly at the cap is fine.
        check(input, 24, (b"0123456789\r\n0123456789\r\n", Some(27), DataOutcome::Complete));
    }

    #[test]
    fn over_long_lines_refuse_the_message() {
        let mut input = vec![b'a'; MAX_DATA_LINE + 1];
        input.extend_from_slice(b"\r\n.\r\n");
        let mut receiver = DataReceiver::new(usize::MAX);
        let mut message = Vec::new();
        assert_eq!(receiver.feed(&input, &mut message), (input.len(), true));
        assert_eq!(receiver.outcome(), DataOutcome::LineTooLong);
        let mut input = vec![b'a'; MAX_DATA_LINE];
        input.extend_from_slice(b"\r\n.\r\n");
        let mut receiver = DataReceiver::new(usize::MAX);
        let mut message = Vec::new();
        assert_eq!(receiver.feed(&input, &mut message), (input.len(), true));
        assert_eq!(receiver.outcome(), DataOutcome::Complete);
        assert_eq!(message.len(), MAX_DATA_LINE + 2);
    }

    #[test]
    fn eight_bit_and_utf8_bytes_pass_unchanged() {
        let input = "Subject: café ☕\r\n\r\nÀ bientôt\r\n\u{0}\u{7f}\r\n.\r\n".as_bytes();
        let body = &input[..input.len() - 3];
        check(input, usize::MAX, (body, Some(input.len()), DataOutcome::Complete));
    }
}
