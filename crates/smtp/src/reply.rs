//! SMTP replies and their wire form (RFC 5321 §4.2, enhanced codes RFC 2034 / RFC 3463).
//!
//! Handlers build a [`Reply`]; only the session writes bytes.

use std::fmt::Write as _;

/// One reply, possibly on several lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    code: u16,
    /// RFC 2034 §3: every reply carries an enhanced code except the greeting and the replies
    /// to EHLO and HELO.
    enhanced: Option<&'static str>,
    lines: Vec<String>,
}

impl Reply {
    pub(crate) fn new(code: u16, enhanced: &'static str, text: impl Into<String>) -> Reply {
        Reply { code, enhanced: Some(enhanced), lines: vec![text.into()] }
    }

    /// A reply without an enhanced code (greeting, EHLO, HELO).
    pub(crate) fn plain(code: u16, lines: Vec<String>) -> Reply {
        Reply { code, enhanced: None, lines }
    }

    /// 221 (QUIT) and 421 (service closing) end the session (RFC 5321 §3.8, §4.2.2).
    pub(crate) fn closes_connection(&self) -> bool {
        matches!(self.code, 221 | 421)
    }

    /// Appends the reply in wire form: `code-text` on every line but the last, `code text` on
    /// the last (RFC 5321 §4.2.1).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut text = String::new();
        let n_lines = self.lines.len().max(1);
        for idx in 0..n_lines {
            let line = self.lines.get(idx).map_or("", String::as_str);
            let separator = if idx + 1 == n_lines { ' ' } else { '-' };
            let _ = write!(text, "{}{separator}", self.code);
            if let Some(enhanced) = self.enhanced {
                let _ = write!(text, "{enhanced} ");
            }
            // A reply line must never carry a line break of its own.
            text.extend(line.chars().filter(|c| *c != '\r' && *c != '\n'));
            text.push_str("\r\n");
        }
        out.extend_from_slice(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_single_and_multi_line() {
        let mut out = Vec::new();
        Reply::new(250, "2.1.0", "Sender ok").encode(&mut out);
        Reply::plain(250, vec!["mx.example.org".into(), "PIPELINING".into(), "SIZE 5".into()]).encode(&mut out);
        Reply::new(550, "5.1.1", "no\r\nsuch").encode(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "250 2.1.0 Sender ok\r\n250-mx.example.org\r\n250-PIPELINING\r\n250 SIZE 5\r\n550 5.1.1 nosuch\r\n"
        );
    }
}
