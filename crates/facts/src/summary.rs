//! The header fields a message list needs.
//!
//! Parsing is lenient: a broken message still gets a row (with whatever could be read), and its
//! raw bytes are kept untouched.

use mail_parser::{HeaderValue, Message, MessageParser};

/// How much body text the list's preview keeps.
const PREVIEW_CHARS: usize = 200;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub subject: String,
    pub from_name: String,
    pub from_addr: String,
    /// Recipients in display form, `Name <addr>, ...`.
    pub to_addrs: String,
    pub sent_date: Option<i64>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// In-Reply-To and References, the ids this message answers.
    pub parent_ids: Vec<String>,
    pub has_attachments: bool,
    pub priority_high: bool,
    pub preview: String,
}

fn header_ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// Addresses in display form, `Name <addr>, addr, ...` (a blank name is left out). Shared with
/// the web client's reading pane so the list and the reader show addresses alike.
pub fn display_addresses(address: Option<&mail_parser::Address<'_>>) -> String {
    let Some(address) = address else { return String::new() };
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) if !name.trim().is_empty() => format!("{name} <{addr}>"),
            (_, Some(addr)) => addr.to_string(),
            (Some(name), None) => name.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Summary {
    pub fn parse(raw: &[u8]) -> Summary {
        Summary::of(MessageParser::default().parse(raw).as_ref())
    }

    /// The list fields of a parsed message; a message mail-parser could not read has none.
    pub fn of(message: Option<&Message<'_>>) -> Summary {
        let Some(message) = message else { return Summary::default() };
        let from = message.from().and_then(|a| a.first());
        let in_reply_to = header_ids(message.in_reply_to());
        let mut parent_ids = in_reply_to.clone();
        parent_ids.extend(header_ids(message.references()));
        let priority_high =
            message.header_raw("X-Priority").is_some_and(|v| matches!(v.trim().chars().next(), Some('1' | '2')))
                || message.header_raw("Importance").is_some_and(|v| v.trim().eq_ignore_ascii_case("high"));
        let preview: String = message
            .body_preview(PREVIEW_CHARS)
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        Summary {
            subject: message.subject().unwrap_or_default().to_string(),
            from_name: from.and_then(|a| a.name()).unwrap_or_default().to_string(),
            from_addr: from.and_then(|a| a.address()).unwrap_or_default().to_string(),
            to_addrs: display_addresses(message.to()),
            sent_date: message.date().map(|d| d.to_timestamp()),
            message_id: message.message_id().map(str::to_string),
            in_reply_to: in_reply_to.into_iter().next(),
            parent_ids,
            has_attachments: message.attachment_count() > 0,
            priority_high,
            preview: preview.chars().take(PREVIEW_CHARS).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_list_fields() {
        let raw = b"From: Ana Lima <ana@example.org>\r\nTo: Bob <bob@example.org>, carl@example.org\r\n\
Subject: =?UTF-8?Q?R=C3=A9union?=\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <m1@example.org>\r\n\
In-Reply-To: <m0@example.org>\r\nX-Priority: 1\r\n\r\nHello   there\r\n";
        let s = Summary::parse(raw);
        assert_eq!(s.subject, "Réunion");
        assert_eq!((s.from_name.as_str(), s.from_addr.as_str()), ("Ana Lima", "ana@example.org"));
        assert_eq!(s.to_addrs, "Bob <bob@example.org>, carl@example.org");
        assert_eq!(s.sent_date, Some(1795510800));
        assert_eq!(s.message_id.as_deref(), Some("m1@example.org"));
        assert_eq!(s.parent_ids, vec!["m0@example.org".to_string()]);
        assert!(s.priority_high);
        assert_eq!(s.preview, "Hello there");
    }

    #[test]
    fn garbage_gives_an_empty_summary_not_a_panic() {
        for raw in
            [&b""[..], b"\xff\xfe\x00", b"Subject", b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\n"]
        {
            let _ = Summary::parse(raw);
        }
    }
}
