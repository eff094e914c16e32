//! A stored message with its mail-parser parse, and the byte-level helpers every reader of
//! it shares: where the header block ends, its fields, slices that cannot panic. Sections are
//! always cut out of the stored bytes, never re-encoded, so what a client fetches is exactly
//! what was delivered.

use mail_parser::{Message, MessageParser, MessagePart};

/// A stored message and its MIME parse. The parse is `None` only for input mail-parser cannot
/// read at all (an empty file, say); sections and structures then fall back to simple forms.
pub struct ParsedMessage<'a> {
    pub raw: &'a [u8],
    pub parsed: Option<Message<'a>>,
}

impl<'a> ParsedMessage<'a> {
    pub fn parse(raw: &'a [u8]) -> ParsedMessage<'a> {
        ParsedMessage { raw, parsed: MessageParser::default().parse(raw) }
    }
}

/// The bytes the offsets of an enclosed message's parts refer to. mail-parser keeps offsets of
/// a message/rfc822 part's contents in the enclosing coordinates (`frame`) when it parsed them
/// in place, but relative to `enclosed.raw_message()` when it had to decode the part first
/// (a base64 message/rfc822). The enclosed root starting where the part's body starts tells
/// the first case.
pub fn enclosed_frame<'a>(frame: &'a [u8], part: &MessagePart<'_>, enclosed: &'a Message<'a>) -> &'a [u8] {
    match enclosed.parts.first() {
        Some(root) if root.offset_header == part.offset_body => frame,
        _ => enclosed.raw_message(),
    }
}

/// `raw[start..end]`, clamped so inconsistent offsets from a broken message cannot panic.
pub fn slice(raw: &[u8], start: u32, end: u32) -> &[u8] {
    let start = (start as usize).min(raw.len());
    let end = (end as usize).clamp(start, raw.len());
    &raw[start..end]
}

/// Splits a header block into fields: each field is its name and its bytes, from the name to
/// the CRLF that ends its last (folded) line. RFC 5322 §2.2: a line starting with white space
/// continues the previous field. Lines without a colon are kept as nameless fields so
/// HEADER.FIELDS.NOT returns them untouched.
pub fn header_fields(block: &[u8]) -> Vec<(&[u8], &[u8])> {
    fields_of(block).collect()
}

/// [`header_fields`] one at a time, allocating nothing: FETCH 1:* of HEADER.FIELDS walks
/// every message's header.
pub fn fields_of(block: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut position = 0;
    std::iter::from_fn(move || {
        let start = position;
        while position < block.len() {
            let line_end = memchr::memchr(b'\n', &block[position..]).map_or(block.len(), |i| position + i + 1);
            let line = &block[position..line_end];
            if position == start && (line == b"\r\n" || line == b"\n") {
                // The blank line ends the header.
                position = block.len();
                return None;
            }
            let continues = position > start && matches!(line.first(), Some(b' ' | b'\t'));
            if !continues && position > start {
                return Some(field_at(&block[start..position]));
            }
            position = line_end;
        }
        (position > start).then(|| field_at(&block[start..position]))
    })
}

fn field_at(bytes: &[u8]) -> (&[u8], &[u8]) {
    let name = match bytes.iter().position(|&b| b == b':') {
        Some(colon) => bytes[..colon].trim_ascii(),
        None => &[][..],
    };
    (name, bytes)
}

/// The unfolded, trimmed value of the first field called `name`, as raw bytes.
pub fn raw_header_value(block: &[u8], name: &str) -> Option<Vec<u8>> {
    let (_, field) = fields_of(block).find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))?;
    let colon = field.iter().position(|&b| b == b':')?;
    let unfolded: Vec<u8> = field[colon + 1..].iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    Some(unfolded.trim_ascii().to_vec())
}

/// Where the header block of a whole message ends: just after the first empty line, or the
/// end of the message when it has none (RFC 5322 §2.1).
pub fn header_end(raw: &[u8]) -> usize {
    if raw.starts_with(b"\r\n") {
        return 2;
    }
    if raw.starts_with(b"\n") {
        return 1;
    }
    let mut position = 0;
    while let Some(i) = raw[position..].iter().position(|&b| b == b'\n') {
        let next = position + i + 1;
        if raw[next..].starts_with(b"\r\n") {
            return next + 2;
        }
        if raw[next..].starts_with(b"\n") {
            return next + 1;
        }
        position = next;
    }
    raw.len()
}

#[cfg(any(test, feature = "samples"))]
pub mod samples {
    //! Sample messages shared by the fetch tests.

    pub const PLAIN: &[u8] = b"From: Ana Lima <ana@example.org>\r\n\
To: bob@example.org, \"Carl, Jr.\" <carl@example.net>\r\n\
Subject: Hello\r\n\
\x20there\r\n\
Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n\
Message-ID: <1@example.org>\r\n\
\r\n\
Line one\r\n\
Line two\r\n";

    pub const ALTERNATIVE: &[u8] = b"From: ana@example.org\r\n\
To: bob@example.org\r\n\
Subject: =?utf-8?q?Caf=C3=A9?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b1\"\r\n\
\r\n\
preamble\r\n\
--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Hi\r\n\
--b1\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
<p>Hi</p>\r\n\
--b1--\r\n";

    pub const MIXED: &[u8] = b"From: ana@example.org\r\n\
To: bob@example.org\r\n\
Subject: Report\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: text/plain\r\n\
\r\n\
See attached.\r\n\
--outer\r\n\
Content-Type: application/pdf; name=\"r.pdf\"\r\n\
Content-Disposition: attachment; filename=\"r.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
JVBERi0xLjQK\r\n\
--outer\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: carl@example.net\r\n\
Subject: Inner\r\n\
\r\n\
Inner body\r\n\
--outer--\r\n";

    /// A multipart whose closing boundary never comes and whose boundary parameter is missing
    /// in a nested part.
    pub const BROKEN: &[u8] = b"From: <<<@@@\r\n\
Subject: broken\r\n\
Content-Type: multipart/mixed; boundary=\"x\"\r\n\
\r\n\
--x\r\n\
Content-Type: multipart/alternative\r\n\
\r\n\
no boundary here\r\n\
--x\r\n\
Content-Type: text/plain; charset=\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
!!!! not base64\r\n";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_keep_folding_and_order() {
        let block = b"A: 1\r\nB: 2\r\n  more\r\nNoColon\r\nc: 3\r\n\r\nbody: no\r\n";
        let fields = header_fields(block);
        let names: Vec<&[u8]> = fields.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, vec![&b"A"[..], b"B", b"", b"c"]);
        assert_eq!(fields[1].1, b"B: 2\r\n  more\r\n");
        assert_eq!(raw_header_value(block, "b").as_deref(), Some(&b"2  more"[..]));
        assert_eq!(raw_header_value(block, "body"), None);
    }

    #[test]
    fn header_end_finds_the_blank_line() {
        for (raw, want) in
            [(&b"A: 1\r\n\r\nbody"[..], 8), (b"A: 1\n\nbody", 6), (b"\r\nbody", 2), (b"A: 1\r\nB: 2\r\n", 12), (b"", 0)]
        {
            assert_eq!(header_end(raw), want, "{}", String::from_utf8_lossy(raw));
        }
    }
}
