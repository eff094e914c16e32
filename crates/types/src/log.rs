//! Client-supplied text on its way into the log.

/// How much of a client-supplied string (a login name, an ID value) goes into the log.
const MAX_LOGGED_CHARS: usize = 64;

/// A client-supplied string as it may go into the log, to be logged with `?`: at most
/// [`MAX_LOGGED_CHARS`] characters, so a client cannot fill the log, and Debug-escaped by `?`,
/// so CR, LF or escape sequences cannot forge log lines.
pub fn loggable(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX_LOGGED_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review finding: login names and ID values went to the log unbounded and unescaped.
    #[test]
    fn client_strings_are_truncated_and_escaped_for_the_log() {
        let long = "é".repeat(100);
        for (input, want) in [
            ("ana@example.org", "\"ana@example.org\""),
            ("ana\r\nFAKE log line", "\"ana\\r\\nFAKE log line\""),
            (long.as_str(), &format!("{:?}", format!("{}…", "é".repeat(MAX_LOGGED_CHARS)))),
        ] {
            assert_eq!(format!("{:?}", loggable(input.as_bytes())), want);
        }
        assert_eq!(format!("{:?}", loggable(b"\xff")), "\"\u{fffd}\"");
    }
}
