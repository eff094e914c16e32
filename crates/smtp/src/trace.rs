//! The trace fields a final-delivery server prepends (RFC 5321 §4.4): `Return-Path:` with the
//! envelope sender and a `Received:` line saying who handed us the message, when and how.

use std::net::IpAddr;

/// What the `Received:` field records about one transaction.
pub(crate) struct TraceInfo<'a> {
    /// The envelope sender; empty for the null sender.
    pub(crate) sender: &'a str,
    /// The client's EHLO/HELO argument (checked by the codec: no spaces, `;` or controls).
    pub(crate) helo: &'a str,
    pub(crate) peer: IpAddr,
    pub(crate) hostname: &'a str,
    pub(crate) protocol: &'static str,
    pub(crate) id: &'a str,
    pub(crate) date: chrono::DateTime<chrono::Utc>,
}

/// RFC 3848 and RFC 6531 §3.7.3: the `with` keyword of the `Received:` field.
pub(crate) fn protocol_name(extended: bool, tls: bool, smtputf8: bool, authenticated: bool) -> &'static str {
    // RFC 3848 (and RFC 6531 §3.7.3 for UTF8SMTP): S for TLS, A for an authenticated client.
    match (extended, tls, smtputf8, authenticated) {
        (false, _, _, _) => "SMTP",
        (true, false, false, false) => "ESMTP",
        (true, true, false, false) => "ESMTPS",
        (true, false, false, true) => "ESMTPA",
        (true, true, false, true) => "ESMTPSA",
        (true, false, true, false) => "UTF8SMTP",
        (true, true, true, false) => "UTF8SMTPS",
        (true, false, true, true) => "UTF8SMTPA",
        (true, true, true, true) => "UTF8SMTPSA",
    }
}

pub(crate) fn trace_headers(info: &TraceInfo<'_>) -> Vec<u8> {
    // RFC 5321 §4.1.3: an IPv6 address literal is written "IPv6:addr".
    let peer = match info.peer {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => format!("IPv6:{v6}"),
        },
    };
    format!(
        "Return-Path: <{sender}>\r\nReceived: from {helo} ([{peer}])\r\n\tby {host} with {protocol} id {id};\r\n\t{date}\r\n",
        sender = info.sender,
        helo = info.helo,
        host = info.hostname,
        protocol = info.protocol,
        id = info.id,
        date = info.date.to_rfc2822(),
    )
    .into_bytes()
}

/// How many `Received:` fields the header section has: one per server the message went
/// through (RFC 5321 §6.3 counts them to find loops).
pub(crate) fn hop_count(raw: &[u8]) -> usize {
    mail::header::count_fields(raw, b"received")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_received_fields_of_the_header_section_only() {
        let raw = b"Received: from a\r\n\tby b\r\nreceived: x\r\nReceived-SPF: pass\r\nSubject: Received: no\r\n\r\nReceived: body\r\n";
        assert_eq!(hop_count(raw), 2);
        assert_eq!(hop_count(b""), 0);
    }
    use chrono::TimeZone;

    #[test]
    fn writes_return_path_and_received() {
        let date = chrono::Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).single().expect("valid date");
        let info = TraceInfo {
            sender: "x@remote.test",
            helo: "mx.remote.test",
            peer: "::ffff:192.0.2.7".parse().expect("ip"),
            hostname: "mx.example.org",
            protocol: protocol_name(true, true, false, false),
            id: "abc",
            date,
        };
        assert_eq!(
            String::from_utf8(trace_headers(&info)).expect("utf-8"),
            "Return-Path: <x@remote.test>\r\nReceived: from mx.remote.test ([192.0.2.7])\r\n\tby mx.example.org with ESMTPS id abc;\r\n\tWed, 4 Mar 2026 05:06:07 +0000\r\n"
        );
        let info = TraceInfo { sender: "", peer: "2001:db8::1".parse().expect("ip"), protocol: "SMTP", ..info };
        let text = String::from_utf8(trace_headers(&info)).expect("utf-8");
        assert!(text.starts_with("Return-Path: <>\r\nReceived: from mx.remote.test ([IPv6:2001:db8::1])\r\n\tby mx.example.org with SMTP id"), "{text}");
    }
}
