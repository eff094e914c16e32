//! A domain's DNS checked against what it should publish (A1, K6): each record of
//! `mail::dns_records` gets a [`Verdict`], for the administration's DNS page. Lookups go to
//! the resolver the server uses for everything else (the system's, or `--dns-server`, which
//! tests point at a stub on loopback), all at once, each bounded in time.

use std::time::Duration;

use hickory_resolver::proto::rr::{RData, RecordType};
use mail::dns_records::DnsRecord;

use crate::route::TokioResolver;

/// How long one lookup may take before its record is "could not check".
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// What the DNS says of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Published as it should be.
    Published,
    /// Nothing published under that name and type.
    Missing,
    /// Nothing published, and nothing needs it (a service said not to be offered).
    NotNeeded,
    /// Something else is published: what was found, as the records read.
    Different(Vec<String>),
    /// The lookup failed (no answer in time, a server failure): the reason.
    Unknown(String),
}

/// The verdict on each record, in order.
pub async fn check(resolver: &TokioResolver, records: &[DnsRecord]) -> Vec<Verdict> {
    let mut lookups = tokio::task::JoinSet::new();
    for (index, record) in records.iter().enumerate() {
        let (resolver, record) = (resolver.clone(), record.clone());
        lookups.spawn(async move { (index, check_one(&resolver, &record).await) });
    }
    let mut verdicts = vec![Verdict::Unknown("not checked".into()); records.len()];
    while let Some(done) = lookups.join_next().await {
        if let Ok((index, verdict)) = done {
            verdicts[index] = verdict;
        }
    }
    verdicts
}

async fn check_one(resolver: &TokioResolver, record: &DnsRecord) -> Verdict {
    let kind = match record.kind {
        "MX" => RecordType::MX,
        "TXT" => RecordType::TXT,
        "SRV" => RecordType::SRV,
        "CNAME" => RecordType::CNAME,
        other => return Verdict::Unknown(format!("{other} records are not checked")),
    };
    let found = match tokio::time::timeout(LOOKUP_TIMEOUT, resolver.lookup(record.name.as_str(), kind)).await {
        Err(_) => return Verdict::Unknown("no answer in time".into()),
        Ok(Err(error)) if error.is_no_records_found() => Vec::new(),
        Ok(Err(error)) => return Verdict::Unknown(error.to_string()),
        Ok(Ok(lookup)) => lookup.answers().iter().filter_map(|answer| Found::of(&answer.data)).collect(),
    };
    judge(record, &found)
}

/// One record found, in the terms its check needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Found {
    Mx { preference: u16, exchange: String },
    Txt(String),
    Srv { port: u16, target: String },
    Cname(String),
}

impl Found {
    fn of(data: &RData) -> Option<Found> {
        Some(match data {
            RData::MX(mx) => Found::Mx { preference: mx.preference, exchange: host(&mx.exchange.to_ascii()) },
            // RFC 7208 §3.3, RFC 6376 §3.6.2.2: a TXT's strings are joined with nothing between.
            RData::TXT(txt) => Found::Txt(txt.txt_data.iter().map(|piece| String::from_utf8_lossy(piece)).collect()),
            RData::SRV(srv) => Found::Srv { port: srv.port, target: host(&srv.target.to_ascii()) },
            RData::CNAME(cname) => Found::Cname(host(&cname.0.to_ascii())),
            _ => return None,
        })
    }

    fn shown(&self) -> String {
        match self {
            Found::Mx { preference, exchange } => format!("{preference} {exchange}"),
            Found::Txt(text) => text.clone(),
            Found::Srv { port, target } => format!("port {port}, {target}"),
            Found::Cname(target) => target.clone(),
        }
    }
}

/// A host name as compared: lower case, without the final dot.
fn host(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The text inside a zone file's quoted strings, joined (`"a" "b"` is `ab`).
fn unquoted(value: &str) -> String {
    value.split('"').skip(1).step_by(2).collect()
}

/// The value of a `tag=value` list's tag (DKIM's `p=`), without spaces.
fn tag_value(text: &str, tag: &str) -> Option<String> {
    text.split(';').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name.trim() == tag).then(|| value.split_whitespace().collect())
    })
}

/// The verdict on `record` given what was found under its name and type.
fn judge(record: &DnsRecord, found: &[Found]) -> Verdict {
    let expected: Vec<&str> = record.value.split_whitespace().collect();
    let matches = |candidate: &Found| -> bool {
        match (record.kind, candidate) {
            ("MX", Found::Mx { exchange, .. }) => expected.get(1).is_some_and(|want| host(want) == *exchange),
            ("SRV", Found::Srv { port, target }) => {
                expected.get(2).and_then(|p| p.parse::<u16>().ok()) == Some(*port)
                    && expected.get(3).is_some_and(|want| host(want) == *target)
            }
            ("CNAME", Found::Cname(target)) => host(&record.value) == *target,
            ("TXT", Found::Txt(text)) => txt_matches(record, text),
            _ => false,
        }
    };
    // A TXT name may hold other records (a site verification beside SPF): only those of the
    // record's own kind count.
    let relevant: Vec<&Found> =
        found.iter().filter(|f| !matches!(f, Found::Txt(t) if !same_txt_kind(record, t))).collect();
    let service_refused = record.kind == "SRV" && expected.get(3) == Some(&".");
    if relevant.is_empty() {
        return if service_refused { Verdict::NotNeeded } else { Verdict::Missing };
    }
    // RFC 7208 §4.5: two SPF records are an error, whatever they say.
    let several_spf = record.kind == "TXT" && is_spf(&unquoted(&record.value)) && relevant.len() > 1;
    if relevant.iter().any(|f| matches(f)) && !several_spf {
        Verdict::Published
    } else {
        Verdict::Different(relevant.iter().map(|f| f.shown()).collect())
    }
}

fn is_spf(text: &str) -> bool {
    text.to_ascii_lowercase().starts_with("v=spf1")
}

/// Whether a TXT found is of the expected record's kind (SPF, DKIM key, DMARC policy).
fn same_txt_kind(record: &DnsRecord, text: &str) -> bool {
    let want = unquoted(&record.value);
    let version =
        |text: &str| text.split(';').next().unwrap_or_default().split_whitespace().next().map(str::to_ascii_lowercase);
    match version(&want).as_deref() {
        Some("v=spf1") => is_spf(text),
        // A DKIM record may leave out its version tag (RFC 6376 §3.6.1), a DMARC one not.
        Some("v=dkim1") => true,
        Some(wanted) => version(text).as_deref() == Some(wanted),
        None => true,
    }
}

/// Whether a TXT found says what the record asks. SPF: the policy ends with `-all` or `~all`
/// and lets the MX send (`mx`, or the host by name). DKIM: the same public key. DMARC: a
/// policy (any: the domain's owner chooses how strict).
fn txt_matches(record: &DnsRecord, text: &str) -> bool {
    let want = unquoted(&record.value);
    if is_spf(&want) {
        let terms: Vec<String> = text.split_whitespace().map(str::to_ascii_lowercase).collect();
        let ends_strict = terms.last().is_some_and(|last| last == "-all" || last == "~all");
        return ends_strict
            && terms
                .iter()
                .any(|term| term == "mx" || term == "+mx" || term.starts_with("a:") || term.starts_with("include:"));
    }
    if want.to_ascii_lowercase().starts_with("v=dmarc1") {
        return text.to_ascii_lowercase().starts_with("v=dmarc1") && tag_value(text, "p").is_some();
    }
    tag_value(&want, "p").is_some_and(|key| tag_value(text, "p").is_some_and(|found| found == key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail::dns_records::{DkimRecord, dns_records};

    fn record(kind: &str) -> DnsRecord {
        let dkim = DkimRecord { selector: "facteur202612".into(), text: "v=DKIM1; k=rsa; p=ABC123".into() };
        let records = dns_records("example.org", "mail.example.org", Some(&dkim));
        let found = records.iter().find(|r| match kind {
            "DKIM" => r.name.contains("_domainkey"),
            "DMARC" => r.name.starts_with("_dmarc"),
            "SPF" => r.kind == "TXT" && r.name == "example.org.",
            "POP3S" => r.name.starts_with("_pop3s"),
            "SUBMISSION" => r.name.starts_with("_submission._tcp"),
            kind => r.kind == kind,
        });
        found.cloned().expect(kind)
    }

    fn txt(text: &str) -> Found {
        Found::Txt(text.into())
    }

    #[test]
    fn each_record_is_judged_on_what_matters() {
        let mx = record("MX");
        let ours = Found::Mx { preference: 20, exchange: "mail.example.org".into() };
        let theirs = Found::Mx { preference: 10, exchange: "mx.provider.test".into() };
        assert_eq!(judge(&mx, std::slice::from_ref(&ours)), Verdict::Published);
        assert_eq!(judge(&mx, &[theirs.clone(), ours]), Verdict::Published);
        assert_eq!(judge(&mx, std::slice::from_ref(&theirs)), Verdict::Different(vec!["10 mx.provider.test".into()]));
        assert_eq!(judge(&mx, &[]), Verdict::Missing);

        let spf = record("SPF");
        assert_eq!(judge(&spf, &[txt("v=spf1 mx -all"), txt("google-site-verification=x")]), Verdict::Published);
        assert_eq!(judge(&spf, &[txt("v=spf1 a:mail.example.org ~all")]), Verdict::Published);
        assert!(matches!(judge(&spf, &[txt("v=spf1 +all")]), Verdict::Different(_)));
        assert!(matches!(judge(&spf, &[txt("v=spf1 mx -all"), txt("v=spf1 -all")]), Verdict::Different(_)), "two SPF");
        assert_eq!(judge(&spf, &[txt("google-site-verification=x")]), Verdict::Missing);

        let dkim = record("DKIM");
        assert_eq!(judge(&dkim, &[txt("v=DKIM1; k=rsa; p=ABC 123")]), Verdict::Published);
        assert!(matches!(judge(&dkim, &[txt("v=DKIM1; k=rsa; p=OLDKEY")]), Verdict::Different(_)));

        let dmarc = record("DMARC");
        assert_eq!(judge(&dmarc, &[txt("v=DMARC1; p=reject")]), Verdict::Published);
        assert!(matches!(judge(&dmarc, &[txt("v=DMARC1")]), Verdict::Different(_)));

        let submission = record("SUBMISSION");
        let srv = |port, target: &str| Found::Srv { port, target: target.into() };
        assert_eq!(judge(&submission, &[srv(587, "mail.example.org")]), Verdict::Published);
        assert!(matches!(judge(&submission, &[srv(25, "mail.example.org")]), Verdict::Different(_)));
        let pop3s = record("POP3S");
        assert_eq!(judge(&pop3s, &[]), Verdict::NotNeeded);
        assert_eq!(judge(&pop3s, &[srv(0, "")]), Verdict::Published);
    }
}
