//! What a new message starts from (B4, B5): the recipients a reply or reply-all goes to, its
//! subject, the original's text quoted, the ids that keep the thread together; and the
//! recipients a person typed, read as an address list.
//!
//! Pure like the rest of the crate: bytes and text in, data out.

use mail_parser::{Address, HeaderValue, MessageParser};

/// One recipient: an address with the name shown for it, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    /// `Name <address>`, the name quoted when it holds characters an address list gives a
    /// meaning to; the bare address without a name.
    pub fn display(&self) -> String {
        match self.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
            None => self.address.clone(),
            Some(name) if name.contains([',', ';', '<', '>', '"', '@', ':', '(', ')']) => {
                format!("\"{}\" <{}>", name.replace('\\', "\\\\").replace('"', "\\\""), self.address)
            }
            Some(name) => format!("{name} <{}>", self.address),
        }
    }

    /// The displays of `mailboxes`, comma-separated, as a field of the composer shows them.
    pub fn list(mailboxes: &[Mailbox]) -> String {
        mailboxes.iter().map(Mailbox::display).collect::<Vec<_>>().join(", ")
    }
}

/// The parts of a message a reply or a forward is made from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Original {
    /// Without angle brackets.
    pub message_id: Option<String>,
    /// Its `In-Reply-To:` id (a draft's, kept when it is sent), without angle brackets.
    pub in_reply_to: Option<String>,
    /// Its `References:` ids, oldest first, without angle brackets.
    pub references: Vec<String>,
    pub from: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Only a draft or a sender's own copy has one.
    pub bcc: Vec<Mailbox>,
    pub subject: String,
    /// Unix seconds, from its `Date:`.
    pub date: Option<i64>,
    /// Its text (an HTML-only message's, as text), with `\n` line ends.
    pub text: String,
    /// It says it is urgent (`X-Priority:` 1 or 2, or `Importance: high`).
    pub high_priority: bool,
    /// Where it asks its read receipt to go (RFC 8098 `Disposition-Notification-To:`).
    pub receipt_to: Option<String>,
    /// A draft's: the message it answers and the one it forwards ([`DRAFT_ANSWERS_FIELD`],
    /// [`DRAFT_FORWARDS_FIELD`]), to mark once it is sent.
    pub answers: Option<i64>,
    pub forwards: Option<i64>,
}

/// The field a draft written in the web client names the message it answers with (the
/// message's id in the store): taken up again, it still marks that one answered once sent.
/// Only drafts carry it; what is sent is built anew without it.
pub const DRAFT_ANSWERS_FIELD: &str = "X-Facteur-Answers";
/// The same for the message a draft forwards.
pub const DRAFT_FORWARDS_FIELD: &str = "X-Facteur-Forwards";

/// A number in one of the fields a draft keeps for itself.
fn id_field(message: &mail_parser::Message<'_>, name: &str) -> Option<i64> {
    message.header_raw(name).and_then(|value| value.trim().parse().ok())
}

impl Original {
    /// Reads a raw message; `None` when mail-parser cannot read it at all.
    pub fn parse(raw: &[u8]) -> Option<Original> {
        let message = MessageParser::default().parse(raw)?;
        let ids = |value: &HeaderValue<'_>| -> Vec<String> {
            match value {
                HeaderValue::Text(id) => vec![id.to_string()],
                HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
                _ => Vec::new(),
            }
        };
        Some(Original {
            message_id: message.message_id().map(str::to_string),
            in_reply_to: ids(message.in_reply_to()).into_iter().next(),
            references: ids(message.references()),
            from: mailboxes(message.from()),
            reply_to: mailboxes(message.reply_to()),
            to: mailboxes(message.to()),
            cc: mailboxes(message.cc()),
            bcc: mailboxes(message.bcc()),
            subject: message.subject().unwrap_or("").to_string(),
            date: message.date().map(|date| date.to_timestamp()),
            text: message
                .body_text(0)
                .map(|text| text.replace("\r\n", "\n").trim_end().to_string())
                .unwrap_or_default(),
            high_priority: facts::is_high_priority(&message),
            receipt_to: receipt_address(&message),
            answers: id_field(&message, DRAFT_ANSWERS_FIELD),
            forwards: id_field(&message, DRAFT_FORWARDS_FIELD),
        })
    }

    /// Who a reply goes to (RFC 5322 §3.6.3): the `Reply-To:` addresses if any, else `From:`.
    pub fn reply_recipients(&self) -> Vec<Mailbox> {
        if self.reply_to.is_empty() { self.from.clone() } else { self.reply_to.clone() }
    }

    /// Who a reply to all goes to, as (To, Cc): the reply's recipients and the original's `To:`,
    /// then its `Cc:`, each address once, without those `is_own` says are the replier's.
    pub fn reply_all_recipients(&self, is_own: impl Fn(&str) -> bool) -> (Vec<Mailbox>, Vec<Mailbox>) {
        let mut seen: Vec<String> = Vec::new();
        let mut keep = |mailbox: &Mailbox| {
            let key = mailbox.address.to_ascii_lowercase();
            if is_own(&mailbox.address) || seen.contains(&key) {
                return false;
            }
            seen.push(key);
            true
        };
        let to: Vec<Mailbox> = self.reply_recipients().iter().chain(&self.to).filter(|m| keep(m)).cloned().collect();
        let cc: Vec<Mailbox> = self.cc.iter().filter(|m| keep(m)).cloned().collect();
        (to, cc)
    }

    /// The `References:` of an answer (RFC 5322 §3.6.4): the original's, then its id.
    pub fn answer_references(&self) -> Vec<String> {
        let mut references = self.references.clone();
        if let Some(id) = self.message_id.as_ref().filter(|id| !references.contains(id)) {
            references.push(id.clone());
        }
        references
    }
}

/// A subject with `prefix` ("Re", "Fwd") in front, once: "Re: Re: x" helps nobody.
pub fn prefixed_subject(prefix: &str, subject: &str) -> String {
    let trimmed = subject.trim();
    let already = trimmed.split_once(':').is_some_and(|(head, _)| {
        head.trim().eq_ignore_ascii_case(prefix)
            || (prefix == "Fwd" && head.trim().eq_ignore_ascii_case("Fw"))
            || (prefix == "Re" && head.trim().eq_ignore_ascii_case("Réf"))
    });
    if already { trimmed.to_string() } else { format!("{prefix}: {trimmed}") }
}

/// `text` quoted for a reply: each line behind "> " (">" alone for an empty line, as mail
/// programs write it, and a quote of a quote without a space between).
pub fn quoted(text: &str) -> String {
    text.lines()
        .map(|line| match line {
            "" => ">".to_string(),
            line if line.starts_with('>') => format!(">{line}"),
            line => format!("> {line}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads an address list as a person typed it ("Ana <ana@example.org>, bob@example.org;
/// "Dupont, Jean" <jean@example.net>"): its mailboxes, or the first piece that is not one.
/// Commas, semicolons and line breaks separate them.
pub fn parse_recipients(text: &str) -> Result<Vec<Mailbox>, String> {
    let cleaned: String = text.chars().map(|c| if matches!(c, ';' | '\r' | '\n') { ',' } else { c }).collect();
    if cleaned.split(',').all(|piece| piece.trim().is_empty()) {
        return Ok(Vec::new());
    }
    let field = format!("To: {cleaned}\r\n\r\n");
    let Some(message) = MessageParser::default().parse_headers(field.as_bytes()) else {
        return Err(text.trim().to_string());
    };
    let mut found = Vec::new();
    for addr in message.to().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default() {
        match addr.address() {
            Some(address) if is_plausible(address) => found.push(Mailbox {
                name: addr.name().map(str::to_string).filter(|n| !n.trim().is_empty()),
                address: address.to_string(),
            }),
            other => return Err(other.or(addr.name()).unwrap_or("").trim().to_string()),
        }
    }
    Ok(found)
}

/// One `@` with something on both sides, no white space: what is left for the server to judge.
/// (Two addresses typed with only a space between come out of the parser glued together, with
/// two `@`: refused, not sent to a made-up address.)
fn is_plausible(address: &str) -> bool {
    match address.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.contains('@')
                && !address.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

/// Where a message asks its read receipt to go (RFC 8098 §2.1: `Disposition-Notification-To:`,
/// its first address), if it does.
pub(crate) fn receipt_address(message: &mail_parser::Message<'_>) -> Option<String> {
    let field = message.header_raw("Disposition-Notification-To")?;
    parse_recipients(field).ok()?.into_iter().next().map(|mailbox| mailbox.address)
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    let Some(address) = address else { return Vec::new() };
    address
        .iter()
        .filter_map(|addr| {
            let address = addr.address()?.to_string();
            Some(Mailbox { name: addr.name().map(str::to_string).filter(|n| !n.trim().is_empty()), address })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailbox(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox { name: name.map(str::to_string), address: address.to_string() }
    }

    const ORIGINAL: &str = "From: Jo Martin <jo@example.net>\r\n\
        To: ana@example.org, Bob <bob@example.org>\r\n\
        Cc: carol@example.com, ANA@example.org\r\n\
        Subject: Réunion de lundi\r\n\
        Message-ID: <m2@example.net>\r\n\
        References: <m0@example.net> <m1@example.net>\r\n\
        Date: Mon, 7 Dec 2026 09:30:00 +0100\r\n\r\n\
        Bonjour,\r\n\r\n> ce qui a été dit\r\nÀ lundi.\r\n";

    #[test]
    fn a_reply_goes_to_the_sender_and_a_reply_to_all_to_everyone_else() {
        let original = Original::parse(ORIGINAL.as_bytes()).expect("parses");
        assert_eq!(original.reply_recipients(), [mailbox(Some("Jo Martin"), "jo@example.net")]);
        let (to, cc) = original.reply_all_recipients(|a| a.eq_ignore_ascii_case("ana@example.org"));
        assert_eq!(to, [mailbox(Some("Jo Martin"), "jo@example.net"), mailbox(Some("Bob"), "bob@example.org")]);
        assert_eq!(cc, [mailbox(None, "carol@example.com")], "the replier is left out, in any case");
        assert_eq!(original.answer_references(), ["m0@example.net", "m1@example.net", "m2@example.net"]);
        assert_eq!(original.date, Some(1_796_632_200));
        assert_eq!(quoted(&original.text), "> Bonjour,\n>\n>> ce qui a été dit\n> À lundi.");
        // Reply-To wins over From.
        let with_reply_to = format!("Reply-To: list@example.net\r\n{ORIGINAL}");
        let original = Original::parse(with_reply_to.as_bytes()).expect("parses");
        assert_eq!(original.reply_recipients(), [mailbox(None, "list@example.net")]);
    }

    #[test]
    fn subjects_get_their_prefix_once() {
        assert_eq!(prefixed_subject("Re", "Réunion"), "Re: Réunion");
        assert_eq!(prefixed_subject("Re", "RE: Réunion"), "RE: Réunion");
        assert_eq!(prefixed_subject("Fwd", "Fw: Réunion"), "Fw: Réunion");
        assert_eq!(prefixed_subject("Fwd", "Re: Réunion"), "Fwd: Re: Réunion");
        assert_eq!(prefixed_subject("Re", ""), "Re: ");
    }

    #[test]
    fn typed_recipients_are_read_as_an_address_list() {
        let found = parse_recipients("Ana <ana@example.org>, bob@example.org;\n\"Dupont, Jean\" <jean@example.net>")
            .expect("three mailboxes");
        assert_eq!(
            found,
            [
                mailbox(Some("Ana"), "ana@example.org"),
                mailbox(None, "bob@example.org"),
                mailbox(Some("Dupont, Jean"), "jean@example.net"),
            ]
        );
        assert_eq!(parse_recipients("  , ;"), Ok(Vec::new()));
        assert_eq!(parse_recipients("ana@example.org, not an address"), Err("not an address".to_string()));
        assert_eq!(parse_recipients("ana@localhost"), Err("ana@localhost".to_string()));
        assert!(parse_recipients("ana@example.org bob@example.org").is_err(), "not glued into one");
        assert_eq!(parse_recipients("undisclosed-recipients:;"), Ok(Vec::new()), "an empty group");
        assert_eq!(found[2].display(), "\"Dupont, Jean\" <jean@example.net>");
        assert_eq!(Mailbox::list(&found[..2]), "Ana <ana@example.org>, bob@example.org");
    }
}
