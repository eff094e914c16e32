//! Walking a message's header section without parsing it: where it ends, its fields with their
//! continuation lines, their names. What needs to change a few fields (remove `Bcc:`, add a
//! `Message-ID:`, drop a forged `Authentication-Results:`) cuts bytes and leaves every other
//! byte, and so any signature, as it was.

use std::ops::Range;

/// Where the header block ends, and whether an empty line ends it (that line stays with the
/// body). Without one, it ends at the first line that is neither a field nor the continuation
/// of one, or at the end of the message.
pub(crate) fn header_block(raw: &[u8]) -> (usize, bool) {
    let mut at = 0;
    while at < raw.len() {
        let line_end = raw[at..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| at + i + 1);
        let line = &raw[at..line_end];
        if line == b"\r\n" || line == b"\n" {
            return (at, true);
        }
        let continues = at > 0 && matches!(line[0], b' ' | b'\t');
        if !continues && !is_field_start(line) {
            return (at, false);
        }
        at = line_end;
    }
    (raw.len(), false)
}

/// RFC 5322 §3.6.8: a field name (printable ASCII but the colon), then the colon (white space
/// before it is obsolete syntax, still taken).
fn is_field_start(line: &[u8]) -> bool {
    let name_end = line.iter().position(|&b| !(33..=126).contains(&b) || b == b':').unwrap_or(line.len());
    name_end > 0 && line[name_end..].iter().find(|&&b| b != b' ' && b != b'\t') == Some(&b':')
}

/// The fields of the header block `raw[..end]`, each with its continuation lines and line ends.
pub(crate) fn fields(raw: &[u8], end: usize) -> impl Iterator<Item = Range<usize>> + '_ {
    let block = &raw[..end];
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= block.len() {
            return None;
        }
        let start = at;
        loop {
            at = block[at..].iter().position(|&b| b == b'\n').map_or(block.len(), |i| at + i + 1);
            // A line starting with a space or tab continues the field (RFC 5322 §2.2.3).
            if !matches!(block.get(at), Some(b' ' | b'\t')) {
                break;
            }
        }
        Some(start..at)
    })
}

pub fn field_name(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    field[..colon].trim_ascii_end()
}

/// The header section of a message (without the empty line that ends it): what a bounce
/// shows of the message it returns.
pub fn header_section(raw: &[u8]) -> &[u8] {
    &raw[..header_block(raw).0]
}

/// The fields of a message's header section, as byte ranges of `raw`.
pub fn header_fields(raw: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    fields(raw, header_block(raw).0)
}

/// How many fields called `name` (any case) the header section has.
pub fn count_fields(raw: &[u8], name: &[u8]) -> usize {
    header_fields(raw).filter(|field| field_name(&raw[field.clone()]).eq_ignore_ascii_case(name)).count()
}

/// `raw` without the header fields that `drop` picks (given each field's name and whole text).
pub fn without_fields(raw: &[u8], mut drop: impl FnMut(&[u8], &[u8]) -> bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut at = 0;
    for field in header_fields(raw) {
        let text = &raw[field.clone()];
        if drop(field_name(text), text) {
            out.extend_from_slice(&raw[at..field.start]);
            at = field.end;
        }
    }
    out.extend_from_slice(&raw[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_walked_with_their_continuations_and_picked_by_name() {
        let raw = b"Return-Path: <a@b>\r\nSubject: one\r\n two\r\nreturn-path : <c@d>\r\n\r\nReturn-Path: body\r\n";
        let names: Vec<&[u8]> = header_fields(raw).map(|field| field_name(&raw[field])).collect();
        assert_eq!(names, [&b"Return-Path"[..], b"Subject", b"return-path"]);
        let kept = without_fields(raw, |name, _| name.eq_ignore_ascii_case(b"return-path"));
        assert_eq!(kept, b"Subject: one\r\n two\r\n\r\nReturn-Path: body\r\n");
        assert_eq!(without_fields(b"", |_, _| true), b"");
        assert_eq!(count_fields(raw, b"RETURN-PATH"), 2);
        assert_eq!(count_fields(raw, b"Received"), 0);
    }
}
