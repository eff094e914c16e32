//! Tags (D6) are the IMAP keywords, both ways: a tag made in the web client is a keyword IMAP
//! clients see and set, and a keyword an IMAP client sets is a tag in the web client.
//!
//! A tag's name may hold spaces and accents, which a keyword (an IMAP atom) cannot; the keyword
//! is made from the name the way Thunderbird makes its own: a space becomes `_`, and what an
//! atom cannot hold becomes a modified UTF-7 run (`À traiter` is `&AMA-_traiter`). A keyword
//! without a tag row is named by undoing that, so a Thunderbird tag reads as its name here.

use store::{AccountId, FlagOp, Flags, MAX_KEYWORD_BYTES};
pub use types::MAX_TAG_NAME_CHARS;
use types::{Tag, TagColour};

use crate::{Mail, Result, mutf7};

/// Thunderbird's five default tags, as it names and colours them.
const THUNDERBIRD_LABELS: [(&str, &str, TagColour); 5] = [
    ("$label1", "Important", TagColour::Red),
    ("$label2", "Work", TagColour::Orange),
    ("$label3", "Personal", TagColour::Green),
    ("$label4", "To Do", TagColour::Blue),
    ("$label5", "Later", TagColour::Purple),
];

/// Whether `c` may stand for itself in a keyword made from a name (an IMAP atom character,
/// RFC 9051 `ATOM-CHAR`, besides the `_` and `&` this encoding gives a meaning to).
fn stands_for_itself(c: char) -> bool {
    c.is_ascii_graphic() && !matches!(c, '(' | ')' | '{' | '%' | '*' | '"' | '\\' | ']' | '_' | '&')
}

/// The keyword of a tag named `name`; `None` when the name is empty, too long, or holds control
/// characters.
pub fn keyword_for_name(name: &str) -> Option<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_TAG_NAME_CHARS || name.chars().any(char::is_control) {
        return None;
    }
    let mut keyword = String::new();
    let mut run = String::new();
    for (i, c) in name.chars().enumerate() {
        // A leading `$` would make a system keyword ($Forwarded, $Junk...).
        if c == ' ' || (stands_for_itself(c) && !(i == 0 && c == '$')) {
            keyword.push_str(&mutf7::encode_run(&run));
            run.clear();
            keyword.push(if c == ' ' { '_' } else { c });
        } else {
            run.push(c);
        }
    }
    keyword.push_str(&mutf7::encode_run(&run));
    // A name such as `Junk` would mark mail as spam for IMAP clients.
    (keyword.len() <= MAX_KEYWORD_BYTES && !is_system_keyword(&keyword)).then_some(keyword)
}

/// The name a keyword without a tag row shows as: Thunderbird's names for its labels, else the
/// keyword with [`keyword_for_name`] undone (the keyword itself when it does not decode).
pub fn name_for_keyword(keyword: &str) -> String {
    if let Some((_, name, _)) = THUNDERBIRD_LABELS.iter().find(|(k, _, _)| k.eq_ignore_ascii_case(keyword)) {
        return name.to_string();
    }
    if !keyword.is_ascii() {
        return keyword.to_string();
    }
    mutf7::decode_runs(&keyword.replace('_', " "), false).unwrap_or_else(|| keyword.to_string())
}

/// Keywords that say something to mail programs rather than people: not tags. `$`-keywords
/// are those of RFC 5788's registry and of clients ($Forwarded, $MDNSent, $Junk...), but for
/// Thunderbird's labels; `Junk` and `NonJunk` are older spellings of the spam marks.
pub fn is_system_keyword(keyword: &str) -> bool {
    let is_label = THUNDERBIRD_LABELS.iter().any(|(k, _, _)| k.eq_ignore_ascii_case(keyword));
    (keyword.starts_with('$') && !is_label)
        || ["Junk", "NonJunk", "NotJunk"].iter().any(|k| k.eq_ignore_ascii_case(keyword))
}

/// The account's tags, by name: those made here, and the keywords IMAP clients set.
pub fn tags_of(rows: Vec<store::StoredTag>, keywords: Vec<String>) -> Vec<Tag> {
    let mut tags: Vec<Tag> = rows
        .into_iter()
        .map(|(keyword, name, colour)| Tag { keyword, name, colour: TagColour::parse(&colour).unwrap_or_default() })
        .collect();
    for keyword in keywords {
        if is_system_keyword(&keyword) || tags.iter().any(|tag| tag.keyword == keyword) {
            continue;
        }
        let colour = THUNDERBIRD_LABELS
            .iter()
            .find(|(k, _, _)| k.eq_ignore_ascii_case(&keyword))
            .map_or(TagColour::Grey, |(_, _, colour)| *colour);
        tags.push(Tag { name: name_for_keyword(&keyword), keyword, colour });
    }
    tags.sort_by_cached_key(|tag| (sort_key(&tag.name), tag.keyword.clone()));
    tags
}

/// A name as people expect it ordered: without case or accents (`À traiter` by `a`).
fn sort_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    name.nfd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// Why a tag cannot be made.
#[derive(Debug)]
pub enum TagError {
    /// The name is empty, too long or holds control characters.
    InvalidName,
    /// A tag has that name, or its keyword.
    Exists,
    Store(store::Error),
}

impl From<store::Error> for TagError {
    fn from(error: store::Error) -> Self {
        match error {
            store::Error::Exists(_) => TagError::Exists,
            other => TagError::Store(other),
        }
    }
}

impl Mail {
    /// The account's tags ([`tags_of`]).
    pub async fn tags(&self, account: AccountId) -> Result<Vec<Tag>> {
        let store = self.store();
        Ok(tags_of(store.tag_rows(account).await?, store.account_keywords(account).await?))
    }

    /// Makes a tag named `name` and returns it. Names are unique without regard to case, as
    /// are keywords (IMAP clients compare them so).
    pub async fn create_tag(&self, account: AccountId, name: &str, colour: TagColour) -> Result<Tag, TagError> {
        let keyword = keyword_for_name(name).ok_or(TagError::InvalidName)?;
        let name = name.trim().to_string();
        let taken =
            |tag: &Tag| tag.name.to_lowercase() == name.to_lowercase() || tag.keyword.eq_ignore_ascii_case(&keyword);
        if self.tags(account).await?.iter().any(taken) {
            return Err(TagError::Exists);
        }
        self.store().create_tag(account, &keyword, &name, colour.as_str()).await?;
        Ok(Tag { keyword, name, colour })
    }

    /// Gives one of the account's tags another colour (its name never changes). False when the
    /// account has no such tag.
    pub async fn set_tag_colour(&self, account: AccountId, keyword: &str, colour: TagColour) -> Result<bool> {
        let Some(tag) = self.tags(account).await?.into_iter().find(|tag| tag.keyword == keyword) else {
            return Ok(false);
        };
        self.store().set_tag_colour(account, &tag.keyword, &tag.name, colour.as_str()).await?;
        Ok(true)
    }

    /// Deletes a tag: the keyword leaves every message that has it (IMAP clients see the flag
    /// change), then the tag is forgotten. Messages stay where they are.
    pub async fn delete_tag(&self, account: AccountId, keyword: &str) -> Result<()> {
        let keywords = [keyword.to_string()];
        for (folder, uids) in self.store().keyword_holders(account, keyword).await? {
            self.set_flags(account, folder, &uids, FlagOp::Remove, Flags::empty(), &keywords).await?;
        }
        self.store().forget_tag(account, keyword).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_made_from_names_and_read_back() {
        for (name, keyword) in [
            ("urgent", "urgent"),
            ("À traiter", "&AMA-_traiter"),
            ("Été 2026", "&AMk-t&AOk-_2026"),
            ("to_do", "to&AF8-do"),
            ("R&D", "R&ACY-D"),
            ("$money", "&ACQ-money"),
            ("a$b", "a$b"),
            ("(x)", "&ACg-x&ACk-"),
            ("🎉", "&2DzfiQ-"),
        ] {
            assert_eq!(keyword_for_name(name).as_deref(), Some(keyword), "{name}");
            assert_eq!(name_for_keyword(keyword), name, "{keyword}");
        }
        assert_eq!(keyword_for_name("  padded  ").as_deref(), Some("padded"));
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(MAX_TAG_NAME_CHARS + 1), "Junk", "nonjunk"] {
            assert_eq!(keyword_for_name(bad), None, "{bad:?}");
        }
        // Long names of characters outside the BMP would make a keyword over the cap.
        assert_eq!(keyword_for_name(&"🎉".repeat(MAX_TAG_NAME_CHARS)), None);
    }

    #[test]
    fn keywords_of_other_clients_get_names() {
        assert_eq!(name_for_keyword("$label1"), "Important");
        assert_eq!(name_for_keyword("NonJunk&"), "NonJunk&", "not modified UTF-7: as it is");
        assert_eq!(name_for_keyword("projet_x"), "projet x");
    }

    #[test]
    fn system_keywords_are_not_tags() {
        let tags = tags_of(
            vec![("urgent".into(), "Urgent".into(), "red".into()), ("&AMk-t&AOk-".into(), "Été".into(), "teal".into())],
            ["$Forwarded", "$MDNSent", "$label2", "Junk", "nonjunk", "urgent", "zeta"].map(String::from).to_vec(),
        );
        let names: Vec<(&str, TagColour)> = tags.iter().map(|tag| (tag.name.as_str(), tag.colour)).collect();
        assert_eq!(
            names,
            [
                ("Été", TagColour::Teal),
                ("Urgent", TagColour::Red),
                ("Work", TagColour::Orange),
                ("zeta", TagColour::Grey)
            ],
            "by name, without accents"
        );
    }
}
