//! IMAP strings (RFC 9051 §4.3), the one encoding ENVELOPE and BODYSTRUCTURE are written in.

/// Appends `bytes` as an IMAP string: quoted when every byte is printable ASCII (quoted strings
/// cannot hold CR, LF, NUL or 8-bit bytes), a literal otherwise.
pub fn push_string(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 1024 && bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        push_quoted(out, bytes);
    } else {
        push_literal(out, bytes);
    }
}

/// Appends `bytes` between double quotes, `"` and `\` escaped; the caller has checked that a
/// quoted string may hold them.
pub fn push_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// Appends `{N}\r\n` and the bytes, untouched.
pub fn push_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// `NIL` or a string.
pub fn push_nstring(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        Some(bytes) => push_string(out, bytes),
        None => out.extend_from_slice(b"NIL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_or_literal() {
        for (input, want) in [
            (&b"plain"[..], &b"\"plain\""[..]),
            (b"", b"\"\""),
            (b"say \"hi\" \\o/", b"\"say \\\"hi\\\" \\\\o/\""),
            (b"two\r\nlines", b"{10}\r\ntwo\r\nlines"),
            ("caf\u{e9}".as_bytes(), b"{5}\r\ncaf\xc3\xa9"),
            (b"nul\0", b"{4}\r\nnul\0"),
        ] {
            let mut out = Vec::new();
            push_string(&mut out, input);
            assert_eq!(out, want, "{}", String::from_utf8_lossy(input));
        }
    }
}
