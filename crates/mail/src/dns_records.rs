//! The DNS records a domain publishes so that mail reaches Facteur and clients find it (A1,
//! K6): printed by `facteur admin domain dns`, later shown and checked on the domain's page.

/// One record, in zone-file terms, with why it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// Fully qualified, with its final dot.
    pub name: String,
    pub kind: &'static str,
    pub value: String,
    pub purpose: Purpose,
}

/// What a record is for: the administration's DNS page says it in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    Mx,
    Spf,
    Dkim,
    Dmarc,
    Submissions,
    Submission,
    Imaps,
    Imap,
    NoPop3,
    Autoconfig,
    Autodiscover,
}

impl Purpose {
    /// Why the record is there, in English (the zone file's comments).
    pub fn why(self) -> &'static str {
        match self {
            Purpose::Mx => "mail for the domain comes to this server",
            Purpose::Spf => "SPF: only the MX host sends the domain's mail",
            Purpose::Dkim => "DKIM: the key that signs the domain's outgoing mail",
            Purpose::Dmarc => "DMARC: mail failing SPF and DKIM is quarantined, reports to postmaster",
            Purpose::Submissions => "sending, TLS (RFC 8314)",
            Purpose::Submission => "sending, STARTTLS",
            Purpose::Imaps => "reading, TLS",
            Purpose::Imap => "reading, STARTTLS",
            Purpose::NoPop3 => "no POP3 yet",
            Purpose::Autoconfig => "Thunderbird finds its settings here (K6)",
            Purpose::Autodiscover => "Outlook finds its settings here (K6)",
        }
    }
}

/// A domain's DKIM public key record: its selector and the TXT text (`v=DKIM1; k=rsa; p=...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimRecord {
    pub selector: String,
    pub text: String,
}

/// The records for `domain` served by the host `mail_host` (the name in its certificate), with
/// its DKIM key's when it has one.
pub fn dns_records(domain: &str, mail_host: &str, dkim: Option<&DkimRecord>) -> Vec<DnsRecord> {
    let record = |name: String, kind, value: String, purpose| DnsRecord { name, kind, value, purpose };
    let srv = |service: &str, port: u16, purpose| {
        record(format!("_{service}._tcp.{domain}."), "SRV", format!("0 1 {port} {mail_host}."), purpose)
    };
    let mut records = vec![
        record(format!("{domain}."), "MX", format!("10 {mail_host}."), Purpose::Mx),
        record(format!("{domain}."), "TXT", "\"v=spf1 mx -all\"".to_string(), Purpose::Spf),
        record(
            format!("_dmarc.{domain}."),
            "TXT",
            format!("\"v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}\""),
            Purpose::Dmarc,
        ),
        // RFC 6186 and RFC 8314: how mail programs find the servers.
        srv("submissions", 465, Purpose::Submissions),
        srv("submission", 587, Purpose::Submission),
        srv("imaps", 993, Purpose::Imaps),
        srv("imap", 143, Purpose::Imap),
        // RFC 6186 §3.4: "." says the service is not offered.
        record(format!("_pop3s._tcp.{domain}."), "SRV", "0 0 0 .".to_string(), Purpose::NoPop3),
        // K6: the names mail programs ask for their settings, served by this host's HTTPS.
        record(format!("autoconfig.{domain}."), "CNAME", format!("{mail_host}."), Purpose::Autoconfig),
        record(format!("autodiscover.{domain}."), "CNAME", format!("{mail_host}."), Purpose::Autodiscover),
    ];
    if let Some(dkim) = dkim {
        records.insert(
            2,
            record(format!("{}._domainkey.{domain}.", dkim.selector), "TXT", quoted_strings(&dkim.text), Purpose::Dkim),
        );
    }
    records
}

/// A TXT value as quoted strings of at most 255 characters each (RFC 1035 §3.3: a longer
/// text, like an RSA key, is split; receivers join the pieces).
fn quoted_strings(text: &str) -> String {
    let pieces: Vec<String> =
        text.as_bytes().chunks(255).map(|piece| format!("\"{}\"", String::from_utf8_lossy(piece))).collect();
    pieces.join(" ")
}

/// The records as zone-file lines, each after a comment saying why.
pub fn zone_lines(records: &[DnsRecord]) -> String {
    let mut out = String::new();
    for record in records {
        out.push_str(&format!(
            "; {}\n{}\t3600\tIN\t{}\t{}\n",
            record.purpose.why(),
            record.name,
            record.kind,
            record.value
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_for_a_domain() {
        let dkim =
            DkimRecord { selector: "facteur202612".into(), text: format!("v=DKIM1; k=rsa; p={}", "A".repeat(392)) };
        let records = dns_records("example.org", "mail.example.org", Some(&dkim));
        let zone = zone_lines(&records);
        assert!(zone.contains("example.org.\t3600\tIN\tMX\t10 mail.example.org.\n"), "{zone}");
        assert!(zone.contains("example.org.\t3600\tIN\tTXT\t\"v=spf1 mx -all\"\n"), "{zone}");
        assert!(zone.contains("_dmarc.example.org.\t3600\tIN\tTXT\t\"v=DMARC1; p=quarantine;"), "{zone}");
        assert!(zone.contains("_submissions._tcp.example.org.\t3600\tIN\tSRV\t0 1 465 mail.example.org.\n"), "{zone}");
        assert!(zone.contains("_pop3s._tcp.example.org.\t3600\tIN\tSRV\t0 0 0 .\n"), "{zone}");
        let dkim_line = zone
            .lines()
            .find(|l| l.starts_with("facteur202612._domainkey.example.org.\t3600\tIN\tTXT\t\"v=DKIM1; k=rsa; p=AAA"));
        let value = dkim_line.expect("the DKIM record").rsplit('\t').next().expect("a value");
        let pieces: Vec<&str> = value.trim_matches('"').split("\" \"").collect();
        assert_eq!(pieces.len(), 2, "split in quoted strings of 255 at most: {value}");
        assert!(pieces.iter().all(|p| p.len() <= 255) && pieces.concat().len() == 18 + 392, "{value}");
        assert_eq!(zone.lines().filter(|l| l.starts_with("; ")).count(), records.len());
    }
}
