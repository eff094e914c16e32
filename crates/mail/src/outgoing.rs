//! What a message becomes before it leaves (RFC 6409 §8): the same for every way of sending
//! (SMTP submission today, the web composer and ActiveSync later).
//!
//! Byte surgery on the header block rather than a parse and rebuild: every other byte, and so
//! any signature the client made, stays as sent.

/// The message as it is sent: without `Bcc:` fields (their recipients must not be shown to the
/// others, RFC 5322 §3.6.3), and with the `Message-ID:` and `Date:` a client left out (RFC 6409
/// §8.2, §8.3), made from `hostname` and `now`.
pub fn prepare(raw: &[u8], hostname: &str, now: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    let header_end = header_block_end(raw);
    let mut out = Vec::with_capacity(raw.len() + 128);
    let (mut has_message_id, mut has_date) = (false, false);
    for field in fields(&raw[..header_end]) {
        let name = field_name(field);
        if name.eq_ignore_ascii_case(b"bcc") {
            continue;
        }
        has_message_id |= name.eq_ignore_ascii_case(b"message-id");
        has_date |= name.eq_ignore_ascii_case(b"date");
        out.extend_from_slice(field);
    }
    // A header block without its line end (a message of headers only) gets one first.
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    if !has_date {
        out.extend_from_slice(format!("Date: {}\r\n", now.to_rfc2822()).as_bytes());
    }
    if !has_message_id {
        out.extend_from_slice(format!("Message-ID: <{}@{hostname}>\r\n", unique_id(now)).as_bytes());
    }
    out.extend_from_slice(&raw[header_end..]);
    out
}

/// Where the header block ends: at the empty line that ends it (which stays with the body),
/// or at the end of a message that has none.
fn header_block_end(raw: &[u8]) -> usize {
    let mut at = 0;
    while at < raw.len() {
        let line_end = raw[at..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| at + i + 1);
        let line = &raw[at..line_end];
        if line == b"\r\n" || line == b"\n" {
            return at;
        }
        at = line_end;
    }
    raw.len()
}

/// The fields of a header block, each with its continuation lines and line ends.
fn fields(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= block.len() {
            return None;
        }
        let start = at;
        loop {
            at = block[at..].iter().position(|&b| b == b'\n').map_or(block.len(), |i| at + i + 1);
            // A line starting with a space or tab continues the field (RFC 5322 §2.2.3).
            if !matches!(block.get(at), Some(b' ' | b'\t')) {
                break;
            }
        }
        Some(&block[start..at])
    })
}

fn field_name(field: &[u8]) -> &[u8] {
    let colon = field.iter().position(|&b| b == b':').unwrap_or(field.len());
    field[..colon].trim_ascii_end()
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

    #[test]
    fn bcc_goes_with_its_continuation_lines() {
        let raw = b"From: ana@example.org\r\nBcc: secret@example.net,\r\n  other@example.net\r\nTo: bob@example.org\r\n\
                    BCC:\r\nMessage-ID: <x@y>\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nBcc: in the body stays\r\n";
        let out = String::from_utf8(prepare(raw, "mail.example.org", now())).unwrap();
        assert_eq!(
            out,
            "From: ana@example.org\r\nTo: bob@example.org\r\nMessage-ID: <x@y>\r\n\
             Date: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nBcc: in the body stays\r\n"
        );
    }

    #[test]
    fn a_missing_date_and_message_id_are_added() {
        let out = String::from_utf8(prepare(b"Subject: hi\r\n\r\nbody\r\n", "mail.example.org", now())).unwrap();
        assert!(out.starts_with("Subject: hi\r\nDate: Sun, 6 Dec 2026 10:00:00 +0000\r\nMessage-ID: <"), "{out}");
        assert!(out.ends_with("@mail.example.org>\r\n\r\nbody\r\n"), "{out}");
        let again = String::from_utf8(prepare(b"Subject: hi\r\n\r\nbody\r\n", "mail.example.org", now())).unwrap();
        assert_ne!(out, again, "each Message-ID is new");
    }

    #[test]
    fn odd_messages_keep_their_bytes() {
        // Headers only, without a final line end.
        let out = String::from_utf8(prepare(b"Date: x\r\nMessage-ID: <a@b>", "h", now())).unwrap();
        assert_eq!(out, "Date: x\r\nMessage-ID: <a@b>\r\n");
        // A body only.
        let out = String::from_utf8(prepare(b"\r\nbody", "h", now())).unwrap();
        assert!(out.starts_with("Date: ") && out.ends_with(">\r\n\r\nbody"), "{out}");
    }
}
