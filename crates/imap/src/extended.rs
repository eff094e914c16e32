//! Command syntax of extensions that imap-codec does not parse yet, lifted off a command's bytes
//! before imap-codec parses the rest as the base command:
//! - ESEARCH (RFC 4731): `SEARCH RETURN (MIN MAX COUNT ALL) criteria`, and ESORT (RFC 5267):
//!   the same `RETURN (...)` on SORT;
//! - CREATE-SPECIAL-USE (RFC 6154 §3): `CREATE name (USE (\Sent))`;
//! - LIST-EXTENDED (RFC 5258) with SPECIAL-USE (RFC 6154 §5.1) and LIST-STATUS (RFC 5819):
//!   `LIST (selection options) reference (pattern pattern...) RETURN (return options)`.
//!
//! Written by hand because imap-codec 2.0.0-alpha has neither (its `ext_list_extended` is
//! marked unfinished and SEARCH has no RETURN); when it gains them this module goes away. The
//! lifting is conservative: anything it does not recognise is left in place, so imap-codec
//! answers it as a syntax error exactly as before.
//!
//! Pure, like `framing`: bytes in, bytes and options out.

use std::ops::Range;

/// What was lifted off a command, for the handler to act on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Extras {
    /// `SEARCH RETURN (...)` or `SORT RETURN (...)`: the result options; an empty list means
    /// ALL (RFC 4731 §3.1, RFC 5267 §3.2).
    pub(crate) search_return: Option<Vec<SearchReturn>>,
    /// The options of an extended LIST, when it was one (boxed: every parsed command carries
    /// an `Extras`, few carry these).
    pub(crate) list: Option<Box<ListOptions>>,
    /// `CREATE name (USE (...))`: the special uses asked for, as written.
    pub(crate) create_use: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchReturn {
    Min,
    Max,
    All,
    Count,
}

/// RFC 5258 §3 selection and return options, and RFC 5819's STATUS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ListOptions {
    pub(crate) select_subscribed: bool,
    pub(crate) select_special_use: bool,
    pub(crate) recursive_match: bool,
    pub(crate) return_subscribed: bool,
    pub(crate) return_special_use: bool,
    /// `RETURN (STATUS (...))`: the status items, as written (upper-cased).
    pub(crate) return_status: Option<Vec<String>>,
    /// Every pattern, decoded, when the command gave several in parentheses; the command
    /// handed to imap-codec keeps the first.
    pub(crate) patterns: Vec<Vec<u8>>,
}

/// A command's bytes with the extension syntax removed, and what it said.
#[derive(Debug)]
pub(crate) struct Lifted {
    pub(crate) bytes: Vec<u8>,
    pub(crate) extras: Extras,
}

/// Lifts the extension syntax off `command` (a whole command: its lines and literals). `None`
/// when there is nothing to lift (the usual case), or when the syntax is not as expected.
pub(crate) fn lift(command: &[u8]) -> Option<Lifted> {
    let mut cursor = Cursor { bytes: command, at: 0 };
    cursor.atom()?; // tag
    cursor.space()?;
    let mut name = cursor.atom()?;
    if name.eq_ignore_ascii_case(b"UID") {
        cursor.space()?;
        name = cursor.atom()?;
    }
    cursor.space()?;
    if name.eq_ignore_ascii_case(b"SEARCH") || name.eq_ignore_ascii_case(b"SORT") {
        lift_search(cursor)
    } else if name.eq_ignore_ascii_case(b"LIST") {
        lift_list(cursor)
    } else if name.eq_ignore_ascii_case(b"CREATE") {
        lift_create(cursor)
    } else {
        None
    }
}

/// `SEARCH RETURN (options) criteria` (or SORT's): the `RETURN (...) ` is cut out.
fn lift_search(mut cursor: Cursor<'_>) -> Option<Lifted> {
    let start = cursor.at;
    if !cursor.keyword(b"RETURN") {
        return None;
    }
    cursor.space()?;
    let group = cursor.group()?;
    cursor.space()?;
    let mut options = Vec::new();
    for word in words(&cursor.bytes[group.start + 1..group.end - 1]) {
        options.push(match word.to_ascii_uppercase().as_slice() {
            b"MIN" => SearchReturn::Min,
            b"MAX" => SearchReturn::Max,
            b"ALL" => SearchReturn::All,
            b"COUNT" => SearchReturn::Count,
            _ => return None,
        });
    }
    let mut bytes = cursor.bytes[..start].to_vec();
    bytes.extend_from_slice(&cursor.bytes[cursor.at..]);
    Some(Lifted { bytes, extras: Extras { search_return: Some(options), ..Extras::default() } })
}

/// `CREATE name (USE (attributes))`: the parameter list is cut out.
fn lift_create(mut cursor: Cursor<'_>) -> Option<Lifted> {
    cursor.string()?;
    let name_end = cursor.at;
    cursor.space()?;
    let group = cursor.group()?;
    if !cursor.at_line_end() {
        return None;
    }
    let mut inner = Cursor { bytes: &cursor.bytes[group.start + 1..group.end - 1], at: 0 };
    if !inner.keyword(b"USE") {
        return None;
    }
    inner.space()?;
    let attributes = inner.group()?;
    if inner.at != inner.bytes.len() {
        return None;
    }
    let uses = words(&inner.bytes[attributes.start + 1..attributes.end - 1])
        .map(|word| String::from_utf8_lossy(word).into_owned())
        .collect();
    let mut bytes = cursor.bytes[..name_end].to_vec();
    bytes.extend_from_slice(b"\r\n");
    Some(Lifted { bytes, extras: Extras { create_use: Some(uses), ..Extras::default() } })
}

/// `LIST [(selection)] reference pattern-or-patterns [RETURN (options)]`, rewritten as the
/// base `LIST reference pattern`. Only lifted when something extended is there.
fn lift_list(mut cursor: Cursor<'_>) -> Option<Lifted> {
    let command_start = cursor.at;
    let mut options = ListOptions::default();
    let mut extended = false;
    if cursor.peek() == Some(b'(') {
        let group = cursor.group()?;
        cursor.space()?;
        for word in words(&cursor.bytes[group.start + 1..group.end - 1]) {
            match word.to_ascii_uppercase().as_slice() {
                b"SUBSCRIBED" => options.select_subscribed = true,
                b"SPECIAL-USE" => options.select_special_use = true,
                b"RECURSIVEMATCH" => options.recursive_match = true,
                // RFC 5258 §3.1: REMOTE lists remote folders too; there are none.
                b"REMOTE" => {}
                _ => return None,
            }
        }
        extended = true;
    }
    let reference = cursor.string()?;
    cursor.space()?;
    let first_pattern;
    if cursor.peek() == Some(b'(') {
        cursor.at += 1;
        let mut spans = vec![cursor.string()?];
        while cursor.peek() == Some(b' ') {
            cursor.at += 1;
            spans.push(cursor.string()?);
        }
        if cursor.peek() != Some(b')') {
            return None;
        }
        cursor.at += 1;
        first_pattern = spans[0].clone();
        options.patterns =
            spans.iter().map(|span| decode_string(&cursor.bytes[span.clone()])).collect::<Option<_>>()?;
        extended = true;
    } else {
        first_pattern = cursor.string()?;
    }
    if cursor.peek() == Some(b' ') {
        cursor.at += 1;
        if !cursor.keyword(b"RETURN") {
            return None;
        }
        cursor.space()?;
        let group = cursor.group()?;
        parse_return_options(&cursor.bytes[group.start + 1..group.end - 1], &mut options)?;
        extended = true;
    }
    if !cursor.at_line_end() {
        return None;
    }
    // RFC 5258 §3.1: RECURSIVEMATCH alone is a syntax error.
    if !extended || (options.recursive_match && !options.select_subscribed && !options.select_special_use) {
        return None;
    }
    let mut bytes = cursor.bytes[..command_start].to_vec();
    bytes.extend_from_slice(&cursor.bytes[reference]);
    bytes.push(b' ');
    bytes.extend_from_slice(&cursor.bytes[first_pattern]);
    bytes.extend_from_slice(b"\r\n");
    Some(Lifted { bytes, extras: Extras { list: Some(Box::new(options)), ..Extras::default() } })
}

fn parse_return_options(group: &[u8], options: &mut ListOptions) -> Option<()> {
    let mut cursor = Cursor { bytes: group, at: 0 };
    while cursor.at < group.len() {
        let word = cursor.atom()?.to_ascii_uppercase();
        match word.as_slice() {
            b"SUBSCRIBED" => options.return_subscribed = true,
            b"SPECIAL-USE" => options.return_special_use = true,
            // Children attributes are always returned.
            b"CHILDREN" => {}
            b"STATUS" => {
                cursor.space()?;
                let items = cursor.group()?;
                let items = words(&group[items.start + 1..items.end - 1])
                    .map(|item| String::from_utf8_lossy(item).to_ascii_uppercase())
                    .collect::<Vec<_>>();
                if items.is_empty() {
                    return None;
                }
                options.return_status = Some(items);
            }
            _ => return None,
        }
        if cursor.at < group.len() {
            cursor.space()?;
        }
    }
    Some(())
}

/// The words of a parenthesised list of atoms.
fn words(inner: &[u8]) -> impl Iterator<Item = &[u8]> {
    inner.split(|&b| b == b' ').filter(|word| !word.is_empty())
}

/// The value of a string as written: an atom, a quoted string or a literal.
fn decode_string(written: &[u8]) -> Option<Vec<u8>> {
    match written.first()? {
        b'"' => {
            let mut value = Vec::new();
            let mut escaped = false;
            for &b in &written[1..written.len() - 1] {
                if escaped || b != b'\\' {
                    value.push(b);
                    escaped = false;
                } else {
                    escaped = true;
                }
            }
            Some(value)
        }
        b'{' | b'~' => {
            let newline = written.iter().position(|&b| b == b'\n')?;
            Some(written[newline + 1..].to_vec())
        }
        _ => Some(written.to_vec()),
    }
}

/// A position in a command's bytes.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Whether only the command's line end is left.
    fn at_line_end(&self) -> bool {
        matches!(&self.bytes[self.at..], b"\r\n" | b"\n")
    }

    fn space(&mut self) -> Option<()> {
        (self.peek() == Some(b' ')).then(|| self.at += 1)
    }

    /// Bytes up to the next space, parenthesis, quote, brace or line end (atoms with the list
    /// wildcards and `]`, as LIST patterns and tags have them).
    fn atom(&mut self) -> Option<&'a [u8]> {
        let start = self.at;
        while let Some(b) = self.peek() {
            if b <= b' ' || matches!(b, b'(' | b')' | b'{' | b'"' | 0x7f) {
                break;
            }
            self.at += 1;
        }
        (self.at > start).then(|| &self.bytes[start..self.at])
    }

    /// `word` (case-insensitively) followed by a space, consumed only if it is there.
    fn keyword(&mut self, word: &[u8]) -> bool {
        let end = self.at + word.len();
        let found = self.bytes.get(self.at..end).is_some_and(|w| w.eq_ignore_ascii_case(word))
            && self.bytes.get(end) == Some(&b' ');
        if found {
            self.at = end;
        }
        found
    }

    /// An atom, a quoted string or a literal (`{N}`, `{N+}`, `~{N}` with CRLF and N bytes):
    /// its span as written.
    fn string(&mut self) -> Option<Range<usize>> {
        let start = self.at;
        match self.peek()? {
            b'"' => {
                self.at += 1;
                loop {
                    match self.peek()? {
                        b'\\' => self.at += 2,
                        b'"' => {
                            self.at += 1;
                            break;
                        }
                        b'\r' | b'\n' => return None,
                        _ => self.at += 1,
                    }
                }
            }
            b'{' | b'~' => {
                let close = self.bytes[self.at..].iter().position(|&b| b == b'}')? + self.at;
                let digits = &self.bytes[self.at..close];
                let digits = digits.strip_prefix(b"~").unwrap_or(digits);
                let digits = digits.strip_prefix(b"{")?;
                let digits = digits.strip_suffix(b"+").unwrap_or(digits);
                let length: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                let body = close + 1 + if self.bytes.get(close + 1) == Some(&b'\r') { 2 } else { 1 };
                self.at = body.checked_add(length).filter(|&end| end <= self.bytes.len())?;
            }
            _ => {
                self.atom()?;
            }
        }
        Some(start..self.at)
    }

    /// A parenthesised group, nested groups and quoted strings inside: its span with the
    /// parentheses.
    fn group(&mut self) -> Option<Range<usize>> {
        let start = self.at;
        if self.peek()? != b'(' {
            return None;
        }
        self.at += 1;
        let mut depth = 1;
        while depth > 0 {
            match self.peek()? {
                b'(' => {
                    depth += 1;
                    self.at += 1;
                }
                b')' => {
                    depth -= 1;
                    self.at += 1;
                }
                b'"' | b'{' | b'~' => {
                    self.string()?;
                }
                b'\r' | b'\n' => return None,
                _ => self.at += 1,
            }
        }
        Some(start..self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lifted(command: &str) -> Option<(String, Extras)> {
        lift(command.as_bytes()).map(|l| (String::from_utf8(l.bytes).unwrap(), l.extras))
    }

    #[test]
    fn plain_commands_are_left_alone() {
        for command in [
            "a SEARCH UNSEEN\r\n",
            "a UID SEARCH 1:* RETURN\r\n",
            "a LIST \"\" *\r\n",
            "a LIST \"\" \"Archive/%\"\r\n",
            "a FETCH 1 RETURN\r\n",
            "a SEARCH RETURN (BOGUS) ALL\r\n",
            "a LIST (RECURSIVEMATCH) \"\" *\r\n",
        ] {
            assert!(lifted(command).is_none(), "{command}");
        }
    }

    #[test]
    fn search_return_options() {
        let (bytes, extras) = lifted("a UID search return (min COUNT) CHARSET UTF-8 UNSEEN\r\n").unwrap();
        assert_eq!(bytes, "a UID search CHARSET UTF-8 UNSEEN\r\n");
        assert_eq!(extras.search_return, Some(vec![SearchReturn::Min, SearchReturn::Count]));
        let (bytes, extras) = lifted("t SEARCH RETURN () ALL\r\n").unwrap();
        assert_eq!(bytes, "t SEARCH ALL\r\n");
        assert_eq!(extras.search_return, Some(vec![]));
    }

    #[test]
    fn sort_return_options() {
        let (bytes, extras) = lifted("a UID SORT RETURN (MAX) (ARRIVAL) UTF-8 ALL\r\n").unwrap();
        assert_eq!(bytes, "a UID SORT (ARRIVAL) UTF-8 ALL\r\n");
        assert_eq!(extras.search_return, Some(vec![SearchReturn::Max]));
    }

    #[test]
    fn create_special_use() {
        let (bytes, extras) = lifted("a CREATE \"Mes envois\" (USE (\\Sent \\Archive))\r\n").unwrap();
        assert_eq!(bytes, "a CREATE \"Mes envois\"\r\n");
        assert_eq!(extras.create_use, Some(vec!["\\Sent".to_string(), "\\Archive".to_string()]));
        let (bytes, extras) = lifted("b create {3}\r\nabc (use ())\r\n").unwrap();
        assert_eq!(bytes, "b create {3}\r\nabc\r\n");
        assert_eq!(extras.create_use, Some(vec![]));
        for odd in ["c CREATE x (FOO (\\Sent))\r\n", "c CREATE x (USE (\\Sent)) y\r\n", "c CREATE x\r\n"] {
            assert!(lifted(odd).is_none(), "{odd}");
        }
    }

    #[test]
    fn extended_list() {
        let (bytes, extras) =
            lifted("a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (\"INBOX\" {4}\r\nSe%t %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN))\r\n")
                .unwrap();
        assert_eq!(bytes, "a LIST \"\" \"INBOX\"\r\n");
        let list = extras.list.unwrap();
        assert!(list.select_subscribed && list.recursive_match && !list.select_special_use);
        assert_eq!(list.patterns, vec![b"INBOX".to_vec(), b"Se%t".to_vec(), b"%".to_vec()]);
        assert_eq!(list.return_status, Some(vec!["MESSAGES".to_string(), "UNSEEN".to_string()]));

        let (bytes, extras) = lifted("b list \"\" \"*\" return (special-use subscribed)\r\n").unwrap();
        assert_eq!(bytes, "b list \"\" \"*\"\r\n");
        let list = extras.list.unwrap();
        assert!(list.return_special_use && list.return_subscribed && list.patterns.is_empty());
    }

    #[test]
    fn truncated_or_odd_input_never_panics() {
        let command = b"a LIST (SUBSCRIBED) \"x\\\"\" (\"a\" {3+}\r\nabc) RETURN (STATUS (MESSAGES))\r\n";
        for end in 0..command.len() {
            let _ = lift(&command[..end]);
        }
        assert!(lift(b"a LIST \"\" {99}\r\nab) RETURN (CHILDREN)\r\n").is_none());
    }
}
