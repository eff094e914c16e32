//! A message as text to search: its header fields decoded and its body's text, lower-cased.
//!
//! One definition for both ways of searching: IMAP SEARCH's scan matches substrings of exactly
//! this text, and the full-text index (`crates/search`) indexes exactly this text, so the index
//! can narrow a scan down without ever changing its results.

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};

/// What searching reads of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Searchable {
    /// Header fields in order: lower-cased names, decoded values lower-cased.
    pub headers: Vec<(String, String)>,
    /// The Date: field's calendar day in its own time zone, as (year, month, day) as written
    /// (not checked to be a real day).
    pub sent_on: Option<(i32, u32, u32)>,
    /// The Date: field as Unix seconds, when it has one.
    pub sent_at: Option<i64>,
    /// The body's text, lower-cased (empty when not asked for).
    pub body: String,
    /// The names of the attachments (and of parts that carry a file name), as written.
    pub attachment_names: Vec<String>,
}

impl Searchable {
    /// The decoded values of the fields named `field` (lower-case).
    pub fn values<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(name, _)| name == field).map(|(_, value)| value.as_str())
    }
}

/// Parses what searching needs of a message, or of its header block alone when `with_body` is
/// false (faster: the body is not decoded).
pub fn searchable(raw: &[u8], with_body: bool) -> Searchable {
    let parser = MessageParser::default();
    let parsed = if with_body { parser.parse(raw) } else { parser.parse_headers(raw) };
    let Some(message) = parsed else {
        // Not even a header could be read: the bytes are all there is.
        let text = String::from_utf8_lossy(raw).to_lowercase();
        return Searchable { body: if with_body { text } else { String::new() }, ..Searchable::default() };
    };
    let mut headers = Vec::new();
    header_values(&message, raw, &mut headers);
    let sent_on = message.date().map(|date| (i32::from(date.year), u32::from(date.month), u32::from(date.day)));
    let sent_at = message.date().filter(|date| date.is_valid()).map(|date| date.to_timestamp());
    let mut body = String::new();
    let mut attachment_names = Vec::new();
    if with_body {
        body_text(&message, &mut body);
        body = body.to_lowercase();
        for part in &message.parts {
            if let Some(name) = part.attachment_name() {
                attachment_names.push(name.to_string());
            }
        }
    }
    Searchable { headers, sent_on, sent_at, body, attachment_names }
}

/// Every header field of the message: lower-cased name, decoded value lower-cased.
fn header_values(message: &Message<'_>, raw: &[u8], out: &mut Vec<(String, String)>) {
    for header in message.headers() {
        let value = match &header.value {
            HeaderValue::Address(address) => address_text(address),
            HeaderValue::Text(text) => text.to_string(),
            HeaderValue::TextList(list) => list.join(", "),
            // Dates, content types, received lines: their text as written.
            _ => raw
                .get(header.offset_start as usize..header.offset_end as usize)
                .map(|bytes| String::from_utf8_lossy(bytes).trim().to_string())
                .unwrap_or_default(),
        };
        out.push((header.name.as_str().to_lowercase(), value.to_lowercase()));
    }
}

/// An address field as text a user would search: `Name <address>`, comma-separated.
fn address_text(address: &Address<'_>) -> String {
    let one = |addr: &mail_parser::Addr<'_>| match (&addr.name, &addr.address) {
        (Some(name), Some(address)) => format!("{name} <{address}>"),
        (Some(name), None) => name.to_string(),
        (None, Some(address)) => address.to_string(),
        (None, None) => String::new(),
    };
    match address {
        Address::List(list) => list.iter().map(one).collect::<Vec<_>>().join(", "),
        Address::Group(groups) => groups
            .iter()
            .map(|group| {
                let members: Vec<String> = group.addresses.iter().map(one).collect();
                format!("{}: {}", group.name.as_deref().unwrap_or(""), members.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Every text part's decoded text (HTML as text), nested messages included with their headers.
fn body_text(message: &Message<'_>, out: &mut String) {
    for (index, part) in message.parts.iter().enumerate() {
        // Part 0 of a single-part message is the message itself: its body is the text.
        match &part.body {
            PartType::Text(text) => out.push_str(text),
            PartType::Html(html) => out.push_str(&mail_parser::decoders::html::html_to_text(html)),
            PartType::Message(nested) => {
                for header in nested.headers() {
                    if let Some(text) = header.value.as_text() {
                        out.push_str(text);
                        out.push('\n');
                    }
                }
                body_text(nested, out);
            }
            PartType::Binary(_) | PartType::InlineBinary(_) | PartType::Multipart(_) => {}
        }
        if index + 1 < message.parts.len() {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"From: =?UTF-8?Q?Jos=C3=A9?= <jose@example.org>\r\nTo: Ana <ana@example.org>\r\nSubject: =?UTF-8?B?w4l0w6k=?= plans\r\nDate: Mon, 2 Mar 2026 23:30:00 -0500\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Rendez-<b>vous</b> &agrave; midi</p>\r\n--b\r\nContent-Type: application/pdf; name=\"Devis 2026.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--b--\r\n";

    #[test]
    fn headers_are_decoded_and_the_body_is_its_text() {
        let text = searchable(MAIL, true);
        assert_eq!(text.values("from").collect::<Vec<_>>(), ["josé <jose@example.org>"]);
        assert_eq!(text.values("subject").collect::<Vec<_>>(), ["été plans"]);
        assert_eq!(text.sent_on, Some((2026, 3, 2)));
        // 2026-03-02 23:30 at -05:00.
        assert_eq!(text.sent_at, Some(1_772_512_200));
        assert!(text.body.contains("rendez-vous") && text.body.contains("à midi"), "{:?}", text.body);
        assert!(!text.body.contains("jvberg"), "an attachment's bytes are not text");
        assert_eq!(text.attachment_names, ["Devis 2026.pdf"]);
        let headers_only = searchable(MAIL, false);
        assert_eq!(headers_only.body, "");
        assert_eq!(headers_only.headers, text.headers);
    }
}
