//! Who really sent a message arriving on the MX (issue 14, F7): SPF (RFC 7208) for the client's
//! address and envelope sender, DKIM signatures (RFC 6376), the author domain's DMARC policy
//! (RFC 7489) and an ARC chain (RFC 8617) if the message has one, all with `mail-auth`.
//!
//! The outcome becomes an `Authentication-Results:` field (RFC 8601), stored just below the
//! `Return-Path:`, for every client and for filters. A message failing the DMARC check of an
//! author domain that publishes `p=reject` is refused; so is one whose `From:` names several
//! domains (or comes twice), which DMARC cannot judge and a reader would be fooled by. SPF
//! failing alone marks a message but refuses nothing, as forwarding breaks SPF for honest mail.
//!
//! An `Authentication-Results:` field with our own name that came with the message is a
//! forgery (a sender pretending we vouched for it) and is removed (RFC 8601 §5); the others,
//! and ARC sets, are kept as they are.
//!
//! Bounded work: mail-auth parses every header field and hashes the body once per kind of
//! signature, so a message with too many signatures or ARC sets is judged without them (only
//! its headers are read); the MX refuses an oversized header section before this runs
//! ([`MAX_HEADER_BYTES`], [`MAX_HEADER_FIELDS`]). Lookups have a deadline: when it passes, a
//! domain whose DMARC policy asks to reject or quarantine has its mail deferred rather than
//! let through unchecked (an attacker's slow name server must not switch the policy off).

use std::net::IpAddr;
use std::time::Duration;

use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, DmarcResult, MessageAuthenticator, SpfOutput};

/// How long all of a message's lookups may take together: SPF alone may chain ten lookups.
const CHECKS_TIMEOUT: Duration = Duration::from_secs(30);
/// After [`CHECKS_TIMEOUT`], how long the author domain's DMARC policy alone may take.
const POLICY_TIMEOUT: Duration = Duration::from_secs(10);
/// DKIM signatures (and ARC sets) verified per message; real mail has a handful.
const MAX_SIGNATURES: usize = 10;
/// The largest header section the MX takes (refused with 552 above): real mail stays far
/// below, and every reader of the message (mail-auth here, the store's parser) works on it.
pub const MAX_HEADER_BYTES: usize = 1024 * 1024;
/// The most header fields the MX takes.
pub const MAX_HEADER_FIELDS: usize = 1000;

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
    /// `From:` comes more than once or names more than one domain.
    AmbiguousAuthor,
    /// The lookups took too long and the author's domain asks for its failures to be refused
    /// or quarantined: the sender should try again.
    Defer,
}

impl SenderChecks {
    /// Checks with `resolver`'s name servers (and its cache, shared with whoever else holds
    /// it): the system's, or a stub in tests (`--dns-server`).
    pub fn new(resolver: mail_auth::hickory_resolver::TokioResolver) -> SenderChecks {
        SenderChecks { authenticator: MessageAuthenticator(resolver) }
    }

    pub(crate) async fn check(&self, arrival: &Arrival<'_>, raw: &[u8]) -> Verdict {
        let fields = |name: &[u8]| mail::header::count_fields(raw, name);
        if fields(b"from") > 1 {
            return Verdict::AmbiguousAuthor;
        }
        let too_many = fields(b"dkim-signature") > MAX_SIGNATURES || fields(b"arc-seal") > MAX_SIGNATURES;
        // The message's body is hashed once per kind of signature while it is parsed: CPU
        // work, kept off the threads that serve connections.
        let message = cpu_bound(|| {
            let readable = if too_many { mail::header::header_section(raw) } else { raw };
            AuthenticatedMessage::parse(readable)
        });
        let Some(message) = message else {
            // Our trace fields are always there, so mail-auth always finds headers.
            return Verdict::Deliver(format!("Authentication-Results: {}; none\r\n", arrival.hostname));
        };
        let mut domains: Vec<String> =
            message.from.iter().filter_map(|a| a.rsplit_once('@')).map(|(_, d)| d.to_ascii_lowercase()).collect();
        domains.sort();
        domains.dedup();
        if domains.len() > 1 {
            return Verdict::AmbiguousAuthor;
        }
        match tokio::time::timeout(CHECKS_TIMEOUT, self.run(arrival, &message, too_many)).await {
            Ok(verdict) => verdict,
            Err(_) => self.after_timeout(arrival, &message).await,
        }
    }

    async fn run(&self, arrival: &Arrival<'_>, message: &AuthenticatedMessage<'_>, too_many: bool) -> Verdict {
        let Arrival { peer, helo, sender, hostname } = *arrival;
        // RFC 7208 §2.4: with the null sender, the HELO name is the identity checked.
        let spf_params = if sender.is_empty() {
            SpfParameters::verify_ehlo(peer, helo, hostname)
        } else {
            SpfParameters::verify_mail_from(peer, helo, hostname, sender)
        };
        let (spf, dkim, arc) = if too_many {
            (self.authenticator.verify_spf(spf_params).await, Vec::new(), None)
        } else {
            let (spf, dkim, arc) = tokio::join!(
                self.authenticator.verify_spf(spf_params),
                self.authenticator.verify_dkim(message),
                self.authenticator.verify_arc(message),
            );
            (spf, dkim, Some(arc))
        };
        // RFC 7489 §3.1.2: the SPF domain is the envelope sender's, else the HELO name.
        let mail_from_domain = sender.rsplit_once('@').map_or(helo, |(_, domain)| domain);
        let dmarc = self.authenticator.verify_dmarc(DmarcParameters::new(message, &dkim, mail_from_domain, &spf)).await;
        let mut results = AuthenticationResults::new(hostname).with_dkim_results(&dkim, message.from());
        results = if sender.is_empty() {
            results.with_spf_ehlo_result(&spf, peer, helo)
        } else {
            results.with_spf_mailfrom_result(&spf, peer, sender, helo)
        };
        results = results.with_dmarc_result(&dmarc);
        if let Some(arc) = &arc {
            results = results.with_arc_result(arc, peer);
        }
        tracing::debug!(spf = %spf.result(), dmarc = %dmarc.result(), policy = ?dmarc.policy(), "sender checked");
        if matches!(dmarc.result(), DmarcResult::Fail(_)) && dmarc.policy() == Policy::Reject {
            return Verdict::Reject { domain: dmarc.domain().to_string() };
        }
        // RFC 8601 §2.7.1: a message without signatures says so, as mail-auth writes nothing.
        let results = results.to_string();
        let listed = results.strip_prefix(hostname).unwrap_or(&results);
        let no_signature = match (too_many, dkim.is_empty()) {
            (true, _) => ";\r\n\tdkim=permerror (too many signatures to check)",
            (false, true) => ";\r\n\tdkim=none",
            (false, false) => "",
        };
        Verdict::Deliver(format!("Authentication-Results: {hostname}{no_signature}{listed}\r\n"))
    }

    /// The lookups took too long: the author's domain's DMARC policy alone decides. Judged with
    /// no passing mechanism, a message fails any published policy, so `dmarc.policy()` is
    /// that policy; one asking to reject or quarantine, or none found in time, defers.
    async fn after_timeout(&self, arrival: &Arrival<'_>, message: &AuthenticatedMessage<'_>) -> Verdict {
        tracing::info!("sender checks timed out; looking at the author's DMARC policy alone");
        let mail_from_domain = arrival.sender.rsplit_once('@').map_or(arrival.helo, |(_, domain)| domain);
        let spf = SpfOutput::new(mail_from_domain.to_string());
        let lookup = self.authenticator.verify_dmarc(DmarcParameters::new(message, &[], mail_from_domain, &spf));
        match tokio::time::timeout(POLICY_TIMEOUT, lookup).await {
            Ok(dmarc) if matches!(dmarc.policy(), Policy::None | Policy::Unspecified) => Verdict::Deliver(format!(
                "Authentication-Results: {};\r\n\tdkim=temperror; spf=temperror; dmarc=temperror (lookups timed out)\r\n",
                arrival.hostname
            )),
            _ => Verdict::Defer,
        }
    }
}

/// Runs CPU-bound work so the runtime's other tasks keep being served (on a multi-threaded
/// runtime; a current-thread one, in tests, just runs it).
fn cpu_bound<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Whether the header section of `raw` is beyond what the MX takes.
pub(crate) fn header_too_large(raw: &[u8]) -> bool {
    mail::header::header_section(raw).len() > MAX_HEADER_BYTES
        || mail::header::header_fields(raw).nth(MAX_HEADER_FIELDS).is_some()
}

/// Removes from `raw` (our trace fields, then the client's message from `start`) the
/// message's `Authentication-Results:` fields that claim to be ours (their authserv-id is
/// `hostname`): RFC 8601 §5. The fields are those any reader of the stored message sees, so
/// a message starting with a continuation line cannot hide one inside our own fields.
pub(crate) fn remove_forged_results(raw: &mut Vec<u8>, start: usize, hostname: &str) {
    let forged: Vec<std::ops::Range<usize>> = mail::header::header_fields(raw)
        .filter(|field| field.start >= start)
        .filter(|field| {
            let text = &raw[field.clone()];
            let name = mail::header::field_name(text);
            name.eq_ignore_ascii_case(b"authentication-results") && claims(text, hostname)
        })
        .collect();
    // From the last, so the earlier ranges stay valid; in place, without a second copy.
    for range in forged.into_iter().rev() {
        raw.drain(range);
    }
}

/// Whether an `Authentication-Results:` field's authserv-id (RFC 8601 §2.2: the first value,
/// after white space, folding and comments, possibly quoted) is `hostname`.
fn claims(field: &[u8], hostname: &str) -> bool {
    let colon = field.iter().position(|&b| b == b':').map_or(field.len(), |at| at + 1);
    let mut value = &field[colon..];
    loop {
        value = value.trim_ascii_start();
        if value.first() != Some(&b'(') {
            break;
        }
        // A comment, perhaps nested (RFC 5322 §3.2.2).
        let mut depth = 0;
        let mut end = value.len();
        for (at, &byte) in value.iter().enumerate() {
            match byte {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = at + 1;
                break;
            }
        }
        value = &value[end..];
    }
    let id = match value.strip_prefix(b"\"") {
        Some(quoted) => &quoted[..quoted.iter().position(|&b| b == b'"').unwrap_or(quoted.len())],
        None => {
            let end = value.iter().position(|b| b";( \t\r\n".contains(b)).unwrap_or(value.len());
            &value[..end]
        }
    };
    id.eq_ignore_ascii_case(hostname.as_bytes())
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
            Authentication-Results: (a comment (nested)) mx.example.org; spf=pass\r\n\
            Authentication-Results:\r\n\tmx.example.org; spf=pass\r\n\
            Authentication-Results: \"mx.example.org\"; spf=pass\r\n\
            Authentication-Results: mx.example.org.evil; spf=pass\r\n\
            \r\n\
            Authentication-Results: mx.example.org; in the body stays\r\n";
        let mut raw = message.as_bytes().to_vec();
        remove_forged_results(&mut raw, 0, "mx.example.org");
        assert_eq!(
            String::from_utf8(raw).expect("utf-8"),
            "Return-Path: <a@b.example>\r\n\
            Authentication-Results: mx.other.example; spf=pass\r\n\
            Subject: Authentication-Results: mx.example.org; spf=pass\r\n\
            Authentication-Results: mx.example.org.evil; spf=pass\r\n\
            \r\n\
            Authentication-Results: mx.example.org; in the body stays\r\n"
        );
        // Ours, before `start`, stay; so does nothing hide in a continuation of ours.
        let ours = "Authentication-Results: mx.example.org; ours\r\n";
        let mut raw = format!("{ours}Authentication-Results: mx.example.org; none\r\n").into_bytes();
        remove_forged_results(&mut raw, ours.len(), "mx.example.org");
        assert_eq!(raw, ours.as_bytes());
        let trace = "Received: from x\r\n";
        let mut raw =
            format!("{trace} continued\r\nAuthentication-Results: mx.example.org; forged\r\n\r\n").into_bytes();
        remove_forged_results(&mut raw, trace.len(), "mx.example.org");
        assert_eq!(String::from_utf8(raw).expect("utf-8"), format!("{trace} continued\r\n\r\n"));
    }

    #[test]
    fn oversized_header_sections_are_caught() {
        assert!(!header_too_large(b"Subject: x\r\n\r\nbody"));
        assert!(header_too_large("X: y\r\n".repeat(MAX_HEADER_FIELDS + 1).as_bytes()));
        assert!(!header_too_large("X: y\r\n".repeat(MAX_HEADER_FIELDS).as_bytes()));
        let long = format!("X: {}\r\n\r\n", "y".repeat(MAX_HEADER_BYTES));
        assert!(header_too_large(long.as_bytes()));
    }
}
