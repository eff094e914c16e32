//! F8: login throttling against password guessing, shared by every protocol.
//!
//! Failures are counted per client address, per login from one address, and per login from
//! anywhere. Past a count's free failures, attempts under it are refused outright (without
//! checking the password) for a delay that doubles with each failure, up to fifteen minutes.
//!
//! Attempts still being checked count too, so parallel guesses cannot all slip past the
//! check: an attempt that would go over a count only because of attempts in flight waits for
//! them to end ([`Begin::Wait`]) instead of being refused, since a desktop client opening eight
//! connections with the right password must not throttle itself.
//!
//! The per-login count stops guessing spread over many addresses, but would let anyone lock a
//! known address out. So it does not apply from an address where that login recently signed in
//! successfully: its owner keeps working while a stranger's guesses are held up. State is in
//! memory: a restart forgets it, which costs an attacker a restart they cannot cause.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed from one address, all logins together (an office behind one NAT address
/// shares them).
const FREE_FAILURES_PER_ADDRESS: u32 = 10;
/// Failures allowed for one login from one address.
const FREE_FAILURES_PER_LOGIN_AT_ADDRESS: u32 = 5;
/// Failures allowed for one login from all untrusted addresses together.
const FREE_FAILURES_PER_LOGIN: u32 = 30;
const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// How long a successful sign-in makes its address trusted for that login.
const TRUST_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Addresses remembered per login; the oldest is forgotten first.
const MAX_TRUSTED_PER_LOGIN: usize = 8;
/// An address is at most 254 bytes; longer login strings are cut so keys stay small.
const MAX_LOGIN_BYTES: usize = 320;
/// Expired records are swept at most this often, not on every attempt.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub(crate) struct LoginThrottle {
    state: Mutex<State>,
    /// Woken whenever an attempt finishes.
    finished: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
    failures: HashMap<Key, Record>,
    /// Per login: addresses it signed in from, with when.
    trusted: HashMap<String, Vec<(IpAddr, Instant)>>,
    last_sweep: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    LoginAtAddress(String, IpAddr),
    Login(String),
}

impl Key {
    fn free_failures(&self) -> u32 {
        match self {
            Key::Address(_) => FREE_FAILURES_PER_ADDRESS,
            Key::LoginAtAddress(..) => FREE_FAILURES_PER_LOGIN_AT_ADDRESS,
            Key::Login(_) => FREE_FAILURES_PER_LOGIN,
        }
    }
}

struct Record {
    failures: u32,
    /// Attempts begun and not finished yet.
    in_flight: u32,
    last_failure: Instant,
}

/// What an attempt may do now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Begin {
    /// Check the password, then hand the attempt to [`LoginThrottle::finish`].
    Go(Attempt),
    /// Refuse it: too many recent failures.
    Throttled,
    /// Attempts in flight could use up the free failures: wait for [`LoginThrottle::changed`],
    /// then ask again.
    Wait,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    Failed,
    Succeeded,
    /// Not the client's doing (the database failed): nothing is counted.
    Abandoned,
}

/// An attempt in flight: the keys it is counted under.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Attempt {
    keys: Vec<Key>,
}

impl Record {
    fn blocked_until(&self, free_failures: u32) -> Option<Instant> {
        if self.failures < free_failures {
            return None;
        }
        let exponent = (self.failures - free_failures).min(10);
        let delay = Duration::from_secs(1 << exponent).min(MAX_DELAY);
        Some(self.last_failure + delay)
    }
}

/// The login as counted: lowercase, and cut to [`MAX_LOGIN_BYTES`].
fn normalized(login: &str) -> String {
    let mut login = login.to_lowercase();
    if login.len() > MAX_LOGIN_BYTES {
        let cut = (0..=MAX_LOGIN_BYTES).rev().find(|&i| login.is_char_boundary(i)).unwrap_or(0);
        login.truncate(cut);
    }
    login
}

/// The counting keys of an attempt. Addresses count by client (an IPv6 host holds a whole /64
/// and could pick a fresh address for every guess).
fn keys(login: &str, ip: Option<IpAddr>) -> Vec<Key> {
    let ip = ip.map(types::client_of);
    let mut keys = vec![Key::Login(login.to_string())];
    if let Some(ip) = ip {
        keys.push(Key::Address(ip));
        keys.push(Key::LoginAtAddress(login.to_string(), ip));
    }
    keys
}

impl State {
    fn is_trusted(&self, login: &str, ip: Option<IpAddr>, now: Instant) -> bool {
        let Some(ip) = ip.map(types::client_of) else { return false };
        self.trusted.get(login).is_some_and(|list| {
            list.iter().any(|(known, since)| *known == ip && now.duration_since(*since) < TRUST_FOR)
        })
    }

    fn sweep(&mut self, now: Instant) {
        if self.last_sweep.is_some_and(|last| now.duration_since(last) < SWEEP_EVERY) {
            return;
        }
        self.last_sweep = Some(now);
        self.failures.retain(|_, r| r.in_flight > 0 || now.duration_since(r.last_failure) < FORGET_AFTER);
        self.trusted.retain(|_, list| {
            list.retain(|(_, since)| now.duration_since(*since) < TRUST_FOR);
            !list.is_empty()
        });
    }
}

impl LoginThrottle {
    /// Starts an attempt: refuses it if one of its counts is blocked by failures, asks it to
    /// wait if attempts in flight could reach a count's free failures, else counts it as in
    /// flight, all in one critical section.
    #[cfg(test)]
    pub(crate) fn try_begin(&self, login: &str, ip: Option<IpAddr>) -> Begin {
        self.try_begin_with(login, ip, Credential::Password)
    }

    /// [`LoginThrottle::try_begin`] for an attempt with this kind of credential.
    pub(crate) fn try_begin_with(&self, login: &str, ip: Option<IpAddr>, credential: Credential) -> Begin {
        let mut state = self.state.lock().expect("throttle lock poisoned");
        let now = Instant::now();
        state.sweep(now);
        let login = normalized(login);
        let counted = counted_keys(&state, &login, ip, now, credential);
        let blocked = counted.iter().any(|key| {
            state.failures.get(key).and_then(|r| r.blocked_until(key.free_failures())).is_some_and(|until| now < until)
        });
        if blocked {
            return Begin::Throttled;
        }
        let crowded = counted.iter().any(|key| {
            state.failures.get(key).is_some_and(|r| r.in_flight > 0 && r.failures + r.in_flight >= key.free_failures())
        });
        if crowded {
            return Begin::Wait;
        }
        for key in &counted {
            let record =
                state.failures.entry(key.clone()).or_insert(Record { failures: 0, in_flight: 0, last_failure: now });
            record.in_flight += 1;
        }
        Begin::Go(Attempt { keys: counted })
    }

    /// Waits until some attempt finishes (the future is made before asking again, so no
    /// wake-up is missed: see `Auth::authenticate`).
    pub(crate) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.finished.notified()
    }

    /// Ends an attempt begun with `try_begin`. A failure is counted under each of its keys; a
    /// success forgets the login's failures at this address and trusts the address for this
    /// login from now on. The login's count from elsewhere is left to expire: the owner signing
    /// in often from a trusted address must not keep resetting the budget of guesses spread
    /// over many others.
    pub(crate) fn finish(&self, attempt: Attempt, login: &str, ip: Option<IpAddr>, ended: Ended) {
        {
            let mut state = self.state.lock().expect("throttle lock poisoned");
            let now = Instant::now();
            for key in &attempt.keys {
                if let Some(record) = state.failures.get_mut(key) {
                    record.in_flight = record.in_flight.saturating_sub(1);
                    if ended == Ended::Failed {
                        record.failures += 1;
                        record.last_failure = now;
                    }
                }
            }
            if ended == Ended::Succeeded
                && let Some(ip) = ip.map(types::client_of)
            {
                let login = normalized(login);
                state.failures.remove(&Key::LoginAtAddress(login.clone(), ip));
                let list = state.trusted.entry(login).or_default();
                list.retain(|(known, _)| *known != ip);
                list.push((ip, now));
                if list.len() > MAX_TRUSTED_PER_LOGIN {
                    list.remove(0);
                }
            }
        }
        self.finished.notify_waiters();
    }
}

/// What an attempt offers as proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential {
    /// The account's password, or anything not shaped like an app password.
    Password,
    /// Shaped like an app password: about 116 random bits, out of reach of guessing, so the
    /// login-wide count (which strangers can fill) does not hold it up.
    AppPassword,
}

/// The keys an attempt counts under: all of them, except the login-wide one from an address
/// the login recently signed in from, or for an app password.
fn counted_keys(state: &State, login: &str, ip: Option<IpAddr>, now: Instant, credential: Credential) -> Vec<Key> {
    let spared = credential == Credential::AppPassword || state.is_trusted(login, ip, now);
    keys(login, ip).into_iter().filter(|key| !(spared && matches!(key, Key::Login(_)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    /// A whole attempt that ends so; false if it was not even allowed to start.
    fn attempt(throttle: &LoginThrottle, login: &str, ip: Option<IpAddr>, ended: Ended) -> bool {
        match throttle.try_begin(login, ip) {
            Begin::Go(attempt) => {
                throttle.finish(attempt, login, ip, ended);
                true
            }
            Begin::Throttled | Begin::Wait => false,
        }
    }

    fn guess(throttle: &LoginThrottle, login: &str, ip: Option<IpAddr>) -> bool {
        attempt(throttle, login, ip, Ended::Failed)
    }

    fn sign_in(throttle: &LoginThrottle, login: &str, ip: Option<IpAddr>) -> bool {
        attempt(throttle, login, ip, Ended::Succeeded)
    }

    #[test]
    fn blocks_a_login_at_an_address_after_its_free_failures_and_others_go_on() {
        let throttle = LoginThrottle::default();
        let attacker = ip("192.0.2.1");
        for _ in 0..FREE_FAILURES_PER_LOGIN_AT_ADDRESS {
            assert!(guess(&throttle, "ana@example.org", attacker));
        }
        assert_eq!(throttle.try_begin("ana@example.org", attacker), Begin::Throttled);
        assert_eq!(throttle.try_begin("ANA@example.org", attacker), Begin::Throttled, "logins compare without case");
        assert!(guess(&throttle, "ana@example.org", ip("192.0.2.2")), "other addresses are not held up");
        assert!(guess(&throttle, "bob@example.org", attacker), "the address still has free failures");
    }

    #[test]
    fn a_success_forgets_the_failures_of_its_login_at_its_address() {
        let throttle = LoginThrottle::default();
        let owner = ip("192.0.2.5");
        for _ in 0..FREE_FAILURES_PER_LOGIN_AT_ADDRESS - 1 {
            assert!(guess(&throttle, "ana@example.org", owner));
        }
        assert!(sign_in(&throttle, "ana@example.org", owner));
        for _ in 0..FREE_FAILURES_PER_LOGIN_AT_ADDRESS - 1 {
            assert!(guess(&throttle, "ana@example.org", owner), "typos again after signing in");
        }
    }

    #[test]
    fn an_address_guessing_many_logins_is_blocked() {
        let throttle = LoginThrottle::default();
        let attacker = ip("192.0.2.3");
        for n in 0..FREE_FAILURES_PER_ADDRESS {
            assert!(guess(&throttle, &format!("user{n}@example.org"), attacker));
        }
        assert_eq!(throttle.try_begin("someone-else@example.org", attacker), Begin::Throttled);
    }

    #[test]
    fn guesses_from_many_addresses_hold_up_strangers_but_not_the_owner() {
        let throttle = LoginThrottle::default();
        let owner = ip("198.51.100.9");
        assert!(sign_in(&throttle, "ana@example.org", owner));
        // A botnet: a few guesses from each of many addresses.
        for n in 0..FREE_FAILURES_PER_LOGIN {
            assert!(guess(&throttle, "ana@example.org", ip(&format!("203.0.113.{n}"))));
        }
        assert_eq!(
            throttle.try_begin("ana@example.org", ip("203.0.113.200")),
            Begin::Throttled,
            "a new address is held up"
        );
        assert_eq!(throttle.try_begin("ana@example.org", None), Begin::Throttled, "so is an attempt with no address");
        assert!(sign_in(&throttle, "ana@example.org", owner), "the owner's usual address is not");
        // The owner signing in again does not give the strangers a fresh budget.
        assert_eq!(throttle.try_begin("ana@example.org", ip("203.0.113.201")), Begin::Throttled);
    }

    #[test]
    fn an_ipv6_host_cannot_spread_guesses_over_its_64() {
        let throttle = LoginThrottle::default();
        for n in 0..FREE_FAILURES_PER_LOGIN_AT_ADDRESS {
            assert!(guess(&throttle, "ana@example.org", ip(&format!("2001:db8:7:7::{n:x}"))));
        }
        assert_eq!(throttle.try_begin("ana@example.org", ip("2001:db8:7:7:abcd::1")), Begin::Throttled);
        assert!(sign_in(&throttle, "ana@example.org", ip("2001:db8:7:8::1")), "another /64 is another client");
        // And trust follows the /64, as privacy addresses change daily.
        let state = throttle.state.lock().unwrap();
        assert!(state.is_trusted("ana@example.org", ip("2001:db8:7:8:9999::2"), Instant::now()));
    }

    #[test]
    fn attempts_in_flight_count_before_they_finish_and_the_rest_wait() {
        // Ten attempts begun at once, none finished yet: only the free ones may start; the
        // others wait rather than being refused, and go once the first ones succeed.
        let throttle = LoginThrottle::default();
        let address = ip("192.0.2.4");
        let begun: Vec<Begin> = (0..10).map(|_| throttle.try_begin("ana@example.org", address)).collect();
        let n_go = begun.iter().filter(|b| matches!(b, Begin::Go(_))).count();
        assert_eq!(n_go, FREE_FAILURES_PER_LOGIN_AT_ADDRESS as usize);
        assert!(begun.iter().all(|b| matches!(b, Begin::Go(_) | Begin::Wait)), "{begun:?}");
        for begin in begun {
            if let Begin::Go(attempt) = begin {
                throttle.finish(attempt, "ana@example.org", address, Ended::Succeeded);
            }
        }
        for _ in 0..5 {
            assert!(sign_in(&throttle, "ana@example.org", address), "the waiting ones go now");
        }
    }

    #[test]
    fn parallel_guesses_that_fail_leave_the_waiting_ones_throttled() {
        let throttle = LoginThrottle::default();
        let attacker = ip("192.0.2.6");
        let begun: Vec<Begin> = (0..10).map(|_| throttle.try_begin("ana@example.org", attacker)).collect();
        for begin in begun {
            if let Begin::Go(attempt) = begin {
                throttle.finish(attempt, "ana@example.org", attacker, Ended::Failed);
            }
        }
        assert_eq!(throttle.try_begin("ana@example.org", attacker), Begin::Throttled);
    }

    #[test]
    fn successes_do_not_accumulate_against_the_address() {
        let throttle = LoginThrottle::default();
        let address = ip("192.0.2.7");
        for _ in 0..50 {
            assert!(sign_in(&throttle, "ana@example.org", address));
        }
    }

    #[test]
    fn huge_login_strings_make_small_keys() {
        let throttle = LoginThrottle::default();
        let huge = "é".repeat(1_000_000);
        assert!(guess(&throttle, &huge, ip("192.0.2.8")));
        let state = throttle.state.lock().unwrap();
        for key in state.failures.keys() {
            if let Key::Login(login) | Key::LoginAtAddress(login, _) = key {
                assert!(login.len() <= MAX_LOGIN_BYTES);
            }
        }
    }
}
