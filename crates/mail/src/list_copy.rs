//! One member's copy of a list's post (A7, A8): the post with the list's fields, written by
//! hand on the header block (as `outgoing` does) so the body and every field the list does not
//! own stay byte for byte.
//!
//! - RFC 2919 `List-Id:`, RFC 2369 `List-Post:` (`NO` on a distribution list) and
//!   `List-Help:`, RFC 8058 `List-Unsubscribe:` with this member's one-click link and
//!   `List-Unsubscribe-Post:`, `Precedence: list` (auto-responders stay quiet, RFC 3834).
//! - DMARC: an author at a domain that is not ours gets `From: "Name via List" <list@...>`,
//!   their address in `Reply-To:` (or beside the list's) and `X-Original-From:`, since the list
//!   signs with its own domain and could not pass the author's DMARC check.
//! - The reply-to policy: answers to the list, or to the author.

use base64::Engine;

use crate::header::{field_name, header_fields};

/// The fields a list writes itself: any the post came with are removed first.
const LIST_FIELDS: [&[u8]; 9] = [
    b"List-Id",
    b"List-Post",
    b"List-Help",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"List-Subscribe",
    b"List-Owner",
    b"List-Archive",
    b"Precedence",
];

/// What one copy says about its list and its member.
#[derive(Debug, Clone)]
pub struct CopyFields<'a> {
    /// The list's address, `local@domain`.
    pub list_address: &'a str,
    /// The list's display name (may be empty).
    pub list_name: &'a str,
    /// `List-Post: NO` (a distribution list).
    pub no_posting: bool,
    /// Answers go to the list.
    pub reply_to_list: bool,
    /// The member's one-click unsubscribe URL.
    pub unsubscribe_url: &'a str,
    /// The list's page (how to join and leave).
    pub help_url: &'a str,
    /// The author, when the `From:` is rewritten: their name (may be empty) and address.
    pub rewritten_author: Option<(&'a str, &'a str)>,
}

/// RFC 2919: the list's id, `local.domain` (a dot for the `@`).
pub fn list_id(list_address: &str) -> String {
    list_address.replacen('@', ".", 1)
}

/// The post as this member gets it.
pub fn member_copy(post: &[u8], fields: &CopyFields<'_>) -> Vec<u8> {
    let rewrite = fields.rewritten_author.is_some();
    let mut out = Vec::with_capacity(post.len() + 1024);
    let phrase = if fields.list_name.is_empty() { fields.list_address } else { fields.list_name };
    push_field(&mut out, "List-Id", &format!("{} <{}>", display_name(phrase), list_id(fields.list_address)));
    let post_field = if fields.no_posting { "NO".to_string() } else { format!("<mailto:{}>", fields.list_address) };
    push_field(&mut out, "List-Post", &post_field);
    push_field(&mut out, "List-Help", &format!("<{}>", fields.help_url));
    push_field(&mut out, "List-Unsubscribe", &format!("<{}>", fields.unsubscribe_url));
    push_field(&mut out, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click");
    push_field(&mut out, "Precedence", "list");
    let mut reply_to = Vec::new();
    if fields.reply_to_list && !fields.no_posting {
        reply_to.push(fields.list_address.to_string());
    }
    if let Some((name, address)) = fields.rewritten_author {
        let who = if name.is_empty() { address } else { name };
        push_field(
            &mut out,
            "From",
            &format!("{} <{}>", display_name(&format!("{who} via {phrase}")), fields.list_address),
        );
        push_field(&mut out, "X-Original-From", &mailbox(name, address));
        if reply_to.is_empty() || !fields.reply_to_list {
            reply_to.push(mailbox(name, address));
        }
    }
    // The list's own Reply-To replaces the post's; with none of its own, the post's stays.
    let own_reply_to = !reply_to.is_empty();
    if own_reply_to {
        push_field(&mut out, "Reply-To", &reply_to.join(", "));
    }
    let mut at = 0;
    for field in header_fields(post) {
        let name = field_name(&post[field.clone()]);
        let drop = LIST_FIELDS.iter().any(|own| name.eq_ignore_ascii_case(own))
            // Final delivery writes its own (RFC 5321 §4.4); the post's is the list's sender.
            || name.eq_ignore_ascii_case(b"Return-Path")
            || (rewrite && (name.eq_ignore_ascii_case(b"From") || name.eq_ignore_ascii_case(b"Sender")))
            || (own_reply_to && name.eq_ignore_ascii_case(b"Reply-To"));
        if drop {
            out.extend_from_slice(&post[at..field.start]);
            at = field.end;
        }
    }
    out.extend_from_slice(&post[at..]);
    out
}

/// Whether a post came back to its own list (a member's address forwards to it): its
/// `List-Id:` is the list's.
pub fn is_loop(post: &[u8], list_address: &str) -> bool {
    let id = format!("<{}>", list_id(list_address)).to_ascii_lowercase();
    header_fields(post).any(|field| {
        let text = &post[field];
        field_name(text).eq_ignore_ascii_case(b"List-Id")
            && String::from_utf8_lossy(text).to_ascii_lowercase().contains(&id)
    })
}

fn push_field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// `name <address>`, or the address alone.
fn mailbox(name: &str, address: &str) -> String {
    if name.is_empty() { format!("<{address}>") } else { format!("{} <{address}>", display_name(name)) }
}

/// A display name as RFC 5322 writes it: a quoted string when it is printable ASCII, RFC 2047
/// encoded words (UTF-8, base64, each at most 75 characters) otherwise.
fn display_name(name: &str) -> String {
    let name: String = name.chars().filter(|c| !c.is_control()).collect();
    if name.is_ascii() {
        return format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""));
    }
    header_text(&name)
}

/// An unstructured field's text (a subject) as it can be written in a header: as it is when
/// it is ASCII, else RFC 2047 encoded words.
pub fn header_text(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if text.is_ascii() {
        return text;
    }
    // 45 bytes of text make 60 of base64: words of 72 characters, under RFC 2047's 75.
    let mut pieces = vec![String::new()];
    for c in text.chars() {
        if pieces.last().is_some_and(|piece| piece.len() + c.len_utf8() > 45) {
            pieces.push(String::new());
        }
        pieces.last_mut().expect("one piece at least").push(c);
    }
    let engine = base64::engine::general_purpose::STANDARD;
    pieces.iter().map(|piece| format!("=?utf-8?b?{}?=", engine.encode(piece))).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &[u8] =
        b"Return-Path: <ana@elsewhere.org>\r\nFrom: Ana <ana@elsewhere.org>\r\nList-Id: forged <x.y>\r\n\
Reply-To: <other@elsewhere.org>\r\nSubject: Hello\r\nDKIM-Signature: v=1; d=elsewhere.org\r\n\r\nBody\r\n";

    fn fields<'a>(rewritten: Option<(&'a str, &'a str)>) -> CopyFields<'a> {
        CopyFields {
            list_address: "club@example.org",
            list_name: "Le Club",
            no_posting: false,
            reply_to_list: true,
            unsubscribe_url: "https://mail.example.org/lists/unsubscribe/1/2/abc",
            help_url: "https://mail.example.org/lists/1",
            rewritten_author: rewritten,
        }
    }

    #[test]
    fn a_copy_has_the_lists_fields_and_keeps_the_rest() {
        let copy = String::from_utf8(member_copy(POST, &fields(None))).unwrap();
        assert!(
            copy.starts_with("List-Id: \"Le Club\" <club.example.org>\r\nList-Post: <mailto:club@example.org>\r\n")
        );
        assert!(copy.contains("List-Unsubscribe: <https://mail.example.org/lists/unsubscribe/1/2/abc>\r\n"));
        assert!(copy.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
        assert!(copy.contains("Reply-To: club@example.org\r\n"));
        assert!(!copy.contains("forged") && !copy.contains("Return-Path") && !copy.contains("other@"));
        assert!(copy.contains(
            "From: Ana <ana@elsewhere.org>\r\nSubject: Hello\r\nDKIM-Signature: v=1; d=elsewhere.org\r\n\r\nBody\r\n"
        ));
        assert!(is_loop(copy.as_bytes(), "club@example.org") && !is_loop(POST, "club@example.org"));
    }

    #[test]
    fn an_author_elsewhere_is_rewritten_via_the_list() {
        let copy = String::from_utf8(member_copy(POST, &fields(Some(("Ana", "ana@elsewhere.org"))))).unwrap();
        assert!(copy.contains("From: \"Ana via Le Club\" <club@example.org>\r\n"), "{copy}");
        assert!(copy.contains("X-Original-From: \"Ana\" <ana@elsewhere.org>\r\n"));
        assert!(copy.contains("Reply-To: club@example.org\r\n"));
        assert!(!copy.contains("From: Ana <"));
        let mut to_author = fields(Some(("Zoé", "zoe@elsewhere.org")));
        to_author.reply_to_list = false;
        let copy = String::from_utf8(member_copy(POST, &to_author)).unwrap();
        assert!(copy.contains("From: =?utf-8?b?"), "{copy}");
        assert!(copy.contains("Reply-To: =?utf-8?b?Wm/DqQ==?= <zoe@elsewhere.org>\r\n"), "{copy}");
    }

    #[test]
    fn a_distribution_list_takes_no_posts_and_leaves_reply_to_alone() {
        let mut distribution = fields(None);
        distribution.no_posting = true;
        let copy = String::from_utf8(member_copy(POST, &distribution)).unwrap();
        assert!(copy.contains("List-Post: NO\r\n"));
        assert!(copy.contains("Reply-To: <other@elsewhere.org>\r\n"));
    }
}
