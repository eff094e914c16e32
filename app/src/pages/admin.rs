//! /admin: the administration of mailboxes (issue 18, A2, A10), for server administrators
//! (every domain) and domain administrators (their domains only). The domains managed, then one
//! domain's mailboxes, found by login or name and paged; a new mailbox; a mailbox's quota and
//! password. Every server function checks the reader's role on the domain it touches
//! (`ssr::administration`) and answers `403` otherwise. Plain forms: it all works before the
//! WASM has loaded.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::dto::{AdminDomain, AdminView, MailboxRow, form_urlencoded_value};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::folders::action_error;
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const ADMIN_PATH: &str = "/admin";
/// Mailboxes per page.
#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 50;

/// The page's address for a domain's mailboxes.
fn domain_path(domain: &str) -> String {
    format!("{ADMIN_PATH}?domain={}", form_urlencoded_value(domain))
}

#[server(endpoint = "admin_view")]
pub async fn load_admin(domain: Option<String>, filter: String, page: u32) -> Result<AdminView, AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let role = administration::role_of(&store, &account).await?;
    let domains: Vec<AdminDomain> = store
        .list_domains()
        .await?
        .into_iter()
        .filter(|domain| role.manages(&domain.name))
        .map(|domain| AdminDomain { name: domain.name, mailboxes: domain.n_accounts })
        .collect();
    // The domain asked for, else the only one there is.
    let domain = match domain.filter(|domain| !domain.is_empty()) {
        Some(domain) => Some(role.managed(&domain)?),
        None if domains.len() == 1 => Some(domains[0].name.clone()),
        None => None,
    };
    let filter: String = filter.trim().chars().take(100).collect();
    let (mut mailboxes, mut total, mut page_shown, mut pages, mut domain_admins) = (Vec::new(), 0, 1, 1, Vec::new());
    if let Some(domain) = &domain {
        let lang = ssr::request_lang();
        page_shown = page.max(1);
        let (mut rows, matching) =
            store.domain_mailboxes(domain, &filter, (page_shown - 1) * PAGE_SIZE, PAGE_SIZE).await?;
        pages = matching.div_ceil(PAGE_SIZE).max(1);
        if page_shown > pages {
            // Past the last page (mailboxes went meanwhile): the last one.
            page_shown = pages;
            rows = store.domain_mailboxes(domain, &filter, (page_shown - 1) * PAGE_SIZE, PAGE_SIZE).await?.0;
        }
        total = matching;
        mailboxes = rows
            .into_iter()
            .map(|user| MailboxRow {
                login: user.login,
                name: user.display_name,
                used: ssr::human_size(u64::try_from(user.used_bytes).unwrap_or(0), lang),
                quota_mb: user.quota_bytes.and_then(|bytes| u64::try_from(bytes / (1024 * 1024)).ok()),
                server_admin: user.is_admin,
            })
            .collect();
        domain_admins = store.domain_admins(domain).await?;
    }
    Ok(AdminView {
        login: account.login.clone(),
        server_admin: role == administration::Role::Server,
        domains,
        domain,
        domain_admins,
        filter,
        mailboxes,
        total,
        page: page_shown,
        pages,
    })
}

/// Reads a quota field: empty is unlimited, else whole megabytes.
#[cfg(feature = "ssr")]
fn quota_of(text: &str) -> Result<Option<u64>, AppError> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse::<u64>().map(Some).map_err(|_| AppError::InvalidName),
    }
}

/// A store or auth refusal as the reader is told it.
#[cfg(feature = "ssr")]
fn refusal(error: store::Error) -> AppError {
    match error {
        store::Error::Invalid { what: "password", .. } => AppError::WeakPassword,
        store::Error::Invalid { .. } | store::Error::Refused(_) => AppError::InvalidName,
        store::Error::Exists(_) => AppError::NameTaken,
        other => other.into(),
    }
}

#[server(endpoint = "admin_create_mailbox")]
pub async fn create_mailbox(
    domain: String,
    local_part: String,
    name: String,
    password: String,
    quota_mb: String,
) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let domain = administration::managed_domain(&store, &account, &domain).await?;
    let address =
        store::parse_address(&format!("{}@{domain}", local_part.trim())).map_err(|_| AppError::InvalidName)?;
    if address.domain != domain {
        return Err(AppError::InvalidName);
    }
    let quota = quota_of(&quota_mb)?;
    let auth = expect_context::<auth::Auth>();
    auth.add_user(&address, &password, quota).await.map_err(refusal)?;
    if !name.trim().is_empty() {
        store.set_display_name(&address, &name).await.map_err(refusal)?;
    }
    tracing::info!(by = %account.login, mailbox = %address, "administration: mailbox created");
    leptos_axum::redirect(&domain_path(&domain));
    Ok(())
}

#[server(endpoint = "admin_set_quota")]
pub async fn set_quota(address: String, quota_mb: String) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let address = administration::managed_address(&store, &account, &address).await?;
    store.set_quota(&address, quota_of(&quota_mb)?).await.map_err(refusal)?;
    tracing::info!(by = %account.login, mailbox = %address, quota_mb, "administration: quota set");
    leptos_axum::redirect(&domain_path(&address.domain));
    Ok(())
}

#[server(endpoint = "admin_reset_password")]
pub async fn reset_password(address: String, password: String) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let address = administration::managed_address(&store, &account, &address).await?;
    let auth = expect_context::<auth::Auth>();
    auth.set_password(&address, &password).await.map_err(refusal)?;
    tracing::info!(by = %account.login, mailbox = %address, "administration: password reset");
    leptos_axum::redirect(&domain_path(&address.domain));
    Ok(())
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let create = ServerAction::<CreateMailbox>::new();
    let quota = ServerAction::<SetQuota>::new();
    let password = ServerAction::<ResetPassword>::new();
    let asked = move || {
        query.with(|q| {
            (q.get("domain"), q.get("q").unwrap_or_default(), q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1))
        })
    };
    let data = Resource::new(
        move || (asked(), create.version().get(), quota.version().get(), password.version().get()),
        |((domain, filter, page), ..)| load_admin(domain, filter, page),
    );
    let error = move || action_error([create.value().get(), quota.value().get(), password.value().get()]);
    let saved = move || {
        [quota.value().get(), password.value().get()]
            .into_iter()
            .any(|value| matches!(value, Some(Ok(()))))
            .then(|| view! { <p class="note" role="status">{t(lang, Key::AdminSaved)}</p> })
    };
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |view_data| {
                    let AdminView { login, server_admin, domains, domain, domain_admins, filter, mailboxes, total, page, pages } =
                        view_data;
                    let role = t(lang, if server_admin { Key::AdminServerRole } else { Key::AdminDomainRole });
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page admin-page">
                                <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::Administration)}</h1>
                                <p class="note">{role}" "{t(lang, Key::AdminIntro)}</p>
                                {error}
                                {saved}
                                <DomainList domains current=domain.clone()/>
                                {domain
                                    .map(|domain| {
                                        view! {
                                            <Mailboxes
                                                server_admin
                                                domain
                                                domain_admins
                                                filter
                                                mailboxes
                                                total
                                                page
                                                pages
                                                create
                                                quota
                                                password
                                            />
                                        }
                                    })}
                            </main>
                        </div>
                    }
                        .into_any()
                })
            })}
        </Transition>
    }
}

/// "1 mailbox", "3 mailboxes".
fn mailbox_count(n: i64, lang: crate::i18n::Lang) -> String {
    match n {
        1 => t(lang, Key::AdminOneMailbox).to_string(),
        n => format!("{n} {}", t(lang, Key::AdminMailboxCount)),
    }
}

#[component]
fn DomainList(domains: Vec<AdminDomain>, current: Option<String>) -> impl IntoView {
    let lang = use_lang();
    let rows = domains
        .into_iter()
        .map(|domain| {
            let is_current = current.as_deref() == Some(domain.name.as_str());
            view! {
                <li>
                    <a href=domain_path(&domain.name) aria-current=is_current.then_some("page")>{domain.name.clone()}</a>
                    " "
                    <span class="note">{mailbox_count(domain.mailboxes, lang)}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="admin-domains">
            <h2 id="admin-domains">{t(lang, Key::AdminDomains)}</h2>
            <ul class="admin-domains">{rows}</ul>
        </section>
    }
}

#[component]
fn Mailboxes(
    /// Whether the reader is a server administrator: only they manage one's mailbox.
    server_admin: bool,
    domain: String,
    domain_admins: Vec<String>,
    filter: String,
    mailboxes: Vec<MailboxRow>,
    total: u32,
    page: u32,
    pages: u32,
    create: ServerAction<CreateMailbox>,
    quota: ServerAction<SetQuota>,
    password: ServerAction<ResetPassword>,
) -> impl IntoView {
    let lang = use_lang();
    let empty = mailboxes.is_empty();
    let rows = mailboxes
        .into_iter()
        .map(|mailbox| {
            let editable = server_admin || !mailbox.server_admin;
            view! { <MailboxItem mailbox editable quota password/> }
        })
        .collect_view();
    let page_link = {
        let domain = domain.clone();
        let filter = filter.clone();
        move |page: u32| format!("{}&q={}&page={page}", domain_path(&domain), form_urlencoded_value(&filter))
    };
    let pager = (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label=t(lang, Key::AdminMailboxes)>
                {(page > 1).then(|| view! { <a class="button subtle" href=page_link(page - 1) rel="prev">"‹"</a> })}
                <span>{format!("{page} / {pages}")}</span>
                {(page < pages).then(|| view! { <a class="button subtle" href=page_link(page + 1) rel="next">"›"</a> })}
            </nav>
        }
    });
    let admins = (!domain_admins.is_empty())
        .then(|| view! { <p class="note">{t(lang, Key::AdminDomainAdmins)}" "{domain_admins.join(", ")}</p> });
    view! {
        <section class="card settings-card" aria-labelledby="admin-mailboxes">
            <h2 id="admin-mailboxes">{format!("{} · {domain}", t(lang, Key::AdminMailboxes))}</h2>
            {admins}
            <form class="search-bar" role="search" method="get" action=ADMIN_PATH>
                <input type="hidden" name="domain" value=domain.clone()/>
                <input type="search" name="q" value=filter aria-label=t(lang, Key::AdminFilter) placeholder=t(lang, Key::AdminFilter)/>
                <button type="submit" class="button">{t(lang, Key::Search)}</button>
                <span class="note" role="status">{mailbox_count(i64::from(total), lang)}</span>
            </form>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::AdminNoMailbox)}</p> })}
            <ul class="admin-mailboxes">{rows}</ul>
            {pager}
        </section>
        <NewMailbox domain create/>
    }
}

#[component]
fn MailboxItem(
    mailbox: MailboxRow,
    /// False for a server administrator's mailbox shown to a domain administrator.
    editable: bool,
    quota: ServerAction<SetQuota>,
    password: ServerAction<ResetPassword>,
) -> impl IntoView {
    let lang = use_lang();
    let limit = mailbox.quota_mb.map_or_else(|| t(lang, Key::AdminUnlimited).to_string(), |mb| format!("{mb} MB"));
    let id = mailbox.login.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let (quota_id, password_id) = (format!("quota-{id}"), format!("password-{id}"));
    let MailboxRow { login, name, used, quota_mb, .. } = mailbox;
    let (login_for_quota, login_for_password) = (login.clone(), login.clone());
    let quota_value = quota_mb.map(|mb| mb.to_string()).unwrap_or_default();
    view! {
        <li class="admin-mailbox">
            <p>
                <strong>{login}</strong>
                " "
                <span>{name}</span>
                " "
                <span class="note">{format!("{} {used} / {limit}", t(lang, Key::AdminUsed))}</span>
            </p>
            {editable
                .then(|| {
                    view! {
                        <ActionForm action=quota attr:class="inline-form">
                            <input type="hidden" name="address" value=login_for_quota/>
                            <label for=quota_id.clone()>{t(lang, Key::AdminQuota)}</label>
                            <input
                                id=quota_id
                                name="quota_mb"
                                type="number"
                                min="0"
                                step="1"
                                value=quota_value
                            />
                            <button type="submit" class="button subtle">{t(lang, Key::AdminSetQuota)}</button>
                        </ActionForm>
                        <ActionForm action=password attr:class="inline-form">
                            <input type="hidden" name="address" value=login_for_password/>
                            <label for=password_id.clone()>{t(lang, Key::AdminNewPassword)}</label>
                            <input id=password_id name="password" type="password" autocomplete="new-password" minlength="8" required/>
                            <button type="submit" class="button subtle">{t(lang, Key::AdminResetPassword)}</button>
                        </ActionForm>
                    }
                })}
        </li>
    }
}

#[component]
fn NewMailbox(domain: String, create: ServerAction<CreateMailbox>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card settings-card" aria-labelledby="new-mailbox">
            <h2 id="new-mailbox">{t(lang, Key::AdminNewMailbox)}</h2>
            <ActionForm action=create>
                <input type="hidden" name="domain" value=domain.clone()/>
                <div class="field">
                    <label for="new-mailbox-local">{t(lang, Key::AdminAddress)}</label>
                    <span class="address-field">
                        <input id="new-mailbox-local" name="local_part" type="text" maxlength="64" required/>
                        <span>{format!("@{domain}")}</span>
                    </span>
                </div>
                <div class="field">
                    <label for="new-mailbox-name">{t(lang, Key::AdminName)}</label>
                    <input id="new-mailbox-name" name="name" type="text" maxlength="200"/>
                </div>
                <div class="field">
                    <label for="new-mailbox-password">{t(lang, Key::AdminPassword)}</label>
                    <input
                        id="new-mailbox-password"
                        name="password"
                        type="password"
                        autocomplete="new-password"
                        minlength="8"
                        required
                    />
                </div>
                <div class="field">
                    <label for="new-mailbox-quota">{t(lang, Key::AdminQuota)}</label>
                    <input id="new-mailbox-quota" name="quota_mb" type="number" min="0" step="1"/>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::AdminCreate)}</button>
            </ActionForm>
        </section>
    }
}
