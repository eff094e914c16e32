//! How the web client's message list is ordered and cut into pages (C1, C2): shared by the store,
//! which writes the SQL, and the page, which writes the links.

use serde::{Deserialize, Serialize};

/// What the list is sorted by (C1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SortKey {
    /// The date the list shows: the `Date:` header, else the arrival.
    Date,
    Subject,
    /// The sender's name, else their address, as the list shows it.
    Sender,
    Size,
}

impl SortKey {
    pub const ALL: [SortKey; 4] = [SortKey::Date, SortKey::Subject, SortKey::Sender, SortKey::Size];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Date => "date",
            SortKey::Subject => "subject",
            SortKey::Sender => "sender",
            SortKey::Size => "size",
        }
    }

    /// The direction a first click sorts in: dates and sizes biggest first, text A to Z.
    pub fn natural_descending(self) -> bool {
        matches!(self, SortKey::Date | SortKey::Size)
    }
}

/// A sort key and its direction, written `date-desc`, `subject-asc`... in URLs and settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListSort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for ListSort {
    /// C1's default: newest first.
    fn default() -> Self {
        ListSort { key: SortKey::Date, descending: true }
    }
}

impl ListSort {
    pub fn parse(text: &str) -> Option<ListSort> {
        let (key, direction) = text.split_once('-')?;
        let key = SortKey::ALL.into_iter().find(|k| k.as_str() == key)?;
        let descending = match direction {
            "asc" => false,
            "desc" => true,
            _ => return None,
        };
        Some(ListSort { key, descending })
    }

    pub fn as_string(self) -> String {
        format!("{}-{}", self.key.as_str(), if self.descending { "desc" } else { "asc" })
    }

    /// What clicking on `key`'s heading gives: the other direction when the list is already
    /// sorted by it, else that key's natural direction.
    pub fn clicked(self, key: SortKey) -> ListSort {
        if self.key == key {
            ListSort { key, descending: !self.descending }
        } else {
            ListSort { key, descending: key.natural_descending() }
        }
    }
}

/// One page of a folder's list (C2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListWindow {
    pub sort: ListSort,
    /// Only messages without `\Seen`.
    pub unread_only: bool,
    pub offset: u32,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_read_back_what_they_write() {
        for key in SortKey::ALL {
            for descending in [false, true] {
                let sort = ListSort { key, descending };
                assert_eq!(ListSort::parse(&sort.as_string()), Some(sort));
            }
        }
        for bad in ["", "date", "date-up", "colour-asc", "-asc", "date-asc-x"] {
            assert_eq!(ListSort::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_click_turns_the_current_key_around_and_starts_others_naturally() {
        let newest = ListSort::default();
        assert_eq!(newest.clicked(SortKey::Date), ListSort { key: SortKey::Date, descending: false });
        assert_eq!(newest.clicked(SortKey::Subject), ListSort { key: SortKey::Subject, descending: false });
        assert_eq!(newest.clicked(SortKey::Size), ListSort { key: SortKey::Size, descending: true });
    }
}
