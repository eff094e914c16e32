//! Tags (D6): IMAP keywords with a name and a colour. The name never changes (it is how the
//! keyword was made), the colour can.

use serde::{Deserialize, Serialize};

/// The longest tag name, in characters.
pub const MAX_TAG_NAME_CHARS: usize = 40;

/// The colours a tag can have: a fixed palette, so the page only ever writes one of its own
/// class names (never a colour taken from a request into CSS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum TagColour {
    Red,
    Orange,
    Yellow,
    Green,
    Teal,
    Blue,
    Purple,
    Pink,
    #[default]
    Grey,
}

impl TagColour {
    pub const ALL: [TagColour; 9] = [
        TagColour::Red,
        TagColour::Orange,
        TagColour::Yellow,
        TagColour::Green,
        TagColour::Teal,
        TagColour::Blue,
        TagColour::Purple,
        TagColour::Pink,
        TagColour::Grey,
    ];

    /// Its name in the database, forms and CSS classes (`tag-red`).
    pub fn as_str(self) -> &'static str {
        match self {
            TagColour::Red => "red",
            TagColour::Orange => "orange",
            TagColour::Yellow => "yellow",
            TagColour::Green => "green",
            TagColour::Teal => "teal",
            TagColour::Blue => "blue",
            TagColour::Purple => "purple",
            TagColour::Pink => "pink",
            TagColour::Grey => "grey",
        }
    }

    pub fn parse(text: &str) -> Option<TagColour> {
        TagColour::ALL.into_iter().find(|colour| colour.as_str() == text)
    }
}

/// A tag as people see it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    /// The IMAP keyword messages carry.
    pub keyword: String,
    pub name: String,
    pub colour: TagColour,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_read_back_and_refuse_the_rest() {
        for colour in TagColour::ALL {
            assert_eq!(TagColour::parse(colour.as_str()), Some(colour));
        }
        assert_eq!(TagColour::parse("red;background:url(x)"), None);
        assert_eq!(TagColour::parse(""), None);
    }
}
