//! What a reader sees of a raw message (C3, C4, C7): the message parsed with mail-parser, its
//! HTML body sanitised ([`sanitize`]) and wrapped in a sandboxed `srcdoc` document, else its
//! plain text, and its attachments listed and extracted.
//!
//! Pure: bytes in, view data out, no I/O and no web framework, so the web pages and the fuzz
//! target (`fuzz/`) call the same code. Parsing is lenient: a message mail-parser cannot read
//! still renders, with an empty body.

pub mod compose;
pub mod composed;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod removal;
pub mod sanitize;

use std::collections::HashMap;

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders};

pub use facts::{Correspondent, display_correspondents};
pub use removal::{Trace, Unremovable, without_attachment};
pub use sanitize::{RemoteImages, Sanitized, sanitize_email_html, srcdoc_document};

// Inline images larger than this are not inlined (they stay downloadable as attachments).
use types::MAX_INLINE_IMAGE_BYTES;

/// A message as the reading pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub from: Vec<Correspondent>,
    pub to: Vec<Correspondent>,
    pub cc: Vec<Correspondent>,
    pub subject: String,
    pub body: Body,
    pub attachments: Vec<AttachmentInfo>,
    /// Where the message asks a read receipt to go, if it does (C8).
    pub receipt_to: Option<String>,
}

/// A message's body, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Empty,
    /// Plain text with `\n` line ends and no trailing blank lines.
    Text(String),
    Html {
        /// A complete `srcdoc` document: sanitised HTML behind its own restrictive CSP.
        srcdoc: String,
        remote_content_blocked: bool,
    },
}

/// One attachment as listed; its index is its position in [`Rendered::attachments`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    pub name: String,
    /// Decoded size in bytes.
    pub size: u64,
}

/// One attachment to download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Renders a raw message; `None` when mail-parser cannot read it at all.
pub fn render(raw: &[u8], remote_images: RemoteImages) -> Option<Rendered> {
    let message = MessageParser::default().parse(raw)?;
    let body = match message.html_part(0) {
        Some(part) if part.is_text_html() => {
            let html = part.text_contents().unwrap_or("");
            let sanitized = sanitize_email_html(html, inline_images(&message), remote_images);
            Body::Html {
                srcdoc: srcdoc_document(&sanitized.html, remote_images),
                remote_content_blocked: sanitized.remote_content_blocked,
            }
        }
        _ => match message.body_text(0) {
            // CRLF is wire format; the page keeps line breaks with `pre-wrap`, which would show
            // the trailing blank lines too.
            Some(text) if !text.trim().is_empty() => Body::Text(text.replace("\r\n", "\n").trim_end().to_string()),
            _ => Body::Empty,
        },
    };
    let attachments = listed_attachments(&message)
        .into_iter()
        .enumerate()
        .map(|(index, part)| AttachmentInfo { name: attachment_name(part, index), size: part.contents().len() as u64 })
        .collect();
    Some(Rendered {
        from: facts::correspondents(message.from()),
        to: facts::correspondents(message.to()),
        cc: facts::correspondents(message.cc()),
        subject: message.subject().unwrap_or("").to_string(),
        body,
        attachments,
        receipt_to: compose::receipt_address(&message),
    })
}

/// The sanitised HTML body alone, without its frame document, remote images blocked; empty
/// when the message has no HTML body. For a page that shows nothing but this message (printing,
/// C10), under a policy that runs none of it.
pub fn printable_html(raw: &[u8]) -> String {
    let Some(message) = MessageParser::default().parse(raw) else { return String::new() };
    match message.html_part(0) {
        Some(part) if part.is_text_html() => {
            let html = part.text_contents().unwrap_or("");
            sanitize_email_html(html, inline_images(&message), RemoteImages::Block).html
        }
        _ => String::new(),
    }
}

/// The attachment at `index` (as listed by [`render`]).
pub fn attachment(raw: &[u8], index: u32) -> Option<Attachment> {
    let message = MessageParser::default().parse(raw)?;
    let part = *listed_attachments(&message).get(index as usize)?;
    Some(extracted(part, index as usize))
}

/// Every attachment (a forward carries them along).
pub fn attachments(raw: &[u8]) -> Vec<Attachment> {
    let Some(message) = MessageParser::default().parse(raw) else { return Vec::new() };
    listed_attachments(&message).into_iter().enumerate().map(|(index, part)| extracted(part, index)).collect()
}

/// The parts listed as attachments: all of them but the images the HTML body shows in place
/// (they are part of the text, not files). The reading pane's list, the download and the
/// composer all count from this list, so an index names the same part everywhere.
fn listed_attachments<'m>(message: &'m mail_parser::Message<'m>) -> Vec<&'m mail_parser::MessagePart<'m>> {
    let html = message.html_part(0).filter(|part| part.is_text_html()).and_then(|part| part.text_contents());
    let referenced = cid_references(html.unwrap_or(""));
    message
        .attachments()
        .filter(|part| {
            let shown = content_id_key(part).is_some_and(|id| shows_inline(part) && referenced.contains(&id));
            !shown
        })
        .collect()
}

/// The Content-IDs an HTML body refers to (`cid:...`), lowercase, read in one pass.
fn cid_references(html: &str) -> std::collections::HashSet<String> {
    // ASCII lowercasing keeps every byte where it was.
    let lower = html.to_ascii_lowercase();
    lower
        .match_indices("cid:")
        .map(|(at, _)| {
            let after = &lower[at + 4..];
            let end = after.find(is_cid_end).unwrap_or(after.len());
            after[..end].to_string()
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// Where a `cid:` reference ends in HTML: a quote, the end of the tag, a bracket, white space.
fn is_cid_end(c: char) -> bool {
    matches!(c, '"' | '\'' | '>' | ')' | '<') || c.is_whitespace()
}

/// Whether a part is an image shown in the text when the HTML refers to it: a raster image
/// (SVG is a document, not just pixels) of at most [`MAX_INLINE_IMAGE_BYTES`].
fn shows_inline(part: &mail_parser::MessagePart<'_>) -> bool {
    let Some(content_type) = part.content_type() else { return false };
    let subtype = content_type.subtype().unwrap_or("").to_ascii_lowercase();
    content_type.ctype().eq_ignore_ascii_case("image")
        && matches!(subtype.as_str(), "png" | "jpeg" | "jpg" | "gif" | "webp")
        && part.contents().len() <= MAX_INLINE_IMAGE_BYTES
}

/// `html` with each `cid:` reference to one of `images` (lowercase Content-ID to `data:` URL)
/// replaced by the image itself.
/// Only a `src="cid:..."` is replaced (not the same letters in the text), and no more than
/// [`MAX_RESOLVED_BYTES`] of pictures in all: one picture named a thousand times is not copied
/// a thousand times.
pub(crate) fn resolve_cids(html: &str, images: &HashMap<String, String>) -> String {
    const SRC: &str = "src=\"cid:";
    let lower = html.to_ascii_lowercase();
    let mut resolved = String::with_capacity(html.len());
    let mut copied = 0;
    let mut done = 0;
    for (at, _) in lower.match_indices(SRC) {
        if at < done {
            continue;
        }
        let id_start = at + SRC.len();
        let end = lower[id_start..].find(is_cid_end).map_or(lower.len(), |end| id_start + end);
        let Some(url) = images.get(&lower[id_start..end]).filter(|url| copied + url.len() <= MAX_RESOLVED_BYTES) else {
            continue;
        };
        resolved.push_str(&html[done..at]);
        resolved.push_str("src=\"");
        resolved.push_str(url);
        copied += url.len();
        done = end;
    }
    resolved.push_str(&html[done..]);
    resolved
}

/// The most picture data [`resolve_cids`] puts into one HTML body.
const MAX_RESOLVED_BYTES: usize = 32 * 1024 * 1024;

fn extracted(part: &mail_parser::MessagePart<'_>, index: usize) -> Attachment {
    let content_type = part
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(subtype) => format!("{}/{}", ct.ctype(), subtype),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_default()
        .to_ascii_lowercase();
    Attachment { file_name: attachment_name(part, index), content_type, bytes: part.contents().to_vec() }
}

/// An attachment's file name, or a neutral one when the message gives none.
fn attachment_name(part: &mail_parser::MessagePart<'_>, index: usize) -> String {
    part.attachment_name()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("attachment-{}", index + 1))
}

/// The message's own images by lowercase Content-ID, as `data:` URLs, for `cid:` references.
fn inline_images(message: &mail_parser::Message<'_>) -> HashMap<String, String> {
    let mut images = HashMap::new();
    for part in message.attachments().filter(|part| shows_inline(part)) {
        let Some(content_id) = content_id_key(part) else { continue };
        let subtype = part.content_type().and_then(|ct| ct.subtype()).unwrap_or("").to_ascii_lowercase();
        let encoded = base64::engine::general_purpose::STANDARD.encode(part.contents());
        images.insert(content_id, format!("data:image/{subtype};base64,{encoded}"));
    }
    images
}

/// A part's Content-ID as `cid:` URLs name it: without angle brackets, lowercase.
fn content_id_key(part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let id = part.content_id()?.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase();
    (!id.is_empty()).then_some(id)
}

/// The HTML body of a message, its own pictures in place of their `cid:` references (as
/// `data:` URLs), as the composer takes up a draft or a template (B3); `None` without one.
/// Not cleaned: that is [`composed::clean_composed_html`]'s job.
pub fn html_with_images(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    let html = message.html_part(0).filter(|part| part.is_text_html())?.text_contents()?;
    Some(resolve_cids(html, &inline_images(&message)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MULTIPART: &str = "From: Bob Martin <bob@example.org>\r\nTo: ana@example.org\r\nCc: Carl <carl@example.org>\r\n\
Subject: Report\r\nDate: Tue, 10 Mar 2026 09:05:00 +0100\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Hello <b>Ana</b></p><script>alert(1)</script><img src=\"https://t.example/p.gif\">\r\n--b1\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

    #[test]
    fn html_messages_are_sanitised_and_attachments_listed() {
        let view = render(MULTIPART.as_bytes(), RemoteImages::Block).expect("the sample parses");
        assert_eq!(facts::display_correspondents(&view.from), "Bob Martin <bob@example.org>");
        assert_eq!(view.cc, [facts::Correspondent { name: "Carl".into(), address: "carl@example.org".into() }]);
        assert_eq!(view.subject, "Report");
        let Body::Html { srcdoc, remote_content_blocked } = &view.body else {
            panic!("expected an HTML body, got {:?}", view.body);
        };
        assert!(srcdoc.contains("<b>Ana</b>"), "{srcdoc}");
        assert!(!srcdoc.contains("<script"), "{srcdoc}");
        assert!(*remote_content_blocked);
        assert_eq!(view.attachments, vec![AttachmentInfo { name: "report.pdf".into(), size: 9 }]);
        let pdf = attachment(MULTIPART.as_bytes(), 0).expect("attachment 0 exists");
        assert_eq!(pdf.file_name, "report.pdf");
        assert_eq!(pdf.content_type, "application/pdf");
        assert_eq!(pdf.bytes, b"%PDF-1.4\n");
        assert!(attachment(MULTIPART.as_bytes(), 1).is_none());
    }

    #[test]
    fn plain_text_stays_text() {
        let raw = "From: a@example.org\r\nSubject: Hi\r\n\r\nline one\r\n<b>line two</b>\r\n";
        let view = render(raw.as_bytes(), RemoteImages::Block).expect("parses");
        assert_eq!(view.body, Body::Text("line one\n<b>line two</b>".into()));
    }

    /// A message whose HTML shows one picture by its Content-ID, with a second picture and a
    /// file beside it.
    const RELATED: &str = "From: ana@example.org\r\nSubject: Logo\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n\
--r\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>Voici <img src=\"cid:Logo.1@example.org\"></div>\r\n\
--r\r\nContent-Type: image/png\r\nContent-ID: <logo.1@example.org>\r\nContent-Transfer-Encoding: base64\r\n\r\n\
iVBORw0KGgo=\r\n--r--\r\n--m\r\nContent-Type: image/png; name=\"photo.png\"\r\nContent-ID: <photo@example.org>\r\n\
Content-Disposition: attachment; filename=\"photo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n\
--m\r\nContent-Type: application/pdf; name=\"devis.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--m--\r\n";

    #[test]
    fn pictures_shown_in_the_text_are_not_listed_as_files() {
        let view = render(RELATED.as_bytes(), RemoteImages::Block).expect("parses");
        let names: Vec<&str> = view.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["photo.png", "devis.pdf"], "the logo is in the text; the photo is not referred to");
        assert_eq!(attachments(RELATED.as_bytes()).len(), 2);
        assert_eq!(attachment(RELATED.as_bytes(), 1).map(|a| a.file_name).as_deref(), Some("devis.pdf"));
        assert_eq!(
            html_with_images(RELATED.as_bytes()).as_deref(),
            Some("<div>Voici <img src=\"data:image/png;base64,iVBORw0KGgo=\"></div>"),
            "the composer gets the picture itself"
        );
        // Named a thousand times (or in the text): copied within a bound, not a thousand times.
        let mut images = HashMap::new();
        images.insert("a".to_string(), "x".repeat(MAX_RESOLVED_BYTES / 10));
        let html = format!("cid:a {}", r#"<img src="cid:A">"#.repeat(1_000));
        let resolved = resolve_cids(&html, &images);
        assert!(resolved.starts_with("cid:a <img src=\"xxx"));
        assert!(resolved.len() <= html.len() + MAX_RESOLVED_BYTES);
        assert_eq!(resolved.matches("src=\"cid:A").count(), 990, "the rest stay references");
    }
}
