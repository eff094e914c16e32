//! Facteur's authentication (F8): who may sign in, and the proof they did.
//!
//! - [`Auth::authenticate`] checks a login and password for every protocol (IMAP, the web,
//!   later SMTP AUTH, POP3 and ActiveSync), behind login throttling (`throttle`).
//! - Passwords are argon2id PHC strings, hashed and checked in memory allocated once
//!   (`password`).
//! - Web sessions are random tokens; only their SHA-256 is stored.
//!
//! Every failed login is logged here, for every protocol, as one line at WARN with target
//! `facteur::auth` that tools like fail2ban can match (see SECURITY.md):
//!
//! ```text
//! WARN facteur::auth: authentication failed protocol="imap" client=192.0.2.7 login="ana@example.org"
//! ```
//!
//! Attempts refused by throttling (the password is not even checked) are logged at most once a
//! minute per client, with how many were left out, so a flood cannot fill the log.
//!
//! Invariant: this crate is the only one that hashes or checks passwords or makes session
//! tokens; the store keeps the rows and never sees a password.

mod password;
pub mod sasl;
mod throttle;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use store::{Account, AccountId, Address, Store};

use password::Passwords;
use throttle::{Begin, Credential, Ended, LoginThrottle};

pub use store::{Error, Result};

/// How long a web session lives.
const WEB_SESSION_SECONDS: i64 = 14 * 24 * 3600;

/// A hash is checked even for an unknown login, so timing does not tell which logins exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Tnm1Iy2ZyMVGZyOBL5FVbrI7JpyJ7rY2vJUlhk1nyfE";

/// The answer to a login attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    Ok(Account),
    /// Wrong login or password (the two are not told apart).
    BadCredentials,
    /// Too many recent failures for this login or client; try later.
    Throttled,
}

/// Authentication services over one store. Cheap to clone; clones share the throttle.
#[derive(Clone)]
pub struct Auth {
    store: Store,
    throttle: Arc<LoginThrottle>,
    passwords: Passwords,
    throttled_log: Arc<ThrottledLog>,
}

impl Auth {
    pub fn new(store: Store) -> Auth {
        Auth { store, throttle: Arc::default(), passwords: Passwords::default(), throttled_log: Arc::default() }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Checks a login and password, with throttling, and logs a failure. `ip` is the client's
    /// address when known; `protocol` names the way in for the log ("imap", "web"...). The error
    /// is only ever an internal one; a wrong password is an `Ok` outcome.
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
        ip: Option<IpAddr>,
        protocol: &'static str,
    ) -> Result<AuthOutcome> {
        let outcome = self.check(login, password, ip).await?;
        let client = ip.map_or_else(|| "-".to_string(), |ip| ip.to_string());
        let logged_login = types::loggable(login.as_bytes());
        match &outcome {
            AuthOutcome::Ok(_) => {}
            AuthOutcome::BadCredentials => {
                tracing::warn!(target: "facteur::auth", protocol, %client, login = ?logged_login, "authentication failed");
            }
            AuthOutcome::Throttled => {
                if let Some(left_out) = self.throttled_log.may_log(ip) {
                    tracing::warn!(
                        target: "facteur::auth",
                        protocol,
                        %client,
                        login = ?logged_login,
                        left_out,
                        "authentication throttled"
                    );
                }
            }
        }
        Ok(outcome)
    }

    async fn check(&self, login: &str, password: &str, ip: Option<IpAddr>) -> Result<AuthOutcome> {
        let login = login.trim().to_lowercase();
        let credential = if is_app_password_shaped(password) { Credential::AppPassword } else { Credential::Password };
        let attempt = loop {
            // Made before asking, so an attempt finishing in between still wakes us.
            let changed = self.throttle.changed();
            match self.throttle.try_begin_with(&login, ip, credential) {
                Begin::Go(attempt) => break attempt,
                Begin::Throttled => return Ok(AuthOutcome::Throttled),
                Begin::Wait => changed.await,
            }
        };
        match self.verify(&login, password, credential).await {
            Ok(account) => {
                let ended = if account.is_some() { Ended::Succeeded } else { Ended::Failed };
                self.throttle.finish(attempt, &login, ip, ended);
                Ok(account.map_or(AuthOutcome::BadCredentials, AuthOutcome::Ok))
            }
            Err(error) => {
                self.throttle.finish(attempt, &login, ip, Ended::Abandoned);
                Err(error)
            }
        }
    }

    /// The account whose app password (for one so shaped) or password this is.
    async fn verify(&self, login: &str, password: &str, credential: Credential) -> Result<Option<Account>> {
        if credential == Credential::AppPassword
            && let Some(account) = self.store.account_by_app_password(login, &sha256_hex(password)).await?
        {
            return Ok(Some(account));
        }
        // A password may happen to look like an app password: it is still checked.
        let found = self.store.account_with_password_hash(login).await?;
        let stored_hash = found.as_ref().map_or(DUMMY_HASH, |(_, hash)| hash.as_str());
        let verified = self.passwords.verify(stored_hash, password).await;
        Ok(found.filter(|_| verified).map(|(account, _)| account))
    }

    /// F8: a new app password for the mailbox, named for the program it is for. The token is
    /// returned once, to be shown to its owner; only its SHA-256 is kept.
    pub async fn add_app_password(&self, address: &Address, name: &str) -> Result<String> {
        let account =
            self.store.account_by_login(address).await?.ok_or_else(|| Error::NotFound(format!("mailbox {address}")))?;
        self.add_app_password_for(account.id, name).await
    }

    /// [`Auth::add_app_password`] for a mailbox known by its id (the web client's settings).
    pub async fn add_app_password_for(&self, account: AccountId, name: &str) -> Result<String> {
        let token = new_app_password();
        self.store.add_app_password(account, name, &sha256_hex(&token)).await?;
        Ok(token)
    }

    /// The mailbox's app passwords: name, created and last used (Unix seconds), by name.
    pub async fn app_passwords(&self, account: AccountId) -> Result<Vec<(String, i64, Option<i64>)>> {
        self.store.app_passwords(account).await
    }

    /// Revokes one app password: the program using it can no longer log in.
    pub async fn remove_app_password(&self, account: AccountId, name: &str) -> Result<()> {
        self.store.remove_app_password(account, name).await
    }

    /// A2: creates a mailbox with this password (checked against the rules first).
    pub async fn add_user(&self, address: &Address, password: &str, quota_mb: Option<u64>) -> Result<Account> {
        let hash = self.new_password_hash(password).await?;
        self.store.add_user(address, &hash, quota_mb).await
    }

    /// A4: turns an alias into a mailbox with this password.
    pub async fn alias_to_mailbox(&self, address: &Address, password: &str, quota_mb: Option<u64>) -> Result<Account> {
        let hash = self.new_password_hash(password).await?;
        self.store.alias_to_mailbox(address, &hash, quota_mb).await
    }

    pub async fn set_password(&self, address: &Address, password: &str) -> Result<()> {
        let hash = self.new_password_hash(password).await?;
        self.store.set_password_hash(address, &hash).await
    }

    async fn new_password_hash(&self, password: &str) -> Result<String> {
        validate_password(password)?;
        self.passwords
            .hash(password)
            .await
            .map_err(|e| Error::Io { context: "hashing a password", source: std::io::Error::other(e.0) })
    }

    // ----- Web sessions -----

    /// Opens a web session and returns the token to put in the cookie.
    pub async fn create_web_session(&self, account: AccountId) -> Result<String> {
        let token = random_token();
        self.store.insert_web_session(&sha256_hex(&token), account, WEB_SESSION_SECONDS).await?;
        Ok(token)
    }

    /// The account behind a session cookie, if the session is alive.
    pub async fn web_session_account(&self, token: &str) -> Result<Option<Account>> {
        self.store.web_session_account(&sha256_hex(token)).await
    }

    pub async fn delete_web_session(&self, token: &str) -> Result<()> {
        self.store.delete_web_session(&sha256_hex(token)).await
    }
}

/// When the last "throttled" line was logged for each client, and how many were left out since.
#[derive(Default)]
struct ThrottledLog {
    clients: Mutex<HashMap<Option<IpAddr>, (Instant, u64)>>,
}

impl ThrottledLog {
    /// At most one line a minute per client.
    const EVERY: Duration = Duration::from_secs(60);
    /// Clients remembered before the old ones are forgotten.
    const MAX_CLIENTS: usize = 10_000;

    /// `Some(lines left out since the last one)` when a line may be logged now.
    fn may_log(&self, ip: Option<IpAddr>) -> Option<u64> {
        let now = Instant::now();
        let mut clients = self.clients.lock().expect("throttled log lock");
        if clients.len() >= Self::MAX_CLIENTS {
            clients.retain(|_, (since, _)| now.duration_since(*since) < Self::EVERY);
        }
        let client = ip.map(types::client_of);
        match clients.get_mut(&client) {
            Some((since, left_out)) if now.duration_since(*since) < Self::EVERY => {
                *left_out += 1;
                None
            }
            Some((since, left_out)) => {
                let previously_left_out = *left_out;
                (*since, *left_out) = (now, 0);
                Some(previously_left_out)
            }
            None => {
                clients.insert(client, (now, 0));
                Some(0)
            }
        }
    }
}

fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 {
        return Err(Error::Invalid { what: "password", why: "it must have at least 8 characters".into() });
    }
    if password.len() > 1024 {
        return Err(Error::Invalid { what: "password", why: "it is longer than 1024 bytes".into() });
    }
    Ok(())
}

/// A random token for cookies, URL-safe.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A random password for a new account, 20 characters from an unambiguous alphabet.
pub fn random_password() -> String {
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of the alphabet's size; the bias this leaves is negligible here.
    bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect()
}

/// The letters of generated passwords: no 0/O, 1/l/I to misread.
const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// An app password: five groups of four letters of [`ALPHABET`] (56^20, about 2^116), easy
/// to type on a phone, with a shape passwords people choose rarely have.
fn new_app_password() -> String {
    // The bias `random_password` leaves (256 is not a multiple of 56) keeps about 115 bits.
    let letters = random_password();
    let mut token = String::with_capacity(24);
    for (n, letter) in letters.chars().enumerate() {
        if n > 0 && n % 4 == 0 {
            token.push('-');
        }
        token.push(letter);
    }
    token
}

fn is_app_password_shaped(password: &str) -> bool {
    let bytes = password.as_bytes();
    bytes.len() == 24
        && bytes.iter().enumerate().all(|(n, b)| if n % 5 == 4 { *b == b'-' } else { ALPHABET.contains(b) })
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn auth_with_ana(dir: &tempfile::TempDir) -> Auth {
        let store = Store::open(dir.path()).await.expect("store opens");
        store.add_domain("example.org").await.expect("domain");
        let auth = Auth::new(store);
        let ana = store::parse_address("ana@example.org").expect("address");
        auth.add_user(&ana, "a long password", None).await.expect("user");
        auth
    }

    #[tokio::test]
    async fn logins_passwords_and_sessions() {
        let dir = tempfile::tempdir().expect("temp dir");
        let auth = auth_with_ana(&dir).await;
        let ip = Some("192.0.2.1".parse().unwrap());
        let AuthOutcome::Ok(ana) = auth.authenticate(" ANA@example.org ", "a long password", ip, "test").await.unwrap()
        else {
            panic!("ana logs in");
        };
        assert_eq!(
            auth.authenticate("ana@example.org", "a wrong password", ip, "test").await.unwrap(),
            AuthOutcome::BadCredentials
        );
        assert_eq!(
            auth.authenticate("nobody@example.org", "a long password", ip, "test").await.unwrap(),
            AuthOutcome::BadCredentials
        );

        let address = store::parse_address("ana@example.org").unwrap();
        assert!(matches!(auth.set_password(&address, "short").await, Err(Error::Invalid { .. })));
        auth.set_password(&address, "another long one").await.unwrap();
        assert!(matches!(
            auth.authenticate("ana@example.org", "another long one", ip, "test").await.unwrap(),
            AuthOutcome::Ok(_)
        ));

        let token = auth.create_web_session(ana.id).await.unwrap();
        assert_eq!(auth.web_session_account(&token).await.unwrap().map(|a| a.id), Some(ana.id));
        assert_eq!(auth.web_session_account("forged").await.unwrap(), None);
        auth.delete_web_session(&token).await.unwrap();
        assert_eq!(auth.web_session_account(&token).await.unwrap(), None);
    }

    /// Issue 12, defect 10: about 30 guesses at Ana's password spread over 7 addresses stopped
    /// her from signing in from a new address. An app password still lets her in, and does
    /// not let anyone else in.
    #[tokio::test]
    async fn the_owner_always_has_a_way_in_with_an_app_password() {
        let dir = tempfile::tempdir().expect("temp dir");
        let auth = auth_with_ana(&dir).await;
        let address = store::parse_address("ana@example.org").unwrap();
        let token = auth.add_app_password(&address, "phone").await.unwrap();
        assert!(is_app_password_shaped(&token), "{token}");
        assert!(matches!(auth.add_app_password(&address, "phone").await, Err(Error::Exists(_))));
        let nobody = store::parse_address("nobody@example.org").unwrap();
        assert!(matches!(auth.add_app_password(&nobody, "x").await, Err(Error::NotFound(_))));

        for n in 10..17 {
            let attacker = Some(format!("192.0.2.{n}").parse().unwrap());
            for _ in 0..6 {
                auth.authenticate("ana@example.org", "guess guess", attacker, "test").await.unwrap();
            }
        }
        let new_address = Some("198.51.100.7".parse().unwrap());
        assert_eq!(
            auth.authenticate("ana@example.org", "a long password", new_address, "test").await.unwrap(),
            AuthOutcome::Throttled,
            "the login-wide limit holds guesses (and, for now, the password) from new addresses"
        );
        let AuthOutcome::Ok(ana) = auth.authenticate("ana@example.org", &token, new_address, "test").await.unwrap()
        else {
            panic!("the app password gets Ana in");
        };
        assert_eq!(ana.login, "ana@example.org");
        let used = auth.store().app_passwords(ana.id).await.unwrap();
        assert!(used[0].0 == "phone" && used[0].2.is_some(), "{used:?}");

        // Guessing app passwords gets nowhere and is still counted per address.
        let wrong = new_app_password();
        let guesser = Some("203.0.113.9".parse().unwrap());
        assert_eq!(
            auth.authenticate("ana@example.org", &wrong, guesser, "test").await.unwrap(),
            AuthOutcome::BadCredentials
        );
        let mut outcomes = Vec::new();
        for _ in 0..8 {
            outcomes.push(auth.authenticate("ana@example.org", &new_app_password(), guesser, "test").await.unwrap());
        }
        assert_eq!(outcomes.last(), Some(&AuthOutcome::Throttled), "{outcomes:?}");
        auth.add_user(&store::parse_address("bob@example.org").unwrap(), "bob's long password", None).await.unwrap();
        assert_eq!(
            auth.authenticate("bob@example.org", &token, Some("198.51.100.8".parse().unwrap()), "test").await.unwrap(),
            AuthOutcome::BadCredentials,
            "Ana's app password is no one else's"
        );
        auth.store().remove_app_password(ana.id, "phone").await.unwrap();
        assert_eq!(
            auth.authenticate("ana@example.org", &token, Some("198.51.100.9".parse().unwrap()), "test").await.unwrap(),
            AuthOutcome::BadCredentials,
            "a removed app password no longer works"
        );
    }

    #[test]
    fn throttled_lines_are_logged_once_a_minute_per_client() {
        let log = ThrottledLog::default();
        let client = Some("192.0.2.50".parse().unwrap());
        assert_eq!(log.may_log(client), Some(0));
        for _ in 0..1000 {
            assert_eq!(log.may_log(client), None);
        }
        assert_eq!(log.may_log(Some("192.0.2.51".parse().unwrap())), Some(0), "another client is logged");
        // A minute later the next line says how many were left out.
        log.clients.lock().unwrap().get_mut(&client).unwrap().0 -= ThrottledLog::EVERY;
        assert_eq!(log.may_log(client), Some(1000));
    }

    #[tokio::test]
    async fn guessing_is_throttled() {
        let dir = tempfile::tempdir().expect("temp dir");
        let auth = auth_with_ana(&dir).await;
        let ip = Some("192.0.2.9".parse().unwrap());
        let mut outcomes = Vec::new();
        for _ in 0..8 {
            outcomes.push(auth.authenticate("ana@example.org", "guess guess", ip, "test").await.unwrap());
        }
        assert_eq!(outcomes.last(), Some(&AuthOutcome::Throttled), "{outcomes:?}");
        // Even the right password is refused from there for now, without being checked...
        assert_eq!(
            auth.authenticate("ana@example.org", "a long password", ip, "test").await.unwrap(),
            AuthOutcome::Throttled
        );
        // ...while Ana elsewhere goes on.
        let elsewhere = Some("198.51.100.1".parse().unwrap());
        assert!(matches!(
            auth.authenticate("ana@example.org", "a long password", elsewhere, "test").await.unwrap(),
            AuthOutcome::Ok(_)
        ));
    }
}
