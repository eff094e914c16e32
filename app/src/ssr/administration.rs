//! Who may administer what in the web client (issue 18). A server administrator manages every
//! domain; a domain administrator the domains they are listed for; anyone else nothing. Every
//! administration server function asks [`managed_domain`] (or [`role_of`]) first, and a refusal
//! is `403 Forbidden`, whether the domain exists or not (a domain administrator learns nothing
//! about other domains).

use store::{Account, Address, Store};

use crate::error::AppError;

/// What an account may administer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Role {
    /// Every domain of the server.
    Server,
    /// These domains (names, in order), never empty.
    Domains(Vec<String>),
}

impl Role {
    pub(crate) fn manages(&self, domain: &str) -> bool {
        match self {
            Role::Server => true,
            Role::Domains(domains) => domains.iter().any(|name| name == domain),
        }
    }

    /// `domain` (as the store writes domain names) when this role manages it; `403` otherwise.
    pub(crate) fn managed(&self, domain: &str) -> Result<String, AppError> {
        let name = store::parse_domain(domain).map_err(|_| forbidden())?;
        if self.manages(&name) { Ok(name) } else { Err(forbidden()) }
    }
}

/// The account's role, or `403` when it administers nothing.
pub(crate) async fn role_of(store: &Store, account: &Account) -> Result<Role, AppError> {
    if account.is_admin {
        return Ok(Role::Server);
    }
    let domains = store.administered_domains(account.id).await?;
    if domains.is_empty() {
        return Err(forbidden());
    }
    Ok(Role::Domains(domains))
}

/// Whether the account administers anything (to offer the way to the administration).
pub(crate) async fn administers(store: &Store, account: &Account) -> Result<bool, AppError> {
    Ok(account.is_admin || !store.administered_domains(account.id).await?.is_empty())
}

/// `domain` (as the store writes domain names) when the account may manage it; `403` otherwise.
pub(crate) async fn managed_domain(store: &Store, account: &Account, domain: &str) -> Result<String, AppError> {
    role_of(store, account).await?.managed(domain)
}

/// The mailbox address `address` when the account may manage it; `403` otherwise. Only a
/// server administrator manages a server administrator's mailbox: a domain administrator who
/// could reset its password could become one.
pub(crate) async fn managed_address(store: &Store, account: &Account, address: &str) -> Result<Address, AppError> {
    let address = store::parse_address(address).map_err(|_| forbidden())?;
    managed_domain(store, account, &address.domain).await?;
    if !account.is_admin && store.account_by_login(&address).await?.is_some_and(|target| target.is_admin) {
        return Err(forbidden());
    }
    Ok(address)
}

/// What the reader may do on one mailing list (A7, A8): a domain administrator everything, an
/// owner its settings and members, a moderator its held posts and waiting subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListRole {
    Administrator,
    Owner,
    Moderator,
}

/// The list and the reader's role on it; `403` for a list that does not exist or that the
/// reader has no part in (nothing leaks about others).
pub(crate) async fn list_role(
    mail: &mail::Mail,
    account: &Account,
    list: types::ListId,
) -> Result<(types::MailingList, ListRole), AppError> {
    let store = mail.store();
    let Some(found) = store.mailing_list(list).await? else { return Err(forbidden()) };
    let domain = found.address.rsplit_once('@').map_or("", |(_, domain)| domain);
    // Not `role_of`, whose refusal would set the response's status for a mere owner.
    if account.is_admin || store.administered_domains(account.id).await?.iter().any(|name| name == domain) {
        return Ok((found, ListRole::Administrator));
    }
    let mut role = None;
    for entry in store.list_members(found.id).await?.iter().filter(|m| m.owner || m.moderator) {
        let Ok(address) = store::parse_address(&entry.address) else { continue };
        if mail.owns(account.id, &address).await? {
            role = match (role, entry.owner) {
                (_, true) | (Some(ListRole::Owner), _) => Some(ListRole::Owner),
                _ => Some(ListRole::Moderator),
            };
        }
    }
    match role {
        Some(role) => Ok((found, role)),
        None => Err(forbidden()),
    }
}

/// [`AppError::Forbidden`], with the response's status set to `403`.
pub(crate) fn forbidden() -> AppError {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::FORBIDDEN);
    }
    AppError::Forbidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_administrator_manages_their_domains_only() {
        let role = Role::Domains(vec!["example.net".into()]);
        assert!(role.manages("example.net"));
        assert!(!role.manages("example.org"));
        assert!(!role.manages("sub.example.net"));
        assert!(Role::Server.manages("example.org"));
    }
}
