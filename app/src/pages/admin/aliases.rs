//! A domain's aliases in the administration (issue 18, A3, A5, A6): `postmaster@` and `abuse@`
//! redirected (never deleted), role addresses made in one click, the other aliases found by
//! address or target and paged, each with its targets changed, removed, or made a mailbox.

use leptos::prelude::*;

use super::{Pager, section_path};
use crate::dto::{AdminSection, AdminView, AliasRow, RequiredRow, form_urlencoded_value};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};

/// A6: the role addresses offered in one click, as French organisations name them (the
/// feature catalogue's list); any other is made with "New alias".
#[cfg(feature = "ssr")]
pub(crate) const ROLE_LOCAL_PARTS: [&str; 8] =
    ["contact", "info", "technique", "facturation", "sav", "secretariat", "compta", "direction"];

/// Fills the aliases' part of the page.
#[cfg(feature = "ssr")]
pub(super) async fn load(store: &store::Store, domain: &str, page: u32, view: &mut AdminView) -> Result<(), AppError> {
    let fetch = |page: u32| store.domain_aliases(domain, &view.filter, (page - 1) * super::PAGE_SIZE, super::PAGE_SIZE);
    let asked = page.max(1);
    let (mut rows, matching) = fetch(asked).await?;
    let (page, pages) = super::page_within(asked, matching);
    if page != asked {
        rows = fetch(page).await?.0;
    }
    let aliases = rows.into_iter().map(|alias| AliasRow { address: alias.address, targets: alias.targets }).collect();
    let required = store
        .required_addresses(domain)
        .await?
        .into_iter()
        .map(|required| RequiredRow {
            address: required.address,
            targets: required.targets,
            redirected: required.redirected,
        })
        .collect();
    let taken = store.taken_local_parts(domain, &ROLE_LOCAL_PARTS).await?;
    view.missing_roles =
        ROLE_LOCAL_PARTS.iter().filter(|local| !taken.iter().any(|t| t == *local)).map(|l| l.to_string()).collect();
    (view.aliases, view.required) = (aliases, required);
    (view.total, view.page, view.pages) = (matching, page, pages);
    Ok(())
}

/// The targets typed in a field: addresses separated by commas, semicolons or spaces.
#[cfg(feature = "ssr")]
pub(super) fn targets_of(text: &str) -> Result<Vec<store::Address>, AppError> {
    let targets: Vec<store::Address> = text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|piece| !piece.is_empty())
        .map(|piece| store::parse_address(piece).map_err(|_| AppError::BadRecipient(piece.chars().take(200).collect())))
        .collect::<Result<_, _>>()?;
    if targets.is_empty() {
        return Err(AppError::NoRecipient);
    }
    Ok(targets)
}

/// An alias's address when the reader manages its domain; `403` otherwise.
#[cfg(feature = "ssr")]
async fn managed_alias(address: &str) -> Result<(store::Store, store::Account, store::Address), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let address = store::parse_address(address).map_err(|_| administration::forbidden())?;
    administration::managed_domain(&store, &account, &address.domain).await?;
    Ok((store, account, address))
}

#[server(endpoint = "admin_create_alias")]
pub async fn create_alias(domain: String, local_part: String, targets: String) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let domain = administration::managed_domain(&store, &account, &domain).await?;
    let address = super::address_in(&domain, &local_part)?;
    let targets = targets_of(&targets)?;
    store.add_alias(&address, &targets).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, alias = %address, "administration: alias created");
    leptos_axum::redirect(&section_path(&address.domain, AdminSection::Aliases));
    Ok(())
}

#[server(endpoint = "admin_set_alias")]
pub async fn set_alias(address: String, targets: String) -> Result<(), AppError> {
    let (store, account, address) = managed_alias(&address).await?;
    let targets = targets_of(&targets)?;
    store.set_alias_targets(&address, &targets).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, alias = %address, "administration: alias targets set");
    Ok(())
}

/// Removes an alias; for `postmaster@` and `abuse@`, goes back to the domain's default.
#[server(endpoint = "admin_remove_alias")]
pub async fn remove_alias(address: String) -> Result<(), AppError> {
    let (store, account, address) = managed_alias(&address).await?;
    store.remove_alias(&address).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, alias = %address, "administration: alias removed");
    Ok(())
}

/// A4: an alias becomes a mailbox (no mail to lose: an alias holds none).
#[server(endpoint = "admin_alias_to_mailbox")]
pub async fn alias_to_mailbox(address: String, password: String) -> Result<(), AppError> {
    let (_, account, address) = managed_alias(&address).await?;
    let auth = expect_context::<auth::Auth>();
    auth.alias_to_mailbox(&address, &password, None).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, mailbox = %address, "administration: alias made a mailbox");
    leptos_axum::redirect(&super::mailbox_path(&address.to_string()));
    Ok(())
}

#[derive(Clone, Copy)]
pub struct AliasActions {
    create: ServerAction<CreateAlias>,
    set: ServerAction<SetAlias>,
    remove: ServerAction<RemoveAlias>,
    to_mailbox: ServerAction<AliasToMailbox>,
}

impl AliasActions {
    pub(super) fn new() -> AliasActions {
        AliasActions {
            create: ServerAction::new(),
            set: ServerAction::new(),
            remove: ServerAction::new(),
            to_mailbox: ServerAction::new(),
        }
    }

    pub(super) fn versions(self) -> usize {
        self.create.version().get()
            + self.set.version().get()
            + self.remove.version().get()
            + self.to_mailbox.version().get()
    }

    pub(super) fn results(self) -> [Option<Result<(), AppError>>; 4] {
        [self.create.value().get(), self.set.value().get(), self.remove.value().get(), self.to_mailbox.value().get()]
    }
}

/// "1 alias", "3 aliases".
fn alias_count(n: u32, lang: crate::i18n::Lang) -> String {
    match n {
        1 => t(lang, Key::AdminOneAlias).to_string(),
        n => format!("{n} {}", t(lang, Key::AdminAliasCount)),
    }
}

/// An id for an element about `address`.
fn id_of(prefix: &str, address: &str) -> String {
    format!("{prefix}-{}", address.replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
}

#[component]
pub fn Aliases(view_data: AdminView, actions: AliasActions) -> impl IntoView {
    let lang = use_lang();
    let AdminView { domain, filter, aliases, required, missing_roles, total, page, pages, login, .. } = view_data;
    let domain = domain.unwrap_or_default();
    let empty = aliases.is_empty();
    let rows = aliases.into_iter().map(|alias| view! { <AliasItem alias actions/> }).collect_view();
    let required = required.into_iter().map(|required| view! { <RequiredItem required actions/> }).collect_view();
    let page_link = {
        let domain = domain.clone();
        let filter = filter.clone();
        move |page: u32| {
            format!("{}&q={}&page={page}", section_path(&domain, AdminSection::Aliases), form_urlencoded_value(&filter))
        }
    };
    // The reader's own address is the likely target of a role address of their domain.
    let suggested = if login.ends_with(&format!("@{domain}")) { login } else { String::new() };
    view! {
        <section class="card settings-card" aria-labelledby="admin-required">
            <h2 id="admin-required">{t(lang, Key::AdminRequired)}</h2>
            <p class="note">{t(lang, Key::AdminRequiredIntro)}</p>
            <ul class="admin-aliases">{required}</ul>
        </section>
        <RoleAddresses domain=domain.clone() missing=missing_roles suggested actions/>
        <section class="card settings-card" aria-labelledby="admin-aliases">
            <h2 id="admin-aliases">{format!("{} · {domain}", t(lang, Key::AdminAliases))}</h2>
            <form class="search-bar" role="search" method="get" action=super::ADMIN_PATH>
                <input type="hidden" name="domain" value=domain.clone()/>
                <input type="hidden" name="view" value=AdminSection::Aliases.as_query()/>
                <input
                    type="search"
                    name="q"
                    value=filter
                    aria-label=t(lang, Key::AdminFindAlias)
                    placeholder=t(lang, Key::AdminFindAlias)
                />
                <button type="submit" class="button">{t(lang, Key::Search)}</button>
                <span class="note" role="status">{alias_count(total, lang)}</span>
            </form>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::AdminNoAlias)}</p> })}
            <ul class="admin-aliases">{rows}</ul>
            <Pager page pages label=t(lang, Key::AdminAliases) link=page_link/>
        </section>
        <NewAlias domain actions/>
    }
}

/// The field of an alias's targets, and its label.
#[component]
fn TargetsField(id: String, value: String) -> impl IntoView {
    let lang = use_lang();
    view! {
        <label for=id.clone()>{t(lang, Key::AdminTargets)}</label>
        <input id=id name="targets" type="text" value=value maxlength="4000" required autocomplete="off"/>
    }
}

/// The form that replaces an alias's targets (or redirects postmaster@ and abuse@).
#[component]
fn SetTargets(address: String, targets: String, label: Key, actions: AliasActions) -> impl IntoView {
    let lang = use_lang();
    let id = id_of("targets", &address);
    view! {
        <ActionForm action=actions.set attr:class="inline-form">
            <input type="hidden" name="address" value=address/>
            <TargetsField id value=targets/>
            <button type="submit" class="button subtle">{t(lang, label)}</button>
        </ActionForm>
    }
}

#[component]
fn RequiredItem(required: RequiredRow, actions: AliasActions) -> impl IntoView {
    let lang = use_lang();
    let RequiredRow { address, targets, redirected } = required;
    let shown = targets.join(", ");
    let default = (!redirected).then(|| view! { " " <span class="note">{t(lang, Key::AdminByDefault)}</span> });
    let for_back = address.clone();
    let back = redirected.then(move || {
        view! {
            <ActionForm action=actions.remove attr:class="inline-form">
                <input type="hidden" name="address" value=for_back/>
                <button type="submit" class="button subtle">{t(lang, Key::AdminBackToDefault)}</button>
            </ActionForm>
        }
    });
    let for_set = address.clone();
    view! {
        <li class="admin-alias">
            <p>
                <strong>{address}</strong>
                " → "
                <span>{shown.clone()}</span>
                {default}
            </p>
            <SetTargets address=for_set targets=shown label=Key::AdminRedirect actions/>
            {back}
        </li>
    }
}

#[component]
fn AliasItem(alias: AliasRow, actions: AliasActions) -> impl IntoView {
    let lang = use_lang();
    let AliasRow { address, targets } = alias;
    let shown = targets.join(", ");
    let password_id = id_of("alias-password", &address);
    let (for_set, for_remove, for_mailbox) = (address.clone(), address.clone(), address.clone());
    view! {
        <li class="admin-alias">
            <p>
                <strong>{address}</strong>
                " → "
                <span>{shown.clone()}</span>
            </p>
            <SetTargets address=for_set targets=shown label=Key::Save actions/>
            <ActionForm action=actions.remove attr:class="inline-form">
                <input type="hidden" name="address" value=for_remove/>
                <button type="submit" class="button subtle">{t(lang, Key::AdminRemoveAlias)}</button>
            </ActionForm>
            <details>
                <summary>{t(lang, Key::AdminToMailbox)}</summary>
                <ActionForm action=actions.to_mailbox attr:class="inline-form">
                    <input type="hidden" name="address" value=for_mailbox/>
                    <label for=password_id.clone()>{t(lang, Key::AdminPassword)}</label>
                    <input
                        id=password_id
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        minlength="8"
                        required
                    />
                    <button type="submit" class="button subtle">{t(lang, Key::AdminToMailbox)}</button>
                </ActionForm>
            </details>
        </li>
    }
}

/// A6: one button per role address the domain lacks; the one pressed names the address.
#[component]
fn RoleAddresses(domain: String, missing: Vec<String>, suggested: String, actions: AliasActions) -> impl IntoView {
    let lang = use_lang();
    let content = if missing.is_empty() {
        view! { <p class="note">{t(lang, Key::AdminNoRoleLeft)}</p> }.into_any()
    } else {
        let buttons = missing
            .into_iter()
            .map(|local| {
                view! {
                    <button type="submit" class="button subtle" name="local_part" value=local.clone()>
                        {format!("{local}@{domain}")}
                    </button>
                }
            })
            .collect_view();
        view! {
            <ActionForm action=actions.create>
                <input type="hidden" name="domain" value=domain.clone()/>
                <div class="field">
                    <label for="role-targets">{t(lang, Key::AdminRoleIntro)}</label>
                    <input id="role-targets" name="targets" type="text" value=suggested maxlength="4000" required/>
                </div>
                <p class="role-buttons">{buttons}</p>
            </ActionForm>
        }
        .into_any()
    };
    view! {
        <section class="card settings-card" aria-labelledby="admin-roles">
            <h2 id="admin-roles">{t(lang, Key::AdminRoleAddresses)}</h2>
            {content}
        </section>
    }
}

#[component]
fn NewAlias(domain: String, actions: AliasActions) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card settings-card" aria-labelledby="new-alias">
            <h2 id="new-alias">{t(lang, Key::AdminNewAlias)}</h2>
            <ActionForm action=actions.create>
                <input type="hidden" name="domain" value=domain.clone()/>
                <div class="field">
                    <label for="new-alias-local">{t(lang, Key::AdminAddress)}</label>
                    <span class="address-field">
                        <input id="new-alias-local" name="local_part" type="text" maxlength="64" required/>
                        <span>{format!("@{domain}")}</span>
                    </span>
                </div>
                <div class="field">
                    <TargetsField id="new-alias-targets".to_string() value=String::new()/>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::AdminCreateAlias)}</button>
            </ActionForm>
        </section>
    }
}
