//! F8: login throttling against password guessing, shared by every protocol.
//!
//! After a few failures for one login or from one client address, further attempts are refused
//! outright (without checking the password) for a delay that doubles with each failure, up to
//! fifteen minutes. A success clears the login's record. State is in memory: a restart forgets
//! it, which costs an attacker a restart they cannot cause.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const FREE_FAILURES: u32 = 5;
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

#[derive(Default)]
pub(crate) struct LoginThrottle {
    records: Mutex<HashMap<String, Record>>,
}

struct Record {
    failures: u32,
    last_failure: Instant,
}

impl Record {
    fn blocked_until(&self) -> Option<Instant> {
        if self.failures < FREE_FAILURES {
            return None;
        }
        let exponent = (self.failures - FREE_FAILURES).min(10);
        let delay = Duration::from_secs(1 << exponent).min(MAX_DELAY);
        Some(self.last_failure + delay)
    }
}

fn keys(login: &str, ip: Option<IpAddr>) -> Vec<String> {
    let mut keys = vec![format!("login:{}", login.to_lowercase())];
    if let Some(ip) = ip {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

impl LoginThrottle {
    /// Starts an attempt: refuses it if the login or address is blocked, else counts it as a
    /// failure straight away, in the same critical section. Counting before the password is
    /// checked means parallel attempts cannot all slip past the check; a success takes the
    /// count back with [`LoginThrottle::succeeded`].
    pub(crate) fn try_begin(&self, login: &str, ip: Option<IpAddr>) -> bool {
        let mut records = self.records.lock().expect("throttle lock poisoned");
        let now = Instant::now();
        let keys = keys(login, ip);
        let blocked =
            keys.iter().any(|k| records.get(k).and_then(Record::blocked_until).is_some_and(|until| now < until));
        if blocked {
            return false;
        }
        records.retain(|_, r| now.duration_since(r.last_failure) < FORGET_AFTER);
        for key in keys {
            let record = records.entry(key).or_insert(Record { failures: 0, last_failure: now });
            record.failures += 1;
            record.last_failure = now;
        }
        true
    }

    /// The attempt begun with `try_begin` succeeded: forget the login's failures and take back
    /// the one counted for the client address.
    pub(crate) fn succeeded(&self, login: &str, ip: Option<IpAddr>) {
        let mut records = self.records.lock().expect("throttle lock poisoned");
        records.remove(&format!("login:{}", login.to_lowercase()));
        if let Some(ip) = ip
            && let Some(record) = records.get_mut(&format!("ip:{ip}"))
        {
            record.failures = record.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_free_failures_and_success_clears() {
        let throttle = LoginThrottle::default();
        let ip: Option<IpAddr> = Some("192.0.2.1".parse().unwrap());
        for _ in 0..FREE_FAILURES {
            assert!(throttle.try_begin("ana@example.org", ip));
        }
        assert!(!throttle.try_begin("ana@example.org", None));
        assert!(!throttle.try_begin("ANA@example.org", None));
        assert!(!throttle.try_begin("bob@example.org", ip), "the address is blocked too");
        assert!(throttle.try_begin("bob@example.org", None));
        throttle.succeeded("ana@example.org", ip);
        assert!(throttle.try_begin("ana@example.org", None));
    }

    #[test]
    fn attempts_in_flight_count_before_they_finish() {
        // Ten attempts begun at once, none finished yet: only the free ones may start.
        let throttle = LoginThrottle::default();
        let started = (0..10).filter(|_| throttle.try_begin("ana@example.org", None)).count();
        assert_eq!(started, FREE_FAILURES as usize);
    }

    #[test]
    fn successes_do_not_accumulate_against_the_address() {
        let throttle = LoginThrottle::default();
        let ip: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
        for _ in 0..20 {
            assert!(throttle.try_begin("ana@example.org", ip));
            throttle.succeeded("ana@example.org", ip);
        }
    }
}
