//! Body sections (RFC 9051 §6.4.5): finding `BODY[1.2.MIME]` and friends in the stored bytes.
//!
//! Part numbering: the parts of a multipart are numbered from 1; a non-multipart message has
//! one part, numbered 1 (its body). A message/rfc822 part's sub-parts are those of the message
//! it encloses. HEADER, TEXT and the HEADER.FIELDS forms apply to a whole message: the
//! top-level one, or one enclosed in a message/rfc822 part. MIME is the part's own header.
//! Offsets come from mail-parser and are relative to the `raw_message` of the (possibly
//! enclosed) message that owns the part.

use std::borrow::Cow;

use std::num::NonZeroU32;

use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::fetch::{Part, Section};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::{Message, MessagePart, MimeHeaders, PartType};

use facts::parsed::{ParsedMessage, enclosed_frame, fields_of, header_end, slice};

/// The bytes a section names; empty when the part does not exist (RFC 9051 §6.4.5 leaves this
/// to the server; an empty string keeps clients going).
pub(crate) fn section_bytes<'a>(message: &'a ParsedMessage<'a>, section: Option<&Section<'_>>) -> Cow<'a, [u8]> {
    let raw = message.raw;
    let Some(section) = section else { return Cow::Borrowed(raw) };
    let (path, text_kind) = match section {
        Section::Part(part) => {
            return find_part(message, part)
                .map(|(frame, _, part)| slice(frame, part.offset_body, part.offset_end))
                .map_or(Cow::Borrowed(&[][..]), Cow::Borrowed);
        }
        Section::Mime(part) => {
            return find_part(message, part)
                .map(|(frame, _, part)| slice(frame, part.offset_header, part.offset_body))
                .map_or(Cow::Borrowed(&[][..]), Cow::Borrowed);
        }
        Section::Header(path) => (path, TextKind::Header),
        Section::HeaderFields(path, names) => (path, TextKind::Fields(names.as_ref(), Keep::Listed)),
        Section::HeaderFieldsNot(path, names) => (path, TextKind::Fields(names.as_ref(), Keep::Others)),
        Section::Text(path) => (path, TextKind::Text),
    };
    // The whole message the section applies to, as its own bytes.
    let whole: &[u8] = match path {
        None => raw,
        Some(part) => match find_part(message, part) {
            Some((frame, _, part)) => match &part.body {
                // Parsed in place: the enclosed message is the part's body. Decoded first (a
                // base64 message/rfc822, which RFC 2046 §5.2.1 forbids but happens): the
                // decoded bytes, since HEADER and TEXT are about the message, not its encoding.
                PartType::Message(enclosed) => {
                    let enclosed_bytes = enclosed_frame(frame, part, enclosed);
                    if std::ptr::eq(enclosed_bytes, frame) {
                        slice(frame, part.offset_body, part.offset_end)
                    } else {
                        enclosed_bytes
                    }
                }
                _ => return Cow::Borrowed(&[][..]),
            },
            _ => return Cow::Borrowed(&[][..]),
        },
    };
    let end_of_header = header_end(whole);
    match text_kind {
        TextKind::Header => Cow::Borrowed(&whole[..end_of_header]),
        TextKind::Text => Cow::Borrowed(&whole[end_of_header..]),
        TextKind::Fields(names, keep) => Cow::Owned(select_fields(&whole[..end_of_header], names, keep)),
    }
}

/// An encoding BINARY cannot undo (RFC 3516 §4.3: `NO [UNKNOWN-CTE]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UnknownCte;

/// RFC 3516 BINARY[section]: the part's body with its Content-Transfer-Encoding undone (no
/// charset conversion); an empty section is the whole message as stored. A part that does not
/// exist is empty, as for BODY.
pub(crate) fn binary_bytes<'a>(
    message: &'a ParsedMessage<'a>,
    section: &[NonZeroU32],
) -> Result<Cow<'a, [u8]>, UnknownCte> {
    let Ok(numbers) = Vec1::try_from(section.to_vec()) else { return Ok(Cow::Borrowed(message.raw)) };
    let Some((frame, _, part)) = find_part(message, &Part(numbers)) else { return Ok(Cow::Borrowed(&[][..])) };
    let body = slice(frame, part.offset_body, part.offset_end);
    let encoding = part.content_transfer_encoding().unwrap_or("7bit").trim().to_ascii_lowercase();
    match encoding.as_str() {
        "7bit" | "8bit" | "binary" => Ok(Cow::Borrowed(body)),
        // Broken encodings decode as far as they go rather than fail the whole FETCH.
        "base64" => Ok(Cow::Owned(base64_decode(body).unwrap_or_default())),
        "quoted-printable" => Ok(Cow::Owned(quoted_printable_decode(body).unwrap_or_default())),
        _ => Err(UnknownCte),
    }
}

/// HEADER.FIELDS (`Keep::Listed`) or HEADER.FIELDS.NOT (`Keep::Others`) of a header block: the
/// chosen fields untouched, in their order, then the empty line.
pub(crate) fn select_fields(header_block: &[u8], names: &[AString<'_>], keep: Keep) -> Vec<u8> {
    let wanted = |name: &[u8]| names.iter().any(|n| n.as_ref().eq_ignore_ascii_case(name));
    let mut out = Vec::new();
    for (name, bytes) in fields_of(header_block) {
        if wanted(name) == (keep == Keep::Listed) {
            out.extend_from_slice(bytes);
        }
    }
    // RFC 9051 §6.4.5: the blank line ending the header is part of every header fetch.
    out.extend_from_slice(b"\r\n");
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Keep {
    Listed,
    Others,
}

enum TextKind<'n> {
    Header,
    Text,
    Fields(&'n [AString<'n>], Keep),
}

/// Finds a part by number; returns it with the bytes its offsets refer to and the message
/// that owns it.
pub(crate) fn find_part<'a>(
    message: &'a ParsedMessage<'a>,
    part: &Part,
) -> Option<(&'a [u8], &'a Message<'a>, &'a MessagePart<'a>)> {
    let mut owner: &Message<'_> = message.parsed.as_ref()?;
    let mut frame: &[u8] = message.raw;
    let mut current: &MessagePart<'_> = owner.parts.first()?;
    for (depth, number) in part.0.as_ref().iter().enumerate() {
        let index = number.get() as usize - 1;
        // Below the top level, a message/rfc822 part stands for the message it encloses.
        if depth > 0
            && let PartType::Message(enclosed) = &current.body
        {
            frame = enclosed_frame(frame, current, enclosed);
            owner = enclosed;
            current = owner.parts.first()?;
        }
        match &current.body {
            PartType::Multipart(children) if !children.is_empty() => {
                let id = *children.get(index)?;
                current = owner.parts.get(id as usize)?;
            }
            // A single-part entity has exactly one part, numbered 1: its body.
            _ if index == 0 && (depth == 0 || is_entity_root(owner, current)) => {}
            _ => return None,
        }
    }
    Some((frame, owner, current))
}

/// True when `part` is the root of `owner` (the whole message rather than one of its parts).
fn is_entity_root(owner: &Message<'_>, part: &MessagePart<'_>) -> bool {
    owner.parts.first().is_some_and(|root| std::ptr::eq(root, part))
}

/// A part's number as sections write it: `1.2` (empty for the whole message, in BINARY[]).
pub(crate) fn part_numbers(numbers: &[NonZeroU32]) -> String {
    numbers.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(".")
}

/// The section as it is echoed in the FETCH response: `1.2.HEADER.FIELDS (From To)`.
pub(crate) fn section_label(section: Option<&Section<'_>>) -> String {
    fn path(part: &Option<Part>) -> String {
        part.as_ref().map(|p| format!("{}.", part_numbers(p.0.as_ref()))).unwrap_or_default()
    }
    fn names(list: &[AString<'_>]) -> String {
        let names: Vec<String> = list
            .iter()
            .map(|name| {
                let text = String::from_utf8_lossy(name.as_ref()).into_owned();
                if !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic() && !b"(){%*\"\\]".contains(&b)) {
                    text
                } else {
                    crate::response::string(&text)
                }
            })
            .collect();
        names.join(" ")
    }
    match section {
        None => String::new(),
        Some(Section::Part(part)) => part_numbers(part.0.as_ref()),
        Some(Section::Header(part)) => format!("{}HEADER", path(part)),
        Some(Section::HeaderFields(part, list)) => format!("{}HEADER.FIELDS ({})", path(part), names(list.as_ref())),
        Some(Section::HeaderFieldsNot(part, list)) => {
            format!("{}HEADER.FIELDS.NOT ({})", path(part), names(list.as_ref()))
        }
        Some(Section::Text(part)) => format!("{}TEXT", path(part)),
        Some(Section::Mime(part)) => format!("{}.MIME", part_numbers(part.0.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use imap_codec::imap_types::core::Vec1;
    use std::num::NonZeroU32;

    use super::*;
    use facts::parsed::samples;

    fn part(numbers: &[u32]) -> Part {
        let numbers: Vec<NonZeroU32> =
            numbers.iter().map(|&n| NonZeroU32::new(n).expect("part numbers are >0")).collect();
        Part(Vec1::try_from(numbers).expect("at least one part number"))
    }

    fn names(list: &[&'static str]) -> Vec1<AString<'static>> {
        let list: Vec<AString<'static>> = list.iter().map(|n| AString::try_from(*n).expect("valid astring")).collect();
        Vec1::try_from(list).expect("at least one name")
    }

    fn get(raw: &[u8], section: Option<Section<'_>>) -> String {
        let message = ParsedMessage::parse(raw);
        String::from_utf8_lossy(&section_bytes(&message, section.as_ref())).into_owned()
    }

    #[test]
    fn sections_of_a_plain_message() {
        let raw = samples::PLAIN;
        assert_eq!(get(raw, None).as_bytes(), raw);
        assert!(get(raw, Some(Section::Header(None))).ends_with("Message-ID: <1@example.org>\r\n\r\n"));
        assert_eq!(get(raw, Some(Section::Text(None))), "Line one\r\nLine two\r\n");
        assert_eq!(get(raw, Some(Section::Part(part(&[1])))), "Line one\r\nLine two\r\n");
        assert_eq!(get(raw, Some(Section::Part(part(&[2])))), "");
        assert_eq!(
            get(raw, Some(Section::HeaderFields(None, names(&["subject", "FROM"])))),
            "From: Ana Lima <ana@example.org>\r\nSubject: Hello\r\n there\r\n\r\n"
        );
        let not = get(raw, Some(Section::HeaderFieldsNot(None, names(&["To", "Subject", "Date", "Message-ID"]))));
        assert_eq!(not, "From: Ana Lima <ana@example.org>\r\n\r\n");
    }

    #[test]
    fn sections_of_multiparts_and_enclosed_messages() {
        let raw = samples::MIXED;
        assert_eq!(get(raw, Some(Section::Part(part(&[1])))), "See attached.");
        assert_eq!(get(raw, Some(Section::Part(part(&[2])))), "JVBERi0xLjQK");
        assert_eq!(
            get(raw, Some(Section::Mime(part(&[2])))),
            "Content-Type: application/pdf; name=\"r.pdf\"\r\nContent-Disposition: attachment; filename=\"r.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n"
        );
        assert_eq!(
            get(raw, Some(Section::Part(part(&[3])))),
            "From: carl@example.net\r\nSubject: Inner\r\n\r\nInner body"
        );
        assert_eq!(
            get(raw, Some(Section::Header(Some(part(&[3]))))),
            "From: carl@example.net\r\nSubject: Inner\r\n\r\n"
        );
        assert_eq!(get(raw, Some(Section::Text(Some(part(&[3]))))), "Inner body");
        assert_eq!(get(raw, Some(Section::Part(part(&[3, 1])))), "Inner body");
        assert_eq!(get(raw, Some(Section::Part(part(&[4])))), "");
        assert_eq!(get(raw, Some(Section::Part(part(&[1, 1])))), "");
        assert_eq!(get(raw, Some(Section::Header(Some(part(&[1]))))), "");
        let alternative = samples::ALTERNATIVE;
        assert_eq!(get(alternative, Some(Section::Part(part(&[2])))), "<p>Hi</p>");
    }

    #[test]
    fn a_base64_enclosed_message_is_cut_from_its_decoded_bytes() {
        // "From: x@example.org\r\nSubject: Inner\r\n\r\nInner body\r\n", base64-encoded.
        let raw = b"Content-Type: multipart/mixed; boundary=\"o\"\r\n\r\n--o\r\n\
Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n\
RnJvbTogeEBleGFtcGxlLm9yZw0KU3ViamVjdDogSW5uZXINCg0KSW5uZXIgYm9keQ0K\r\n--o--\r\n";
        assert_eq!(get(raw, Some(Section::Text(Some(part(&[1]))))), "Inner body\r\n");
        assert_eq!(get(raw, Some(Section::Part(part(&[1, 1])))), "Inner body\r\n");
        assert_eq!(
            get(raw, Some(Section::HeaderFields(Some(part(&[1])), names(&["Subject"])))),
            "Subject: Inner\r\n\r\n"
        );
        // BODY[1] is the part's body as stored: still base64.
        assert!(get(raw, Some(Section::Part(part(&[1])))).starts_with("RnJvbTog"));
    }

    #[test]
    fn broken_mime_gives_something_without_panicking() {
        for numbers in [&[1][..], &[2], &[1, 1], &[2, 1], &[9, 9, 9]] {
            for section in [
                Section::Part(part(numbers)),
                Section::Mime(part(numbers)),
                Section::Header(Some(part(numbers))),
                Section::Text(Some(part(numbers))),
            ] {
                let _ = get(samples::BROKEN, Some(section));
            }
        }
        assert_eq!(get(samples::BROKEN, None).as_bytes(), samples::BROKEN);
        assert_eq!(get(b"", Some(Section::Part(part(&[1])))), "");
        assert_eq!(get(b"", Some(Section::Header(None))), "");
    }

    #[test]
    fn labels() {
        assert_eq!(section_label(None), "");
        assert_eq!(section_label(Some(&Section::Mime(part(&[1, 2])))), "1.2.MIME");
        assert_eq!(section_label(Some(&Section::Text(Some(part(&[3]))))), "3.TEXT");
        assert_eq!(
            section_label(Some(&Section::HeaderFields(None, names(&["From", "X-Odd(name"])))),
            "HEADER.FIELDS (From \"X-Odd(name\")"
        );
    }
}
