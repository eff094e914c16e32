//! BODY and BODYSTRUCTURE (RFC 9051 §7.5.2): the MIME tree as clients see it before fetching
//! parts.
//!
//! The shape of each entry follows what mail-parser found, not only what the Content-Type
//! says, so that a broken part never produces an invalid structure: a message/rfc822 part that
//! could not be parsed is described as application/octet-stream (the grammar requires an
//! envelope and a body for MESSAGE/RFC822), and a multipart without parts as text/plain.
//! Sizes and line counts are of the encoded body as stored.

use mail_parser::{ContentType, HeaderValue, Message, MessagePart, MimeHeaders, PartType};

use crate::envelope::push_envelope;
use crate::imap_string::{push_nstring, push_string};
use crate::parsed::{ParsedMessage, enclosed_frame, raw_header_value, slice};

/// With or without extension data: BODYSTRUCTURE has it, BODY does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extensions {
    Included,
    Omitted,
}

/// Appends the structure of the whole message.
pub fn push_body_structure(out: &mut Vec<u8>, message: &ParsedMessage<'_>, extensions: Extensions) {
    match message.parsed.as_ref().and_then(|m| m.parts.first().map(|root| (m, root))) {
        Some((owner, root)) => push_part(out, message.raw, owner, root, extensions, 0),
        None => {
            // Nothing mail-parser could read: describe the bytes as one text/plain body.
            out.extend_from_slice(b"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" ");
            out.extend_from_slice(format!("{} {}", message.raw.len(), count_lines(message.raw)).as_bytes());
            if extensions == Extensions::Included {
                out.extend_from_slice(b" NIL NIL NIL NIL");
            }
            out.push(b')');
        }
    }
}

/// Deeper nesting than this is described as an opaque part, so hostile input cannot make the
/// response (or the recursion) grow without bound.
const MAX_DEPTH: usize = 20;

/// `frame` is the bytes the offsets of `owner`'s parts refer to (see `enclosed_frame`).
fn push_part(
    out: &mut Vec<u8>,
    frame: &[u8],
    owner: &Message<'_>,
    part: &MessagePart<'_>,
    extensions: Extensions,
    depth: usize,
) {
    let header = slice(frame, part.offset_header, part.offset_body);
    let body = slice(frame, part.offset_body, part.offset_end);
    let content_type = part.content_type();
    let (c_type, c_subtype) = match content_type {
        Some(ct) => (ct.ctype().to_ascii_uppercase(), ct.subtype().map(str::to_ascii_uppercase)),
        None => (String::new(), None),
    };

    if let PartType::Multipart(children) = &part.body
        && !children.is_empty()
        && depth < MAX_DEPTH
    {
        out.push(b'(');
        for &child in children {
            if let Some(child) = owner.parts.get(child as usize) {
                push_part(out, frame, owner, child, extensions, depth + 1);
            }
        }
        out.push(b' ');
        push_string(out, c_subtype.as_deref().unwrap_or("MIXED").as_bytes());
        if extensions == Extensions::Included {
            out.push(b' ');
            push_parameters(out, content_type);
            push_disposition_language_location(out, part, header);
        }
        out.push(b')');
        return;
    }

    let (kind, media_type, media_subtype) = match &part.body {
        PartType::Message(_) if depth < MAX_DEPTH => {
            let subtype = match c_subtype.as_deref() {
                Some("GLOBAL") => "GLOBAL",
                _ => "RFC822",
            };
            (Kind::Message, "MESSAGE".to_string(), subtype.to_string())
        }
        _ if c_type == "TEXT" => (Kind::Text, c_type.clone(), c_subtype.clone().unwrap_or_else(|| "PLAIN".into())),
        PartType::Text(_) | PartType::Html(_) if content_type.is_none() => (
            Kind::Text,
            "TEXT".to_string(),
            if matches!(part.body, PartType::Html(_)) { "HTML" } else { "PLAIN" }.to_string(),
        ),
        // No usable type, or one whose grammar we cannot fill (MESSAGE/RFC822 that did not
        // parse, MULTIPART without parts): an opaque part.
        _ if c_type.is_empty() || c_type == "MULTIPART" || c_type == "MESSAGE" => {
            (Kind::Basic, "APPLICATION".to_string(), "OCTET-STREAM".to_string())
        }
        _ => (Kind::Basic, c_type.clone(), c_subtype.clone().unwrap_or_else(|| "OCTET-STREAM".into())),
    };

    out.push(b'(');
    push_string(out, media_type.as_bytes());
    out.push(b' ');
    push_string(out, media_subtype.as_bytes());
    out.push(b' ');
    if content_type.is_none() && kind == Kind::Text {
        // RFC 2045 §5.2: no Content-Type means text/plain; charset=us-ascii.
        out.extend_from_slice(b"(\"CHARSET\" \"us-ascii\")");
    } else {
        push_parameters(out, content_type);
    }
    out.push(b' ');
    push_nstring(out, raw_header_value(header, "Content-ID").as_deref());
    out.push(b' ');
    push_nstring(out, raw_header_value(header, "Content-Description").as_deref());
    out.push(b' ');
    let encoding = raw_header_value(header, "Content-Transfer-Encoding")
        .map(|e| e.to_ascii_uppercase())
        .unwrap_or_else(|| b"7BIT".to_vec());
    push_string(out, &encoding);
    out.extend_from_slice(format!(" {}", body.len()).as_bytes());
    match (&part.body, kind) {
        (PartType::Message(enclosed), Kind::Message) => {
            let enclosed_frame = enclosed_frame(frame, part, enclosed);
            let enclosed_header = enclosed
                .parts
                .first()
                .map(|root| slice(enclosed_frame, root.offset_header, root.offset_body))
                .unwrap_or_default();
            out.push(b' ');
            push_envelope(out, Some(enclosed), enclosed_header);
            out.push(b' ');
            match enclosed.parts.first() {
                Some(root) => push_part(out, enclosed_frame, enclosed, root, extensions, depth + 1),
                None => out.extend_from_slice(b"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 0 0)"),
            }
            out.extend_from_slice(format!(" {}", count_lines(body)).as_bytes());
        }
        (_, Kind::Text) => out.extend_from_slice(format!(" {}", count_lines(body)).as_bytes()),
        _ => {}
    }
    if extensions == Extensions::Included {
        // body-fld-md5: we do not compute Content-MD5.
        out.extend_from_slice(b" NIL");
        push_disposition_language_location(out, part, header);
    }
    out.push(b')');
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Basic,
    Text,
    Message,
}

/// Lines in an encoded body: its line breaks, plus one for a last line without a break.
fn count_lines(body: &[u8]) -> usize {
    let breaks = body.iter().filter(|&&b| b == b'\n').count();
    if body.is_empty() || body.ends_with(b"\n") { breaks } else { breaks + 1 }
}

/// `("NAME" "value" ...)` or NIL. Names are upper-cased as most servers do; values as sent.
fn push_parameters(out: &mut Vec<u8>, content_type: Option<&ContentType<'_>>) {
    match content_type.and_then(ContentType::attributes).filter(|a| !a.is_empty()) {
        Some(attributes) => {
            out.push(b'(');
            for (i, attribute) in attributes.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                push_parameter(out, &attribute.name, &attribute.value);
            }
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
}

/// One parameter. mail-parser hands values decoded (RFC 2231 `filename*=utf-8''...`, or an
/// encoded word); one that is not plain ASCII is given back RFC 2231-encoded, `NAME*` and
/// `utf-8''` with percent escapes, as Dovecot and Cyrus pass such parameters on and clients
/// decode them. A UTF-8 literal instead would be 8-bit data a client may read as Latin-1, and
/// a literal per attachment made BODYSTRUCTURE responses heavier to read.
fn push_parameter(out: &mut Vec<u8>, name: &str, value: &str) {
    let name = name.to_ascii_uppercase();
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        push_string(out, name.as_bytes());
        out.push(b' ');
        push_string(out, value.as_bytes());
        return;
    }
    push_string(out, format!("{}*", name.trim_end_matches('*')).as_bytes());
    out.push(b' ');
    let mut encoded = String::from("utf-8''");
    for b in value.bytes() {
        // RFC 2231 section 7, attribute-char: ASCII but no space, control, star, apostrophe,
        // percent sign or tspecial.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`{|}~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    push_string(out, encoded.as_bytes());
}

/// ` disposition language location` (RFC 9051 §7.5.2 body extension fields).
fn push_disposition_language_location(out: &mut Vec<u8>, part: &MessagePart<'_>, header: &[u8]) {
    out.push(b' ');
    match part.content_disposition() {
        Some(disposition) => {
            out.push(b'(');
            push_string(out, disposition.ctype().to_ascii_uppercase().as_bytes());
            out.push(b' ');
            push_parameters(out, Some(disposition));
            out.push(b')');
        }
        None => out.extend_from_slice(b"NIL"),
    }
    out.push(b' ');
    let languages: Vec<&str> = match part.content_language() {
        HeaderValue::Text(text) => vec![text.as_ref()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.as_ref()).collect(),
        _ => Vec::new(),
    };
    if languages.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        for (i, language) in languages.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            push_string(out, language.as_bytes());
        }
        out.push(b')');
    }
    out.push(b' ');
    push_nstring(out, raw_header_value(header, "Content-Location").as_deref());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsed::samples;

    fn structure(raw: &[u8], extensions: Extensions) -> String {
        let message = ParsedMessage::parse(raw);
        let mut out = Vec::new();
        push_body_structure(&mut out, &message, extensions);
        String::from_utf8(out).expect("structures of the samples are ASCII")
    }

    #[test]
    fn plain_message() {
        assert_eq!(
            structure(samples::PLAIN, Extensions::Omitted),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 2)"
        );
        assert_eq!(
            structure(samples::PLAIN, Extensions::Included),
            "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 2 NIL NIL NIL NIL)"
        );
    }

    #[test]
    fn multipart_alternative() {
        assert_eq!(
            structure(samples::ALTERNATIVE, Extensions::Included),
            "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 2 1 NIL NIL NIL NIL)\
             (\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 9 1 NIL NIL NIL NIL) \
             \"ALTERNATIVE\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)"
        );
    }

    #[test]
    fn multipart_mixed_with_attachment_and_enclosed_message() {
        let got = structure(samples::MIXED, Extensions::Included);
        let want = "((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 13 1 NIL NIL NIL NIL)\
             (\"APPLICATION\" \"PDF\" (\"NAME\" \"r.pdf\") NIL NIL \"BASE64\" 12 NIL (\"ATTACHMENT\" (\"FILENAME\" \"r.pdf\")) NIL NIL)\
             (\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 52 \
             (NIL \"Inner\" ((NIL NIL \"carl\" \"example.net\")) ((NIL NIL \"carl\" \"example.net\")) ((NIL NIL \"carl\" \"example.net\")) NIL NIL NIL NIL NIL) \
             (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL NIL) 4 NIL NIL NIL NIL) \
             \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)";
        assert_eq!(got, want);
        let without = structure(samples::MIXED, Extensions::Omitted);
        assert!(without.ends_with(" \"MIXED\")"), "{without}");
        assert!(!without.contains("BOUNDARY"), "{without}");
    }

    #[test]
    fn parameters_that_are_not_ascii_are_given_rfc_2231_encoded() {
        let raw = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
            Content-Type: image/png; name=\"=?utf-8?q?caf=C3=A9.png?=\"\r\n\
            Content-Disposition: attachment; filename*=utf-8''capture%20d%27%C3%A9cran%20%282%29.png\r\n\r\n\
            x\r\n--b--\r\n";
        let got = structure(raw.as_bytes(), Extensions::Included);
        assert!(got.contains("(\"NAME*\" \"utf-8''caf%C3%A9.png\")"), "{got}");
        assert!(got.contains("(\"FILENAME*\" \"utf-8''capture%20d%27%C3%A9cran%20%282%29.png\")"), "{got}");
        assert!(!got.contains('{'), "no literal: {got}");
    }

    #[test]
    fn broken_mime_gives_a_valid_structure() {
        for raw in [samples::BROKEN, b"", b"\r\n", b"Content-Type: multipart/mixed\r\n\r\n--\r\n", b"no header at all"]
        {
            for extensions in [Extensions::Included, Extensions::Omitted] {
                let got = structure(raw, extensions);
                assert!(got.starts_with('(') && got.ends_with(')'), "{got}");
                let opens = got.matches('(').count();
                let closes = got.matches(')').count();
                assert_eq!(opens, closes, "{got}");
            }
        }
    }
}
