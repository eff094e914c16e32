//! RFC 3516 §4.4: a message APPENDed as a literal8 may hold binary parts (any octet, NUL
//! included). Facteur stores them re-encoded as base64, as Dovecot does, so that every later
//! reader (BODY[] over IMAP, POP3, the web client, a forward) gets a valid RFC 5322 message;
//! FETCH BINARY[] still gives the original octets back. A NUL the re-encoding cannot reach
//! (in a header, or in a message/rfc822 part) makes APPEND fail with NO [UNKNOWN-CTE], which
//! is the RFC's answer for content a server cannot store.
//!
//! Written here rather than with mail-builder: only the binary parts change, every other byte
//! of the message (signatures over other parts, the headers' folding) stays as the client sent it.

use base64::Engine;
use mail_parser::{HeaderName, MessageParser, MimeHeaders, PartType};

/// The message with its binary parts base64-encoded; `None` when nothing needed it.
/// `Err(())` when a NUL is left where no part encoding can carry it.
pub(crate) fn encode_binary_parts(raw: &[u8]) -> Result<Option<Vec<u8>>, ()> {
    let mut edits = binary_part_edits(raw)?;
    if edits.is_empty() {
        return if raw.contains(&0) { Err(()) } else { Ok(None) };
    }
    edits.sort_by_key(|(range, _)| (range.start, range.end));
    let mut out = Vec::with_capacity(raw.len() * 4 / 3 + 64);
    let mut at = 0;
    for (range, replacement) in edits {
        out.extend_from_slice(&raw[at..range.start]);
        out.extend_from_slice(&replacement);
        at = range.end;
    }
    out.extend_from_slice(&raw[at..]);
    if out.contains(&0) { Err(()) } else { Ok(Some(out)) }
}

/// One change to the message: a range of it, and what replaces it.
type Edit = (std::ops::Range<usize>, Vec<u8>);

/// What re-encoding the binary parts changes. None for a message mail-parser cannot read. `Err(())` for a NUL in a part said to be base64 or
/// quoted-printable: encoding it again would change what it decodes to.
fn binary_part_edits(raw: &[u8]) -> Result<Vec<Edit>, ()> {
    let Some(message) = MessageParser::default().parse(raw) else { return Ok(Vec::new()) };
    let mut edits = Vec::new();
    for part in &message.parts {
        if matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) {
            continue;
        }
        let body = part.offset_body as usize..part.offset_end as usize;
        let encoding = part.content_transfer_encoding().unwrap_or("7bit");
        let has_nul = raw[body.clone()].contains(&0);
        if !encoding.eq_ignore_ascii_case("binary") && !has_nul {
            continue;
        }
        if has_nul && ["base64", "quoted-printable"].iter().any(|e| encoding.eq_ignore_ascii_case(e)) {
            return Err(());
        }
        let encoding_header = part.headers.iter().find(|h| h.name == HeaderName::ContentTransferEncoding);
        match encoding_header {
            // The value, after the colon, up to and with its line end.
            Some(header) => {
                edits.push((header.offset_start as usize..header.offset_end as usize, b" base64\r\n".to_vec()))
            }
            None => {
                let start = part.offset_header as usize;
                edits.push((start..start, b"Content-Transfer-Encoding: base64\r\n".to_vec()));
            }
        }
        edits.push((body.clone(), base64_lines(&raw[body])));
    }
    Ok(edits)
}

/// Base64 in lines of 76 characters (RFC 2045 §6.8), each ended by CRLF.
fn base64_lines(bytes: &[u8]) -> Vec<u8> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = Vec::with_capacity(encoded.len() + encoded.len() / 38 + 2);
    for line in encoded.as_bytes().chunks(76) {
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    fn decoded_body(message: &[u8], part: usize) -> Vec<u8> {
        let parsed = MessageParser::default().parse(message).unwrap();
        parsed.parts[part].contents().to_vec()
    }

    #[test]
    fn a_binary_body_becomes_base64_with_the_same_octets() {
        let raw = b"From: a@example.org\r\nContent-Type: application/octet-stream\r\n\
                    Content-Transfer-Encoding: binary\r\n\r\n \x00-\xff\r\n\r\n";
        let out = encode_binary_parts(raw).unwrap().unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("Content-Transfer-Encoding: base64\r\n\r\n"), "{text}");
        assert!(!out.contains(&0));
        assert_eq!(decoded_body(&out, 0), decoded_body(raw, 0));
        assert_eq!(decoded_body(raw, 0), b" \x00-\xff\r\n\r\n");
    }

    #[test]
    fn only_the_binary_part_of_a_multipart_changes() {
        let raw = b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
                    --b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
                    --b\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\x02\r\n--b--\r\n";
        let out = encode_binary_parts(raw).unwrap().unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\n"), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: base64\r\n"), "{text}");
        assert!(text.ends_with("\r\n--b--\r\n"), "{text}");
        assert_eq!(decoded_body(&out, 2), b"\x00\x01\x02");
        assert_eq!(decoded_body(&out, 1), b"hello");
    }

    #[test]
    fn a_message_without_binary_is_left_alone() {
        let raw = b"From: a@example.org\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9t\xc3\xa9\r\n";
        assert_eq!(encode_binary_parts(raw), Ok(None));
    }

    #[test]
    fn a_nul_in_a_part_said_to_be_base64_cannot_be_stored() {
        let raw = b"Content-Transfer-Encoding: base64\r\n\r\nAA\x00==\r\n";
        assert_eq!(encode_binary_parts(raw), Err(()));
    }

    #[test]
    fn a_nul_in_a_header_cannot_be_stored() {
        let raw = b"From: a\x00@example.org\r\n\r\nbody\r\n";
        assert_eq!(encode_binary_parts(raw), Err(()));
    }
}
