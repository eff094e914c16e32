//! A share of the server's output per account, so that one user downloading in a loop cannot
//! take the CPU (TLS encryption above all) and the network from everyone else.
//!
//! Each key (an account) has a token bucket of bytes: it fills at `rate` per second up to
//! `burst`, every byte sent takes one, and a session that has used more than the bucket held
//! waits until it is paid back. A client fetching a few big messages never notices (the burst
//! covers them); one fetching gigabytes in a loop is held to the rate. Found with
//! `scripts/load-hostile.py`: four sessions of one account reading 75 MB/s of 1 MB partials
//! made the honest clients' 99th percentiles 2.3 to 4.3 times their quiet values.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bytes per second one account may have sent to it, past its burst.
pub const OUTPUT_BYTES_PER_SECOND: u64 = 16 << 20;
/// What an account may be sent at full speed before the rate applies.
pub const OUTPUT_BURST_BYTES: u64 = 64 << 20;

pub struct ByteBudget<K> {
    rate: u64,
    burst: u64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    /// Bytes available at `at`; negative when more was sent than was available.
    tokens: f64,
    at: Instant,
}

impl<K: Hash + Eq + Clone> ByteBudget<K> {
    pub fn new(rate: u64, burst: u64) -> ByteBudget<K> {
        ByteBudget { rate: rate.max(1), burst, buckets: Mutex::default() }
    }

    /// Counts `bytes` just sent for `key`; returns how long its session should now wait.
    pub fn spend(&self, key: &K, bytes: usize) -> Duration {
        self.spend_at(key, bytes, Instant::now())
    }

    fn spend_at(&self, key: &K, bytes: usize, now: Instant) -> Duration {
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (rate, burst) = (self.rate as f64, self.burst as f64);
        if buckets.len() > 10_000 {
            // Full buckets are the same as none: forget them, so the map stays small.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket { tokens: burst, at: now });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(burst) - bytes as f64;
        bucket.at = now;
        if bucket.tokens >= 0.0 { Duration::ZERO } else { Duration::from_secs_f64(-bucket.tokens / rate) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_is_free_then_the_rate_holds_and_accounts_are_apart() {
        let budget = ByteBudget::new(1000, 5000);
        let start = Instant::now();
        assert_eq!(budget.spend_at(&"carol", 5000, start), Duration::ZERO, "the burst");
        assert_eq!(budget.spend_at(&"carol", 2000, start), Duration::from_secs(2), "2000 bytes over, at 1000/s");
        assert_eq!(budget.spend_at(&"ana", 5000, start), Duration::ZERO, "another account has its own");
        // Having waited the two seconds, carol is even; one second later she has 1000 again.
        let later = start + Duration::from_secs(3);
        assert_eq!(budget.spend_at(&"carol", 1000, later), Duration::ZERO);
        assert_eq!(budget.spend_at(&"carol", 500, later), Duration::from_millis(500));
        // Idle long enough, the bucket is full again, never more.
        let much_later = later + Duration::from_secs(3600);
        assert_eq!(budget.spend_at(&"carol", 5000, much_later), Duration::ZERO);
        assert_eq!(budget.spend_at(&"carol", 1, much_later), Duration::from_millis(1));
    }
}
