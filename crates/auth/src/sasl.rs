//! The SASL PLAIN message (RFC 4616), as IMAP AUTHENTICATE and SMTP AUTH receive it.

/// Why PLAIN credentials are not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainError {
    Malformed,
    /// An authorization identity other than the login (a proxy login).
    OtherIdentity,
}

/// RFC 4616: `[authzid] NUL authcid NUL passwd`, as (login, password). An authorization
/// identity other than the login itself is refused (no proxy logins).
pub fn parse_plain(data: &[u8]) -> Result<(String, String), PlainError> {
    let mut fields = data.split(|&b| b == 0);
    let mut field = || fields.next().ok_or(PlainError::Malformed);
    let authzid = field()?;
    let authcid = std::str::from_utf8(field()?).map_err(|_| PlainError::Malformed)?;
    let password = std::str::from_utf8(field()?).map_err(|_| PlainError::Malformed)?;
    if fields.next().is_some() || authcid.is_empty() {
        return Err(PlainError::Malformed);
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid.as_bytes()) {
        return Err(PlainError::OtherIdentity);
    }
    Ok((authcid.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_credentials() {
        for (data, want) in [
            (&b"\0ana@example.org\0pw pw"[..], Ok(("ana@example.org", "pw pw"))),
            (b"ana@example.org\0ana@example.org\0pw", Ok(("ana@example.org", "pw"))),
            (b"bob@example.org\0ana@example.org\0pw", Err(PlainError::OtherIdentity)),
            (b"\0\0pw", Err(PlainError::Malformed)),
            (b"\0ana", Err(PlainError::Malformed)),
            (b"\0a\0b\0c", Err(PlainError::Malformed)),
        ] {
            let got = parse_plain(data);
            assert_eq!(got.as_ref().map(|(l, p)| (l.as_str(), p.as_str())).map_err(|e| *e), want);
        }
    }
}
