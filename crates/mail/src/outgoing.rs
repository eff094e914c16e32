//! What a message becomes before it leaves (RFC 6409 §8): the same for every way of sending
//! (SMTP submission today, the web composer and ActiveSync later).
//!
//! Byte surgery on the header block rather than a parse and rebuild: every other byte, and so
//! any signature the client made, stays as sent.

use std::ops::Range;

use crate::header::{field_name, fields, header_block};

/// A message ready to leave: the sender's copy, and where its `Bcc:` fields are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    message: Vec<u8>,
    bcc: Vec<Range<usize>>,
}

impl Prepared {
    /// What the recipients get: without `Bcc:` and `Resent-Bcc:` fields, whose recipients
    /// must not be shown to the others (RFC 5322 §3.6.3).
    pub fn without_bcc(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.message.len());
        let mut at = 0;
        for range in &self.bcc {
            out.extend_from_slice(&self.message[at..range.start]);
            at = range.end;
        }
        out.extend_from_slice(&self.message[at..]);
        out
    }

    /// What the sender keeps in Sent: the message with its `Bcc:`, so they know who had it.
    pub fn into_sender_copy(self) -> Vec<u8> {
        self.message
    }
}

/// Prepares a message to send: the `Message-ID:` and `Date:` a client left out are added
/// (RFC 6409 §8.2, §8.3), made from `hostname` and `now`, and a header block that ends without
/// its empty line (a client that sent a body only) gets one, so every reader splits the
/// message alike.
pub fn prepare(raw: Vec<u8>, hostname: &str, now: chrono::DateTime<chrono::Utc>) -> Prepared {
    let (header_end, has_separator) = header_block(&raw);
    let (mut has_message_id, mut has_date) = (false, false);
    let mut bcc = Vec::new();
    for field in fields(&raw, header_end) {
        let name = field_name(&raw[field.clone()]);
        if name.eq_ignore_ascii_case(b"bcc") || name.eq_ignore_ascii_case(b"resent-bcc") {
            bcc.push(field);
            continue;
        }
        has_message_id |= name.eq_ignore_ascii_case(b"message-id");
        has_date |= name.eq_ignore_ascii_case(b"date");
    }
    let mut added = Vec::new();
    if header_end > 0 && !raw[..header_end].ends_with(b"\n") {
        added.extend_from_slice(b"\r\n");
    }
    if !has_date {
        added.extend_from_slice(format!("Date: {}\r\n", now.to_rfc2822()).as_bytes());
    }
    if !has_message_id {
        added.extend_from_slice(format!("Message-ID: <{}>\r\n", new_message_id(hostname, now)).as_bytes());
    }
    if !has_separator {
        added.extend_from_slice(b"\r\n");
    }
    let mut message = raw;
    // The Bcc ranges lie before `header_end`, so the insertion does not move them.
    message.splice(header_end..header_end, added);
    Prepared { message, bcc }
}

/// A recipient on another server as it goes out: its domain lowercased (as `address` has it),
/// its local part as the sender wrote it in `as_written` (only the other server may say whether
/// case matters there, RFC 5321 §2.4); a quoted local part, or none written, as `address` has it.
pub fn remote_form(address: &store::Address, as_written: Option<&str>) -> String {
    match as_written.and_then(|text| text.trim().rsplit_once('@')) {
        Some((local, _)) if !local.starts_with('"') => format!("{local}@{}", address.domain),
        _ => address.to_string(),
    }
}

/// A new Message-ID's text (without the angle brackets) for a message made here.
pub fn new_message_id(hostname: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    format!("{}@{hostname}", unique_id(now))
}

/// Unique enough for a Message-ID: the time in microseconds and 64 random bits.
fn unique_id(now: chrono::DateTime<chrono::Utc>) -> String {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).expect("the system's random source works");
    format!("{:x}.{:016x}", now.timestamp_micros(), u64::from_le_bytes(random))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.with_ymd_and_hms(2026, 12, 6, 10, 0, 0).single().expect("valid date")
    }

    fn prepared(raw: &[u8]) -> (String, String) {
        let prepared = prepare(raw.to_vec(), "mail.example.org", now());
        let without = String::from_utf8(prepared.without_bcc()).unwrap();
        (without, String::from_utf8(prepared.into_sender_copy()).unwrap())
    }

    #[test]
    fn a_remote_recipient_keeps_its_local_part_as_written() {
        let address = store::parse_address("Dave@Example.NET").expect("address");
        assert_eq!(remote_form(&address, Some(" Dave@Example.NET ")), "Dave@example.net");
        assert_eq!(remote_form(&address, None), address.to_string());
        // A quoted local part is written as the address has it.
        assert_eq!(remote_form(&address, Some("\"Dave\"@Example.NET")), address.to_string());
    }

    #[test]
    fn bcc_goes_with_its_continuation_lines_but_stays_in_the_senders_copy() {
        let raw =
            b"From: ana@example.org\r\nBcc: secret@example.net,\r\n  other@example.net\r\nTo: bob@example.org\r\n\
                    BCC :\r\nResent-Bcc: x@example.net\r\nBcc-Note: kept\r\nMessage-ID: <x@y>\r\n\
                    Date: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nBcc: in the body stays\r\n";
        let (without, sender) = prepared(raw);
        assert_eq!(
            without,
            "From: ana@example.org\r\nTo: bob@example.org\r\nBcc-Note: kept\r\nMessage-ID: <x@y>\r\n\
             Date: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nBcc: in the body stays\r\n"
        );
        assert_eq!(sender.as_bytes(), raw, "nothing to add: the sender's copy is the message");
    }

    #[test]
    fn a_missing_date_and_message_id_are_added() {
        let (out, _) = prepared(b"Subject: hi\r\n\r\nbody\r\n");
        assert!(out.starts_with("Subject: hi\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <"), "{out}");
        assert!(out.ends_with("@mail.example.org>\r\n\r\nbody\r\n"), "{out}");
        let (again, _) = prepared(b"Subject: hi\r\n\r\nbody\r\n");
        assert_ne!(out, again, "each Message-ID is new");
    }

    #[test]
    fn a_header_block_without_its_empty_line_gets_one() {
        // Trace fields, then a body sent without headers: the body starts after an empty line.
        let (out, _) = prepared(b"Received: from x\r\n\tby y\r\nHello Bob\r\nbcc: me too\r\n");
        assert!(out.starts_with("Received: from x\r\n\tby y\r\nDate: "), "{out}");
        assert!(out.ends_with(">\r\n\r\nHello Bob\r\nbcc: me too\r\n"), "body lines stay: {out}");
        // A line that is not a field ends the header block ("B cc" is no field name).
        let (out, _) = prepared(b"Date: x\r\nMessage-ID: <a@b>\r\nB cc: c@d\r\n");
        assert_eq!(out, "Date: x\r\nMessage-ID: <a@b>\r\n\r\nB cc: c@d\r\n");
        // Headers only, without a final line end.
        let (out, _) = prepared(b"Date: x\r\nMessage-ID: <a@b>");
        assert_eq!(out, "Date: x\r\nMessage-ID: <a@b>\r\n\r\n");
        // A body only.
        let (out, _) = prepared(b"\r\nbody");
        assert!(out.starts_with("Date: ") && out.ends_with(">\r\n\r\nbody"), "{out}");
    }
}
