//! Signatures in the composer's text (B13): a signature goes in as a block, the separator line
//! `-- ` (RFC 3676 §4.3: mail programs recognise it and leave what follows out of quotes) and
//! the signature. Built for both sides: the server writes the first one, the page swaps it
//! when another address to send from is chosen.

/// The block a signature stands in.
pub fn block(signature: &str) -> String {
    format!("-- \n{signature}")
}

/// `text` with the block of signature `old` replaced by that of `new` (or taken out, with the
/// blank lines before it, when `new` is `None`). Text without `old`'s block (the writer removed
/// or changed it) stays as it is: what they wrote wins.
pub fn swap(text: &str, old: Option<&str>, new: Option<&str>) -> String {
    let Some(old) = old.filter(|o| !o.trim().is_empty()) else { return text.to_string() };
    let old_block = block(old);
    let Some(at) = text.find(&old_block) else { return text.to_string() };
    let end = at + old_block.len();
    match new.filter(|n| !n.trim().is_empty()) {
        Some(new) => format!("{}{}{}", &text[..at], block(new), &text[end..]),
        None => {
            let before = text[..at].trim_end_matches('\n');
            let after = text[end..].trim_start_matches('\n');
            match (before.is_empty(), after.is_empty()) {
                (_, true) => before.to_string(),
                (true, false) => format!("\n\n{after}"),
                (false, false) => format!("{before}\n\n{after}"),
            }
        }
    }
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
        // Edited by the writer, or never there: left alone.
        assert_eq!(swap("Hello\n-- \nAna (edited)", Some("Ana B"), Some("Bob")), "Hello\n-- \nAna (edited)");
        assert_eq!(swap("Hello", None, Some("Bob")), "Hello");
    }
}
