//! Encoding of server responses: a small hand-written encoder instead of imap-codec's
//! `ResponseCodec`.
//!
//! Why by hand: FETCH must return stored messages byte for byte (BODY[] is compared with what
//! was delivered), and imap-types' `Literal` refuses NUL bytes and needs every ENVELOPE and
//! BODYSTRUCTURE field as a validated newtype. Strings go through one function,
//! `facts::imap_string::push_string`, which picks a quoted string when the bytes allow it and a
//! literal otherwise (RFC 9051 §4.3), so quoting cannot be forgotten at a call site.

use std::fmt::Write as _;

/// Bytes of one or more responses, ready to write.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) bytes: Vec<u8>,
}

impl Response {
    /// `TAG STATUS [CODE] text` (RFC 9051 §7.1).
    pub(crate) fn tagged(tag: &str, status: &str, code: Option<&str>, text: &str) -> Response {
        let mut response = Response::default();
        response.status_line(tag, status, code, text);
        response
    }

    /// Appends `PREFIX STATUS [CODE] text\r\n`; `prefix` is a tag or `*`.
    pub(crate) fn status_line(&mut self, prefix: &str, status: &str, code: Option<&str>, text: &str) {
        let mut line = format!("{prefix} {status} ");
        if let Some(code) = code {
            let _ = write!(line, "[{code}] ");
        }
        line.push_str(&sanitize_text(text));
        self.line(&line);
    }

    /// Appends one untagged line: `* ` + `text` + CRLF. `text` must be protocol-safe.
    pub(crate) fn untagged(&mut self, text: &str) {
        self.bytes.extend_from_slice(b"* ");
        self.bytes.extend_from_slice(text.as_bytes());
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// Appends a raw line (CRLF added).
    pub(crate) fn line(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.bytes.extend_from_slice(b"\r\n");
    }
}

/// `text` in a response may not contain CR or LF (RFC 9051 §9 `text`); store texts are ours
/// but may quote user input, so line breaks become spaces.
fn sanitize_text(text: &str) -> String {
    let clean: String = text.chars().map(|c| if c == '\r' || c == '\n' { ' ' } else { c }).collect();
    if clean.is_empty() { "done".to_string() } else { clean }
}

use facts::imap_string::{push_quoted, push_string};

/// A string as it appears in a response line built with `format!` (mailbox names, ID values).
pub(crate) fn string(text: &str) -> String {
    let mut out = Vec::new();
    push_string(&mut out, text.as_bytes());
    // Literals are valid on a line too; `from_utf8_lossy` keeps a UTF-8 name intact.
    String::from_utf8_lossy(&out).into_owned()
}

/// A string for a session that takes UTF-8 (RFC 9051 §4.3 `QUOTED-CHAR`, RFC 6855): quoted
/// when it has no control characters, a literal otherwise.
pub(crate) fn utf8_string(text: &str) -> String {
    if text.len() > 1024 || text.chars().any(char::is_control) {
        return string(text);
    }
    let mut out = Vec::with_capacity(text.len() + 2);
    push_quoted(&mut out, text.as_bytes());
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_strings_are_quoted_unless_they_cannot_be() {
        assert_eq!(utf8_string("Café/Été"), "\"Café/Été\"");
        assert_eq!(utf8_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(utf8_string("two\nlines"), "{9}\r\ntwo\nlines");
    }

    #[test]
    fn status_lines_carry_codes_and_no_line_breaks() {
        let response = Response::tagged("a1", "NO", Some("CANNOT"), "no\r\nway");
        assert_eq!(response.bytes, b"a1 NO [CANNOT] no  way\r\n");
    }
}
