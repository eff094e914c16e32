//! `facteur admin list ...`: mailing lists (A7, A8) from the command line, with the checks of
//! the store and the mail core that the web administration uses.

use anyhow::{Context, bail};
use clap::Subcommand;
use store::{ListKind, MailingList, Posting, ReplyTo, Store, Subscription, parse_address};

#[derive(Subcommand)]
pub(crate) enum ListCommand {
    /// Make a list: a distribution list (its owners post, its members receive) or a
    /// discussion list (its members write to each other).
    Create {
        address: String,
        #[arg(long, value_parser = ["distribution", "discussion"])]
        kind: String,
        /// The name shown ("Name via List", List-Id).
        #[arg(long, default_value = "")]
        name: String,
    },
    /// The lists of a domain.
    List { domain: String },
    /// A list's settings, who is on it, the posts and subscriptions waiting for a moderator.
    Show { address: String },
    /// Change a list's name or how it behaves.
    Set {
        address: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = ["open", "confirm", "moderated"])]
        subscription: Option<String>,
        #[arg(long, value_parser = ["members", "moderated", "anyone"])]
        posting: Option<String>,
        #[arg(long, value_parser = ["list", "author"])]
        reply_to: Option<String>,
    },
    /// Delete a list, its members and the posts it still holds.
    Delete { address: String },
    /// Put addresses on a list (receiving members unless --no-receive), or change what they are.
    Add {
        address: String,
        #[arg(required = true)]
        members: Vec<String>,
        #[arg(long)]
        owner: bool,
        #[arg(long)]
        moderator: bool,
        /// An owner or moderator who does not get the posts.
        #[arg(long)]
        no_receive: bool,
    },
    /// Take an address off a list.
    Remove { address: String, member: String },
    /// Let an address that bounced too often receive again.
    Enable { address: String, member: String },
    /// Send a held post to the list (a running server sends it within 5 seconds).
    Approve { address: String, post: i64 },
    /// Delete a held post.
    Reject { address: String, post: i64 },
    /// Let in an address whose subscription waits for a moderator (it confirmed already).
    Accept { address: String, member: String },
    /// Turn down an address whose subscription waits for a moderator.
    Refuse { address: String, member: String },
}

async fn list_at(store: &Store, address: &str) -> anyhow::Result<MailingList> {
    let address = parse_address(address)?;
    store.mailing_list_at(&address).await?.with_context(|| format!("no list {address}"))
}

fn roles(member: &store::ListMember) -> String {
    let mut roles = Vec::new();
    if member.member {
        roles.push("member");
    }
    if member.owner {
        roles.push("owner");
    }
    if member.moderator {
        roles.push("moderator");
    }
    let mut text = roles.join(",");
    if member.disabled {
        text.push_str(&format!("\tdisabled after {} bounce(s)", member.bounce_score));
    } else if member.bounce_score > 0 {
        text.push_str(&format!("\t{} bounce(s)", member.bounce_score));
    }
    text
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(store: &Store, command: ListCommand) -> anyhow::Result<()> {
    match command {
        ListCommand::Create { address, kind, name } => {
            let address = parse_address(&address)?;
            let kind = ListKind::parse(&kind).context("--kind is distribution or discussion")?;
            let list = store.create_list(&address, kind, &name).await?;
            println!("list {} created ({})", list.address, kind.as_str());
        }
        ListCommand::List { domain } => {
            for list in store.domain_lists(&domain).await? {
                println!("{}\t{}\t{} member(s)\t{}", list.address, list.kind.as_str(), list.members, list.name);
            }
        }
        ListCommand::Show { address } => {
            let list = list_at(store, &address).await?;
            println!("{}\t{}\t{}\tpage /lists/{}", list.address, list.kind.as_str(), list.name, list.id.0);
            println!(
                "subscription: {}\tposting: {}\treply-to: {}",
                list.subscription.as_str(),
                list.posting.as_str(),
                list.reply_to.as_str()
            );
            for member in store.list_members(list.id).await? {
                println!("{}\t{}", member.address, roles(&member));
            }
            for post in store.held_posts(list.id).await? {
                println!("held post {}\tfrom {}\t{}", post.id, post.author, post.subject);
            }
            for request in store.pending_subscriptions(list.id).await? {
                println!("subscription waiting for a moderator\t{}", request.address);
            }
        }
        ListCommand::Set { address, name, subscription, posting, reply_to } => {
            let list = list_at(store, &address).await?;
            let subscription = subscription.as_deref().and_then(Subscription::parse).unwrap_or(list.subscription);
            let posting = posting.as_deref().and_then(Posting::parse).unwrap_or(list.posting);
            let reply_to = reply_to.as_deref().and_then(ReplyTo::parse).unwrap_or(list.reply_to);
            let name = name.unwrap_or(list.name);
            store.update_list(list.id, &name, subscription, posting, reply_to).await?;
            println!("list {} changed", list.address);
        }
        ListCommand::Delete { address } => {
            let list = list_at(store, &address).await?;
            store.delete_list(list.id).await?;
            println!("list {} deleted", list.address);
        }
        ListCommand::Add { address, members, owner, moderator, no_receive } => {
            let list = list_at(store, &address).await?;
            if no_receive && !(owner || moderator) {
                bail!("--no-receive is for an owner or a moderator");
            }
            let members = members.iter().map(|m| parse_address(m)).collect::<Result<Vec<_>, _>>()?;
            for member in &members {
                store.set_list_member(list.id, member, !no_receive, owner, moderator).await?;
            }
            println!("{} address(es) on {}", members.len(), list.address);
        }
        ListCommand::Remove { address, member } => {
            let list = list_at(store, &address).await?;
            let member = parse_address(&member)?;
            if store.list_member_at(list.id, &member.to_string()).await?.is_none() {
                bail!("{member} is not on {}", list.address);
            }
            store.set_list_member(list.id, &member, false, false, false).await?;
            println!("{member} taken off {}", list.address);
        }
        ListCommand::Enable { address, member } => {
            let list = list_at(store, &address).await?;
            if !store.enable_list_member(list.id, &member).await? {
                bail!("{member} is not on {}", list.address);
            }
            println!("{member} receives {} again", list.address);
        }
        ListCommand::Approve { address, post } => {
            let list = list_at(store, &address).await?;
            if !store.approve_post(list.id, post).await? {
                bail!("no held post {post} on {}", list.address);
            }
            println!("post {post} goes to {}", list.address);
        }
        ListCommand::Reject { address, post } => {
            let list = list_at(store, &address).await?;
            if !store.reject_post(list.id, post).await? {
                bail!("no held post {post} on {}", list.address);
            }
            println!("post {post} deleted");
        }
        ListCommand::Accept { address, member } => decide(store, &address, &member, true).await?,
        ListCommand::Refuse { address, member } => decide(store, &address, &member, false).await?,
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn decide(store: &Store, address: &str, member: &str, approve: bool) -> anyhow::Result<()> {
    let list = list_at(store, address).await?;
    let member = parse_address(member)?.to_string();
    let pending = store.pending_subscriptions(list.id).await?;
    let Some(request) = pending.iter().find(|request| request.address == member) else {
        bail!("no subscription of {member} waits for a moderator on {}", list.address);
    };
    store.decide_subscription(list.id, request.id, approve).await?;
    println!("{member} {} {}", if approve { "joined" } else { "was turned down by" }, list.address);
    Ok(())
}
