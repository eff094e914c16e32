//! SMTP command lines: framing and parsing, with no I/O (sans-IO), so that every split of the
//! input can be tested and the size caps hold before anything is parsed.
//!
//! [`CommandFramer`] cuts the byte stream into lines; [`parse_command`] turns one line into a
//! [`Command`] or a [`SyntaxError`] that already knows its reply code. Addresses are only
//! checked for shape here; the session validates recipients against the store.

/// The longest command line we accept, CRLF included. RFC 5321 §4.5.3.1.4 sets 512 octets
/// as the minimum a server must accept; extensions make lines longer, so we allow 4 KiB.
pub const MAX_COMMAND_LINE: usize = 4096;

/// One SMTP command (RFC 5321 §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ehlo {
        domain: String,
    },
    Helo {
        domain: String,
    },
    /// `reverse_path` is empty for the null sender `<>` (bounces, RFC 5321 §4.5.5).
    Mail {
        reverse_path: String,
        params: MailParameters,
    },
    Rcpt {
        forward_path: ForwardPath,
    },
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Help,
    StartTls,
    /// RFC 4954: `AUTH mechanism [initial-response]`; the mechanism upper-cased, the initial
    /// response as sent (base64, or `=` for an empty one).
    Auth {
        mechanism: String,
        initial: Option<String>,
    },
    /// A command RFC 5321 or a common extension names that we do not offer (EXPN, BDAT...).
    NotImplemented {
        verb: String,
    },
}

/// The recipient of `RCPT TO:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardPath {
    /// `<postmaster>` with no domain, which RFC 5321 §4.1.1.3 requires servers to accept.
    Postmaster,
    /// `local@domain`, checked only for shape.
    Mailbox(String),
}

/// The `MAIL FROM:` parameters we support (RFC 1870 SIZE, RFC 6152 8BITMIME, RFC 6531 SMTPUTF8).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailParameters {
    /// The size the client announces; `u64::MAX` when the number does not fit.
    pub size: Option<u64>,
    pub body: Option<BodyType>,
    pub smtputf8: bool,
}

/// The `BODY=` parameter (RFC 6152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    SevenBit,
    EightBitMime,
}

/// A command line that cannot be accepted, with the reply it deserves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} {enhanced} {message}")]
pub struct SyntaxError {
    pub code: u16,
    /// RFC 3463 enhanced status code.
    pub enhanced: &'static str,
    pub message: &'static str,
}

impl SyntaxError {
    const fn new(code: u16, enhanced: &'static str, message: &'static str) -> SyntaxError {
        SyntaxError { code, enhanced, message }
    }
}

const UNRECOGNIZED: SyntaxError = SyntaxError::new(500, "5.5.2", "Command not recognized");
const NOT_UTF8: SyntaxError = SyntaxError::new(500, "5.5.2", "Command is not valid UTF-8");
const NO_ARGUMENTS: SyntaxError = SyntaxError::new(501, "5.5.4", "This command takes no arguments");
const BAD_HELLO: SyntaxError = SyntaxError::new(501, "5.5.4", "A valid domain or address literal is required");
const BAD_MAIL: SyntaxError = SyntaxError::new(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
const BAD_AUTH: SyntaxError = SyntaxError::new(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
const BAD_RCPT: SyntaxError = SyntaxError::new(501, "5.5.4", "Syntax: RCPT TO:<address>");
const BAD_SENDER: SyntaxError = SyntaxError::new(501, "5.1.7", "Bad sender address syntax");
const BAD_RECIPIENT: SyntaxError = SyntaxError::new(501, "5.1.3", "Bad recipient address syntax");
const BAD_PARAMETER: SyntaxError = SyntaxError::new(501, "5.5.4", "Invalid parameter syntax");
// RFC 5321 §4.1.1.11: 555 for a MAIL/RCPT parameter that is not recognized or implemented.
const UNKNOWN_PARAMETER: SyntaxError = SyntaxError::new(555, "5.5.4", "Parameter not recognized or not implemented");

/// What [`CommandFramer::next_frame`] found at the start of the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// A command line of this many bytes (CRLF excluded) starts the buffer.
    Line { len: usize },
    /// A line ended with a bare LF; RFC 5321 §2.3.8 requires CRLF.
    BareLf,
    /// A line longer than [`MAX_COMMAND_LINE`] has been discarded up to its end.
    TooLong,
}

/// Cuts command lines out of the input. It remembers whether it is in the middle of
/// discarding an over-long line, so that memory stays bounded whatever the client sends.
#[derive(Debug, Default)]
pub struct CommandFramer {
    discarding: bool,
}

impl CommandFramer {
    /// Whether an over-long line is being dropped (its end has not arrived yet).
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    /// Looks at the start of `buf`. Returns how many bytes the caller must drop from the front
    /// of `buf` and the frame found, if any. `None` means that what is left after dropping is
    /// an incomplete line: read more input.
    pub fn next_frame(&mut self, buf: &[u8]) -> (usize, Option<Frame>) {
        let lf = |bytes: &[u8]| bytes.iter().position(|&b| b == b'\n');
        if self.discarding {
            // Dropping an over-long line: everything up to its LF goes, whatever its length.
            return match lf(buf) {
                Some(end) => {
                    self.discarding = false;
                    (end + 1, Some(Frame::TooLong))
                }
                None => (buf.len(), None),
            };
        }
        let window = &buf[..buf.len().min(MAX_COMMAND_LINE)];
        match lf(window) {
            Some(end) if end > 0 && buf[end - 1] == b'\r' => (end + 1, Some(Frame::Line { len: end - 1 })),
            Some(end) => (end + 1, Some(Frame::BareLf)),
            None if buf.len() >= MAX_COMMAND_LINE => {
                self.discarding = true;
                let (consumed, frame) = self.next_frame(&buf[MAX_COMMAND_LINE..]);
                (MAX_COMMAND_LINE + consumed, frame)
            }
            None => (0, None),
        }
    }
}

/// Parses one command line (without its CRLF).
pub fn parse_command(line: &[u8]) -> Result<Command, SyntaxError> {
    let line = std::str::from_utf8(line).map_err(|_| NOT_UTF8)?;
    let (verb, args) = match line.split_once(' ') {
        Some((verb, args)) => (verb, args.trim_matches(' ')),
        None => (line, ""),
    };
    let verb = verb.to_ascii_uppercase();
    let no_args = |command: Command| if args.is_empty() { Ok(command) } else { Err(NO_ARGUMENTS) };
    match verb.as_str() {
        "EHLO" => Ok(Command::Ehlo { domain: parse_hello_domain(args)? }),
        "HELO" => Ok(Command::Helo { domain: parse_hello_domain(args)? }),
        "MAIL" => parse_mail(args),
        "RCPT" => parse_rcpt(args),
        "DATA" => no_args(Command::Data),
        "RSET" => no_args(Command::Rset),
        "QUIT" => no_args(Command::Quit),
        "STARTTLS" => no_args(Command::StartTls),
        // RFC 5321 §4.1.1.9 and §4.1.1.8: NOOP and HELP may carry an argument we ignore.
        "NOOP" => Ok(Command::Noop),
        "HELP" => Ok(Command::Help),
        "VRFY" => Ok(Command::Vrfy),
        "AUTH" => parse_auth(args),
        "EXPN" | "TURN" | "ETRN" | "ATRN" | "BDAT" | "SEND" | "SOML" | "SAML" => Ok(Command::NotImplemented { verb }),
        _ => Err(UNRECOGNIZED),
    }
}

/// RFC 4954 §4: `AUTH SP sasl-mech [SP initial-response]`.
fn parse_auth(args: &str) -> Result<Command, SyntaxError> {
    let mut words = args.split(' ');
    let mechanism = words.next().filter(|m| !m.is_empty()).ok_or(BAD_AUTH)?.to_ascii_uppercase();
    let initial = words.next().map(str::to_string);
    if words.next().is_some() {
        return Err(BAD_AUTH);
    }
    Ok(Command::Auth { mechanism, initial })
}

/// RFC 5321 §4.1.1.1: `EHLO SP ( Domain / address-literal )`. We take the first word and
/// check its characters, since it ends up in our `Received:` field.
fn parse_hello_domain(args: &str) -> Result<String, SyntaxError> {
    let domain = args.split(' ').next().unwrap_or_default();
    let allowed = |c: char| c.is_ascii_alphanumeric() || ".-_:[]".contains(c) || !c.is_ascii();
    if domain.is_empty() || domain.len() > 255 || !domain.chars().all(allowed) {
        return Err(BAD_HELLO);
    }
    Ok(domain.to_string())
}

/// `MAIL FROM:<reverse-path> [SP Mail-parameters]` (RFC 5321 §4.1.1.2).
fn parse_mail(args: &str) -> Result<Command, SyntaxError> {
    let rest = strip_prefix_ignore_case(args, "FROM:").ok_or(BAD_MAIL)?;
    // Some clients put a space after the colon; accepting it harms nobody.
    let (path, params_text) = split_path(rest.trim_start_matches(' ')).ok_or(BAD_MAIL)?;
    let reverse_path = if path.is_empty() { String::new() } else { check_mailbox(path).ok_or(BAD_SENDER)? };
    let mut params = MailParameters::default();
    for param in params_text.split(' ').filter(|p| !p.is_empty()) {
        let (keyword, value) = match param.split_once('=') {
            Some((keyword, value)) => (keyword, Some(value)),
            None => (param, None),
        };
        match (keyword.to_ascii_uppercase().as_str(), value) {
            // RFC 1870 §3: size-value ::= 1*20DIGIT. A longer number is still a size, too big
            // for us (552 at MAIL, RFC 1870 §6.1), not a syntax error.
            ("SIZE", Some(value)) if params.size.is_none() => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(BAD_PARAMETER);
                }
                params.size = Some(value.parse().unwrap_or(u64::MAX));
            }
            ("BODY", Some(value)) if params.body.is_none() => {
                params.body = Some(match value.to_ascii_uppercase().as_str() {
                    "7BIT" => BodyType::SevenBit,
                    "8BITMIME" => BodyType::EightBitMime,
                    _ => return Err(UNKNOWN_PARAMETER),
                });
            }
            ("SMTPUTF8", None) if !params.smtputf8 => params.smtputf8 = true,
            ("SIZE" | "BODY" | "SMTPUTF8", _) => return Err(BAD_PARAMETER),
            _ => return Err(UNKNOWN_PARAMETER),
        }
    }
    Ok(Command::Mail { reverse_path, params })
}

/// `RCPT TO:<forward-path>` (RFC 5321 §4.1.1.3). We offer no RCPT parameters.
fn parse_rcpt(args: &str) -> Result<Command, SyntaxError> {
    let rest = strip_prefix_ignore_case(args, "TO:").ok_or(BAD_RCPT)?;
    let (path, params_text) = split_path(rest.trim_start_matches(' ')).ok_or(BAD_RCPT)?;
    if !params_text.trim_matches(' ').is_empty() {
        return Err(UNKNOWN_PARAMETER);
    }
    if path.eq_ignore_ascii_case("postmaster") {
        return Ok(Command::Rcpt { forward_path: ForwardPath::Postmaster });
    }
    let mailbox = check_mailbox(path).ok_or(BAD_RECIPIENT)?;
    Ok(Command::Rcpt { forward_path: ForwardPath::Mailbox(mailbox) })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Splits `<path> rest` into the text between the brackets (source route dropped) and the
/// rest. A `>` inside a quoted local part does not close the path.
fn split_path(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('<')?;
    let mut in_quotes = false;
    let mut escaped = false;
    let mut close = None;
    for (idx, c) in inner.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '>' if !in_quotes => {
                close = Some(idx);
                break;
            }
            _ => {}
        }
    }
    let close = close?;
    let mut path = &inner[..close];
    let rest = &inner[close + 1..];
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    // RFC 5321 §4.1.2 and appendix C: a source route `@a,@b:` is accepted and ignored.
    if path.starts_with('@') {
        path = &path[path.find(':')? + 1..];
    }
    Some((path, rest))
}

/// Checks that a path looks like `local@domain` with no control characters (it is copied
/// into our `Return-Path:` field). Returns it as is.
fn check_mailbox(path: &str) -> Option<String> {
    let (local, domain) = path.rsplit_once('@')?;
    let no_controls = !path.chars().any(char::is_control);
    let domain_ok = !domain.is_empty() && !domain.contains(['"', ' ', '<', '>']);
    (no_controls && !local.is_empty() && domain_ok && path.len() <= 320).then(|| path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(path: &str, size: Option<u64>, body: Option<BodyType>, smtputf8: bool) -> Command {
        Command::Mail { reverse_path: path.to_string(), params: MailParameters { size, body, smtputf8 } }
    }

    fn rcpt(path: &str) -> Command {
        Command::Rcpt { forward_path: ForwardPath::Mailbox(path.to_string()) }
    }

    #[test]
    fn parses_commands() {
        for (line, want) in [
            ("EHLO mx.remote.test", Command::Ehlo { domain: "mx.remote.test".into() }),
            ("ehlo [192.0.2.1]", Command::Ehlo { domain: "[192.0.2.1]".into() }),
            ("HELO mx", Command::Helo { domain: "mx".into() }),
            ("MAIL FROM:<a@b.test>", mail("a@b.test", None, None, false)),
            ("mail from:<>", mail("", None, None, false)),
            ("MAIL FROM: <a@b.test>", mail("a@b.test", None, None, false)),
            (
                "MAIL FROM:<a@b.test> SIZE=1000 BODY=8BITMIME SMTPUTF8",
                mail("a@b.test", Some(1000), Some(BodyType::EightBitMime), true),
            ),
            ("MAIL FROM:<a@b.test> body=7bit", mail("a@b.test", None, Some(BodyType::SevenBit), false)),
            ("MAIL FROM:<a@b.test> SIZE=99999999999999999999", mail("a@b.test", Some(u64::MAX), None, false)),
            // Issue 12: a size past 20 digits overflows to "too big", it is not a syntax error.
            ("MAIL FROM:<a@b.test> SIZE=123456789012345678901234567890", mail("a@b.test", Some(u64::MAX), None, false)),
            ("MAIL FROM:<@relay.test,@r2.test:a@b.test>", mail("a@b.test", None, None, false)),
            ("MAIL FROM:<\"a >b\"@b.test>", mail("\"a >b\"@b.test", None, None, false)),
            ("MAIL FROM:<élise@exemple.test> SMTPUTF8", mail("élise@exemple.test", None, None, true)),
            ("RCPT TO:<ana@example.org>", rcpt("ana@example.org")),
            ("rcpt to:<Postmaster>", Command::Rcpt { forward_path: ForwardPath::Postmaster }),
            ("DATA", Command::Data),
            ("RSET", Command::Rset),
            ("NOOP hello", Command::Noop),
            ("QUIT", Command::Quit),
            ("VRFY ana", Command::Vrfy),
            ("HELP MAIL", Command::Help),
            ("StartTLS", Command::StartTls),
            ("EXPN list", Command::NotImplemented { verb: "EXPN".into() }),
            ("AUTH plain AGFuYQBw", Command::Auth { mechanism: "PLAIN".into(), initial: Some("AGFuYQBw".into()) }),
            ("AUTH LOGIN", Command::Auth { mechanism: "LOGIN".into(), initial: None }),
        ] {
            assert_eq!(parse_command(line.as_bytes()), Ok(want), "{line}");
        }
    }

    #[test]
    fn rejects_bad_commands_with_the_right_code() {
        for (line, code, enhanced) in [
            ("", 500, "5.5.2"),
            ("FOO bar", 500, "5.5.2"),
            ("EHLO", 501, "5.5.4"),
            ("EHLO bad;name", 501, "5.5.4"),
            ("MAIL TO:<a@b.test>", 501, "5.5.4"),
            ("MAIL FROM:a@b.test", 501, "5.5.4"),
            ("MAIL FROM:<a@b.test", 501, "5.5.4"),
            ("MAIL FROM:<a@b.test>SIZE=1", 501, "5.5.4"),
            ("MAIL FROM:<nodomain>", 501, "5.1.7"),
            ("MAIL FROM:<a\tb@b.test>", 501, "5.1.7"),
            ("MAIL FROM:<a@b.test> SIZE=12x", 501, "5.5.4"),
            ("MAIL FROM:<a@b.test> SIZE=1 SIZE=2", 501, "5.5.4"),
            ("MAIL FROM:<a@b.test> SMTPUTF8=yes", 501, "5.5.4"),
            ("MAIL FROM:<a@b.test> BODY=BINARYMIME", 555, "5.5.4"),
            ("MAIL FROM:<a@b.test> RET=FULL", 555, "5.5.4"),
            ("RCPT TO:<ana@example.org> NOTIFY=NEVER", 555, "5.5.4"),
            ("RCPT TO:<ana@>", 501, "5.1.3"),
            ("RCPT TO:<@example.org>", 501, "5.5.4"),
            ("RCPT TO:<ana>", 501, "5.1.3"),
            ("RCPT FROM:<ana@example.org>", 501, "5.5.4"),
            ("DATA now", 501, "5.5.4"),
        ] {
            let err = parse_command(line.as_bytes()).expect_err(line);
            assert_eq!((err.code, err.enhanced), (code, enhanced), "{line}");
        }
        assert_eq!(parse_command(b"EHLO \xff").map_err(|e| e.enhanced), Err("5.5.2"));
    }

    /// Feeds `input` split at `split` through a framer the way the session does, and returns
    /// the frames with their line text.
    fn frames(input: &[u8], split: usize) -> Vec<(Frame, Vec<u8>)> {
        let mut framer = CommandFramer::default();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for chunk in [&input[..split], &input[split..]] {
            buf.extend_from_slice(chunk);
            loop {
                let (consumed, frame) = framer.next_frame(&buf);
                let line = match frame {
                    Some(Frame::Line { len }) => buf[..len].to_vec(),
                    _ => Vec::new(),
                };
                buf.drain(..consumed);
                match frame {
                    Some(frame) => out.push((frame, line)),
                    None => break,
                }
            }
        }
        out
    }

    #[test]
    fn frames_lines_at_every_split() {
        let long = vec![b'x'; 10_000];
        let mut input = b"EHLO a\r\nNOOP\n".to_vec();
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\r\nQUIT\r\nPART");
        let want = vec![
            (Frame::Line { len: 6 }, b"EHLO a".to_vec()),
            (Frame::BareLf, Vec::new()),
            (Frame::TooLong, Vec::new()),
            (Frame::Line { len: 4 }, b"QUIT".to_vec()),
        ];
        for split in 0..=input.len() {
            assert_eq!(frames(&input, split), want, "split at {split}");
        }
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_accepted() {
        let mut input = vec![b'N'; MAX_COMMAND_LINE - 2];
        input.extend_from_slice(b"\r\n");
        assert_eq!(
            frames(&input, 0),
            vec![(Frame::Line { len: MAX_COMMAND_LINE - 2 }, input[..MAX_COMMAND_LINE - 2].to_vec())]
        );
        let mut input = vec![b'N'; MAX_COMMAND_LINE - 1];
        input.extend_from_slice(b"\r\n");
        assert_eq!(frames(&input, 0), vec![(Frame::TooLong, Vec::new())]);
    }
}
