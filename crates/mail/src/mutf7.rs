//! Modified UTF-7 (RFC 3501 §5.1.3), the form IMAP4rev1 clients use for folder names outside
//! printable ASCII: `Été` is `&AMk-t&AOk-`. The store keeps names in UTF-8. Tag keywords use
//! its runs too (`tags`).
//!
//! By hand on the `base64` crate's IMAP alphabet: the rules are a page long, and the crates
//! that do only this are small and unmaintained.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Base64 with ',' for '/', no padding (RFC 3501 §5.1.3).
const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::IMAP_MUTF7,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// A UTF-8 name as an IMAP4rev1 client expects it.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if !pending.is_empty() {
            out.push_str(&run(pending));
            pending.clear();
        }
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            pending.extend(c.encode_utf16(&mut [0; 2]).iter());
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// UTF-16 code units as one `&...-` run.
fn run(units: &[u16]) -> String {
    let bytes: Vec<u8> = units.iter().flat_map(|unit| unit.to_be_bytes()).collect();
    format!("&{}-", ENGINE.encode(bytes))
}

/// Any text, printable ASCII included, as one `&...-` run (empty for no text).
pub(crate) fn encode_run(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    run(&text.encode_utf16().collect::<Vec<u16>>())
}

/// A name from a client, in UTF-8. A name with bytes outside ASCII is taken as UTF-8 already
/// (clients that speak UTF-8, RFC 6855); otherwise `&...-` runs are decoded. `None` when a run
/// is not valid modified UTF-7.
pub fn decode(name: &str) -> Option<String> {
    if !name.is_ascii() || !name.contains('&') {
        return Some(name.to_string());
    }
    decode_runs(name, true)
}

/// Decodes the `&...-` runs of ASCII `text`; `strict` refuses runs holding printable ASCII (RFC
/// 3501 wants it written as itself; tag keywords put some of it in runs on purpose).
pub(crate) fn decode_runs(name: &str, strict: bool) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let end = after.find('-')?;
        let run = &after[..end];
        if run.is_empty() {
            out.push('&');
        } else {
            let bytes = ENGINE.decode(run).ok()?;
            if bytes.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = bytes.chunks(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
            let text = String::from_utf16(&units).ok()?;
            // RFC 3501 §5.1.3: printable ASCII must represent itself.
            if strict && text.chars().any(|c| (' '..='~').contains(&c)) {
                return None;
            }
            out.push_str(&text);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_rfc_3501_and_others_both_ways() {
        for (utf8, wire) in [
            ("INBOX", "INBOX"),
            ("Été", "&AMk-t&AOk-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("Tom & Jerry", "Tom &- Jerry"),
            ("Brouillons 📝", "Brouillons &2D3c3Q-"),
            ("", ""),
        ] {
            assert_eq!(encode(utf8), wire, "{utf8}");
            assert_eq!(decode(wire).as_deref(), Some(utf8), "{wire}");
        }
    }

    #[test]
    fn utf8_passes_through_and_bad_runs_are_refused() {
        assert_eq!(decode("Été").as_deref(), Some("Été"));
        for bad in ["&", "&AMk", "&A-", "&AGE-", "&Jjo!-"] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}
