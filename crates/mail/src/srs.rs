//! The Sender Rewriting Scheme (SRS) for forwarded mail (A3): a message forwarded from an alias
//! to another server leaves with an envelope sender at our domain, so the next server's SPF
//! check sees a sender whose domain allows us, and a bounce comes back to us, who alone can
//! read the original sender out of it and pass the bounce on.
//!
//! The address has the form of libsrs2 and postsrsd (Shevek's SRS specification), so people
//! reading logs recognise it: `SRS0=HHHHHH=TT=domain=local@our.domain`, where `TT` is the day
//! (base32, modulo 1024) and `HHHHHH` the start of an HMAC-SHA1 of the rest with a key only
//! this server has. Only we ever check the hash, so its length is ours to choose: six
//! characters, compared without case (a server on the way may lowercase the address).
//!
//! Written here rather than taken from a crate: the crates that exist are unmaintained
//! single-author releases, and the scheme is these few lines over `hmac` and `sha1`.
//!
//! A sender that is already an SRS address of another forwarder is rewritten like any other
//! (not into the scheme's `SRS1` form): the bounce then travels back through each forwarder in
//! turn, each undoing its own layer.

use base64::Engine;
use hmac::{Hmac, Mac};

/// How long a bounce to a rewritten address is taken: bounces of delayed mail come up to five
/// days later (our own queue's lifetime), and some servers keep mail longer.
const MAX_AGE_DAYS: i64 = 21;
const HASH_LENGTH: usize = 6;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// The time stamp counts days modulo this (two base32 characters).
const DAY_CYCLE: i64 = 1024;

/// Why an SRS address is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SrsError {
    /// Not of the form `SRS0=hash=tt=domain=local`.
    Malformed,
    /// The hash is not ours: forged or damaged.
    BadHash,
    /// Older than [`MAX_AGE_DAYS`].
    Expired,
}

/// Rewrites and reads back envelope senders with this server's key.
pub(crate) struct Srs {
    key: Vec<u8>,
}

/// Whether a local part looks like one of ours (`SRS0=...`, in any case).
pub(crate) fn is_srs(local: &str) -> bool {
    local.get(..5).is_some_and(|prefix| prefix.eq_ignore_ascii_case("SRS0="))
}

impl Srs {
    pub(crate) fn new(key: Vec<u8>) -> Srs {
        Srs { key }
    }

    /// The envelope sender for `sender` (`local@domain`) forwarded by `our_domain` on day `day`
    /// (days since the Unix epoch).
    pub(crate) fn forward(&self, sender: &str, our_domain: &str, day: i64) -> String {
        let (local, domain) = sender.rsplit_once('@').unwrap_or((sender, ""));
        let stamp = day.rem_euclid(DAY_CYCLE);
        let stamp = [BASE32[(stamp >> 5) as usize], BASE32[(stamp & 31) as usize]];
        let stamp = std::str::from_utf8(&stamp).expect("base32 is ASCII");
        let hash = self.hash(stamp, domain, local);
        format!("SRS0={hash}={stamp}={domain}={local}@{our_domain}")
    }

    /// The original sender of an SRS `local` part we made, checked on day `day`.
    pub(crate) fn reverse(&self, local: &str, day: i64) -> Result<String, SrsError> {
        if !is_srs(local) {
            return Err(SrsError::Malformed);
        }
        // The original local part may itself hold '=': it is everything after the fourth.
        let mut parts = local[5..].splitn(4, '=');
        let (Some(hash), Some(stamp), Some(domain), Some(original)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SrsError::Malformed);
        };
        if domain.is_empty() || original.is_empty() || stamp.len() != 2 {
            return Err(SrsError::Malformed);
        }
        if !self.hash(stamp, domain, original).eq_ignore_ascii_case(hash) {
            return Err(SrsError::BadHash);
        }
        let value = |c: u8| BASE32.iter().position(|&b| b == c.to_ascii_uppercase()).map(|v| v as i64);
        let stamp_bytes = stamp.as_bytes();
        let (Some(high), Some(low)) = (value(stamp_bytes[0]), value(stamp_bytes[1])) else {
            return Err(SrsError::Malformed);
        };
        let age = (day - (high << 5 | low)).rem_euclid(DAY_CYCLE);
        if age > MAX_AGE_DAYS {
            return Err(SrsError::Expired);
        }
        Ok(format!("{original}@{domain}"))
    }

    fn hash(&self, stamp: &str, domain: &str, local: &str) -> String {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        for part in [stamp, domain, local] {
            mac.update(part.to_ascii_lowercase().as_bytes());
            mac.update(b"\0");
        }
        let digest = mac.finalize().into_bytes();
        let mut text = base64::engine::general_purpose::STANDARD.encode(digest);
        text.truncate(HASH_LENGTH);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 20_000;

    #[test]
    fn a_rewritten_sender_reads_back() {
        let srs = Srs::new(b"key".to_vec());
        let address = srs.forward("Jean.Dupont@Example.COM", "asso.example", DAY);
        assert!(
            address.starts_with("SRS0=") && address.ends_with("=Example.COM=Jean.Dupont@asso.example"),
            "{address}"
        );
        let (local, domain) = address.rsplit_once('@').expect("an address");
        assert_eq!(domain, "asso.example");
        assert_eq!(srs.reverse(local, DAY), Ok("Jean.Dupont@Example.COM".to_string()));
        // A server on the way may lowercase it all.
        assert_eq!(srs.reverse(&local.to_lowercase(), DAY + 3), Ok("jean.dupont@example.com".to_string()));
        // A local part with '=' in it survives.
        let address = srs.forward("a=b@x.example", "asso.example", DAY);
        let local = address.rsplit_once('@').expect("an address").0;
        assert_eq!(srs.reverse(local, DAY), Ok("a=b@x.example".to_string()));
    }

    #[test]
    fn forged_old_and_malformed_addresses_are_refused() {
        let srs = Srs::new(b"key".to_vec());
        let address = srs.forward("victim@example.com", "asso.example", DAY);
        let local = address.rsplit_once('@').expect("an address").0;
        // Another key (another server, or a guess) does not pass.
        assert_eq!(Srs::new(b"other".to_vec()).reverse(local, DAY), Err(SrsError::BadHash));
        // Nor does another destination under the same hash.
        let forged = local.replace("victim", "someone");
        assert_eq!(srs.reverse(&forged, DAY), Err(SrsError::BadHash));
        assert_eq!(srs.reverse(local, DAY + MAX_AGE_DAYS), Ok("victim@example.com".to_string()));
        assert_eq!(srs.reverse(local, DAY + MAX_AGE_DAYS + 1), Err(SrsError::Expired));
        // The day counter wraps every 1024 days without breaking recent addresses.
        let wrapped = srs.forward("victim@example.com", "asso.example", 1023);
        assert_eq!(
            srs.reverse(wrapped.rsplit_once('@').expect("an address").0, 1025),
            Ok("victim@example.com".to_string())
        );
        for bad in ["SRS0=", "SRS0=abc", "SRS0=abcdef=AA=example.com", "SRS0=abcdef=A=example.com=x", "postmaster"] {
            assert_eq!(srs.reverse(bad, DAY), Err(SrsError::Malformed), "{bad}");
        }
        assert!(is_srs("srs0=x") && is_srs("SRS0=x") && !is_srs("SRS1=x") && !is_srs("srs"));
    }
}
