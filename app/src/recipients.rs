//! Recipients as the composer's fields hold them (B8): a list typed with commas or semicolons,
//! each item `Name <address>` or a bare address. Shared by the page (chips, checked as typed)
//! and the server, which parses the whole field again with mail-parser before sending.

/// The items of a recipients field, trimmed, empty ones dropped. Commas and semicolons inside
/// quotes or angle brackets do not split (`"Martin, Jo" <jo@example.net>` is one).
pub fn split_recipients(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angled) = (false, false);
    for c in text.chars() {
        match c {
            '"' if !angled => quoted = !quoted,
            '<' if !quoted => angled = true,
            '>' if !quoted => angled = false,
            ',' | ';' | '\n' | '\r' if !quoted && !angled => {
                items.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    items.push(current);
    items.into_iter().map(|item| item.trim().to_string()).filter(|item| !item.is_empty()).collect()
}

/// The address of one item: between angle brackets when there are some, else the item.
pub fn address_of(item: &str) -> &str {
    match (item.rfind('<'), item.rfind('>')) {
        (Some(open), Some(close)) if open < close => item[open + 1..close].trim(),
        _ => item.trim(),
    }
}

/// Whether an item looks like an address the server will take (the server decides): a valid
/// address whose domain has a dot, as the server asks of a recipient.
pub fn looks_valid(item: &str) -> bool {
    let address = address_of(item);
    let dotted = address.split_once('@').is_some_and(|(_, domain)| domain.contains('.'));
    dotted && types::parse_address(address).is_ok()
}

/// One item for a name and an address (C12: writing to a correspondent): the name quoted when
/// it holds what would split or end the item, its own quotes and backslashes left out.
pub fn recipient_item(name: &str, address: &str) -> String {
    let name: String = name.chars().filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n')).collect();
    let name = name.trim();
    if name.is_empty() {
        address.to_string()
    } else if name.chars().any(|c| matches!(c, ',' | ';' | '<' | '>' | '@' | '(' | ')' | ':' | '[' | ']' | '.')) {
        format!("\"{name}\" <{address}>")
    } else {
        format!("{name} <{address}>")
    }
}

/// The field's value for these items.
pub fn join_recipients(items: &[String]) -> String {
    items.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_correspondent_becomes_one_item() {
        assert_eq!(recipient_item("", "jo@example.net"), "jo@example.net");
        assert_eq!(recipient_item("Jo Martin", "jo@example.net"), "Jo Martin <jo@example.net>");
        let item = recipient_item("Martin, \"Jo\"", "jo@example.net");
        assert_eq!(item, r#""Martin, Jo" <jo@example.net>"#);
        assert_eq!(split_recipients(&item), std::slice::from_ref(&item));
        assert_eq!(address_of(&item), "jo@example.net");
    }

    #[test]
    fn items_split_outside_quotes_and_brackets() {
        assert_eq!(
            split_recipients(r#"Bob <bob@example.org>, "Martin, Jo" <jo@example.net>;carol@example.net,, "#),
            ["Bob <bob@example.org>", r#""Martin, Jo" <jo@example.net>"#, "carol@example.net"]
        );
        assert_eq!(split_recipients("  "), Vec::<String>::new());
        assert_eq!(join_recipients(&split_recipients("a@b.org ; c@d.org")), "a@b.org, c@d.org");
    }

    #[test]
    fn items_are_checked_by_their_address() {
        assert_eq!(address_of("Bob <bob@example.org>"), "bob@example.org");
        assert!(looks_valid("Bob <bob@example.org>"));
        assert!(looks_valid("carol@example.net"));
        assert!(!looks_valid("carol"));
        assert!(!looks_valid("carol@example"), "no dot: the server refuses it");
        assert!(!looks_valid("Bob <bob>"));
        assert!(!looks_valid("bob@@example.org"));
    }
}
