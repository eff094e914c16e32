//! `facteur serve` settings: command-line flags, `FACTEUR_*` variables, an optional TOML file,
//! then defaults, in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// Flags of `facteur serve`. Every one can also come from a `FACTEUR_*` variable or the file.
#[derive(clap::Args, Debug, Default)]
pub(crate) struct ServeArgs {
    /// A TOML file with the same settings as the flags (data, http, smtp, submission,
    /// submissions, submission_hourly_limit, sender_checks, undo_send_seconds, relay, relay_user, dns_server, outbound_port,
    /// queue_retry, queue_warn_after, queue_lifetime, imap, imaps, hostname, tls_cert,
    /// tls_key, public_url, changes_horizon_days, trash_days, plaintext_login_on_loopback).
    #[arg(long, env = "FACTEUR_CONFIG")]
    config: Option<PathBuf>,
    /// The data folder (database, message files, generated certificate). Default: ./data
    #[arg(long, env = "FACTEUR_DATA")]
    data: Option<PathBuf>,
    /// Web client address. Default 127.0.0.1:8080; "off" turns it off.
    #[arg(long, env = "FACTEUR_HTTP")]
    http: Option<String>,
    /// SMTP (MX, port 25 role) address. Default 127.0.0.1:2525; "off" turns it off.
    #[arg(long, env = "FACTEUR_SMTP")]
    smtp: Option<String>,
    /// SMTP submission with STARTTLS (port 587 role). Default 127.0.0.1:5870; "off" turns it off.
    #[arg(long, env = "FACTEUR_SUBMISSION")]
    submission: Option<String>,
    /// SMTP submission over implicit TLS (port 465 role). Default 127.0.0.1:4650; "off" turns it off.
    #[arg(long, env = "FACTEUR_SUBMISSIONS")]
    submissions: Option<String>,
    /// Messages one account may send per hour (SMTP submission and the web client). Default: 200
    #[arg(long, env = "FACTEUR_SUBMISSION_HOURLY_LIMIT")]
    submission_hourly_limit: Option<u32>,
    /// Check SPF, DKIM, DMARC and ARC of mail arriving on the MX, note the results in an
    /// Authentication-Results field and refuse what fails a DMARC p=reject policy. Default: true
    #[arg(long, env = "FACTEUR_SENDER_CHECKS")]
    sender_checks: Option<bool>,
    /// How many seconds a message sent from the web client waits, with an "undo" offered,
    /// for accounts that did not choose (0 to 30). Default: 5
    #[arg(long, env = "FACTEUR_UNDO_SEND_SECONDS", value_parser = clap::value_parser!(u32).range(0..=30))]
    undo_send_seconds: Option<u32>,
    /// Hand all outbound mail to this server (HOST:PORT: a smarthost, a test peer) instead of
    /// each domain's MX hosts. Its password, with --relay-user, comes from FACTEUR_RELAY_PASSWORD.
    #[arg(long, env = "FACTEUR_RELAY")]
    relay: Option<String>,
    /// The login for --relay (AUTH PLAIN, sent only over TLS or to a relay on loopback).
    #[arg(long, env = "FACTEUR_RELAY_USER")]
    relay_user: Option<String>,
    /// The DNS server for MX lookups and sender checks (IP:PORT). Default: the system's
    /// (/etc/resolv.conf).
    #[arg(long, env = "FACTEUR_DNS_SERVER")]
    dns_server: Option<SocketAddr>,
    /// The port of other domains' MX hosts. Default: 25
    #[arg(long, env = "FACTEUR_OUTBOUND_PORT")]
    outbound_port: Option<u16>,
    /// Waits between delivery attempts of a deferred message, the last repeated.
    /// Default: 5m,15m,1h,4h
    #[arg(long, env = "FACTEUR_QUEUE_RETRY")]
    queue_retry: Option<String>,
    /// When the sender of a message still not delivered is told it is late. Default: 4h
    #[arg(long, env = "FACTEUR_QUEUE_WARN_AFTER")]
    queue_warn_after: Option<String>,
    /// When a message still not delivered is given up and bounced. Default: 5d
    #[arg(long, env = "FACTEUR_QUEUE_LIFETIME")]
    queue_lifetime: Option<String>,
    /// IMAP with STARTTLS. Default 127.0.0.1:1430; "off" turns it off.
    #[arg(long, env = "FACTEUR_IMAP")]
    imap: Option<String>,
    /// IMAP over implicit TLS. Default 127.0.0.1:9930; "off" turns it off.
    #[arg(long, env = "FACTEUR_IMAPS")]
    imaps: Option<String>,
    /// The server's name in greetings and trace headers. Default: localhost
    #[arg(long, env = "FACTEUR_HOSTNAME")]
    hostname: Option<String>,
    /// PEM certificate chain; without it a self-signed certificate is generated in the data folder.
    #[arg(long, env = "FACTEUR_TLS_CERT")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "FACTEUR_TLS_KEY")]
    tls_key: Option<PathBuf>,
    /// The URL people use to reach the web client (behind a TLS proxy: https://...). Cookies
    /// are marked Secure when it starts with https.
    #[arg(long, env = "FACTEUR_PUBLIC_URL")]
    public_url: Option<String>,
    /// How long the change log remembers changes (days): a client offline longer resyncs its
    /// folders instead of catching up (QRESYNC). Default: 30
    #[arg(long, env = "FACTEUR_CHANGES_HORIZON_DAYS")]
    changes_horizon_days: Option<u64>,
    /// How long a message stays in Trash before it is deleted for good (days; 0: kept until
    /// deleted by hand). Default: 30
    #[arg(long, env = "FACTEUR_TRASH_DAYS")]
    trash_days: Option<u32>,
    /// Accept IMAP passwords without TLS from loopback clients (benchmarks, a local TLS
    /// proxy). Default: false: STARTTLS first, as everywhere else.
    #[arg(long, env = "FACTEUR_PLAINTEXT_LOGIN_ON_LOOPBACK")]
    plaintext_login_on_loopback: Option<bool>,
    /// On a first run, create this domain...
    #[arg(long, env = "FACTEUR_DOMAIN")]
    domain: Option<String>,
    /// ...and this first administrator mailbox (password from FACTEUR_ADMIN_PASSWORD, or
    /// generated and printed).
    #[arg(long, env = "FACTEUR_ADMIN_ADDRESS")]
    admin_address: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    http: Option<String>,
    smtp: Option<String>,
    submission: Option<String>,
    submissions: Option<String>,
    submission_hourly_limit: Option<u32>,
    sender_checks: Option<bool>,
    undo_send_seconds: Option<u32>,
    relay: Option<String>,
    relay_user: Option<String>,
    dns_server: Option<SocketAddr>,
    outbound_port: Option<u16>,
    queue_retry: Option<String>,
    queue_warn_after: Option<String>,
    queue_lifetime: Option<String>,
    imap: Option<String>,
    imaps: Option<String>,
    hostname: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    public_url: Option<String>,
    changes_horizon_days: Option<u64>,
    trash_days: Option<u32>,
    plaintext_login_on_loopback: Option<bool>,
}

/// Settings after merging every source.
#[derive(Debug)]
pub(crate) struct ServeConfig {
    pub(crate) data: PathBuf,
    pub(crate) http: Option<SocketAddr>,
    pub(crate) smtp: Option<SocketAddr>,
    pub(crate) submission: Option<SocketAddr>,
    pub(crate) submissions: Option<SocketAddr>,
    pub(crate) submission_hourly_limit: u32,
    pub(crate) sender_checks: bool,
    pub(crate) undo_send_seconds: u32,
    pub(crate) outbound: Outbound,
    pub(crate) imap: Option<SocketAddr>,
    pub(crate) imaps: Option<SocketAddr>,
    pub(crate) hostname: String,
    pub(crate) tls_files: Option<(PathBuf, PathBuf)>,
    pub(crate) public_url: Option<String>,
    pub(crate) first_domain: Option<String>,
    pub(crate) first_admin: Option<String>,
    pub(crate) changes_horizon: std::time::Duration,
    /// D5: days a message stays in Trash (0: for ever).
    pub(crate) trash_days: u32,
    pub(crate) plaintext_login_on_loopback: bool,
}

/// How mail leaves for other servers.
#[derive(Debug)]
pub(crate) struct Outbound {
    /// HOST and PORT of the relay; `None` for MX delivery.
    pub(crate) relay: Option<(String, u16)>,
    pub(crate) relay_user: Option<String>,
    pub(crate) dns_server: Option<SocketAddr>,
    pub(crate) port: u16,
    pub(crate) schedule: outbound::Schedule,
}

fn relay(value: Option<String>) -> anyhow::Result<Option<(String, u16)>> {
    let Some(value) = value.filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("off")) else { return Ok(None) };
    let (host, port) = value.rsplit_once(':').with_context(|| format!("--relay: {value:?} is not HOST:PORT"))?;
    let port = port.parse().with_context(|| format!("--relay: {value:?} has no valid port"))?;
    Ok(Some((host.trim_start_matches('[').trim_end_matches(']').to_string(), port)))
}

fn schedule(
    retry: Option<String>,
    warn_after: Option<String>,
    lifetime: Option<String>,
) -> anyhow::Result<outbound::Schedule> {
    let mut schedule = outbound::Schedule::default();
    if let Some(retry) = retry {
        schedule.retry_delays =
            outbound::schedule::parse_durations(&retry).map_err(|e| anyhow::anyhow!("--queue-retry: {e}"))?;
    }
    if let Some(warn_after) = warn_after {
        schedule.warn_after =
            outbound::schedule::parse_duration(&warn_after).map_err(|e| anyhow::anyhow!("--queue-warn-after: {e}"))?;
    }
    if let Some(lifetime) = lifetime {
        schedule.lifetime =
            outbound::schedule::parse_duration(&lifetime).map_err(|e| anyhow::anyhow!("--queue-lifetime: {e}"))?;
    }
    Ok(schedule)
}

fn listener(name: &str, value: Option<String>, default: &str) -> anyhow::Result<Option<SocketAddr>> {
    let value = value.unwrap_or_else(|| default.to_string());
    if value.is_empty() || value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    value.parse().map(Some).with_context(|| format!("--{name}: {value:?} is not an address like 127.0.0.1:1430"))
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

impl ServeArgs {
    pub(crate) fn resolve(self) -> anyhow::Result<ServeConfig> {
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let tls_files = match (self.tls_cert.or(file.tls_cert), self.tls_key.or(file.tls_key)) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => bail!("--tls-cert and --tls-key go together"),
        };
        Ok(ServeConfig {
            data: self.data.or(file.data).unwrap_or_else(|| PathBuf::from("data")),
            http: listener("http", self.http.or(file.http), "127.0.0.1:8080")?,
            smtp: listener("smtp", self.smtp.or(file.smtp), "127.0.0.1:2525")?,
            submission: listener("submission", self.submission.or(file.submission), "127.0.0.1:5870")?,
            submissions: listener("submissions", self.submissions.or(file.submissions), "127.0.0.1:4650")?,
            submission_hourly_limit: self
                .submission_hourly_limit
                .or(file.submission_hourly_limit)
                .unwrap_or(mail::DEFAULT_HOURLY_LIMIT),
            sender_checks: self.sender_checks.or(file.sender_checks).unwrap_or(true),
            undo_send_seconds: self.undo_send_seconds.or(file.undo_send_seconds).unwrap_or(5).min(30),
            outbound: Outbound {
                relay: relay(self.relay.or(file.relay))?,
                relay_user: self.relay_user.or(file.relay_user),
                dns_server: self.dns_server.or(file.dns_server),
                port: self.outbound_port.or(file.outbound_port).unwrap_or(25),
                schedule: schedule(
                    self.queue_retry.or(file.queue_retry),
                    self.queue_warn_after.or(file.queue_warn_after),
                    self.queue_lifetime.or(file.queue_lifetime),
                )?,
            },
            imap: listener("imap", self.imap.or(file.imap), "127.0.0.1:1430")?,
            imaps: listener("imaps", self.imaps.or(file.imaps), "127.0.0.1:9930")?,
            hostname: self.hostname.or(file.hostname).unwrap_or_else(|| "localhost".into()),
            tls_files,
            public_url: self.public_url.or(file.public_url),
            first_domain: self.domain,
            first_admin: self.admin_address,
            changes_horizon: std::time::Duration::from_secs(
                self.changes_horizon_days.or(file.changes_horizon_days).unwrap_or(30) * 24 * 3600,
            ),
            trash_days: self.trash_days.or(file.trash_days).unwrap_or(30),
            plaintext_login_on_loopback: self
                .plaintext_login_on_loopback
                .or(file.plaintext_login_on_loopback)
                .unwrap_or(false),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_file_and_off_disables() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("facteur.toml");
        std::fs::write(&file, "smtp = \"127.0.0.1:25\"\nimap = \"off\"\nhostname = \"mx.example.org\"\n").unwrap();
        let args = ServeArgs { config: Some(file), smtp: Some("127.0.0.1:2626".into()), ..Default::default() };
        let config = args.resolve().unwrap();
        assert_eq!(config.smtp, Some("127.0.0.1:2626".parse().unwrap()));
        assert_eq!(config.imap, None);
        assert_eq!(config.http, Some("127.0.0.1:8080".parse().unwrap()));
        assert_eq!(config.hostname, "mx.example.org");
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let args = ServeArgs { http: Some("nowhere".into()), ..Default::default() };
        assert!(args.resolve().unwrap_err().to_string().contains("--http"));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "colour = \"blue\"\n").unwrap();
        let args = ServeArgs { config: Some(file), ..Default::default() };
        assert!(args.resolve().is_err());
    }
}
