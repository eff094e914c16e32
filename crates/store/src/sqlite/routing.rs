//! Where mail for an address goes (A3 aliases, A5 postmaster@/abuse@, A9 plus addressing).

use std::collections::{HashSet, VecDeque};

use sqlx::Row;

use crate::{AccountId, ListId, Result, Store};
use crate::{Address, parse_address};

/// Aliases may point to aliases; this bounds the chain so a loop cannot run forever.
const MAX_ALIAS_DEPTH: usize = 10;

/// The outcome of routing one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The address is ours: deliver to these mailboxes (deduplicated) and forward to these
    /// external addresses.
    Local { accounts: Vec<AccountId>, external: Vec<String> },
    /// A mailing list's address (A7, A8): the message is a post to it.
    List(ListId),
    /// A list's VERP bounce address, `list-bounces+TOKEN@`: a post to one member bounced. The
    /// token is checked by the mail core, which wrote it.
    ListBounce { list: ListId, token: String },
    /// The domain is ours but nobody has this address.
    UnknownUser,
    /// The domain is not one of ours.
    NotLocal,
}

enum Lookup {
    Mailbox(AccountId),
    Alias(Vec<String>),
    List(ListId),
    ListBounce(ListId, String),
    Missing,
}

impl Store {
    /// Routes one recipient, following aliases.
    pub async fn route(&self, recipient: &Address) -> Result<Route> {
        if !self.is_local_domain(&recipient.domain).await? {
            return Ok(Route::NotLocal);
        }
        let mut accounts = Vec::new();
        let mut external = Vec::new();
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([(recipient.clone(), 0usize)]);
        while let Some((address, depth)) = queue.pop_front() {
            if !seen.insert(address.clone()) {
                continue;
            }
            if depth > 0 && !self.is_local_domain(&address.domain).await? {
                external.push(address.to_string());
                continue;
            }
            match self.lookup_address(&address).await? {
                Lookup::Mailbox(id) => {
                    if !accounts.contains(&id) {
                        accounts.push(id);
                    }
                }
                Lookup::Alias(targets) if depth < MAX_ALIAS_DEPTH => {
                    for target in targets {
                        match parse_address(&target) {
                            Ok(t) => queue.push_back((t, depth + 1)),
                            Err(e) => {
                                tracing::warn!(%address, %target, error = %e, "skipping a malformed alias target")
                            }
                        }
                    }
                }
                Lookup::Alias(_) => tracing::warn!(%address, "alias chain too deep; stopping here"),
                // A list or its bounces are answered as themselves; an alias naming a list
                // (an alias for the list) does not expand it here.
                Lookup::List(list) if depth == 0 => return Ok(Route::List(list)),
                Lookup::ListBounce(list, token) if depth == 0 => return Ok(Route::ListBounce { list, token }),
                Lookup::List(_) | Lookup::ListBounce(..) => {
                    tracing::warn!(%address, "an alias points to a mailing list, which aliases do not expand")
                }
                Lookup::Missing if depth == 0 => return Ok(Route::UnknownUser),
                Lookup::Missing => tracing::warn!(%address, "an alias points to an unknown local address"),
            }
        }
        if accounts.is_empty() && external.is_empty() {
            return Ok(Route::UnknownUser);
        }
        Ok(Route::Local { accounts, external })
    }

    pub async fn is_local_domain(&self, domain: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM domains WHERE name = ?")
            .bind(domain.to_ascii_lowercase())
            .fetch_optional(&self.reader)
            .await?;
        Ok(found.is_some())
    }

    async fn lookup_address(&self, address: &Address) -> Result<Lookup> {
        let found = self.lookup_exact(address).await?;
        if !matches!(found, Lookup::Missing) {
            return Ok(found);
        }
        // A list's VERP bounces, before plus addressing would read them as `list-bounces@`.
        if let Some((list, token)) = address.local.split_once("-bounces+") {
            let list_address = Address { local: list.to_string(), domain: address.domain.clone() };
            if let Lookup::List(id) = self.lookup_exact(&list_address).await? {
                return Ok(Lookup::ListBounce(id, token.to_string()));
            }
        }
        // A list's owners, `list-owner@` (where its notices come from, RFC 2142's habit).
        if let Some(list) = address.local.strip_suffix("-owner") {
            let list_address = Address { local: list.to_string(), domain: address.domain.clone() };
            if let Lookup::List(id) = self.lookup_exact(&list_address).await? {
                let owners: Vec<String> =
                    sqlx::query_scalar("SELECT address FROM list_members WHERE list_id = ? AND owner ORDER BY address")
                        .bind(id.0)
                        .fetch_all(&self.reader)
                        .await?;
                return Ok(if owners.is_empty() { Lookup::Missing } else { Lookup::Alias(owners) });
            }
        }
        // A9: user+suffix@ goes to user@.
        if let Some(base) = address.without_plus_suffix() {
            let found = self.lookup_exact(&base).await?;
            if !matches!(found, Lookup::Missing) {
                return Ok(found);
            }
        }
        // A5: postmaster@ and abuse@ exist for every domain even with no row of their own.
        if matches!(address.local.as_str(), "postmaster" | "abuse") {
            return self.postmaster_of(&address.domain).await;
        }
        Ok(Lookup::Missing)
    }

    async fn lookup_exact(&self, address: &Address) -> Result<Lookup> {
        let row = sqlx::query(
            "SELECT ad.id, ad.kind, ad.account_id FROM addresses ad JOIN domains d ON d.id = ad.domain_id
             WHERE d.name = ? AND ad.local_part = ?",
        )
        .bind(&address.domain)
        .bind(&address.local)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else {
            let list: Option<i64> = sqlx::query_scalar(
                "SELECT l.id FROM lists l JOIN domains d ON d.id = l.domain_id WHERE d.name = ? AND l.local_part = ?",
            )
            .bind(&address.domain)
            .bind(&address.local)
            .fetch_optional(&self.reader)
            .await?;
            return Ok(list.map_or(Lookup::Missing, |id| Lookup::List(ListId(id))));
        };
        if row.get::<String, _>("kind") == "mailbox" {
            return Ok(Lookup::Mailbox(AccountId(row.get("account_id"))));
        }
        let targets = sqlx::query_scalar("SELECT target FROM alias_targets WHERE address_id = ? ORDER BY target")
            .bind(row.get::<i64, _>("id"))
            .fetch_all(&self.reader)
            .await?;
        Ok(Lookup::Alias(targets))
    }

    /// A5: the configured target, else the domain's first admin, else its first mailbox, else
    /// the server's first admin.
    async fn postmaster_of(&self, domain: &str) -> Result<Lookup> {
        let target: Option<String> = sqlx::query_scalar("SELECT postmaster_target FROM domains WHERE name = ?")
            .bind(domain)
            .fetch_optional(&self.reader)
            .await?
            .flatten();
        if let Some(target) = target {
            return Ok(Lookup::Alias(vec![target]));
        }
        let account = self.postmaster_mailbox(domain).await?;
        Ok(account.map_or(Lookup::Missing, |(id, _)| Lookup::Mailbox(id)))
    }

    /// The mailbox `postmaster@` goes to when nothing is set: the domain's server
    /// administrator, else its first mailbox, else the server's first administrator.
    pub(crate) async fn postmaster_mailbox(&self, domain: &str) -> Result<Option<(AccountId, String)>> {
        let account: Option<(i64, String)> = sqlx::query_as(
            "SELECT a.id, a.login FROM accounts a JOIN domains d ON d.id = a.domain_id
             ORDER BY (d.name = ?) DESC, a.is_admin DESC, a.id LIMIT 1",
        )
        .bind(domain)
        .fetch_optional(&self.reader)
        .await?;
        Ok(account.map(|(id, login)| (AccountId(id), login)))
    }
}
