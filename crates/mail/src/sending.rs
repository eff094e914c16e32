//! How many messages each account sent in the last hour, for the hourly limit that every way
//! of sending shares (SMTP submission, the web composer): [`crate::Mail::reserve_sending`].
//! Kept in memory: a restart forgets it, which costs at most one more hour's worth.
//!
//! A message takes its place before it is sent (SMTP: at MAIL), checked and counted under one
//! lock, so senders in parallel cannot all pass the check before any is counted; one that ends
//! without a message sent gives its place back.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use store::AccountId;

const HOUR: Duration = Duration::from_secs(3600);

/// When each account's messages of the last hour were sent (or are being sent).
#[derive(Default)]
pub(crate) struct SendingLog {
    sent: Mutex<HashMap<AccountId, VecDeque<Instant>>>,
}

/// A message's place in the hourly count: given back when dropped, unless kept.
pub struct SendingSlot {
    log: Arc<SendingLog>,
    account: AccountId,
    at: Instant,
    kept: bool,
}

impl SendingSlot {
    /// The message was sent: its place stays counted.
    pub fn keep(mut self) {
        self.kept = true;
    }
}

impl Drop for SendingSlot {
    fn drop(&mut self) {
        if !self.kept {
            self.log.give_back(self.account, self.at);
        }
    }
}

impl std::fmt::Debug for SendingSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendingSlot").field("account", &self.account).finish()
    }
}

impl SendingLog {
    /// A place for one more message of the account now, if fewer than `per_hour` were sent
    /// in the last hour.
    pub(crate) fn reserve(self: &Arc<Self>, account: AccountId, per_hour: u32, now: Instant) -> Option<SendingSlot> {
        let mut sent = self.sent.lock().expect("sending log lock");
        let times = sent.entry(account).or_default();
        while times.front().is_some_and(|&at| now.duration_since(at) >= HOUR) {
            times.pop_front();
        }
        if times.len() >= per_hour as usize {
            if times.is_empty() {
                sent.remove(&account);
            }
            return None;
        }
        times.push_back(now);
        Some(SendingSlot { log: Arc::clone(self), account, at: now, kept: false })
    }

    fn give_back(&self, account: AccountId, at: Instant) {
        let mut sent = self.sent.lock().expect("sending log lock");
        let Some(times) = sent.get_mut(&account) else { return };
        if let Some(position) = times.iter().rposition(|&t| t == at) {
            times.remove(position);
        }
        if times.is_empty() {
            sent.remove(&account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hour_of_messages_per_account() {
        let log = Arc::new(SendingLog::default());
        let (ana, bob) = (AccountId(1), AccountId(2));
        let start = Instant::now();
        for minute in 0..3 {
            log.reserve(ana, 3, start + Duration::from_secs(60 * minute)).expect("within the limit").keep();
        }
        assert!(log.reserve(ana, 3, start + Duration::from_secs(59 * 60)).is_none());
        assert!(log.reserve(bob, 3, start).is_some(), "counted per account");
        assert!(log.reserve(ana, 3, start + HOUR).is_some(), "the first one is an hour old");
        assert!(log.reserve(bob, 0, start).is_none(), "a limit of 0 stops all sending");
    }

    #[test]
    fn places_are_taken_at_once_and_given_back_unless_kept() {
        let log = Arc::new(SendingLog::default());
        let ana = AccountId(1);
        let now = Instant::now();
        // Two transactions in parallel: the second finds the first's place taken.
        let first = log.reserve(ana, 1, now).expect("free");
        assert!(log.reserve(ana, 1, now).is_none());
        drop(first);
        let second = log.reserve(ana, 1, now).expect("given back");
        second.keep();
        assert!(log.reserve(ana, 1, now).is_none());
    }
}
