//! What only submission has: how many messages each account sent in the last hour, for the
//! hourly limit. Kept in memory: a restart forgets it, which costs at most one more hour's
//! worth; the outbound queue will keep what leaves.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use store::AccountId;

const HOUR: Duration = Duration::from_secs(3600);

/// When each account's messages of the last hour were sent.
#[derive(Default)]
pub(crate) struct SendingLog {
    sent: Mutex<HashMap<AccountId, VecDeque<Instant>>>,
}

impl SendingLog {
    /// Whether the account may send one more message now, with `per_hour` allowed.
    pub(crate) fn allows(&self, account: AccountId, per_hour: u32, now: Instant) -> bool {
        let mut sent = self.sent.lock().expect("sending log lock");
        let Some(times) = sent.get_mut(&account) else { return per_hour > 0 };
        forget_older(times, now);
        if times.is_empty() {
            sent.remove(&account);
            return per_hour > 0;
        }
        times.len() < per_hour as usize
    }

    /// Counts a message the account sent.
    pub(crate) fn record(&self, account: AccountId, now: Instant) {
        let mut sent = self.sent.lock().expect("sending log lock");
        let times = sent.entry(account).or_default();
        forget_older(times, now);
        times.push_back(now);
    }
}

fn forget_older(times: &mut VecDeque<Instant>, now: Instant) {
    while times.front().is_some_and(|&at| now.duration_since(at) >= HOUR) {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_of_messages_per_account() {
        let log = SendingLog::default();
        let (ana, bob) = (AccountId(1), AccountId(2));
        let start = Instant::now();
        for minute in 0..3 {
            let at = start + Duration::from_secs(60 * minute);
            assert!(log.allows(ana, 3, at));
            log.record(ana, at);
        }
        assert!(!log.allows(ana, 3, start + Duration::from_secs(59 * 60)));
        assert!(log.allows(bob, 3, start), "counted per account");
        assert!(log.allows(ana, 3, start + HOUR), "the first one is an hour old");
        assert!(!log.allows(bob, 0, start), "a limit of 0 stops all sending");
    }
}
