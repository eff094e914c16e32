//! `facteur admin`: operators' commands on the data folder. They work while the server runs
//! (SQLite in WAL mode lets both write; each waits briefly for the other's lock).

use std::io::Read;
use std::path::Path;

use anyhow::{Context, bail};
use clap::Subcommand;
use store::{Store, parse_address};

mod groups;
mod lists;

#[derive(Subcommand)]
pub(crate) enum AdminCommand {
    /// Mail domains (A1).
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Mailboxes (A2).
    #[command(subcommand)]
    User(UserCommand),
    /// Aliases: addresses that redirect to one or more others (A3).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Groups of a domain's mailboxes, with their administrators (A11).
    #[command(subcommand)]
    Group(groups::GroupCommand),
    /// Mailing lists: distribution lists and discussion lists (A7, A8).
    #[command(subcommand)]
    List(lists::ListCommand),
    /// App passwords: one per program (phone, desktop client), each usable instead of the
    /// mailbox's password and removable alone (F8). Guesses at the password that hold up
    /// logins from new addresses do not hold these up.
    #[command(subcommand)]
    AppPassword(AppPasswordCommand),
    /// Deliver a message read from standard input to a local address, as the MX would but
    /// without adding trace headers (a local delivery agent).
    Deliver { address: String },
    /// Look at stored messages.
    #[command(subcommand)]
    Message(MessageCommand),
    /// The outbound queue: mail waiting to leave for other servers (K3).
    #[command(subcommand)]
    Queue(QueueCommand),
    /// The footer every message written in the web client ends with, for the whole
    /// organisation (B13): a legal notice, the association's address.
    #[command(subcommand)]
    Footer(FooterCommand),
    /// Build the full-text search index again from every stored message, with a progress bar
    /// (the server does it by itself when the index is missing or unreadable). Stop the server
    /// first: it holds the index.
    Reindex,
}

#[derive(Subcommand)]
pub(crate) enum FooterCommand {
    /// Print it.
    Show,
    /// Set it, read from standard input.
    Set,
    /// Remove it.
    Clear,
}

#[derive(Subcommand)]
pub(crate) enum QueueCommand {
    /// One line per queued message (id, age, size, sender), then one per recipient waiting
    /// (attempts made, next attempt, last error).
    List,
    /// Try one message (or all, without an id) again now. A running server picks it up
    /// within 30 seconds.
    Retry { id: Option<i64> },
    /// Take a message off the queue without sending it or telling its sender.
    Delete { id: i64 },
}

#[derive(Subcommand)]
pub(crate) enum DomainCommand {
    Add {
        name: String,
    },
    List,
    /// Remove a domain that has no mailboxes left.
    Remove {
        name: String,
    },
    /// Send postmaster@ and abuse@ of the domain to TARGET (default: the domain's first admin).
    Postmaster {
        domain: String,
        target: Option<String>,
    },
    /// Make a mailbox an administrator of the domain (it manages the domain's mailboxes in
    /// the web client's administration, and no other domain's).
    AdminAdd {
        domain: String,
        address: String,
    },
    /// Take the domain's administration from a mailbox.
    AdminRemove {
        domain: String,
        address: String,
    },
    /// List the domain's administrators.
    Admins {
        domain: String,
    },
    /// Print the DNS records to publish for the domain (MX, SPF, DMARC, and the SRV records
    /// mail programs look up), as zone-file lines.
    Dns {
        domain: String,
        /// The mail server's host name, as in its certificate. Default: the server's
        /// hostname setting, else mail.DOMAIN.
        #[arg(long, env = "FACTEUR_HOSTNAME")]
        host: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum UserCommand {
    /// Create a mailbox. Without --password-stdin a password is generated and printed.
    Add {
        address: String,
        #[arg(long)]
        password_stdin: bool,
        /// Quota in megabytes (default: unlimited).
        #[arg(long)]
        quota_mb: Option<u64>,
    },
    /// Change a password (read from standard input, or generated and printed).
    Passwd {
        address: String,
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    /// Set the quota in megabytes ("unlimited" for none).
    Quota {
        address: String,
        quota: String,
    },
    /// Set the name shown for the mailbox.
    Name {
        address: String,
        name: String,
    },
    /// Rename the mailbox within its domain (its login changes; mail, settings and the aliases
    /// naming it follow). --keep-old keeps the old address as an alias to the new one.
    Rename {
        address: String,
        new_address: String,
        #[arg(long)]
        keep_old: bool,
    },
    /// Stop anyone signing in to the mailbox (web, IMAP, SMTP); it keeps its mail and still
    /// receives.
    Disable {
        address: String,
    },
    /// Let the mailbox sign in again.
    Enable {
        address: String,
    },
    /// Delete the mailbox and all its mail. Without --yes, only says how much would go.
    Delete {
        address: String,
        #[arg(long)]
        yes: bool,
    },
    /// Turn the mailbox into an alias to TARGETS, deleting its mail (A4). Without --yes, only
    /// says how much would go.
    ToAlias {
        address: String,
        #[arg(required = true)]
        targets: Vec<String>,
        #[arg(long)]
        yes: bool,
    },
    /// Whether messages the user sends by SMTP submission are copied to Sent: "off" for
    /// programs that save their own copies over IMAP (Thunderbird, Apple Mail, Outlook).
    SentCopies {
        address: String,
        #[arg(value_parser = ["on", "off"])]
        setting: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum AppPasswordCommand {
    /// Make one, named for the program it is for; it is printed once.
    Add {
        address: String,
        name: String,
    },
    List {
        address: String,
    },
    Remove {
        address: String,
        name: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum AliasCommand {
    Add {
        address: String,
        #[arg(required = true)]
        targets: Vec<String>,
    },
    List,
    /// Replace the targets of an alias; also redirects postmaster@ and abuse@ of a domain.
    Set {
        address: String,
        #[arg(required = true)]
        targets: Vec<String>,
    },
    /// Remove an alias (postmaster@ and abuse@ go back to the domain's default).
    Remove {
        address: String,
    },
    /// Turn the alias into a mailbox (A4). Without --password-stdin a password is generated
    /// and printed.
    ToMailbox {
        address: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        quota_mb: Option<u64>,
    },
}

#[derive(Subcommand)]
pub(crate) enum MessageCommand {
    /// One line per message of a folder: UID, size and subject, tab-separated.
    List {
        address: String,
        #[arg(long, default_value = "INBOX")]
        folder: String,
    },
    /// Print a stored message byte for byte.
    Get {
        address: String,
        uid: u32,
        #[arg(long, default_value = "INBOX")]
        folder: String,
    },
}

pub(crate) fn generate_password() -> String {
    auth::random_password()
}

fn read_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((generate_password(), true));
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("reading the password from standard input")?;
    let password = text.trim_end_matches(['\r', '\n']).to_string();
    Ok((password, false))
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(data: &Path, command: AdminCommand) -> anyhow::Result<()> {
    let store = Store::open(data).await.with_context(|| format!("opening the data folder {}", data.display()))?;
    let result = run_on(&store, data, command).await;
    store.close().await;
    result
}

/// `facteur admin reindex`: the index built again, the progress drawn on standard error.
#[allow(clippy::print_stdout, clippy::print_stderr)]
async fn reindex(store: &Store, data: &Path) -> anyhow::Result<()> {
    let dir = data.join(crate::serve::SEARCH_DIR);
    let index = tokio::task::spawn_blocking(move || search::SearchIndex::open(&dir)).await??;
    let started = std::time::Instant::now();
    let mut drawn = 0;
    let mut progress = |done: u64, total: u64| {
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        if percent != drawn || done == total {
            drawn = percent;
            let bar = "#".repeat(percent as usize / 4);
            eprint!("\r[{bar:<25}] {percent:>3}% {done}/{total} messages");
        }
    };
    let done = index.rebuild(store, &mut progress).await?;
    eprintln!();
    let seconds = started.elapsed().as_secs_f64();
    println!("indexed {done} messages in {seconds:.1} s ({:.0} messages/s)", done as f64 / seconds.max(0.001));
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn run_on(store: &Store, data: &Path, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::Reindex => reindex(store, data).await?,
        AdminCommand::Domain(DomainCommand::Add { name }) => {
            let name = store.add_domain(&name).await?;
            add_dkim_key(store, &name).await?;
            println!("domain {name} added; postmaster@{name} and abuse@{name} go to its first admin");
            println!("its DNS records: facteur admin domain dns {name}");
        }
        AdminCommand::Domain(DomainCommand::List) => {
            for domain in store.list_domains().await? {
                let postmaster = domain.postmaster_target.unwrap_or_else(|| "(first admin)".into());
                println!("{}\t{} mailbox(es)\tpostmaster: {postmaster}", domain.name, domain.n_accounts);
            }
        }
        AdminCommand::Domain(DomainCommand::Remove { name }) => {
            store.remove_domain(&name).await?;
            println!("domain {name} removed");
        }
        AdminCommand::Domain(DomainCommand::Dns { domain, host }) => {
            let domain = domain.trim().to_lowercase();
            if !store.list_domains().await?.iter().any(|d| d.name == domain) {
                bail!("no domain {domain}");
            }
            let host = host.unwrap_or_else(|| format!("mail.{domain}"));
            let dkim = match store.dkim_key(&domain).await? {
                Some(key) => key,
                None => add_dkim_key(store, &domain).await?,
            };
            let dkim = mail::dns_records::DkimRecord {
                selector: dkim.selector.clone(),
                text: outbound::dkim::record_text(&dkim),
            };
            print!("{}", mail::dns_records::zone_lines(&mail::dns_records::dns_records(&domain, &host, Some(&dkim))));
            println!("; and an A (and AAAA) record for {host}");
        }
        AdminCommand::Domain(DomainCommand::Postmaster { domain, target }) => {
            let target = target.map(|t| parse_address(&t)).transpose()?;
            store.set_postmaster_target(&domain, target.as_ref()).await?;
            println!("postmaster@{domain} now goes to {}", target.map_or("the first admin".into(), |t| t.to_string()));
        }
        AdminCommand::Domain(DomainCommand::AdminAdd { domain, address }) => {
            let address = parse_address(&address)?;
            store.add_domain_admin(&domain, &address).await?;
            println!("{address} administers {domain}");
        }
        AdminCommand::Domain(DomainCommand::AdminRemove { domain, address }) => {
            let address = parse_address(&address)?;
            match store.remove_domain_admin(&domain, &address).await? {
                true => println!("{address} no longer administers {domain}"),
                false => bail!("{address} does not administer {domain}"),
            }
        }
        AdminCommand::Domain(DomainCommand::Admins { domain }) => {
            for login in store.domain_admins(&domain).await? {
                println!("{login}");
            }
        }
        AdminCommand::User(UserCommand::Quota { address, quota }) => {
            let address = parse_address(&address)?;
            let quota_mb = match quota.as_str() {
                "unlimited" => None,
                megabytes => {
                    Some(megabytes.parse::<u64>().with_context(|| format!("not a number of MB: {megabytes}"))?)
                }
            };
            store.set_quota(&address, quota_mb).await?;
            println!("quota of {address}: {}", quota_mb.map_or("unlimited".into(), |mb| format!("{mb} MB")));
        }
        AdminCommand::User(UserCommand::Name { address, name }) => {
            let address = parse_address(&address)?;
            store.set_display_name(&address, &name).await?;
            println!("{address} is shown as {}", name.trim());
        }
        AdminCommand::User(UserCommand::Rename { address, new_address, keep_old }) => {
            let (address, new) = (parse_address(&address)?, parse_address(&new_address)?);
            store.rename_mailbox(&address, &new, keep_old).await?;
            let kept = if keep_old { format!("; {address} is now an alias to it") } else { String::new() };
            println!("{address} is now {new}{kept}");
        }
        AdminCommand::User(UserCommand::Disable { address }) => {
            let address = parse_address(&address)?;
            store.set_mailbox_disabled(&address, true).await?;
            println!("{address} is disabled: nobody signs in to it; it still receives");
        }
        AdminCommand::User(UserCommand::Enable { address }) => {
            let address = parse_address(&address)?;
            store.set_mailbox_disabled(&address, false).await?;
            println!("{address} is enabled");
        }
        AdminCommand::User(UserCommand::Delete { address, yes }) => {
            let address = parse_address(&address)?;
            if !yes {
                bail!("{}; run again with --yes to delete it", contents_line(store, &address).await?);
            }
            let deleted = store.delete_mailbox(&address).await?;
            println!("mailbox {address} deleted with its {deleted} message(s)");
        }
        AdminCommand::User(UserCommand::ToAlias { address, targets, yes }) => {
            let address = parse_address(&address)?;
            let targets = targets.iter().map(|t| parse_address(t)).collect::<Result<Vec<_>, _>>()?;
            if !yes {
                bail!("{}; run again with --yes to turn it into an alias", contents_line(store, &address).await?);
            }
            let deleted = store.mailbox_to_alias(&address, &targets).await?;
            println!("{address} is now an alias ({deleted} message(s) deleted)");
        }
        AdminCommand::User(UserCommand::Add { address, password_stdin, quota_mb }) => {
            let address = parse_address(&address)?;
            let (password, generated) = read_password(password_stdin)?;
            let account = auth::Auth::new(store.clone()).add_user(&address, &password, quota_mb).await?;
            let role = if account.is_admin { " (administrator)" } else { "" };
            println!("mailbox {address} created{role}");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::User(UserCommand::Passwd { address, password_stdin }) => {
            let address = parse_address(&address)?;
            let (password, generated) = read_password(password_stdin)?;
            auth::Auth::new(store.clone()).set_password(&address, &password).await?;
            println!("password of {address} changed");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::User(UserCommand::SentCopies { address, setting }) => {
            let address = parse_address(&address)?;
            let account = store.account_by_login(&address).await?.with_context(|| format!("no mailbox {address}"))?;
            store.set_keeps_sent_copies(account.id, setting == "on").await?;
            println!("copies of what {address} sends: {setting}");
        }
        AdminCommand::User(UserCommand::List) => {
            for user in store.list_users().await? {
                let quota = user.quota_bytes.map_or("unlimited".into(), |q| format!("{} MB", q / (1024 * 1024)));
                let admin = if user.is_admin { "\tadmin" } else { "" };
                let disabled = if user.disabled { "\tdisabled" } else { "" };
                println!("{}\t{} bytes used\tquota {quota}{admin}{disabled}", user.login, user.used_bytes);
            }
        }
        AdminCommand::AppPassword(AppPasswordCommand::Add { address, name }) => {
            let address = parse_address(&address)?;
            let token = auth::Auth::new(store.clone()).add_app_password(&address, &name).await?;
            println!("app password {:?} of {address} created", name.trim());
            println!("app password: {token}");
        }
        AdminCommand::AppPassword(AppPasswordCommand::List { address }) => {
            let account = mailbox(store, &address).await?;
            for (name, created, used) in auth::Auth::new(store.clone()).app_passwords(account).await? {
                let date = |t: i64| chrono::DateTime::from_timestamp(t, 0).map_or("?".into(), |d| d.to_rfc3339());
                println!("{name}\tcreated {}\tlast used {}", date(created), used.map_or("never".into(), date));
            }
        }
        AdminCommand::AppPassword(AppPasswordCommand::Remove { address, name }) => {
            let account = mailbox(store, &address).await?;
            auth::Auth::new(store.clone()).remove_app_password(account, &name).await?;
            println!("app password {:?} of {address} removed", name.trim());
        }
        AdminCommand::Alias(AliasCommand::Add { address, targets }) => {
            let address = parse_address(&address)?;
            let targets = targets.iter().map(|t| parse_address(t)).collect::<Result<Vec<_>, _>>()?;
            store.add_alias(&address, &targets).await?;
            println!("alias {address} created");
        }
        AdminCommand::Alias(AliasCommand::List) => {
            for alias in store.list_aliases().await? {
                println!("{}\t{}", alias.address, alias.targets.join(" "));
            }
        }
        AdminCommand::Alias(AliasCommand::Set { address, targets }) => {
            let address = parse_address(&address)?;
            let targets = targets.iter().map(|t| parse_address(t)).collect::<Result<Vec<_>, _>>()?;
            store.set_alias_targets(&address, &targets).await?;
            println!("{address} now goes to {}", targets.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" "));
        }
        AdminCommand::Alias(AliasCommand::ToMailbox { address, password_stdin, quota_mb }) => {
            let address = parse_address(&address)?;
            let (password, generated) = read_password(password_stdin)?;
            auth::Auth::new(store.clone()).alias_to_mailbox(&address, &password, quota_mb).await?;
            println!("{address} is now a mailbox");
            if generated {
                println!("password: {password}");
            }
        }
        AdminCommand::Alias(AliasCommand::Remove { address }) => {
            let address = parse_address(&address)?;
            store.remove_alias(&address).await?;
            println!("alias {address} removed");
        }
        AdminCommand::Deliver { address } => {
            let address = parse_address(&address)?;
            let mut raw = Vec::new();
            std::io::stdin().read_to_end(&mut raw).context("reading the message from standard input")?;
            // Through the mail domain, as the MX delivers: the same routing, and whatever is
            // done to mail on its way in.
            let mail::AddressDelivery::Delivered(delivery) =
                mail::Mail::new(store.clone()).deliver_to_address(&address, raw).await?
            else {
                bail!("{address} is not a local address");
            };
            if delivery.delivered.is_empty() {
                // Delivery is all or nothing: one full mailbox keeps it from every target.
                let n_targets = delivery.over_quota.len();
                bail!("not delivered: a target mailbox is full ({n_targets} full)");
            }
            println!("delivered to {} mailbox(es)", delivery.delivered.len());
        }
        AdminCommand::Queue(command) => queue(store, command).await?,
        AdminCommand::List(command) => lists::run(store, command).await?,
        AdminCommand::Group(command) => groups::run(store, command).await?,
        AdminCommand::Footer(FooterCommand::Show) => match store.server_setting(store::FOOTER_SETTING).await? {
            Some(footer) => println!("{footer}"),
            None => println!("(no footer)"),
        },
        AdminCommand::Footer(FooterCommand::Set) => {
            let mut footer = String::new();
            std::io::stdin().read_to_string(&mut footer).context("reading the footer from standard input")?;
            let footer = footer.trim_end().replace("\r\n", "\n");
            if footer.trim().is_empty() {
                bail!("the footer is empty: use `facteur admin footer clear` to remove it");
            }
            store.set_server_setting(store::FOOTER_SETTING, Some(&footer)).await?;
            println!("footer set ({} lines)", footer.lines().count());
        }
        AdminCommand::Footer(FooterCommand::Clear) => {
            store.set_server_setting(store::FOOTER_SETTING, None).await?;
            println!("footer removed");
        }
        AdminCommand::Message(MessageCommand::List { address, folder }) => {
            let (account, folder) = find_folder(store, &address, &folder).await?;
            for message in store.messages(account, folder).await? {
                println!("{}\t{}\t{}", message.uid, message.size, message.subject);
            }
        }
        AdminCommand::Message(MessageCommand::Get { address, uid, folder }) => {
            let (account, folder) = find_folder(store, &address, &folder).await?;
            let messages = store.messages(account, folder).await?;
            let message =
                messages.iter().find(|m| m.uid == uid).with_context(|| format!("no message with UID {uid}"))?;
            let raw = store.read_raw(message).await?;
            use std::io::Write;
            std::io::stdout().write_all(&raw)?;
        }
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn queue(store: &Store, command: QueueCommand) -> anyhow::Result<()> {
    match command {
        QueueCommand::List => {
            let now = chrono::Utc::now().timestamp();
            let queued = store.list_outbound().await?;
            for message in &queued {
                let sender = if message.sender.is_empty() { "<> (a bounce)" } else { &message.sender };
                let age = outbound::schedule::duration_text(std::time::Duration::from_secs(
                    (now - message.created_at).max(0) as u64,
                ));
                println!("{}\tqueued {age} ago\t{} bytes\tfrom {sender}", message.id.0, message.size);
                for recipient in &message.recipients {
                    let next = (recipient.next_attempt - now).max(0) as u64;
                    let next = if next == 0 {
                        "now".to_string()
                    } else {
                        format!("in {}", outbound::schedule::duration_text(std::time::Duration::from_secs(next)))
                    };
                    let error = recipient.last_error.as_deref().unwrap_or("-");
                    println!("\tto {}\t{} attempt(s)\tnext {next}\t{error}", recipient.address, recipient.attempts);
                }
            }
            println!("{} message(s) queued", queued.len());
        }
        QueueCommand::Retry { id } => {
            let n = store.retry_outbound(id.map(store::OutboundId)).await?;
            if id.is_some() && n == 0 {
                bail!("no queued message {}", id.unwrap_or_default());
            }
            println!("{n} recipient(s) to try again now");
        }
        QueueCommand::Delete { id } => {
            if !store.delete_outbound(store::OutboundId(id)).await? {
                bail!("no queued message {id}");
            }
            println!("message {id} taken off the queue");
        }
    }
    Ok(())
}

/// Makes and keeps a DKIM key for a domain (`outbound::dkim::add_key`).
pub(crate) async fn add_dkim_key(store: &Store, domain: &str) -> anyhow::Result<store::DkimKey> {
    outbound::dkim::add_key(store, domain).await.map_err(anyhow::Error::msg)
}

async fn find_folder(
    store: &Store,
    address: &str,
    folder: &str,
) -> anyhow::Result<(store::AccountId, store::FolderId)> {
    let account = mailbox(store, address).await?;
    let found = store.folder_by_name(account, folder).await?.with_context(|| format!("no folder {folder}"))?;
    Ok((account, found.id))
}

/// The account of a mailbox named on the command line.
async fn mailbox(store: &Store, address: &str) -> anyhow::Result<store::AccountId> {
    let address = parse_address(address)?;
    let account = store.account_by_login(&address).await?.with_context(|| format!("no mailbox {address}"))?;
    Ok(account.id)
}

/// "ana@example.org holds 12 message(s) (3.4 MB)": what deleting a mailbox loses.
async fn contents_line(store: &Store, address: &store::Address) -> anyhow::Result<String> {
    let (messages, bytes) = store.mailbox_contents(address).await?;
    Ok(format!("{address} holds {messages} message(s) ({:.1} MB)", bytes as f64 / 1_000_000.0))
}
