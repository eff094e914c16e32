//! DKIM (RFC 6376): each domain's key, made when the domain is added, the DNS record that
//! publishes it, and the signature on mail leaving for other servers.
//!
//! RSA 2048 with SHA-256 (RFC 8301): the one algorithm every receiver checks; Ed25519 (RFC
//! 8463) is not yet checked by the large providers, so a key of it alone would sign for nobody.

use base64::Engine;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner};
use store::DkimKey;

/// The header fields signed, when present (RFC 6376 §5.4.1's list, less the trace fields
/// that relays add). Listed ones that are absent are signed as absent, so none can be added
/// on the way without breaking the signature.
const SIGNED_FIELDS: [&str; 14] = [
    "From",
    "Sender",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "To",
    "Cc",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "In-Reply-To",
    "References",
    "List-Unsubscribe",
];

/// Makes a key for `domain`: slow (a second or two of CPU), so run it off the async threads.
pub fn generate(domain: &str, now: chrono::DateTime<chrono::Utc>) -> Result<DkimKey, String> {
    let pair = mail_auth::dkim::generate::DkimKeyPair::generate_rsa(2048).map_err(|e| e.to_string())?;
    let (private_key, public_key) = pair.into_inner();
    // Dated, so that a new key later can be published beside the old one before it signs.
    let selector = format!("facteur{}", now.format("%Y%m"));
    Ok(DkimKey { domain: domain.to_string(), selector, private_key, public_key })
}

/// Makes and keeps a key for a domain (A1: each domain signs its mail), off the async
/// threads. Another process may have made one meanwhile: the first kept is the one used, and
/// the one returned.
pub async fn add_key(store: &store::Store, domain: &str) -> Result<DkimKey, String> {
    let name = domain.to_string();
    let key = tokio::task::spawn_blocking(move || generate(&name, chrono::Utc::now()))
        .await
        .map_err(|e| e.to_string())
        .and_then(|made| made)
        .map_err(|e| format!("making a DKIM key for {domain}: {e}"))?;
    store.add_dkim_key(&key).await.map_err(|e| e.to_string())?;
    store
        .dkim_key(domain)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the DKIM key of {domain} was not kept"))
}

/// The TXT record's text, published at `<selector>._domainkey.<domain>`.
pub fn record_text(key: &DkimKey) -> String {
    let spki = subject_public_key_info(&key.public_key);
    format!("v=DKIM1; k=rsa; p={}", base64::engine::general_purpose::STANDARD.encode(spki))
}

/// The `DKIM-Signature:` field (with its CRLF) to put in front of `message`, signed with the
/// domain's key.
pub fn signature(key: &DkimKey, message: &[u8]) -> Result<String, String> {
    let der = rustls::pki_types::PrivatePkcs1KeyDer::from(key.private_key.clone());
    let rsa = RsaKey::<Sha256>::from_key_der(der.into()).map_err(|e| e.to_string())?;
    let signature = DkimSigner::from_key(rsa)
        .domain(&key.domain)
        .selector(&key.selector)
        .headers(SIGNED_FIELDS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
        .sign(message)
        .map_err(|e| e.to_string())?;
    Ok(signature.to_header())
}

/// The domain that signs a message: its author's (the `From:` address), for DMARC alignment.
pub fn author_domain(message: &[u8]) -> Option<String> {
    let headers = mail_parser::MessageParser::new().parse_headers(message)?;
    let from = headers.from()?.first()?.address()?;
    let (_, domain) = from.rsplit_once('@')?;
    Some(domain.trim().trim_end_matches('.').to_ascii_lowercase())
}

/// DNS publishes RSA keys as a SubjectPublicKeyInfo (RFC 6376 §3.6.1); the key is made as a
/// PKCS#1 RSAPublicKey, which this wraps. Some verifiers take the bare PKCS#1 form, not all.
fn subject_public_key_info(pkcs1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }
    const RSA_ALGORITHM: [u8; 15] =
        [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bit_string = vec![0u8];
    bit_string.extend_from_slice(pkcs1);
    let mut body = RSA_ALGORITHM.to_vec();
    body.extend(der(0x03, &bit_string));
    der(0x30, &body)
}

/// One DER element: tag, definite length, content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_lengths_use_the_long_form_past_127() {
        assert_eq!(der(0x04, &[1, 2]), [0x04, 2, 1, 2]);
        let long = der(0x04, &[0; 300]);
        assert_eq!(&long[..4], [0x04, 0x82, 0x01, 0x2c]);
        assert_eq!(long.len(), 304);
    }

    #[test]
    fn a_signature_names_the_domain_and_selector_and_the_record_the_key() {
        let key = generate("example.org", chrono::Utc::now()).expect("a key");
        assert!(key.selector.starts_with("facteur20"));
        let record = record_text(&key);
        assert!(record.starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"), "an SPKI of RSA 2048: {record}");
        let message = b"From: Ana <ana@example.org>\r\nTo: bob@example.net\r\nSubject: Hi\r\n\r\nHello.\r\n";
        let header = signature(&key, message).expect("signed");
        assert!(header.starts_with("DKIM-Signature: v=1; a=rsa-sha256;"), "{header}");
        assert!(header.contains("d=example.org") && header.contains(&format!("s={}", key.selector)), "{header}");
        assert!(header.ends_with("\r\n"));
        assert_eq!(author_domain(message).as_deref(), Some("example.org"));
    }
}
