//! `facteur serve`: opens the store, sets up TLS, binds every listener and runs them.
//!
//! Once a listener is bound it is announced on stdout as `facteur: <name> listening on <addr>`,
//! and `facteur: ready` follows when all are; tests and scripts read these lines (ports given as
//! 0 are resolved by then).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{ServeArgs, ServeConfig};
use crate::{admin, autoconfig, http, tls, web};

#[allow(clippy::print_stdout)]
fn announce(line: &str) {
    println!("facteur: {line}");
}

pub(crate) async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.resolve()?;
    raise_open_file_limit();
    let store = store::Store::open(&config.data)
        .await
        .with_context(|| format!("opening the data folder {}", config.data.display()))?;
    let auth = auth::Auth::new(store.clone());
    let mail = mail::Mail::start(store.clone()).with_hourly_limit(config.submission_hourly_limit);
    first_run(&auth, &config).await?;
    // Domains from before DKIM signing get their key now (new ones get it when added).
    for domain in store.domains_without_dkim_key().await? {
        admin::add_dkim_key(&store, &domain).await?;
        tracing::info!(%domain, "DKIM key made; publish it: facteur admin domain dns {domain}");
    }
    let tls = tls::acceptor(config.tls_files.as_ref(), &config.data, &config.hostname)?;

    let mut tasks = tokio::task::JoinSet::new();
    let mut smtp_services =
        smtp::SmtpServices::new(mail.clone(), auth.clone(), Some(tls.clone()), config.hostname.clone());
    // Receiving and sending mail work without DNS: a server whose resolver cannot be set up
    // still starts, delivers unchecked and keeps outbound mail queued.
    let resolver = outbound::route::resolver(config.outbound.dns_server);
    if let Err(why) = &resolver {
        tracing::error!(%why, "no DNS: sender checks are off and outbound mail stays queued");
    }
    if config.sender_checks {
        smtp_services.sender_checks = resolver.clone().ok().map(smtp::sender_checks::SenderChecks::new);
    }
    let smtp_services = Arc::new(smtp_services);
    // K6: where mail programs reach each service, as bound.
    let mut endpoints = autoconfig::Endpoints { hostname: config.hostname.clone(), ..Default::default() };
    for (name, addr, role) in [
        ("smtp", config.smtp, smtp::Role::Mx),
        ("submission", config.submission, smtp::Role::Submission),
        ("submissions", config.submissions, smtp::Role::Submissions),
    ] {
        if let Some(addr) = addr {
            let listener = bind(name, addr).await?;
            let port = Some(listener.local_addr()?.port());
            match role {
                smtp::Role::Submission => endpoints.submission = port,
                smtp::Role::Submissions => endpoints.submissions = port,
                _ => {}
            }
            tasks.spawn(smtp::serve(listener, smtp_services.clone(), role));
        }
    }
    let search = open_search(&config.data).await;
    if let Some(index) = &search {
        // Catches up from where the index stood (building it when it must), then follows.
        tasks.spawn(search::follow(index.clone(), store.clone(), mail.subscribe()));
    }
    let mut imap_services =
        imap::ImapServices::new(mail.clone(), auth.clone(), Some(tls.clone()), config.hostname.clone());
    imap_services.plaintext_login_on_loopback = config.plaintext_login_on_loopback;
    imap_services.search = search.clone();
    let imap_services = Arc::new(imap_services);
    if let Some(addr) = config.imap {
        let listener = bind("imap", addr).await?;
        endpoints.imap = Some(listener.local_addr()?.port());
        tasks.spawn(imap::serve(listener, imap_services.clone(), false));
    }
    if let Some(addr) = config.imaps {
        let listener = bind("imaps", addr).await?;
        endpoints.imaps = Some(listener.local_addr()?.port());
        tasks.spawn(imap::serve(listener, imap_services.clone(), true));
    }
    let mut web_url = None;
    // B15: messages the web client sends later; drafts scheduled before a restart go too.
    let send_later = app::ssr::send_later::SendLater::new();
    tasks.spawn(app::ssr::send_later::run(mail.clone(), config.hostname.clone(), send_later.clone()));
    if let Some(addr) = config.http {
        let listener = bind("http", addr).await?;
        let local = listener.local_addr()?;
        let settings = app::ssr::WebSettings {
            secure_cookies: config.public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
            hostname: config.hostname.clone(),
            undo_send_seconds: config.undo_send_seconds,
        };
        let services = http::WebServices {
            settings,
            send_later: send_later.clone(),
            search: search.clone(),
            dns: outbound::route::uncached_resolver(config.outbound.dns_server).ok(),
            endpoints,
        };
        let router = http::router(mail.clone(), auth.clone(), local, services);
        web_url = Some(config.public_url.clone().unwrap_or_else(|| format!("http://{local}/")));
        tasks.spawn(web::serve(listener, router));
    }
    // Lists' copies carry links to the web client (unsubscribe, the list's page).
    if let Some(url) = web_url.as_deref().or(config.public_url.as_deref()) {
        mail.set_web_url(url);
    }
    tasks.spawn(mail::lists::run(mail.clone()));
    tasks.spawn(housekeeping(mail.clone(), config.changes_horizon, config.trash_days));
    tasks.spawn(outbound::run(mail.clone(), outbound_config(&config, resolver)?));
    announce("ready");
    if let Some(url) = web_url {
        announce(&format!("open {url} in a browser"));
    }
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down"),
        Some(_) = tasks.join_next() => tracing::error!("a listener stopped unexpectedly"),
    }
    tasks.abort_all();
    store.close().await;
    Ok(())
}

/// The full-text index in the data folder (`search/`). The server runs without search when it
/// cannot be opened (then IMAP SEARCH reads every message, and the search box says so).
async fn open_search(data: &std::path::Path) -> Option<Arc<search::SearchIndex>> {
    let dir = data.join(SEARCH_DIR);
    match tokio::task::spawn_blocking(move || search::SearchIndex::open(&dir)).await {
        Ok(Ok(index)) => Some(Arc::new(index)),
        Ok(Err(error)) => {
            tracing::error!(%error, "no full-text search");
            None
        }
        Err(_) => None,
    }
}

/// The full-text index's folder, inside the data folder.
pub(crate) const SEARCH_DIR: &str = "search";

/// Work that needs no hurry: at start, the stored facts of messages delivered before facts
/// existed; at start and then hourly, message files a crash left without a row, old uploads of
/// the web composer, changes older than the log's horizon, and messages in Trash for longer
/// than `trash_days` (D5). It never ends (the listeners' join set treats an ended task as a
/// failure).
async fn housekeeping(mail: mail::Mail, changes_horizon: std::time::Duration, trash_days: u32) {
    let store = mail.store().clone();
    match store.backfill_facts().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(n, "computed the stored facts of messages delivered before they existed"),
        Err(error) => tracing::warn!(%error, "computing the facts of older messages failed"),
    }
    loop {
        match store.sweep_orphan_blobs().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "removed message files no message refers to (left by a crash)"),
            Err(error) => tracing::warn!(%error, "sweeping message files failed"),
        }
        // The composer's uploads live until their message is saved or sent; a page left open
        // two days has its draft in Drafts, which carries them.
        let two_days_ago = chrono::Utc::now().timestamp() - 2 * 24 * 60 * 60;
        match store.purge_uploads(two_days_ago).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "forgot files uploaded to the web composer two days ago or more"),
            Err(error) => tracing::warn!(%error, "forgetting old uploads failed"),
        }
        match store.prune_changes(changes_horizon).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(n, "forgot changes older than the change log's horizon"),
            Err(error) => tracing::warn!(%error, "pruning the change log failed"),
        }
        if trash_days > 0 {
            match mail.purge_trash(trash_days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    n,
                    trash_days,
                    "deleted for good the messages in Trash for longer than the days kept"
                ),
                Err(error) => tracing::warn!(%error, "emptying old messages from Trash failed"),
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(60 * 60)).await;
    }
}

/// Every connection, message file and database handle is a file descriptor. The soft limit
/// (often 1,024) is below what the listeners' caps add up to, so raise it to the hard limit:
/// one busy listener must not leave the others unable to accept (issue 12, defect 2).
fn raise_open_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return;
    }
    match setrlimit(Resource::Nofile, Rlimit { current: limit.maximum, maximum: limit.maximum }) {
        Ok(()) => tracing::debug!(limit = ?limit.maximum, "raised the open file limit"),
        Err(error) => tracing::warn!(%error, current = ?limit.current, "could not raise the open file limit"),
    }
}

async fn bind(name: &str, addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("{name}: cannot listen on {addr}"))?;
    announce(&format!("{name} listening on {}", listener.local_addr()?));
    Ok(listener)
}

/// On an empty data folder: create the first domain and admin if asked to, else say how.
async fn first_run(auth: &auth::Auth, config: &ServeConfig) -> anyhow::Result<()> {
    let store = auth.store();
    if !store.list_users().await?.is_empty() {
        return Ok(());
    }
    let Some(admin_address) = &config.first_admin else {
        let data = config.data.display();
        announce(&format!(
            "no mailbox yet. Create the first domain and administrator with:\n  \
             facteur admin --data {data} domain add example.org\n  \
             facteur admin --data {data} user add you@example.org"
        ));
        return Ok(());
    };
    let address = store::parse_address(admin_address)?;
    let domain = config.first_domain.clone().unwrap_or_else(|| address.domain.clone());
    if !store.is_local_domain(&domain).await? {
        store.add_domain(&domain).await?;
    }
    if !store.is_local_domain(&address.domain).await? {
        store.add_domain(&address.domain).await?;
    }
    let (password, generated) = match std::env::var("FACTEUR_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => (p, false),
        _ => (admin::generate_password(), true),
    };
    auth.add_user(&address, &password, None).await?;
    if generated {
        announce(&format!("created the first administrator {address} with the password: {password}"));
    } else {
        announce(&format!("created the first administrator {address}"));
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

/// The outbound queue's settings: where mail goes, and when it is tried again.
fn outbound_config(
    config: &ServeConfig,
    resolver: Result<outbound::route::TokioResolver, String>,
) -> anyhow::Result<outbound::Config> {
    let settings = &config.outbound;
    let routing = match &settings.relay {
        Some((host, port)) => {
            let credentials = match &settings.relay_user {
                Some(user) => Some(outbound::client::Credentials {
                    user: user.clone(),
                    password: std::env::var("FACTEUR_RELAY_PASSWORD")
                        .context("--relay-user needs the password in FACTEUR_RELAY_PASSWORD")?,
                }),
                None => None,
            };
            outbound::route::Routing::Relay { host: host.clone(), port: *port, credentials }
        }
        None => match resolver {
            Ok(resolver) => outbound::route::Routing::mx(resolver, settings.port),
            Err(why) => outbound::route::Routing::Unavailable(why),
        },
    };
    Ok(outbound::Config {
        hostname: config.hostname.clone(),
        routing,
        schedule: settings.schedule.clone(),
        limits: outbound::Limits::default(),
    })
}
