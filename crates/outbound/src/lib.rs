//! Facteur's outbound queue runner (issue 14, K3, A3): sends the messages the store queued for
//! other servers, retries with backoff, and tells senders what failed (RFC 3464 bounces).
//!
//! - [`run`] is the loop: it takes the due recipients, groups them by destination (one
//!   attempt per message and domain carries all that domain's recipients; with a relay, all
//!   of a message's), and runs attempts within [`Limits`].
//! - `route`: where a domain's mail goes (MX lookup or the fixed relay).
//! - `client`: one SMTP conversation with one server.
//! - `schedule`: when to try again, when to warn the sender, when to give up.
//! - `dsn`: the bounce and delay messages.
//! - `dkim`: the domains' keys, their DNS records, and the signature on what leaves.
//! - `dns_check`: a domain's published records checked against those it should publish.
//!
//! Nothing is lost: a recipient leaves the queue only after the other server took it or its
//! sender was told (the bounce stored first), so a crash anywhere sends again, at worst.

pub mod client;
pub mod dkim;
pub mod dns_check;
pub mod dsn;
pub mod route;
pub mod schedule;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail::Mail;
use store::{AttemptOutcome, QueuedMessage, QueuedRecipient};
use tokio::sync::Notify;

use crate::client::{Outcome, SessionError, Transaction};
use crate::route::{NoRoute, Routing};
pub use crate::schedule::Schedule;

/// How many attempts may run at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections in all.
    pub connections: usize,
    /// Connections to one destination domain (or to the relay, which is one destination).
    pub per_domain: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        // Postfix's default is 20 in all and 20 per domain; big providers throttle senders
        // that open many at once, so fewer per domain.
        Limits { connections: 20, per_domain: 4 }
    }
}

/// Everything the runner needs.
pub struct Config {
    /// This server's name: EHLO, bounces.
    pub hostname: String,
    pub routing: Routing,
    pub schedule: Schedule,
    pub limits: Limits,
}

/// Messages taken at most per look at the queue.
const BATCH: usize = 500;
/// The longest the runner sleeps without looking at the queue: a `facteur admin queue retry`
/// run by another process is seen within this.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// Runs the queue until the task is dropped.
pub async fn run(mail: Mail, config: Config) {
    if !config.routing.is_relay() && config.hostname == "localhost" {
        tracing::warn!("the hostname is \"localhost\": many mail servers refuse such a greeting; set --hostname");
    }
    // Attempts that were running when the last process stopped are not running now.
    while let Err(error) = mail.store().release_outbound_leases().await {
        tracing::error!(%error, "the outbound queue cannot be read; trying again in a minute");
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    // A relay we log in to must prove who it is before it gets the password (over TLS with a
    // certificate the system trusts; without TLS only on loopback).
    let relay_tls = match config.routing.credentials() {
        Some(_) => client::verified_tls()
            .inspect_err(
                |why| tracing::error!(%why, "no trusted certificates: the relay's password is sent only on loopback"),
            )
            .ok(),
        None => None,
    };
    let runner = Arc::new(Runner {
        mail,
        config,
        tls: client::opportunistic_tls(),
        relay_tls,
        in_flight: Mutex::default(),
        finished: Notify::new(),
    });
    loop {
        let blocked = match runner.start_due().await {
            Ok(blocked) => blocked,
            Err(error) => {
                tracing::error!(%error, "reading the outbound queue failed");
                false
            }
        };
        let sleep = if blocked { MAX_SLEEP } else { runner.until_next_due().await };
        tokio::select! {
            () = runner.mail.outbound_queued() => {}
            () = runner.finished.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

struct Runner {
    mail: Mail,
    config: Config,
    /// Opportunistic TLS (RFC 7435): encrypts, checks no certificate.
    tls: tokio_rustls::TlsConnector,
    /// Checked TLS, for a relay that gets our password.
    relay_tls: Option<tokio_rustls::TlsConnector>,
    /// Attempts running, in all and per destination.
    in_flight: Mutex<InFlight>,
    /// Woken when an attempt ends (its destination may take another).
    finished: Notify,
}

#[derive(Default)]
struct InFlight {
    per_destination: HashMap<String, usize>,
    attempts: usize,
}

/// One attempt: a message to some of its recipients, all going to one destination.
struct Attempt {
    message: QueuedMessage,
    destination: String,
}

/// An attempt's place among those running, given back when dropped (even by a panic).
struct Slot {
    runner: Arc<Runner>,
    destination: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut in_flight = self.runner.in_flight.lock().expect("not poisoned");
        in_flight.attempts -= 1;
        if let Some(running) = in_flight.per_destination.get_mut(&self.destination) {
            *running -= 1;
            if *running == 0 {
                in_flight.per_destination.remove(&self.destination);
            }
        }
        drop(in_flight);
        self.runner.finished.notify_one();
    }
}

impl Runner {
    /// Starts an attempt for each due group there is room for. Returns whether some had to
    /// wait for room.
    async fn start_due(self: &Arc<Self>) -> store::Result<bool> {
        let now = chrono::Utc::now().timestamp();
        let due = self.mail.store().due_outbound(now, BATCH, &self.saturated()).await?;
        let mut blocked = false;
        for message in due {
            for mut attempt in self.group(message) {
                let Some(slot) = self.slot(&attempt.destination) else {
                    blocked = true;
                    continue;
                };
                let ids: Vec<i64> = attempt.message.recipients.iter().map(|r| r.id).collect();
                let leased = self.mail.store().lease_outbound(&ids, now).await?;
                attempt.message.recipients.retain(|r| leased.contains(&r.id));
                if attempt.message.recipients.is_empty() {
                    continue;
                }
                tokio::spawn(async move {
                    slot.runner.attempt(&attempt).await;
                    drop(slot);
                });
            }
        }
        Ok(blocked)
    }

    /// The destination domains that take no more attempts for now.
    fn saturated(&self) -> Vec<String> {
        let in_flight = self.in_flight.lock().expect("not poisoned");
        let per_domain = self.config.limits.per_domain;
        in_flight
            .per_destination
            .iter()
            .filter(|(_, running)| **running >= per_domain)
            .map(|(d, _)| d.clone())
            .collect()
    }

    /// A place for one more attempt, if there is room in all and for its destination.
    fn slot(self: &Arc<Self>, destination: &str) -> Option<Slot> {
        let mut in_flight = self.in_flight.lock().expect("not poisoned");
        let running = in_flight.per_destination.get(destination).copied().unwrap_or(0);
        let limits = self.config.limits;
        if running >= limits.per_domain || in_flight.attempts >= limits.connections {
            return None;
        }
        *in_flight.per_destination.entry(destination.to_string()).or_default() += 1;
        in_flight.attempts += 1;
        Some(Slot { runner: Arc::clone(self), destination: destination.to_string() })
    }

    /// Splits a message's due recipients by destination.
    fn group(&self, message: QueuedMessage) -> Vec<Attempt> {
        let mut by_destination: Vec<(String, Vec<QueuedRecipient>)> = Vec::new();
        for recipient in message.recipients.iter().cloned() {
            let destination = if self.config.routing.is_relay() { String::new() } else { recipient.domain.clone() };
            match by_destination.iter_mut().find(|(d, _)| *d == destination) {
                Some((_, recipients)) => recipients.push(recipient),
                None => by_destination.push((destination, vec![recipient])),
            }
        }
        by_destination
            .into_iter()
            .map(|(destination, recipients)| Attempt {
                message: QueuedMessage { recipients, ..message.clone() },
                destination,
            })
            .collect()
    }

    /// How long until the next recipient not being tried is due.
    async fn until_next_due(&self) -> Duration {
        let next = match self.mail.store().next_outbound_attempt().await {
            Ok(next) => next,
            Err(error) => {
                tracing::error!(%error, "reading the outbound queue failed");
                return MAX_SLEEP;
            }
        };
        let now = chrono::Utc::now().timestamp();
        match next {
            // Due already: those wait for room, and an attempt's end wakes us.
            Some(at) if at <= now => MAX_SLEEP,
            Some(at) => Duration::from_secs((at - now) as u64).min(MAX_SLEEP),
            None => MAX_SLEEP,
        }
    }

    /// Tries one group, then records what became of each recipient.
    async fn attempt(&self, attempt: &Attempt) {
        let message = &attempt.message;
        let recipients: Vec<String> = message.recipients.iter().map(|r| r.address.clone()).collect();
        let (outcomes, remote_mta, raw) = match self.mail.store().outbound_raw(message).await {
            Ok(raw) => {
                // RFC 5321 §4.4: only the final delivery adds Return-Path:; the copy a local
                // mailbox got with ours (a forward's) must not leave with it.
                let leaving = mail::header::without_fields(&raw, |name, _| name.eq_ignore_ascii_case(b"return-path"));
                let signed = self.signed(message, &leaving).await;
                let (outcomes, remote_mta) =
                    self.send(&message.recipients[0].domain, &message.sender, &recipients, &signed).await;
                (outcomes, remote_mta, raw)
            }
            Err(error) => {
                tracing::error!(%error, id = ?message.id, "a queued message cannot be read");
                let why = format!("the queued message cannot be read: {error}");
                (vec![Outcome::Temporary(why); recipients.len()], None, Vec::new())
            }
        };
        // Until the outcomes are written, the recipients stay leased: a failed write must not
        // have them sent again and again, so it is tried again, with a growing wait.
        let results = self.outcomes(message, &outcomes, remote_mta, &raw).await;
        let mut wait = Duration::from_secs(1);
        while let Err(error) = self.mail.store().finish_outbound(&results).await {
            tracing::error!(%error, id = ?message.id, "recording a delivery attempt failed; trying again");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    }

    /// The message with a DKIM signature of its author's domain in front, when that domain
    /// is ours (else of the envelope sender's). Unsigned, and logged, if signing fails: a
    /// message is better late-checked than not sent.
    ///
    /// Only what one of our accounts submitted is signed. A forward (or a bounce passed back
    /// to an SRS address) is someone else's message: it keeps its author's signatures, and
    /// signing it would let anyone who can reach our MX have any `From:` signed with our keys
    /// and replay it (DKIM replay). The bounces we write are not signed either. A list's copy
    /// is: the list wrote its `From:` (its own address, or an author who submitted it here).
    async fn signed(&self, message: &QueuedMessage, raw: &[u8]) -> Vec<u8> {
        if message.account.is_none() && !self.mail.is_list_copy_sender(&message.sender).await.unwrap_or(false) {
            return raw.to_vec();
        }
        let envelope_domain = message.sender.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
        let mut key = None;
        for domain in dkim::author_domain(raw).into_iter().chain(envelope_domain) {
            match self.mail.store().dkim_key(&domain).await {
                Ok(Some(found)) => {
                    key = Some(found);
                    break;
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, %domain, "reading the DKIM key failed"),
            }
        }
        let Some(key) = key else { return raw.to_vec() };
        match dkim::signature(&key, raw) {
            Ok(header) => {
                let mut signed = Vec::with_capacity(header.len() + raw.len());
                signed.extend_from_slice(header.as_bytes());
                signed.extend_from_slice(raw);
                signed
            }
            Err(error) => {
                tracing::error!(%error, domain = %key.domain, "DKIM signing failed; sending unsigned");
                raw.to_vec()
            }
        }
    }

    fn tls_for_attempt(&self) -> Option<&tokio_rustls::TlsConnector> {
        match self.config.routing.credentials() {
            Some(_) => self.relay_tls.as_ref(),
            None => Some(&self.tls),
        }
    }

    /// Delivers to the destination's servers in order until one decides. Returns the outcome
    /// per recipient and the server that gave them.
    async fn send(
        &self,
        domain: &str,
        sender: &str,
        recipients: &[String],
        raw: &[u8],
    ) -> (Vec<Outcome>, Option<String>) {
        let everyone = |outcome: Outcome| vec![outcome; recipients.len()];
        let hosts = match self.config.routing.hosts(domain).await {
            Ok(hosts) => hosts,
            Err(NoRoute::Temporary(why)) => return (everyone(Outcome::Temporary(why)), None),
            Err(NoRoute::Permanent(why)) => return (everyone(Outcome::Permanent(why)), None),
        };
        let mut last_failure = format!("no server to deliver to for {domain}");
        for host in hosts {
            let relay_on_loopback =
                self.config.routing.is_relay() && host.addresses.iter().all(|a| a.ip().is_loopback());
            for address in &host.addresses {
                let mut use_tls = true;
                loop {
                    let stream = match client::connect(*address).await {
                        Ok(stream) => stream,
                        Err(why) => {
                            last_failure = why;
                            break;
                        }
                    };
                    let transaction = Transaction {
                        hello: &self.config.hostname,
                        server_name: &host.name,
                        tls: if use_tls { self.tls_for_attempt() } else { None },
                        credentials: self.config.routing.credentials(),
                        plaintext_auth_ok: relay_on_loopback,
                        sender,
                        recipients,
                        message: raw,
                    };
                    match client::deliver(stream, &transaction).await {
                        Ok(outcomes) => return (outcomes, Some(host.name.clone())),
                        Err(SessionError::Refused(outcome)) => return (everyone(outcome), Some(host.name.clone())),
                        // RFC 7435: opportunistic TLS that fails falls back to no TLS, as
                        // Postfix's `may` does, rather than not delivering.
                        Err(SessionError::Tls(why)) if use_tls => {
                            tracing::info!(host = %host.name, %address, %why, "STARTTLS failed; trying again without");
                            use_tls = false;
                        }
                        Err(SessionError::Tls(why) | SessionError::Unreachable(why)) => {
                            last_failure = format!("{} ({address}): {why}", host.name);
                            break;
                        }
                    }
                }
            }
        }
        (everyone(Outcome::Temporary(last_failure)), None)
    }

    /// What to write to the queue for each recipient; tells the sender of failures (and of
    /// a long delay) first, so a crash before the write repeats the notice rather than losing
    /// it.
    async fn outcomes(
        &self,
        message: &QueuedMessage,
        outcomes: &[Outcome],
        remote_mta: Option<String>,
        raw: &[u8],
    ) -> Vec<(i64, AttemptOutcome)> {
        let now = chrono::Utc::now().timestamp();
        let schedule = &self.config.schedule;
        let mut failed = Vec::new();
        let mut delayed = Vec::new();
        let mut newly_warned = Vec::new();
        let mut results = Vec::new();
        for (recipient, outcome) in message.recipients.iter().zip(outcomes) {
            let report = |diagnostic: &str| dsn::Recipient {
                address: recipient.address.clone(),
                diagnostic: diagnostic.to_string(),
                remote_mta: remote_mta.clone(),
            };
            match outcome {
                Outcome::Delivered(reply) => {
                    tracing::info!(id = ?message.id, to = %recipient.address, relay = ?remote_mta, %reply, "delivered");
                    results.push((recipient.id, AttemptOutcome::Done));
                }
                Outcome::Permanent(why) => {
                    tracing::info!(id = ?message.id, to = %recipient.address, %why, "delivery failed for good");
                    failed.push((recipient.id, report(why)));
                }
                Outcome::Temporary(why) => match schedule.next_attempt(recipient.attempts, message.created_at, now) {
                    None => {
                        tracing::info!(id = ?message.id, to = %recipient.address, %why, "giving up: too long in the queue");
                        failed.push((
                            recipient.id,
                            report(&format!("{why} (gave up after {})", schedule.lifetime_text())),
                        ));
                    }
                    Some(next_attempt) => {
                        let warn = !recipient.delay_warned && schedule.warn_now(message.created_at, now);
                        tracing::info!(id = ?message.id, to = %recipient.address, %why, next_attempt, "delivery deferred");
                        if warn {
                            delayed.push(report(why));
                            newly_warned.push(recipient.id);
                        }
                        results.push((
                            recipient.id,
                            AttemptOutcome::Later {
                                next_attempt,
                                error: why.clone(),
                                delay_warned: recipient.delay_warned || warn,
                            },
                        ));
                    }
                },
            }
        }
        if !failed.is_empty() {
            let reports: Vec<dsn::Recipient> = failed.iter().map(|(_, r)| r.clone()).collect();
            match self.notify(message, dsn::Action::Failed, &reports, raw).await {
                Ok(()) => results.extend(failed.iter().map(|(id, _)| (*id, AttemptOutcome::Done))),
                Err(error) => {
                    // Not told, so not done: kept and tried again, and told next time.
                    tracing::error!(%error, id = ?message.id, "a bounce could not be stored; the recipients stay queued");
                    results.extend(failed.iter().map(|(id, r)| {
                        (
                            *id,
                            AttemptOutcome::Later {
                                next_attempt: now + 300,
                                error: r.diagnostic.clone(),
                                delay_warned: true,
                            },
                        )
                    }));
                }
            }
        }
        if !delayed.is_empty()
            && let Err(error) = self.notify(message, dsn::Action::Delayed, &delayed, raw).await
        {
            // Not told: told at a later attempt.
            tracing::warn!(%error, id = ?message.id, "a delay notice could not be stored");
            for (id, outcome) in &mut results {
                if let AttemptOutcome::Later { delay_warned, .. } = outcome
                    && newly_warned.contains(id)
                {
                    *delay_warned = false;
                }
            }
        }
        results
    }

    /// Sends a report to the message's sender (`Mail::send_from_server`). A bounce (null
    /// sender) is never reported on (RFC 5321 §4.5.5), nor is a message whose sender is
    /// unknown here.
    async fn notify(
        &self,
        message: &QueuedMessage,
        action: dsn::Action,
        recipients: &[dsn::Recipient],
        original: &[u8],
    ) -> mail::Result<()> {
        if message.sender.is_empty() {
            tracing::info!(id = ?message.id, "a bounce could not be delivered; nobody to tell");
            return Ok(());
        }
        let report = dsn::Report {
            action,
            hostname: &self.config.hostname,
            to: &message.sender,
            arrival: message.created_at,
            recipients,
            original,
        }
        .render(chrono::Utc::now());
        match self.mail.send_from_server(&message.sender, report).await? {
            mail::ServerMessage::Sent => {}
            // The notice cannot be kept, and keeping the message for it would keep it forever.
            // Logged for the admin.
            unsent => tracing::warn!(sender = %message.sender, ?unsent, "the report is dropped"),
        }
        Ok(())
    }
}
