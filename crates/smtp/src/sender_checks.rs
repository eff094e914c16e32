//! Who really sent a message arriving on the MX (issue 14, F7): SPF (RFC 7208) for the client's
//! address and envelope sender, DKIM signatures (RFC 6376), the author domain's DMARC policy
//! (RFC 7489) and an ARC chain (RFC 8617) if the message has one, all with `mail-auth`.
//!
//! The outcome becomes an `Authentication-Results:` field (RFC 8601) at the top of the stored
//! message, for every client and for filters; `p=reject` from the author's domain refuses the
//! message with 550 when it fails DMARC. Nothing else is refused here: SPF failing alone marks
//! a message but refuses nothing, as forwarding breaks SPF for honest mail.
//!
//! An `Authentication-Results:` field with our own name that came with the message is a
//! forgery (a sender pretending we vouched for it) and is removed (RFC 8601 §5); the others,
//! and ARC sets, are kept as they are.

use std::net::IpAddr;
use std::time::Duration;

use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult, MessageAuthenticator};

/// How long all of a message's lookups may take together before the checks give up with
/// `temperror` (the message is then delivered, marked so): SPF alone may chain ten lookups.
const CHECKS_TIMEOUT: Duration = Duration::from_secs(30);

/// The checks, with the resolver they look records up with.
pub struct SenderChecks {
    authenticator: MessageAuthenticator,
}

/// What the client said about the message, besides the message.
pub(crate) struct Arrival<'a> {
    pub(crate) peer: IpAddr,
    pub(crate) helo: &'a str,
    /// The envelope sender; empty for the null sender.
    pub(crate) sender: &'a str,
    /// Our name, the `authserv-id` of the results.
    pub(crate) hostname: &'a str,
}

/// The checks' outcome.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Deliver, with this `Authentication-Results:` field (CRLF-terminated).
    Deliver(String),
    /// The author's domain asks for rejection (DMARC `p=reject`) and the message fails.
    Reject { domain: String },
}

impl SenderChecks {
    /// Checks with `resolver`'s name servers (and its cache, shared with whoever else holds
    /// it): the system's, or a stub in tests (`--dns-server`).
    pub fn new(resolver: mail_auth::hickory_resolver::TokioResolver) -> SenderChecks {
        SenderChecks { authenticator: MessageAuthenticator(resolver) }
    }

    pub(crate) async fn check(&self, arrival: &Arrival<'_>, raw: &[u8]) -> Verdict {
        match tokio::time::timeout(CHECKS_TIMEOUT, self.run(arrival, raw)).await {
            Ok(verdict) => verdict,
            Err(_) => {
                tracing::info!("sender checks timed out");
                Verdict::Deliver(format!(
                    "Authentication-Results: {}; none reason=\"lookups timed out\"\r\n",
                    arrival.hostname
                ))
            }
        }
    }

    async fn run(&self, arrival: &Arrival<'_>, raw: &[u8]) -> Verdict {
        let Arrival { peer, helo, sender, hostname } = *arrival;
        let Some(message) = AuthenticatedMessage::parse(raw) else {
            return Verdict::Deliver(format!("Authentication-Results: {hostname}; none reason=\"unparsable\"\r\n"));
        };
        // RFC 7208 §2.4: with the null sender, the HELO name is the identity checked.
        let spf_params = if sender.is_empty() {
            SpfParameters::verify_ehlo(peer, helo, hostname)
        } else {
            SpfParameters::verify_mail_from(peer, helo, hostname, sender)
        };
        let (spf, dkim, arc) = tokio::join!(
            self.authenticator.verify_spf(spf_params),
            self.authenticator.verify_dkim(&message),
            self.authenticator.verify_arc(&message),
        );
        // RFC 7489 §3.1.2: the SPF domain is the envelope sender's, else the HELO name.
        let mail_from_domain = sender.rsplit_once('@').map_or(helo, |(_, domain)| domain);
        let dmarc =
            self.authenticator.verify_dmarc(DmarcParameters::new(&message, &dkim, mail_from_domain, &spf)).await;
        let results = AuthenticationResults::new(hostname)
            .with_dkim_results(&dkim, message.from())
            .with_spf_mailfrom_result(&spf, peer, sender, helo)
            .with_dmarc_result(&dmarc)
            .with_arc_result(&arc, peer);
        let failed = matches!(dmarc.result(), DmarcResult::Fail(_));
        tracing::debug!(spf = %spf.result(), dmarc = %dmarc.result(), policy = ?dmarc.policy(), "sender checked");
        if failed && dmarc.policy() == Policy::Reject {
            return Verdict::Reject { domain: dmarc.domain().to_string() };
        }
        // RFC 8601 §2.7.1: a message without signatures says so, as mail-auth writes nothing.
        let results = results.to_string();
        let listed = results.strip_prefix(hostname).unwrap_or(&results);
        let no_signature = if dkim.is_empty() { ";\r\n\tdkim=none" } else { "" };
        Verdict::Deliver(format!("Authentication-Results: {hostname}{no_signature}{listed}\r\n"))
    }
}

/// `raw` (our trace fields, then the message from `start`) without the
/// `Authentication-Results:` fields of the message that claim to be ours (their authserv-id
/// is `hostname`): RFC 8601 §5.
pub(crate) fn remove_forged_results(raw: &mut Vec<u8>, start: usize, hostname: &str) {
    let ours = |name: &[u8], field: &[u8]| {
        name.eq_ignore_ascii_case(b"authentication-results") && {
            let value = String::from_utf8_lossy(&field[name.len()..]);
            let value = value.trim_start_matches([' ', '\t', ':']);
            let id = value.split([';', ' ', '\t', '\r', '\n', '(']).next().unwrap_or("");
            id.eq_ignore_ascii_case(hostname)
        }
    };
    if mail::header::header_fields(&raw[start..]).any(|field| {
        let text = &raw[start + field.start..start + field.end];
        ours(mail::header::field_name(text), text)
    }) {
        let kept = mail::header::without_fields(&raw[start..], ours);
        raw.truncate(start);
        raw.extend_from_slice(&kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_results_claiming_our_name_are_removed() {
        let message = "Return-Path: <a@b.example>\r\n\
            Authentication-Results: MX.Example.ORG; dkim=pass\r\n\
            \theader.d=bank.example\r\n\
            Authentication-Results: mx.other.example; spf=pass\r\n\
            Subject: Authentication-Results: mx.example.org; spf=pass\r\n\
            authentication-results:mx.example.org;spf=pass\r\n\
            \r\n\
            Authentication-Results: mx.example.org; in the body stays\r\n";
        let mut raw = message.as_bytes().to_vec();
        remove_forged_results(&mut raw, 0, "mx.example.org");
        assert_eq!(
            String::from_utf8(raw).expect("utf-8"),
            "Return-Path: <a@b.example>\r\n\
            Authentication-Results: mx.other.example; spf=pass\r\n\
            Subject: Authentication-Results: mx.example.org; spf=pass\r\n\
            \r\n\
            Authentication-Results: mx.example.org; in the body stays\r\n"
        );
        // After our own trace fields, which are left alone.
        let mut raw =
            b"Authentication-Results: mx.example.org; ours\r\nAuthentication-Results: mx.example.org; none\r\n"
                .to_vec();
        remove_forged_results(&mut raw, 46, "mx.example.org");
        assert_eq!(raw, b"Authentication-Results: mx.example.org; ours\r\n");
    }
}
