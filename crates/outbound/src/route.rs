//! Where mail for a domain goes: the relay every message is handed to (`--relay`), or the
//! domain's mail exchangers from DNS (RFC 5321 §5.1), best preference first.

use std::net::{IpAddr, SocketAddr};

pub use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;

use crate::client::Credentials;

/// One server to try, with its addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its name, for TLS and the bounce's Remote-MTA.
    pub name: String,
    pub addresses: Vec<SocketAddr>,
}

/// Why no server could be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoRoute {
    /// DNS failed for now.
    Temporary(String),
    /// The domain has no mail server and never will as things stand (a null MX, RFC 7505; a
    /// name that does not exist).
    Permanent(String),
}

/// How outbound mail leaves.
pub enum Routing {
    /// Every message to one server (a smarthost, or a test peer).
    Relay { host: String, port: u16, credentials: Option<Credentials> },
    /// To each domain's MX hosts, on `port` (25).
    Mx { resolver: Box<TokioResolver>, port: u16 },
    /// No way out (the resolver could not be set up): mail waits in the queue, with this
    /// reason, until the server restarts with a working one.
    Unavailable(String),
}

/// A resolver with the system's name servers, or the one at `dns_server` (tests use a stub).
/// Clones share its cache: the queue's MX lookups and the MX's sender checks use one.
pub fn resolver(dns_server: Option<SocketAddr>) -> Result<TokioResolver, String> {
    builder(dns_server)?.build().map_err(|e| format!("setting up the resolver: {e}"))
}

/// A resolver like [`resolver`]'s that keeps no answer: the administration's DNS checks must
/// see a record the moment it is published, not what was cached an hour before.
pub fn uncached_resolver(dns_server: Option<SocketAddr>) -> Result<TokioResolver, String> {
    let mut builder = builder(dns_server)?;
    builder.options_mut().cache_size = 0;
    builder.build().map_err(|e| format!("setting up the resolver: {e}"))
}

fn builder(dns_server: Option<SocketAddr>) -> Result<hickory_resolver::ResolverBuilder<TokioRuntimeProvider>, String> {
    let builder = match dns_server {
        Some(server) => {
            let mut name_server = NameServerConfig::udp_and_tcp(server.ip());
            for connection in &mut name_server.connections {
                connection.port = server.port();
            }
            TokioResolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![name_server]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().map_err(|e| format!("reading the system's resolver settings: {e}"))?,
    };
    Ok(builder)
}

impl Routing {
    /// MX delivery with `resolver` ([`resolver`]).
    pub fn mx(resolver: TokioResolver, port: u16) -> Routing {
        Routing::Mx { resolver: Box::new(resolver), port }
    }

    /// Whether every domain goes the same way (so one attempt may carry them all).
    pub fn is_relay(&self) -> bool {
        matches!(self, Routing::Relay { .. })
    }

    pub fn credentials(&self) -> Option<&Credentials> {
        match self {
            Routing::Relay { credentials, .. } => credentials.as_ref(),
            Routing::Mx { .. } | Routing::Unavailable(_) => None,
        }
    }

    /// The servers to try for `domain`, in order.
    pub async fn hosts(&self, domain: &str) -> Result<Vec<Host>, NoRoute> {
        match self {
            Routing::Relay { host, port, .. } => {
                let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), *port))
                    .await
                    .map_err(|e| NoRoute::Temporary(format!("looking up the relay {host}: {e}")))?
                    .collect();
                Ok(vec![Host { name: host.clone(), addresses }])
            }
            Routing::Mx { resolver, port } => mx_hosts(resolver, domain, *port).await,
            Routing::Unavailable(why) => Err(NoRoute::Temporary(why.clone())),
        }
    }
}

async fn mx_hosts(resolver: &TokioResolver, domain: &str, port: u16) -> Result<Vec<Host>, NoRoute> {
    let fqdn = format!("{}.", domain.trim_end_matches('.'));
    let exchanges = match resolver.mx_lookup(fqdn.as_str()).await {
        Ok(lookup) => {
            let mut found: Vec<(u16, String)> = lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                    _ => None,
                })
                .collect();
            found.sort();
            found
        }
        Err(e) if e.is_nx_domain() => return Err(NoRoute::Permanent(format!("the domain {domain} does not exist"))),
        // RFC 5321 §5.1: no MX record means the domain itself is the mail server.
        Err(e) if e.is_no_records_found() => vec![(0, fqdn.clone())],
        Err(e) => return Err(NoRoute::Temporary(format!("looking up the mail servers of {domain}: {e}"))),
    };
    // RFC 7505: a single MX of "." says the domain takes no mail.
    if exchanges.len() == 1 && exchanges[0].1 == "." {
        return Err(NoRoute::Permanent(format!("the domain {domain} accepts no mail (null MX)")));
    }
    let mut hosts = Vec::new();
    let mut last_error = None;
    for (_, name) in exchanges {
        match resolver.lookup_ip(name.as_str()).await {
            Ok(ips) => {
                let addresses: Vec<SocketAddr> = ips.iter().map(|ip: IpAddr| SocketAddr::new(ip, port)).collect();
                if !addresses.is_empty() {
                    hosts.push(Host { name: name.trim_end_matches('.').to_string(), addresses });
                }
            }
            Err(e) => last_error = Some(format!("looking up {name}: {e}")),
        }
    }
    if hosts.is_empty() {
        return Err(NoRoute::Temporary(
            last_error.unwrap_or_else(|| format!("no address for the mail servers of {domain}")),
        ));
    }
    Ok(hosts)
}
