//! The search box's language (FEATURES E2), read into a [`Query`] the index runs.
//!
//! Words are ANDed; `OR` (in capitals) between two words or groups takes either; `"an exact
//! phrase"`; `info*` a prefix of at least four characters; `-word` excludes; and fields:
//! `from:`, `to:` (To or Cc), `subject:`, `body:`, `tag:`, `folder:`, `has:attachment`,
//! `before:`/`after:` a day (`2026-03-01` or `01/03/2026`), `larger:`/`smaller:` a size (`500`,
//! `20k`, `2M`, or `ko`/`Mo`). Advanced search (E3) is a form that writes the same language.
//! A word with an unknown `name:` in front (`re:`, `10:30`, an address) is only text.

use thiserror::Error;

use crate::text::words;

/// Characters a prefix needs before its `*` (E2).
pub const MIN_PREFIX_CHARS: usize = 4;

/// What a word or a quoted string asks of a text field, folded as the index folds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// These words, one after the other (a single word is a phrase of one).
    Phrase(Vec<String>),
    /// These words, the last one as the start of a word (`info*`, `jean-pi*`).
    Prefix(Vec<String>),
}

/// One condition of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// In any of the text fields: sender, recipients, subject, body, attachment names.
    Anywhere(Text),
    From(Text),
    /// To or Cc.
    To(Text),
    Subject(Text),
    Body(Text),
    /// Tagged so: the tag's name, as typed.
    Tag(String),
    /// In the folder of that name (its full path, or its last name), as typed.
    Folder(String),
    HasAttachment,
    /// Dated before that day (Unix seconds of its midnight, UTC): the date the list shows, the
    /// Date: field, else the arrival.
    Before(i64),
    /// Dated on or after that day.
    After(i64),
    /// Bytes.
    Larger(u64),
    Smaller(u64),
}

/// Conditions any of which will do (`a OR b`), or that must all fail when `excluded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub any_of: Vec<Condition>,
    pub excluded: bool,
}

/// A parsed query: every clause holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub clauses: Vec<Clause>,
}

impl Query {
    /// The folded words the results should show marked: those of text conditions not excluded.
    pub fn marked_words(&self) -> Vec<(String, bool)> {
        let mut marked = Vec::new();
        for clause in self.clauses.iter().filter(|clause| !clause.excluded) {
            for condition in &clause.any_of {
                let text = match condition {
                    Condition::Anywhere(text)
                    | Condition::From(text)
                    | Condition::To(text)
                    | Condition::Subject(text)
                    | Condition::Body(text) => text,
                    _ => continue,
                };
                let (words, prefix_last) = match text {
                    Text::Phrase(words) => (words, false),
                    Text::Prefix(words) => (words, true),
                };
                for (i, word) in words.iter().enumerate() {
                    marked.push((word.clone(), prefix_last && i + 1 == words.len()));
                }
            }
        }
        marked
    }
}

/// Why a query cannot be run; each names what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    #[error("nothing to search for")]
    Empty,
    #[error("a prefix needs at least {MIN_PREFIX_CHARS} characters before the *: {0}")]
    ShortPrefix(String),
    #[error("not a day (write 2026-03-01 or 01/03/2026): {0}")]
    BadDate(String),
    #[error("not a size (write 500, 20k or 2M): {0}")]
    BadSize(String),
    #[error("has: knows only has:attachment: {0}")]
    BadHas(String),
    #[error("OR needs something on each side")]
    DanglingOr,
    #[error("a quotation mark is not closed")]
    UnclosedQuote,
}

/// One piece of the query string before meaning is given to it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Or,
    /// `-`? `field:`? then the value, and whether it was quoted.
    Item {
        excluded: bool,
        field: Option<String>,
        value: String,
        quoted: bool,
    },
}

fn tokens(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let excluded = first == '-' && {
            chars.next();
            true
        };
        let mut head = String::new();
        let mut field = None;
        loop {
            match chars.peek() {
                Some('"') => break,
                Some(c) if c.is_whitespace() => break,
                Some(':') if field.is_none() && is_field(&head) => {
                    chars.next();
                    field = Some(head.to_lowercase());
                    head.clear();
                }
                Some(&c) => {
                    head.push(c);
                    chars.next();
                }
                None => break,
            }
        }
        if head.is_empty() && chars.peek() == Some(&'"') {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(c) => value.push(c),
                    None => return Err(QueryError::UnclosedQuote),
                }
            }
            tokens.push(Token::Item { excluded, field, value, quoted: true });
        } else if head == "OR" && !excluded && field.is_none() {
            tokens.push(Token::Or);
        } else if !head.is_empty() || field.is_some() {
            tokens.push(Token::Item { excluded, field, value: head, quoted: false });
        }
        // Else a lone `-`: nothing to exclude.
    }
    Ok(tokens)
}

fn is_field(name: &str) -> bool {
    matches!(
        name.to_lowercase().as_str(),
        "from" | "to" | "subject" | "body" | "tag" | "folder" | "has" | "before" | "after" | "larger" | "smaller"
    )
}

/// Reads the search box's text.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let mut clauses: Vec<Clause> = Vec::new();
    let mut pending_or = false;
    for token in tokens(input)? {
        match token {
            Token::Or => {
                if clauses.is_empty() || pending_or {
                    return Err(QueryError::DanglingOr);
                }
                pending_or = true;
            }
            Token::Item { excluded, field, value, quoted } => {
                let Some(condition) = condition(field.as_deref(), &value, quoted)? else { continue };
                match clauses.last_mut() {
                    // An OR group has one sign, its first word's.
                    Some(last) if pending_or => last.any_of.push(condition),
                    _ => clauses.push(Clause { any_of: vec![condition], excluded }),
                }
                pending_or = false;
            }
        }
    }
    if pending_or {
        return Err(QueryError::DanglingOr);
    }
    if clauses.is_empty() {
        return Err(QueryError::Empty);
    }
    Ok(Query { clauses })
}

/// A value as text to find: its words, a trailing `*` making the last a prefix.
fn text(value: &str, quoted: bool) -> Result<Option<Text>, QueryError> {
    if !quoted && let Some(stem) = value.strip_suffix('*') {
        let stem = stem.trim_end_matches('*');
        let last_word_chars = stem.rsplit(|c: char| !c.is_alphanumeric()).next().map_or(0, |w| w.chars().count());
        if last_word_chars < MIN_PREFIX_CHARS {
            return Err(QueryError::ShortPrefix(value.to_string()));
        }
        let folded: Vec<String> = words(stem).into_iter().map(|w| w.folded).collect();
        return Ok((!folded.is_empty()).then_some(Text::Prefix(folded)));
    }
    let folded: Vec<String> = words(value).into_iter().map(|w| w.folded).collect();
    Ok((!folded.is_empty()).then_some(Text::Phrase(folded)))
}

fn condition(field: Option<&str>, value: &str, quoted: bool) -> Result<Option<Condition>, QueryError> {
    let text_of = |wrap: fn(Text) -> Condition| Ok(text(value, quoted)?.map(wrap));
    match field {
        None => text_of(Condition::Anywhere),
        Some("from") => text_of(Condition::From),
        Some("to") => text_of(Condition::To),
        Some("subject") => text_of(Condition::Subject),
        Some("body") => text_of(Condition::Body),
        Some("tag") => Ok((!value.trim().is_empty()).then(|| Condition::Tag(value.trim().to_string()))),
        Some("folder") => Ok((!value.trim().is_empty()).then(|| Condition::Folder(value.trim().to_string()))),
        Some("has") => match value.to_lowercase().as_str() {
            "attachment" | "attachments" => Ok(Some(Condition::HasAttachment)),
            _ => Err(QueryError::BadHas(value.to_string())),
        },
        Some("before") => Ok(Some(Condition::Before(day(value)?))),
        Some("after") => Ok(Some(Condition::After(day(value)?))),
        Some("larger") => Ok(Some(Condition::Larger(size(value)?))),
        Some("smaller") => Ok(Some(Condition::Smaller(size(value)?))),
        Some(_) => text_of(Condition::Anywhere),
    }
}

/// `2026-03-01` or `01/03/2026` (day first, as written in French) as its midnight, UTC.
fn day(value: &str) -> Result<i64, QueryError> {
    let bad = || QueryError::BadDate(value.to_string());
    let numbers: Vec<&str> = value.split(['-', '/', '.']).collect();
    let [a, b, c] = numbers[..] else { return Err(bad()) };
    let (year, month, day) = if value.contains('-') && a.len() == 4 { (a, b, c) } else { (c, b, a) };
    let parse = |s: &str| s.parse::<u32>().map_err(|_| bad());
    let date = chrono::NaiveDate::from_ymd_opt(parse(year)? as i32, parse(month)?, parse(day)?).ok_or_else(bad)?;
    Ok(date.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc().timestamp())
}

/// `500`, `20k`/`20ko`/`20KB`, `2M`/`2Mo`/`2MB`, `1G`: bytes (k = 1024).
fn size(value: &str) -> Result<u64, QueryError> {
    let bad = || QueryError::BadSize(value.to_string());
    let lower = value.to_lowercase();
    let digits_end = lower.find(|c: char| !c.is_ascii_digit()).unwrap_or(lower.len());
    let number: u64 = lower[..digits_end].parse().map_err(|_| bad())?;
    let unit = match lower[digits_end..].trim() {
        "" | "b" | "o" => 1,
        "k" | "ko" | "kb" | "kio" | "kib" => 1 << 10,
        "m" | "mo" | "mb" | "mio" | "mib" => 1 << 20,
        "g" | "go" | "gb" | "gio" | "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    number.checked_mul(unit).ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(words: &[&str]) -> Text {
        Text::Phrase(words.iter().map(|w| w.to_string()).collect())
    }

    fn one(condition: Condition) -> Clause {
        Clause { any_of: vec![condition], excluded: false }
    }

    #[test]
    fn words_are_anded_and_or_joins_two() {
        let query = parse("Été plage OR mer -pluie").unwrap();
        assert_eq!(
            query.clauses,
            [
                one(Condition::Anywhere(phrase(&["ete"]))),
                Clause {
                    any_of: vec![Condition::Anywhere(phrase(&["plage"])), Condition::Anywhere(phrase(&["mer"]))],
                    excluded: false
                },
                Clause { any_of: vec![Condition::Anywhere(phrase(&["pluie"]))], excluded: true },
            ]
        );
        // `or` in lower case is a word.
        assert_eq!(parse("a or b").unwrap().clauses.len(), 3);
    }

    #[test]
    fn phrases_prefixes_and_words_with_punctuation() {
        assert_eq!(
            parse("\"rendez-vous à midi\"").unwrap().clauses,
            [one(Condition::Anywhere(phrase(&["rendez", "vous", "a", "midi"])))]
        );
        assert_eq!(parse("rendez-vous").unwrap().clauses, [one(Condition::Anywhere(phrase(&["rendez", "vous"])))]);
        assert_eq!(parse("info*").unwrap().clauses, [one(Condition::Anywhere(Text::Prefix(vec!["info".into()])))]);
        assert_eq!(parse("inf*"), Err(QueryError::ShortPrefix("inf*".into())));
        assert_eq!(parse("\"inf*\"").unwrap().clauses, [one(Condition::Anywhere(phrase(&["inf"])))]);
    }

    #[test]
    fn fields_filter() {
        let query = parse("from:ana@example.org subject:\"rapport annuel\" has:attachment tag:Urgent folder:Archives/2025 larger:20k smaller:2Mo after:2026-01-01 before:01/03/2026").unwrap();
        assert_eq!(
            query.clauses,
            [
                one(Condition::From(phrase(&["ana", "example", "org"]))),
                one(Condition::Subject(phrase(&["rapport", "annuel"]))),
                one(Condition::HasAttachment),
                one(Condition::Tag("Urgent".into())),
                one(Condition::Folder("Archives/2025".into())),
                one(Condition::Larger(20 * 1024)),
                one(Condition::Smaller(2 * 1024 * 1024)),
                one(Condition::After(1_767_225_600)),
                one(Condition::Before(1_772_323_200)),
            ]
        );
        // Unknown names before a colon are text.
        assert_eq!(parse("re:réunion").unwrap().clauses, [one(Condition::Anywhere(phrase(&["re", "reunion"])))]);
        assert_eq!(parse("before:yesterday"), Err(QueryError::BadDate("yesterday".into())));
        assert_eq!(parse("larger:big"), Err(QueryError::BadSize("big".into())));
        assert_eq!(parse("has:wings"), Err(QueryError::BadHas("wings".into())));
    }

    #[test]
    fn broken_queries_say_why() {
        assert_eq!(parse("   "), Err(QueryError::Empty));
        assert_eq!(parse("OR a"), Err(QueryError::DanglingOr));
        assert_eq!(parse("a OR"), Err(QueryError::DanglingOr));
        assert_eq!(parse("\"a b"), Err(QueryError::UnclosedQuote));
        // Only punctuation: no word to look for.
        assert_eq!(parse("- ,;"), Err(QueryError::Empty));
    }

    #[test]
    fn marked_words_are_the_wanted_ones() {
        let query = parse("plage -pluie subject:info* tag:x").unwrap();
        assert_eq!(query.marked_words(), [("plage".to_string(), false), ("info".to_string(), true)]);
    }
}
