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
    /// Whether an attempt may go ahead now.
    pub(crate) fn allows(&self, login: &str, ip: Option<IpAddr>) -> bool {
        let records = self.records.lock().expect("throttle lock poisoned");
        let now = Instant::now();
        keys(login, ip).iter().all(|k| records.get(k).and_then(Record::blocked_until).is_none_or(|until| now >= until))
    }

    pub(crate) fn failed(&self, login: &str, ip: Option<IpAddr>) {
        let mut records = self.records.lock().expect("throttle lock poisoned");
        let now = Instant::now();
        records.retain(|_, r| now.duration_since(r.last_failure) < FORGET_AFTER);
        for key in keys(login, ip) {
            let record = records.entry(key).or_insert(Record { failures: 0, last_failure: now });
            record.failures += 1;
            record.last_failure = now;
        }
    }

    pub(crate) fn succeeded(&self, login: &str) {
        let mut records = self.records.lock().expect("throttle lock poisoned");
        records.remove(&format!("login:{}", login.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_free_failures_and_success_clears() {
        let throttle = LoginThrottle::default();
        for _ in 0..FREE_FAILURES {
            assert!(throttle.allows("ana@example.org", None));
            throttle.failed("ana@example.org", None);
        }
        assert!(!throttle.allows("ana@example.org", None));
        assert!(!throttle.allows("ANA@example.org", None));
        assert!(throttle.allows("bob@example.org", None));
        throttle.succeeded("ana@example.org");
        assert!(throttle.allows("ana@example.org", None));
    }
}
