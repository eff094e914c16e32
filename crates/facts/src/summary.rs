//! The header fields a message list needs.
//!
//! Parsing is lenient: a broken message still gets a row (with whatever could be read), and its
//! raw bytes are kept untouched.

use mail_parser::{HeaderValue, Message, MessageParser};

/// How much body text the list's preview keeps.
const PREVIEW_CHARS: usize = 200;

// What the list keeps of each field (issue 12, defect 7: a 1.2 MB subject once made every
// /mail page 6 MB). The whole header stays in the message and its facts; these are for lists.
/// A subject, in characters: RFC 5322 lines are 998 at most.
pub const MAX_SUBJECT_CHARS: usize = 998;
/// A sender's display name.
pub const MAX_NAME_CHARS: usize = 200;
/// An address (RFC 5321 §4.5.3.1: 64 + 1 + 255).
pub const MAX_ADDRESS_CHARS: usize = 320;
/// The recipients shown in the list, all together.
pub const MAX_RECIPIENTS_CHARS: usize = 1000;
/// A Message-ID or a parent's id.
const MAX_ID_CHARS: usize = 998;
/// Parents followed for threading.
const MAX_PARENT_IDS: usize = 50;
/// References kept for threading (C11): the first (the thread's start) and the last ones (the
/// nearest parents), each an id of at most [`MAX_REFERENCE_CHARS`]; longer ones are left out,
/// as no Message-ID is that long.
const MAX_REFERENCES: usize = 20;
const MAX_REFERENCE_CHARS: usize = 250;

/// `text` cut to `max` characters, with an ellipsis when it was longer.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

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
    /// The References field alone, oldest first: its first id and its last ones.
    pub references: Vec<String>,
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

/// One address of a header as the reading pane shows it (C12): its name, blank when it has
/// none, and the address, blank for a group's name alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Correspondent {
    pub name: String,
    pub address: String,
}

impl Correspondent {
    /// `Name <addr>`, or what there is of the two.
    pub fn display(&self) -> String {
        match (self.name.trim(), self.address.as_str()) {
            ("", address) => address.to_string(),
            (name, "") => name.to_string(),
            (name, address) => format!("{name} <{address}>"),
        }
    }
}

/// The addresses of a header, each with its name; entries with neither are left out.
pub fn correspondents(address: Option<&mail_parser::Address<'_>>) -> Vec<Correspondent> {
    let Some(address) = address else { return Vec::new() };
    address
        .iter()
        .map(|a| Correspondent {
            name: a.name().unwrap_or_default().trim().to_string(),
            address: a.address().unwrap_or_default().trim().to_string(),
        })
        .filter(|c| !c.name.is_empty() || !c.address.is_empty())
        .collect()
}

/// Correspondents in display form, `Name <addr>, addr, ...`.
pub fn display_correspondents(correspondents: &[Correspondent]) -> String {
    correspondents.iter().map(Correspondent::display).collect::<Vec<_>>().join(", ")
}

/// Addresses in display form, `Name <addr>, addr, ...` (a blank name is left out). Shared with
/// the web client's reading pane so the list and the reader show addresses alike.
pub fn display_addresses(address: Option<&mail_parser::Address<'_>>) -> String {
    display_correspondents(&correspondents(address))
}

/// Whether a message says it is urgent: `X-Priority:` 1 or 2, or `Importance: high`.
pub fn is_high_priority(message: &Message<'_>) -> bool {
    message.header_raw("X-Priority").is_some_and(|v| matches!(v.trim().chars().next(), Some('1' | '2')))
        || message.header_raw("Importance").is_some_and(|v| v.trim().eq_ignore_ascii_case("high"))
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
        let references: Vec<String> = header_ids(message.references())
            .into_iter()
            .filter(|id| id.chars().count() <= MAX_REFERENCE_CHARS && !id.contains(' '))
            .collect();
        let references = match references.len() {
            n if n <= MAX_REFERENCES => references,
            n => references[..1].iter().chain(&references[n - (MAX_REFERENCES - 1)..]).cloned().collect(),
        };
        let priority_high = is_high_priority(message);
        let preview: String = message
            .body_preview(PREVIEW_CHARS)
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        parent_ids.truncate(MAX_PARENT_IDS);
        let id = |id: &str| cut(id, MAX_ID_CHARS);
        Summary {
            subject: cut(message.subject().unwrap_or_default(), MAX_SUBJECT_CHARS),
            from_name: cut(from.and_then(|a| a.name()).unwrap_or_default(), MAX_NAME_CHARS),
            from_addr: cut(from.and_then(|a| a.address()).unwrap_or_default(), MAX_ADDRESS_CHARS),
            to_addrs: cut(&display_addresses(message.to()), MAX_RECIPIENTS_CHARS),
            sent_date: message.date().map(|d| d.to_timestamp()),
            message_id: message.message_id().map(id),
            in_reply_to: in_reply_to.first().map(|parent| id(parent)),
            parent_ids: parent_ids.iter().map(|parent| id(parent)).collect(),
            references,
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
    fn references_keep_the_thread_start_and_the_nearest_parents() {
        let ids: Vec<String> = (0..30).map(|n| format!("<r{n}@x>")).collect();
        let raw = format!(
            "Subject: Re: x\r\nIn-Reply-To: <r29@x>\r\nReferences: {} <{}@x>\r\n\r\nbody\r\n",
            ids.join(" "),
            "y".repeat(300)
        );
        let s = Summary::parse(raw.as_bytes());
        assert_eq!(s.references.len(), MAX_REFERENCES);
        assert_eq!(s.references[0], "r0@x");
        assert_eq!(s.references[1], "r11@x");
        assert_eq!(s.references.last().map(String::as_str), Some("r29@x"), "the too long id left out");
        assert!(Summary::parse(b"Subject: x\r\n\r\nbody\r\n").references.is_empty());
    }

    #[test]
    fn issue_12_list_fields_are_capped() {
        let long_subject = "é".repeat(1_200_000);
        let many = (0..100_000).map(|n| format!("r{n}@example.org")).collect::<Vec<_>>().join(", ");
        let raw = format!(
            "From: {} <ana@example.org>\r\nTo: {many}\r\nSubject: {long_subject}\r\nReferences: {}\r\n\r\nbody\r\n",
            "N".repeat(200_000),
            (0..10_000).map(|n| format!("<{n}@x>")).collect::<Vec<_>>().join(" ")
        );
        let s = Summary::parse(raw.as_bytes());
        assert_eq!(s.subject.chars().count(), MAX_SUBJECT_CHARS + 1, "cut, with an ellipsis");
        assert!(s.subject.ends_with('…'));
        assert!(s.from_name.chars().count() <= MAX_NAME_CHARS + 1);
        assert!(s.to_addrs.chars().count() <= MAX_RECIPIENTS_CHARS + 1);
        assert!(s.parent_ids.len() <= 50);
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
