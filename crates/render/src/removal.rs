//! C7: taking an attachment out of a stored message, leaving a trace in its place.
//!
//! Done on the raw bytes rather than by building the message again: mail-parser gives each
//! part's span, and only that span changes. The headers, the signature-free parts and the
//! MIME structure stay byte for byte, so nothing the reader did not ask to remove is lost or
//! re-encoded.

use mail_parser::MessageParser;

use crate::{attachment_name, listed_attachments};

/// Why an attachment cannot be taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unremovable {
    /// No attachment has that index (the message changed, or never had it).
    NotFound,
    /// The attachment is the whole message (its only part): deleting the message is the way.
    WholeMessage,
}

/// What stands in the place of a removed attachment: a small text file, `file_name`, whose
/// content is `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub file_name: String,
    pub text: String,
}

/// The message with the attachment at `index` (as [`crate::render`] lists it) replaced by the
/// trace `trace` makes from the attachment's name. Returns the new message and that name.
pub fn without_attachment(
    raw: &[u8],
    index: u32,
    trace: impl FnOnce(&str) -> Trace,
) -> Result<(Vec<u8>, String), Unremovable> {
    let message = MessageParser::default().parse(raw).ok_or(Unremovable::NotFound)?;
    let part = *listed_attachments(&message).get(index as usize).ok_or(Unremovable::NotFound)?;
    if std::ptr::eq(part, &message.parts[0]) {
        return Err(Unremovable::WholeMessage);
    }
    let name = attachment_name(part, index as usize);
    let (start, end) = (part.offset_header as usize, part.offset_end as usize);
    if start >= end || end > raw.len() {
        return Err(Unremovable::NotFound);
    }
    let trace = trace(&name);
    let mut out = Vec::with_capacity(raw.len() - (end - start) + 512);
    out.extend_from_slice(&raw[..start]);
    out.extend_from_slice(trace_part(&trace).as_bytes());
    out.extend_from_slice(&raw[end..]);
    Ok((out, name))
}

/// The trace as a MIME part: headers and a base64 body (the text may be in any language, and
/// the message around it may be 7-bit).
fn trace_part(trace: &Trace) -> String {
    use base64::Engine;
    let name = file_name_parameter(&trace.file_name);
    let body = base64::engine::general_purpose::STANDARD.encode(trace.text.as_bytes());
    let lines: Vec<&str> = body.as_bytes().chunks(76).map(|line| std::str::from_utf8(line).unwrap_or("")).collect();
    format!(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Disposition: attachment; {name}\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}",
        lines.join("\r\n")
    )
}

/// `filename="..."` for a plain ASCII name, else RFC 2231's `filename*=utf-8''...`.
fn file_name_parameter(name: &str) -> String {
    let plain = name.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        return format!("filename=\"{name}\"");
    }
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("filename*=utf-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RemoteImages, attachment, render};

    const MESSAGE: &str = "From: Bob <bob@example.org>\r\nTo: ana@example.org\r\nSubject: Files\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nHere are the files.\r\n--b1\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJVBERi0xLjQKJVBERi0xLjQK\r\n--b1\r\n\
Content-Type: text/csv; name=\"data.csv\"\r\nContent-Disposition: attachment; filename=\"data.csv\"\r\n\r\n\
a,b\r\n1,2\r\n--b1--\r\n";

    fn trace(name: &str) -> Trace {
        Trace { file_name: format!("{name} (supprimé).txt"), text: format!("« {name} » a été supprimé.") }
    }

    #[test]
    fn the_attachment_is_replaced_by_its_trace_and_the_rest_is_untouched() {
        let (out, name) = without_attachment(MESSAGE.as_bytes(), 0, trace).expect("removable");
        assert_eq!(name, "report.pdf");
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(!text.contains("JVBERi0"), "{text}");
        // What was before and after the part is the same bytes.
        let start = MESSAGE.find("Content-Type: application/pdf").unwrap();
        assert!(text.starts_with(&MESSAGE[..start]));
        let after = &MESSAGE[MESSAGE.find("\r\n--b1\r\nContent-Type: text/csv").unwrap()..];
        assert!(text.ends_with(after), "{text}");

        let view = render(&out, RemoteImages::Block).expect("still a message");
        let names: Vec<&str> = view.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["report.pdf (supprimé).txt", "data.csv"]);
        let kept = attachment(&out, 0).unwrap();
        assert_eq!(String::from_utf8(kept.bytes).unwrap(), "« report.pdf » a été supprimé.");
        assert_eq!(attachment(&out, 1).unwrap().bytes, b"a,b\r\n1,2");
        match view.body {
            crate::Body::Text(body) => assert_eq!(body, "Here are the files."),
            other => panic!("the text stays the body: {other:?}"),
        }
    }

    #[test]
    fn the_last_attachment_and_a_missing_one() {
        let (out, name) = without_attachment(MESSAGE.as_bytes(), 1, trace).expect("removable");
        assert_eq!(name, "data.csv");
        assert!(String::from_utf8_lossy(&out).ends_with("\r\n--b1--\r\n"));
        assert_eq!(render(&out, RemoteImages::Block).unwrap().attachments.len(), 2);
        assert_eq!(without_attachment(MESSAGE.as_bytes(), 2, trace), Err(Unremovable::NotFound));
    }

    #[test]
    fn a_message_that_is_only_a_file_is_not_cut_in_two() {
        let raw = "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"x.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n";
        assert_eq!(without_attachment(raw.as_bytes(), 0, trace), Err(Unremovable::WholeMessage));
    }
}
