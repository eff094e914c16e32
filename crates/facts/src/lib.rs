//! What a message says about itself, read with one mail-parser parse: the fields of the message
//! list, the header block, and the IMAP descriptions of it (ENVELOPE, BODY, BODYSTRUCTURE), plus
//! the byte-level helpers that cut sections out of the stored bytes.
//!
//! [`Facts::of`] runs once per message, at delivery or append; the store keeps the facts beside
//! the message, so reading (an IMAP FETCH of 10,000 ENVELOPEs, the message list) never opens
//! and parses the message again. The IMAP encodings are kept as IMAP writes them, the way
//! Dovecot's index cache keeps `imap.envelope` and `imap.bodystructure`: they are the answers
//! asked for most, and computing them from a stored tree would cost again at every FETCH.
//!
//! Invariant: pure. No I/O, no async; every input parses to something (broken mail included).

pub mod bodystructure;
pub mod envelope;
pub mod imap_string;
pub mod parsed;
mod summary;
pub mod text;

pub use parsed::ParsedMessage;
pub use summary::{
    Correspondent, MAX_ADDRESS_CHARS, MAX_NAME_CHARS, MAX_RECIPIENTS_CHARS, MAX_SUBJECT_CHARS, Summary, correspondents,
    display_addresses, display_correspondents, is_high_priority,
};

use bodystructure::{Extensions, push_body_structure};
use parsed::header_end;

/// Everything reading needs from a message but its bytes, from one parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub summary: Summary,
    /// The header block, up to and including the empty line that ends it (RFC 5322 §2.1).
    pub header: Vec<u8>,
    /// RFC 9051 §7.5.2 ENVELOPE, as written after `ENVELOPE `.
    pub imap_envelope: Vec<u8>,
    /// BODY: the structure without extension data.
    pub imap_body: Vec<u8>,
    /// BODYSTRUCTURE: the structure with extension data.
    pub imap_bodystructure: Vec<u8>,
}

impl Facts {
    pub fn of(raw: &[u8]) -> Facts {
        let message = ParsedMessage::parse(raw);
        let header = raw[..header_end(raw)].to_vec();
        let mut imap_envelope = Vec::new();
        envelope::push_envelope(&mut imap_envelope, message.parsed.as_ref(), &header);
        let mut imap_body = Vec::new();
        push_body_structure(&mut imap_body, &message, Extensions::Omitted);
        let mut imap_bodystructure = Vec::new();
        push_body_structure(&mut imap_bodystructure, &message, Extensions::Included);
        Facts { summary: Summary::of(message.parsed.as_ref()), header, imap_envelope, imap_body, imap_bodystructure }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parsed::samples;

    #[test]
    fn facts_of_a_message() {
        let facts = Facts::of(samples::MIXED);
        assert_eq!(facts.summary.subject, "Report");
        assert!(facts.summary.has_attachments);
        assert!(facts.header.ends_with(b"boundary=\"outer\"\r\n\r\n"));
        assert!(facts.imap_envelope.starts_with(b"(NIL \"Report\" ((NIL NIL \"ana\" \"example.org\"))"));
        assert!(facts.imap_bodystructure.ends_with(b" \"MIXED\" (\"BOUNDARY\" \"outer\") NIL NIL NIL)"));
        assert!(facts.imap_body.ends_with(b" \"MIXED\")"));
        for raw in [&b""[..], b"\r\n", b"no header at all", samples::BROKEN] {
            let facts = Facts::of(raw);
            assert!(facts.imap_envelope.starts_with(b"(") && facts.imap_bodystructure.starts_with(b"("));
        }
    }
}
