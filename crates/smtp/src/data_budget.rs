//! Fair shares of inbound DATA: how many messages one client may be sending at once, and how
//! much memory all messages being received may hold.
//!
//! A message is held in memory until the store has it. The old rule, 16 DATA phases for the
//! whole process, let 16 silent connections from one address stop all inbound mail, and made
//! honest parallel senders get `452` past the 16th. Now:
//! - each client (an IPv4 address, an IPv6 /64) has [`MAX_DATA_PER_CLIENT`] phases; a DATA
//!   past them waits up to [`ADMISSION_WAIT`] for one of its own to end, so a burst of parallel
//!   sessions from one honest MTA queues briefly instead of failing, and nobody else waits;
//! - memory is a budget of bytes ([`TOTAL_BUFFER_BYTES`], at most [`CLIENT_BUFFER_BYTES`] for
//!   one client) reserved as each message's buffer grows. When there is no room left, the rest
//!   of that message is read and dropped, and it is answered `452` once its end has come, so the
//!   sender tries again later and nothing is held waiting on anyone else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// DATA phases one client may run at once.
pub(crate) const MAX_DATA_PER_CLIENT: usize = 16;
/// How long a DATA past the client's share waits for one of its phases to end.
pub(crate) const ADMISSION_WAIT: Duration = Duration::from_secs(30);
/// Bytes all messages being received may hold together.
pub(crate) const TOTAL_BUFFER_BYTES: usize = 512 * 1024 * 1024;
/// Bytes the messages of one client may hold together: a quarter of the whole.
pub(crate) const CLIENT_BUFFER_BYTES: usize = TOTAL_BUFFER_BYTES / 4;
/// What a phase reserves when it starts: most messages fit.
const FIRST_RESERVATION: usize = 256 * 1024;

/// The process's budget (the memory is the process's, not one listener's).
pub(crate) static BUDGET: LazyLock<DataBudget> = LazyLock::new(DataBudget::default);

#[derive(Default)]
pub(crate) struct DataBudget {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    used_bytes: usize,
    clients: HashMap<IpAddr, ClientShare>,
}

struct ClientShare {
    phases: Arc<Semaphore>,
    bytes: usize,
}

/// One DATA phase admitted: its client slot and the bytes reserved for its buffer, given back
/// when it is dropped.
pub(crate) struct DataPhase {
    budget: &'static DataBudget,
    client: IpAddr,
    reserved: usize,
    _slot: OwnedSemaphorePermit,
}

impl DataBudget {
    /// Admits a DATA phase for `peer`, waiting up to [`ADMISSION_WAIT`] for one of the
    /// client's slots; `None` when none came free or there is no memory to start with.
    pub(crate) async fn admit(&'static self, peer: IpAddr) -> Option<DataPhase> {
        let client = types::client_of(peer);
        let phases = {
            let mut inner = self.inner.lock().expect("data budget lock");
            let share = inner
                .clients
                .entry(client)
                .or_insert_with(|| ClientShare { phases: Arc::new(Semaphore::new(MAX_DATA_PER_CLIENT)), bytes: 0 });
            Arc::clone(&share.phases)
        };
        let slot = tokio::time::timeout(ADMISSION_WAIT, phases.acquire_owned()).await.ok()?.ok()?;
        let mut phase = DataPhase { budget: self, client, reserved: 0, _slot: slot };
        phase.reserve(FIRST_RESERVATION).then_some(phase)
    }
}

impl DataPhase {
    /// Makes sure `needed` bytes are reserved for this message's buffer; false when the
    /// process or the client has no room left for them.
    pub(crate) fn reserve(&mut self, needed: usize) -> bool {
        if needed <= self.reserved {
            return true;
        }
        let more = needed - self.reserved;
        let mut inner = self.budget.inner.lock().expect("data budget lock");
        let Inner { used_bytes, clients } = &mut *inner;
        let Some(share) = clients.get_mut(&self.client) else { return false };
        if *used_bytes + more > TOTAL_BUFFER_BYTES || share.bytes + more > CLIENT_BUFFER_BYTES {
            return false;
        }
        *used_bytes += more;
        share.bytes += more;
        self.reserved = needed;
        true
    }
}

impl Drop for DataPhase {
    fn drop(&mut self) {
        let mut inner = self.budget.inner.lock().expect("data budget lock");
        inner.used_bytes -= self.reserved;
        if let Some(share) = inner.clients.get_mut(&self.client) {
            share.bytes -= self.reserved;
            // The last phase of an idle client: forget the client. Our slot is still held
            // (dropped after this), hence one permit short of all, and the share's semaphore
            // has two owners, the share and our slot; a waiter would hold a third.
            if share.bytes == 0
                && share.phases.available_permits() == MAX_DATA_PER_CLIENT - 1
                && Arc::strong_count(&share.phases) == 2
            {
                inner.clients.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> &'static DataBudget {
        Box::leak(Box::default())
    }

    #[tokio::test]
    async fn each_client_has_its_own_slots() {
        let budget = budget();
        let busy: IpAddr = "192.0.2.1".parse().unwrap();
        let mut held = Vec::new();
        for _ in 0..MAX_DATA_PER_CLIENT {
            held.push(budget.admit(busy).await.expect("within the client's share"));
        }
        // Another client is not held up by the first one's phases.
        let other: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(budget.admit(other).await.is_some());
        // The busy client's next DATA waits for one of its own to end.
        let waiting = tokio::spawn(budget.admit(busy));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        held.pop();
        assert!(waiting.await.unwrap().is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn a_client_whose_slots_stay_busy_gets_none_after_the_wait() {
        let budget = budget();
        let busy: IpAddr = "192.0.2.2".parse().unwrap();
        let _held: Vec<_> = {
            let mut held = Vec::new();
            for _ in 0..MAX_DATA_PER_CLIENT {
                held.push(budget.admit(busy).await.unwrap());
            }
            held
        };
        assert!(budget.admit(busy).await.is_none());
    }

    #[tokio::test]
    async fn memory_is_shared_fairly_and_given_back() {
        let budget = budget();
        let greedy: IpAddr = "192.0.2.3".parse().unwrap();
        let mut phase = budget.admit(greedy).await.unwrap();
        // With a second phase's first reservation, the client's share is full.
        assert!(phase.reserve(CLIENT_BUFFER_BYTES - FIRST_RESERVATION));
        let mut second = budget.admit(greedy).await.expect("the first reservation still fits");
        assert!(!second.reserve(FIRST_RESERVATION + 1), "the client's share is used up");
        assert!(budget.admit(greedy).await.is_none(), "no memory for a third");
        let honest: IpAddr = "192.0.2.4".parse().unwrap();
        let mut other = budget.admit(honest).await.expect("others still have room");
        assert!(other.reserve(64 * 1024 * 1024));
        drop((phase, second, other));
        let inner = budget.inner.lock().unwrap();
        assert_eq!(inner.used_bytes, 0);
        assert!(inner.clients.is_empty(), "idle clients are forgotten");
    }
}
