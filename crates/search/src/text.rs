//! Words as the index sees them: text cut at every character that is neither a letter, a
//! digit nor a combining mark, each character lower-cased and folded (accents off, `œ` as
//! `oe`), so `Été` and `ete` are the same word and `ana@example.org` is three words.
//!
//! Folding works one character at a time on purpose: the word of a piece of text is then the
//! concatenation of its characters' foldings, so when a string occurs in a text, its words occur
//! in the text's words (the inner ones whole, the first as the end of a word, the last as the
//! start of one). That is what lets the index narrow down IMAP's substring SEARCH without
//! changing its results ([`needle_pieces`]).

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Words longer than this (in bytes, folded) are left out of the index: base64 runs and
/// signatures would fill its dictionary. A message that had one is marked, so a substring
/// search still reads it.
pub const MAX_WORD_BYTES: usize = 64;

/// One word of a text: where it is (byte offsets in the text) and its folded form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub from: usize,
    pub to: usize,
    pub folded: String,
}

/// Appends the folding of `c` to `out`; false (and nothing appended) when `c` separates words.
fn fold_into(c: char, out: &mut String) -> bool {
    if c.is_ascii() {
        let keep = c.is_ascii_alphanumeric();
        if keep {
            out.push(c.to_ascii_lowercase());
        }
        return keep;
    }
    let mut any = false;
    for lower in c.to_lowercase() {
        if !(lower.is_alphanumeric() || is_combining_mark(lower)) {
            continue;
        }
        any = true;
        match lower {
            // Final sigma: `to_lowercase` of a whole string picks it by context, a character
            // alone cannot, so both are one letter here.
            'ς' => out.push('σ'),
            'œ' => out.push_str("oe"),
            'æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            'ø' => out.push('o'),
            'đ' => out.push('d'),
            'ł' => out.push('l'),
            _ if lower.is_ascii() => out.push(lower),
            _ => out.extend(std::iter::once(lower).nfd().filter(|c| !is_combining_mark(*c))),
        }
    }
    any
}

/// The words of `text`, in order.
pub fn words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut folded = String::new();
    let mut from = None;
    let mut to = 0;
    let mut end_word = |from: usize, to: usize, folded: &mut String| {
        // A word of combining marks alone folds to nothing.
        if !folded.is_empty() {
            words.push(Word { from, to, folded: std::mem::take(folded) });
        }
    };
    for (at, c) in text.char_indices() {
        if fold_into(c, &mut folded) {
            from.get_or_insert(at);
            to = at + c.len_utf8();
        } else if let Some(start) = from.take() {
            end_word(start, to, &mut folded);
        }
    }
    if let Some(start) = from {
        end_word(start, to, &mut folded);
    }
    words
}

/// Folds one word as the index does (a query's word, typed by someone).
pub fn fold(word: &str) -> String {
    words(word).into_iter().map(|w| w.folded).collect::<Vec<_>>().join("")
}

/// What a word of a searched string says about the words of a text that contains the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Cut on both sides within the string: the text has this word.
    Whole(String),
    /// At the string's end: the text has a word that starts so.
    Start(String),
    /// At the string's start: the text has a word that ends so.
    End(String),
    /// The string is this one word: the text has a word that contains it.
    Inside(String),
}

/// The pieces every text containing `needle` (as a substring, both lower-cased) has: a text
/// without one of them cannot contain the needle. Empty when the needle has no word.
pub fn needle_pieces(needle: &str) -> Vec<Piece> {
    let words = words(needle);
    let n = words.len();
    words
        .into_iter()
        .enumerate()
        .map(|(i, word)| {
            // A word that touches an end of the needle may run on in the text.
            let open_before = i == 0 && word.from == 0;
            let open_after = i + 1 == n && word.to == needle.len();
            match (open_before, open_after) {
                (true, true) => Piece::Inside(word.folded),
                (true, false) => Piece::End(word.folded),
                (false, true) => Piece::Start(word.folded),
                (false, false) => Piece::Whole(word.folded),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.folded).collect()
    }

    #[test]
    fn words_are_cut_at_punctuation_and_folded() {
        assert_eq!(folded("Été à l'Hôtel-Dieu"), ["ete", "a", "l", "hotel", "dieu"]);
        assert_eq!(
            folded("ana@Example.org, https://x.fr/a?b=1"),
            ["ana", "example", "org", "https", "x", "fr", "a", "b", "1"]
        );
        assert_eq!(folded("cœur STRAẞE ΟΔΟΣ"), ["coeur", "strasse", "οδοσ"]);
        // A decomposed accent stays in its word and folds away.
        assert_eq!(folded("cafe\u{301} noir"), ["cafe", "noir"]);
        assert_eq!(fold("Éléphant"), "elephant");
        let word = &words("  hello")[0];
        assert_eq!((word.from, word.to), (2, 7));
    }

    #[test]
    fn a_needle_says_what_words_a_text_must_have() {
        use Piece::*;
        assert_eq!(needle_pieces("voit"), [Inside("voit".into())]);
        assert_eq!(
            needle_pieces("se voit à la"),
            [End("se".into()), Whole("voit".into()), Whole("a".into()), Start("la".into())]
        );
        assert_eq!(needle_pieces(" voit "), [Whole("voit".into())]);
        assert_eq!(needle_pieces("@example."), [Whole("example".into())]);
        assert_eq!(needle_pieces(" ,;"), []);
    }

    /// The promise the index relies on: for every substring of a text, each piece of it is
    /// found among the text's words as the piece says.
    #[test]
    fn every_substring_pieces_hold_in_the_text() {
        let text = "on se voit à la plage, rendez-vous à l'Hôtel ΣΟΦΟΣ n°42 cœur ana@example.org";
        let lower = text.to_lowercase();
        let text_words = folded(text);
        let bounds: Vec<usize> = lower.char_indices().map(|(i, _)| i).chain([lower.len()]).collect();
        for (a, &from) in bounds.iter().enumerate() {
            for &to in &bounds[a..] {
                for piece in needle_pieces(&lower[from..to]) {
                    let held = match &piece {
                        Piece::Whole(w) => text_words.iter().any(|t| t == w),
                        Piece::Start(w) => text_words.iter().any(|t| t.starts_with(w.as_str())),
                        Piece::End(w) => text_words.iter().any(|t| t.ends_with(w.as_str())),
                        Piece::Inside(w) => text_words.iter().any(|t| t.contains(w.as_str())),
                    };
                    assert!(held, "{piece:?} of {:?}", &lower[from..to]);
                }
            }
        }
    }
}
