//! Signatures in the composer's text (B13): a signature goes in as a block, the separator line
//! `-- ` (RFC 3676 §4.3: mail programs recognise it and leave what follows out of quotes) and
//! the signature. Built for both sides: the server writes the first one, the page swaps it
//! when another address to send from is chosen.

use crate::dto::SignatureText;

/// The block a signature stands in.
pub fn block(signature: &str) -> String {
    format!("-- \n{signature}")
}

/// The attribute marking the signature's block in rich text, so the page can find it again to
/// swap it or take it out (the server's cleaning keeps it).
pub const SIGNATURE_ATTRIBUTE: &str = "data-signature";

/// The signature's block as rich text: its own rich text if it has one.
pub fn block_html(signature: &SignatureText) -> String {
    let inner = match &signature.html {
        Some(html) => format!("<div>-- </div>{html}"),
        None => crate::rich_text::text_to_html(&block(&signature.text)),
    };
    format!("<div {SIGNATURE_ATTRIBUTE}=\"\">{inner}</div>")
}

/// `text` as rich text, the block of `signature` in it (if it is there, on lines of its own)
/// marked as the signature.
pub fn text_to_html_with_signature(text: &str, signature: Option<&SignatureText>) -> String {
    let text_to_html = crate::rich_text::text_to_html;
    let Some(signature) = signature.filter(|s| !s.text.trim().is_empty()) else { return text_to_html(text) };
    let wanted = block(&signature.text);
    let found = text.match_indices(&wanted).map(|(at, _)| (at, at + wanted.len())).find(|&(at, end)| {
        (at == 0 || text.as_bytes()[at - 1] == b'\n') && matches!(text.as_bytes().get(end), None | Some(b'\n'))
    });
    match found {
        Some((at, end)) => {
            // The line break after the block ends its last line, it is not a blank line.
            let after = text[end..].strip_prefix('\n').unwrap_or(&text[end..]);
            format!("{}{}{}", text_to_html(&text[..at]), block_html(signature), text_to_html(after))
        }
        None => text_to_html(text),
    }
}

/// Where the signature goes in a new message, a reply or a forward (B13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Placement {
    /// Above what a reply quotes or a forward carries (mail programs leave what follows
    /// `-- ` out of the next quote), at the end of a new message.
    #[default]
    Above,
    /// At the very end, below the quote.
    Below,
    /// Not put by itself: the writer inserts it where they want it.
    Manual,
}

impl Placement {
    /// As the setting keeps it.
    pub fn code(self) -> &'static str {
        match self {
            Placement::Above => "above",
            Placement::Below => "below",
            Placement::Manual => "manual",
        }
    }

    /// Reads the setting; anything else is the default.
    pub fn from_code(code: &str) -> Placement {
        match code {
            "below" => Placement::Below,
            "manual" => Placement::Manual,
            _ => Placement::Above,
        }
    }
}

/// `text` with the block of signature `old` replaced by that of `new` (or taken out, with the
/// blank lines before it, when `new` is `None`). When `old`'s block is not there (there was
/// none, or the writer changed it), `new`'s goes where a signature belongs: above what an
/// answer quotes or a forward carries, else at the end. Text the writer changed in a block is
/// never replaced: what they wrote wins.
pub fn swap(text: &str, old: Option<&str>, new: Option<&str>) -> String {
    let new = new.filter(|n| !n.trim().is_empty());
    let found = old.filter(|o| !o.trim().is_empty()).and_then(|old| {
        let old_block = block(old);
        // The whole block: followed by a line break or the end, not a longer signature.
        text.match_indices(&old_block)
            .map(|(at, _)| (at, at + old_block.len()))
            .find(|&(_, end)| matches!(text.as_bytes().get(end), None | Some(b'\n')))
    });
    match (found, new) {
        (Some((at, end)), Some(new)) => format!("{}{}{}", &text[..at], block(new), &text[end..]),
        (Some((at, end)), None) => {
            let before = text[..at].trim_end_matches('\n');
            let after = text[end..].trim_start_matches('\n');
            match (before.is_empty(), after.is_empty()) {
                (_, true) => before.to_string(),
                (true, false) => format!("\n\n{after}"),
                (false, false) => format!("{before}\n\n{after}"),
            }
        }
        (None, Some(new)) if !text.contains("\n-- \n") && !text.starts_with("-- \n") => insert(text, new),
        (None, _) => text.to_string(),
    }
}

/// `text` with `signature`'s block where a signature belongs: before the attribution line of
/// a quote ("On ..., X wrote:") or the header of a forwarded message, else at the end.
fn insert(text: &str, signature: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let quoted = lines.iter().position(|line| line.starts_with('>') || line.starts_with("--------"));
    let Some(mut at) = quoted else {
        return format!("{}\n\n{}", text.trim_end(), block(signature));
    };
    // The attribution just above a quote goes with it.
    if at > 0 && lines[at].starts_with('>') && !lines[at - 1].trim().is_empty() {
        at -= 1;
    }
    let before = lines[..at].join("\n");
    let after = lines[at..].join("\n");
    format!("{}\n\n{}\n\n{after}", before.trim_end(), block(signature))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_swapped_for_another_or_taken_out() {
        let text = "Hello\n\n-- \nAna\nTreasurer\n\nOn Monday, Jo wrote:\n> Hi";
        assert_eq!(
            swap(text, Some("Ana\nTreasurer"), Some("The team")),
            "Hello\n\n-- \nThe team\n\nOn Monday, Jo wrote:\n> Hi"
        );
        assert_eq!(swap(text, Some("Ana\nTreasurer"), None), "Hello\n\nOn Monday, Jo wrote:\n> Hi");
        assert_eq!(swap("\n\n-- \nAna", Some("Ana"), None), "");
        assert_eq!(swap("\n\n-- \nAna", Some("Ana"), Some("Bob")), "\n\n-- \nBob");
        // Edited by the writer: left alone; a longer signature is not taken for a shorter one.
        assert_eq!(swap("Hello\n-- \nAna (edited)", Some("Ana B"), Some("Bob")), "Hello\n-- \nAna (edited)");
        assert_eq!(swap("Hi\n\n-- \nAnabelle", Some("Ana"), Some("Bob")), "Hi\n\n-- \nAnabelle");
        // None before: the new one goes at the end, or above the quote with its attribution.
        assert_eq!(swap("Hello", None, Some("Bob")), "Hello\n\n-- \nBob");
        assert_eq!(
            swap("\n\nOn Monday, Jo wrote:\n> Hi\n", None, Some("Bob")),
            "\n\n-- \nBob\n\nOn Monday, Jo wrote:\n> Hi\n"
        );
        assert_eq!(
            swap("Look\n\n-------- Forwarded message --------\nFrom: x", Some("Gone"), Some("Bob")),
            "Look\n\n-- \nBob\n\n-------- Forwarded message --------\nFrom: x"
        );
        // Removed, then chosen again: it comes back.
        let removed = swap("Hello\n\n-- \nAna", Some("Ana"), None);
        assert_eq!(swap(&removed, None, Some("Ana")), "Hello\n\n-- \nAna");
    }

    #[test]
    fn in_rich_text_the_signature_is_a_marked_block() {
        let ana = SignatureText { text: "Ana".into(), html: None };
        let rich = SignatureText { text: "Ana".into(), html: Some("<div><b>Ana</b></div>".into()) };
        assert_eq!(
            text_to_html_with_signature("-- \nAna", Some(&rich)),
            r#"<div data-signature=""><div>-- </div><div><b>Ana</b></div></div>"#,
            "its own rich text"
        );
        let sig = r#"<div data-signature=""><div>-- </div><div>Ana</div></div>"#;
        assert_eq!(
            text_to_html_with_signature("\n\n-- \nAna", Some(&ana)),
            format!("<div><br></div><div><br></div>{sig}")
        );
        assert_eq!(
            text_to_html_with_signature("Hi\n\n-- \nAna\n\nJo wrote:\n> x", Some(&ana)),
            format!(
                "<div>Hi</div><div><br></div>{sig}<div><br></div><div>Jo wrote:</div><blockquote><div>x</div></blockquote>"
            )
        );
        assert_eq!(text_to_html_with_signature("-- \nAnabelle", Some(&ana)), "<div>-- </div><div>Anabelle</div>");
        assert_eq!(text_to_html_with_signature("Hi", None), "<div>Hi</div>");
        for placement in [Placement::Above, Placement::Below, Placement::Manual] {
            assert_eq!(Placement::from_code(placement.code()), placement);
        }
    }
}
