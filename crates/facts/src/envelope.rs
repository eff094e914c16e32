//! ENVELOPE (RFC 9051 §7.5.2): the parsed header summary clients show in message lists.
//!
//! Date, Subject, In-Reply-To and Message-ID are sent as raw (unfolded) header text, as the
//! RFC asks; addresses come from mail-parser. Address display names are decoded by mail-parser,
//! so a non-ASCII name is sent re-encoded as an RFC 2047 encoded-word: a quoted string may not
//! hold 8-bit bytes and clients decode encoded-words anyway.

use base64::Engine as _;
use mail_parser::{Addr, Address, Message};

use crate::imap_string::{push_nstring, push_string};
use crate::parsed::raw_header_value;

/// Appends the ENVELOPE of `message`, whose header block is `header_block`.
pub fn push_envelope(out: &mut Vec<u8>, message: Option<&Message<'_>>, header_block: &[u8]) {
    out.push(b'(');
    for (i, name) in ["Date", "Subject"].into_iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        push_nstring(out, raw_header_value(header_block, name).as_deref());
    }
    let from = message.and_then(Message::from);
    // RFC 9051 §7.5.2: an absent or empty Sender or Reply-To takes the value of From.
    let sender = message.and_then(Message::sender).filter(|a| !is_empty(a)).or(from);
    let reply_to = message.and_then(Message::reply_to).filter(|a| !is_empty(a)).or(from);
    let to = message.and_then(Message::to);
    let cc = message.and_then(Message::cc);
    let bcc = message.and_then(Message::bcc);
    for list in [from, sender, reply_to, to, cc, bcc] {
        out.push(b' ');
        push_address_list(out, list);
    }
    for name in ["In-Reply-To", "Message-ID"] {
        out.push(b' ');
        push_nstring(out, raw_header_value(header_block, name).as_deref());
    }
    out.push(b')');
}

fn is_empty(address: &Address<'_>) -> bool {
    match address {
        Address::List(list) => list.iter().all(|a| a.address.is_none()),
        Address::Group(groups) => groups.iter().all(|g| g.addresses.is_empty() && g.name.is_none()),
    }
}

fn push_address_list(out: &mut Vec<u8>, address: Option<&Address<'_>>) {
    let mut body = Vec::new();
    match address {
        Some(Address::List(list)) => {
            for addr in list {
                push_address(&mut body, addr);
            }
        }
        Some(Address::Group(groups)) => {
            for group in groups {
                match &group.name {
                    // RFC 9051 §7.5.2: a group is a start marker (NIL NIL name NIL), its
                    // members, and an end marker (NIL NIL NIL NIL).
                    Some(name) => {
                        body.extend_from_slice(b"(NIL NIL ");
                        push_string(&mut body, encode_word(name).as_bytes());
                        body.extend_from_slice(b" NIL)");
                        for addr in &group.addresses {
                            push_address(&mut body, addr);
                        }
                        body.extend_from_slice(b"(NIL NIL NIL NIL)");
                    }
                    None => {
                        for addr in &group.addresses {
                            push_address(&mut body, addr);
                        }
                    }
                }
            }
        }
        None => {}
    }
    if body.is_empty() {
        out.extend_from_slice(b"NIL");
    } else {
        out.push(b'(');
        out.extend_from_slice(&body);
        out.push(b')');
    }
}

/// `(name adl mailbox host)`; an entry without an address is skipped, since `(name NIL NIL NIL)`
/// would read as a group marker.
fn push_address(out: &mut Vec<u8>, addr: &Addr<'_>) {
    let Some(address) = addr.address.as_deref() else { return };
    let (adl, mailbox, host) = split_addr_spec(address);
    out.push(b'(');
    let name = addr.name.as_deref().filter(|n| !n.is_empty()).map(encode_word);
    push_nstring(out, name.as_deref().map(str::as_bytes));
    out.push(b' ');
    push_nstring(out, adl.map(str::as_bytes));
    out.push(b' ');
    push_string(out, mailbox.as_bytes());
    out.push(b' ');
    push_string(out, host.as_bytes());
    out.push(b')');
}

/// An address as ENVELOPE's addr-adl, addr-mailbox and addr-host (RFC 9051 §7.5.2). The adl is
/// the source route of a route-addr (RFC 5322 §4.4 obs-route, `@a,@b:` without its ':'), which
/// mail-parser leaves in the local part: `<@route:user@domain>` gives `@route`, `user` and
/// `domain`, as Dovecot answers. A route ends at its first ':' outside a domain literal.
pub fn split_addr_spec(address: &str) -> (Option<&str>, &str, &str) {
    let (local, host) = address.rsplit_once('@').unwrap_or((address, ""));
    if local.starts_with('@')
        && let Some(end) = route_end(local)
    {
        return (Some(&local[..end]), &local[end + 1..], host);
    }
    (None, local, host)
}

/// The ':' that ends a source route, not one inside a domain literal (`@[IPv6:::1]`).
fn route_end(local: &str) -> Option<usize> {
    let mut in_literal = false;
    for (i, byte) in local.bytes().enumerate() {
        match byte {
            b'[' => in_literal = true,
            b']' => in_literal = false,
            b':' if !in_literal => return Some(i),
            _ => {}
        }
    }
    None
}

/// `text` as is when it is printable ASCII, else as one RFC 2047 `B` encoded-word.
fn encode_word(text: &str) -> String {
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        text.to_string()
    } else {
        format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsed::{ParsedMessage, header_end, samples};

    fn envelope_of(raw: &[u8]) -> String {
        let message = ParsedMessage::parse(raw);
        let mut out = Vec::new();
        push_envelope(&mut out, message.parsed.as_ref(), &raw[..header_end(raw)]);
        String::from_utf8(out).expect("envelopes of the samples are ASCII")
    }

    #[test]
    fn plain_message() {
        assert_eq!(
            envelope_of(samples::PLAIN),
            "(\"Mon, 2 Mar 2026 10:00:00 +0100\" \"Hello there\" \
             ((\"Ana Lima\" NIL \"ana\" \"example.org\")) ((\"Ana Lima\" NIL \"ana\" \"example.org\")) \
             ((\"Ana Lima\" NIL \"ana\" \"example.org\")) \
             ((NIL NIL \"bob\" \"example.org\")(\"Carl, Jr.\" NIL \"carl\" \"example.net\")) NIL NIL NIL \
             \"<1@example.org>\")"
        );
    }

    #[test]
    fn encoded_subject_stays_raw_and_missing_fields_are_nil() {
        let envelope = envelope_of(samples::ALTERNATIVE);
        assert!(envelope.starts_with("(NIL \"=?utf-8?q?Caf=C3=A9?=\" ((NIL NIL \"ana\""), "{envelope}");
        assert!(envelope.ends_with(" NIL NIL NIL NIL)"), "{envelope}");
    }

    #[test]
    fn non_ascii_names_become_encoded_words_and_groups_have_markers() {
        let raw = "From: Zoé <zoe@example.org>\r\nTo: Team: a@example.org, b@example.org;\r\n\r\nx".as_bytes();
        let envelope = envelope_of(raw);
        assert!(envelope.contains("((\"=?utf-8?b?Wm/DqQ==?=\" NIL \"zoe\" \"example.org\"))"), "{envelope}");
        assert!(
            envelope.contains(
                "((NIL NIL \"Team\" NIL)(NIL NIL \"a\" \"example.org\")(NIL NIL \"b\" \"example.org\")(NIL NIL NIL NIL))"
            ),
            "{envelope}"
        );
    }

    #[test]
    fn broken_headers_do_not_panic() {
        let envelope = envelope_of(samples::BROKEN);
        assert!(envelope.starts_with("(NIL \"broken\" "), "{envelope}");
        let empty = envelope_of(b"");
        assert_eq!(empty, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
    }

    #[test]
    fn source_routes_are_the_adl() {
        // imaptest fetch-envelope: an RFC 822 source route goes in addr-adl, not the mailbox.
        let envelope = envelope_of(b"From: <@route:user@domain>\r\n\r\nx");
        assert!(envelope.contains(" ((NIL \"@route\" \"user\" \"domain\")) "), "{envelope}");
        for (address, parts) in [
            ("user@domain", (None, "user", "domain")),
            ("@a,@b:user@domain", (Some("@a,@b"), "user", "domain")),
            ("@[IPv6:::1]:user@domain", (Some("@[IPv6:::1]"), "user", "domain")),
            ("local", (None, "local", "")),
            ("@nocolon@domain", (None, "@nocolon", "domain")),
        ] {
            assert_eq!(split_addr_spec(address), parts, "{address}");
        }
    }
}
