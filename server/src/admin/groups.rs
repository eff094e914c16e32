//! `facteur admin group ...`: groups of a domain's mailboxes (A11), with the store's checks the
//! web administration uses.

use anyhow::{Context, bail};
use clap::Subcommand;
use store::{GroupInfo, Store, parse_address};

#[derive(Subcommand)]
pub(crate) enum GroupCommand {
    /// Make a group in a domain.
    Create {
        domain: String,
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// The groups of a domain.
    List { domain: String },
    /// A group's members (administrators marked).
    Show { domain: String, name: String },
    /// Put mailboxes of the domain in a group (--admin: they administer it).
    Add {
        domain: String,
        name: String,
        #[arg(required = true)]
        members: Vec<String>,
        #[arg(long)]
        admin: bool,
    },
    /// Take a mailbox out of a group.
    Remove { domain: String, name: String, member: String },
    /// Rename a group.
    Rename { domain: String, name: String, new_name: String },
    /// Delete a group (its members stay mailboxes).
    Delete { domain: String, name: String },
}

async fn group(store: &Store, domain: &str, name: &str) -> anyhow::Result<GroupInfo> {
    store.group_named(domain, name).await?.with_context(|| format!("no group {name} in {domain}"))
}

#[allow(clippy::print_stdout)]
pub(crate) async fn run(store: &Store, command: GroupCommand) -> anyhow::Result<()> {
    match command {
        GroupCommand::Create { domain, name, description } => {
            let group = store.create_group(&domain, &name, &description).await?;
            println!("group {} created in {}", group.name, group.domain);
        }
        GroupCommand::List { domain } => {
            for group in store.domain_groups(&domain).await? {
                println!("{}\t{} member(s)\t{}", group.name, group.members, group.description);
            }
        }
        GroupCommand::Show { domain, name } => {
            let group = group(store, &domain, &name).await?;
            println!("{}\t{}\tpage /admin/group?id={}", group.name, group.domain, group.id.0);
            for member in store.group_members(group.id).await? {
                println!("{}{}", member.login, if member.admin { "\tadmin" } else { "" });
            }
        }
        GroupCommand::Add { domain, name, members, admin } => {
            let group = group(store, &domain, &name).await?;
            for member in &members {
                store.set_group_member(group.id, &parse_address(member)?, admin).await?;
            }
            println!("{} mailbox(es) in {}", members.len(), group.name);
        }
        GroupCommand::Remove { domain, name, member } => {
            let group = group(store, &domain, &name).await?;
            let member = parse_address(&member)?;
            if !store.remove_group_member(group.id, &member).await? {
                bail!("{member} is not in {}", group.name);
            }
            println!("{member} taken out of {}", group.name);
        }
        GroupCommand::Rename { domain, name, new_name } => {
            let group = group(store, &domain, &name).await?;
            store.update_group(group.id, &new_name, &group.description).await?;
            println!("group {} renamed {}", group.name, new_name.trim());
        }
        GroupCommand::Delete { domain, name } => {
            let group = group(store, &domain, &name).await?;
            store.delete_group(group.id).await?;
            println!("group {} deleted", group.name);
        }
    }
    Ok(())
}
