//! Validated mail addresses. Parsing happens once, at the edge (SMTP, admin, web); the layers
//! below take an [`Address`] and never re-check.

use std::fmt;

/// Why a text is not a valid address or domain. Its text is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAddress {
    /// "address" or "domain".
    pub what: &'static str,
    pub why: String,
}

impl fmt::Display for InvalidAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.what, self.why)
    }
}

impl std::error::Error for InvalidAddress {}

type Result<T> = std::result::Result<T, InvalidAddress>;

fn invalid(what: &'static str, why: String) -> InvalidAddress {
    InvalidAddress { what, why }
}

/// A mail address split into a lowercase local part and a lowercase ASCII domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Address {
    pub local: String,
    pub domain: String,
}

impl Address {
    /// The local part without a `+suffix` (A9), if it has one.
    pub fn without_plus_suffix(&self) -> Option<Address> {
        let (base, _suffix) = self.local.split_once('+')?;
        if base.is_empty() {
            return None;
        }
        Some(Address { local: base.to_string(), domain: self.domain.clone() })
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

/// Parses `local@domain`. The local part is a dot-atom (RFC 5322 §3.2.3) that may hold UTF-8
/// (RFC 6531); the domain must be ASCII (IDNs are given in their punycode form).
pub fn parse_address(text: &str) -> Result<Address> {
    let text = text.trim();
    let (local, domain) = text.rsplit_once('@').ok_or_else(|| invalid("address", format!("{text:?} has no @")))?;
    let local = unquoted(local);
    validate_local_part(&local).map_err(|why| invalid("address", format!("{text:?}: {why}")))?;
    let domain = parse_domain(domain)?;
    Ok(Address { local: local.to_lowercase(), domain })
}

/// RFC 5321 §4.1.2: a quoted local part that needs no quoting ("bob") is the same address as
/// the unquoted one. Quoted parts that do need it (spaces, `@`...) keep what needed quoting and
/// are refused by the dot-atom check: no mailbox here has such a name.
fn unquoted(local: &str) -> std::borrow::Cow<'_, str> {
    let Some(inner) = local.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else { return local.into() };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            // RFC 5321 quoted-pairSMTP: a backslash quotes the next character.
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out.into()
}

/// Validates and lowercases a domain name.
pub fn parse_domain(text: &str) -> Result<String> {
    let domain = text.trim().trim_end_matches('.').to_ascii_lowercase();
    let bad = |why: &str| invalid("domain", format!("{text:?}: {why}"));
    if domain.is_empty() || domain.len() > 253 {
        return Err(bad("must be 1 to 253 characters"));
    }
    for label in domain.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(bad("each label must be 1 to 63 characters"));
        }
        if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(bad("only letters, digits and '-' are allowed (use punycode for IDNs)"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(bad("a label cannot start or end with '-'"));
        }
    }
    Ok(domain)
}

fn validate_local_part(local: &str) -> std::result::Result<(), &'static str> {
    if local.is_empty() {
        return Err("the local part is empty");
    }
    if local.len() > 64 {
        return Err("the local part is longer than 64 bytes");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err("misplaced dot in the local part");
    }
    // RFC 5322 atext, plus UTF-8 (RFC 6531).
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c) || !c.is_ascii();
    if !local.chars().all(allowed) || local.chars().any(char::is_control) {
        return Err("the local part has a character that is not allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        for (input, want) in [
            ("Ana@Example.ORG", Some("ana@example.org")),
            (" bob+news@example.org ", Some("bob+news@example.org")),
            ("élise@example.org", Some("élise@example.org")),
            ("no-at-sign", None),
            ("@example.org", None),
            ("a..b@example.org", None),
            ("a@exa mple.org", None),
            ("a@-example.org", None),
            ("a b@example.org", None),
            ("a@", None),
            // Issue 12: a quoted local part that needs no quoting is the plain address.
            ("\"bob\"@example.org", Some("bob@example.org")),
            ("\"b\\ob\"@example.org", Some("bob@example.org")),
            ("\"two words\"@example.org", None),
        ] {
            let got = parse_address(input).ok().map(|a| a.to_string());
            assert_eq!(got.as_deref(), want, "{input}");
        }
    }

    #[test]
    fn plus_suffix() {
        let a = parse_address("bob+news@example.org").unwrap();
        assert_eq!(a.without_plus_suffix().unwrap().to_string(), "bob@example.org");
        assert!(parse_address("+x@example.org").unwrap().without_plus_suffix().is_none());
    }
}
