//! Advanced search (FEATURES E3): a form whose fields are written in the search box's language
//! (E2), so the results show the query that ran and the reader can change it and learn the
//! language. Shared by the server and the browser: the form is a plain GET to `/mail/search`,
//! and both read its fields the same way.

/// The names of the form's fields in the address (`/mail/search?q=...&from=...`).
pub const FIELDS: [&str; 10] =
    ["from", "to", "subject", "body", "after", "until", "folder", "tag", "larger", "smaller"];
/// The check box "has an attachment" (`attachment=1`).
pub const ATTACHMENT: &str = "attachment";

/// The query the search box (`q`) and the advanced fields ask for together: `q` first, then
/// one condition per filled field. `get` reads a field of the address.
pub fn compose(get: impl Fn(&str) -> Option<String>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(words) = get("q").filter(|q| !q.trim().is_empty()) {
        parts.push(words.trim().to_string());
    }
    for name in FIELDS {
        let Some(value) = get(name) else { continue };
        let value = value.replace('"', " ");
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name {
            // Names and addresses: one phrase.
            "from" | "to" => parts.push(format!("{name}:{}", quoted_if_spaced(value))),
            // Each word somewhere in the subject or the body, in any order.
            "subject" | "body" => parts.extend(value.split_whitespace().map(|word| format!("{name}:{word}"))),
            "after" => parts.push(format!("after:{value}")),
            // The form's range includes its last day: before the day after it.
            "until" => parts.push(format!("before:{}", next_day(value).unwrap_or_else(|| value.to_string()))),
            "folder" | "tag" => parts.push(format!("{name}:\"{value}\"")),
            // Kilobytes in the form; anything else is left for the query's own error.
            "larger" | "smaller" => match value.chars().all(|c| c.is_ascii_digit()) {
                true => parts.push(format!("{name}:{value}k")),
                false => parts.push(format!("{name}:{}", quoted_if_spaced(value))),
            },
            _ => {}
        }
    }
    if get(ATTACHMENT).is_some_and(|value| !value.is_empty()) {
        parts.push("has:attachment".to_string());
    }
    parts.join(" ")
}

/// Whether the address carries any advanced field (the search is then `compose`d).
pub fn has_fields(get: impl Fn(&str) -> Option<String>) -> bool {
    FIELDS.iter().chain([&ATTACHMENT]).any(|name| get(name).is_some_and(|value| !value.trim().is_empty()))
}

fn quoted_if_spaced(value: &str) -> String {
    if value.contains(char::is_whitespace) { format!("\"{value}\"") } else { value.to_string() }
}

/// The day after `day` (`2026-02-28` → `2026-03-01`), as a date field writes it; `None` when it
/// is not such a day. By hand: the browser's build has no calendar crate, and this is all it needs.
fn next_day(day: &str) -> Option<String> {
    let mut numbers = day.splitn(3, '-').map(|part| part.parse::<u32>().ok());
    let (year, month, date) = (numbers.next()??, numbers.next()??, numbers.next()??);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let length = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if date == 0 || date > length {
        return None;
    }
    let (year, month, date) = match (month, date == length) {
        (12, true) => (year + 1, 1, 1),
        (_, true) => (year, month + 1, 1),
        (_, false) => (year, month, date + 1),
    };
    Some(format!("{year:04}-{month:02}-{date:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn composed(pairs: &[(&str, &str)]) -> String {
        compose(|name| pairs.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string()))
    }

    #[test]
    fn each_field_is_written_in_the_language() {
        let query = composed(&[
            ("q", " devis OR facture "),
            ("from", "Ana Lima"),
            ("to", "bob@example.org"),
            ("subject", "plan  mars"),
            ("body", "réunion"),
            ("after", "2026-02-01"),
            ("until", "2026-02-28"),
            ("folder", "Projets/2026"),
            ("tag", "À suivre"),
            ("larger", "20"),
            ("smaller", "2M"),
            ("attachment", "1"),
        ]);
        assert_eq!(
            query,
            "devis OR facture from:\"Ana Lima\" to:bob@example.org subject:plan subject:mars body:réunion \
             after:2026-02-01 before:2026-03-01 folder:\"Projets/2026\" tag:\"À suivre\" larger:20k smaller:2M \
             has:attachment"
        );
    }

    #[test]
    fn empty_fields_add_nothing_and_quotes_cannot_break_out() {
        assert_eq!(composed(&[("q", "été"), ("from", " "), ("tag", "")]), "été");
        assert_eq!(composed(&[("from", "a\" OR \"b")]), "from:\"a  OR  b\"");
        assert!(!has_fields(|name| (name == "q").then(|| "x".to_string())));
        assert!(has_fields(|name| (name == "attachment").then(|| "1".to_string())));
    }

    #[test]
    fn the_last_day_is_included() {
        assert_eq!(next_day("2024-02-28").as_deref(), Some("2024-02-29"));
        assert_eq!(next_day("2026-02-28").as_deref(), Some("2026-03-01"));
        assert_eq!(next_day("2026-12-31").as_deref(), Some("2027-01-01"));
        assert_eq!(next_day("2100-02-28").as_deref(), Some("2100-03-01"));
        assert_eq!(next_day("2026-04-30").as_deref(), Some("2026-05-01"));
        assert_eq!(next_day("2026-04-31"), None);
        assert_eq!(next_day("01/03/2026"), None);
        // Not a day: written as typed, and the query says what is wrong.
        assert_eq!(composed(&[("until", "demain")]), "before:demain");
    }
}
