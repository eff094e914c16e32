//! /admin: the administration of a domain's addresses (issue 18), for server administrators
//! (every domain) and domain administrators (their domains only). The domains managed, then one
//! domain's mailboxes (A2, A10), found by login or name and paged, a new mailbox, a mailbox's
//! quota and password; its aliases ([`aliases`]: A3, A5, A6); one mailbox alone ([`mailbox`]:
//! disabled, deleted, turned into an alias, A4). Every server function checks the reader's
//! role on the address it touches (`ssr::administration`) and answers `403` otherwise. Plain
//! forms: it all works before the WASM has loaded.

pub mod aliases;
pub mod domains;
pub mod groups;
pub mod lists;
pub mod mailbox;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::dto::{AdminDomain, AdminSection, AdminView, MailboxRow, form_urlencoded_value};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const ADMIN_PATH: &str = "/admin";
/// Mailboxes or aliases per page.
#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 50;

/// The page's address for a domain's mailboxes.
fn domain_path(domain: &str) -> String {
    format!("{ADMIN_PATH}?domain={}", form_urlencoded_value(domain))
}

/// The page's address for a part of a domain.
fn section_path(domain: &str, section: AdminSection) -> String {
    format!("{}&view={}", domain_path(domain), section.as_query())
}

/// The page's address for one mailbox.
fn mailbox_path(login: &str) -> String {
    let domain = login.rsplit_once('@').map_or("", |(_, domain)| domain);
    format!("{}&mailbox={}", section_path(domain, AdminSection::Mailbox), form_urlencoded_value(login))
}

/// `view` is an [`AdminSection`]'s query value; `mailbox` the login of the mailbox it shows.
#[server(endpoint = "admin_view")]
pub async fn load_admin(
    domain: Option<String>,
    filter: String,
    page: u32,
    view: Option<String>,
    mailbox: Option<String>,
) -> Result<AdminView, AppError> {
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
    let mut view_data = AdminView {
        login: account.login.clone(),
        server_admin: role == administration::Role::Server,
        domains,
        domain: domain.clone(),
        domain_admins: Vec::new(),
        filter,
        mailboxes: Vec::new(),
        total: 0,
        page: 1,
        pages: 1,
        section: AdminSection::from_query(view.as_deref().unwrap_or_default()),
        aliases: Vec::new(),
        required: Vec::new(),
        missing_roles: Vec::new(),
        mailbox: None,
        dns: Vec::new(),
        zone: String::new(),
        dns_checked: false,
        lists: Vec::new(),
        groups: Vec::new(),
    };
    let Some(domain) = domain else { return Ok(view_data) };
    view_data.domain_admins = store.domain_admins(&domain).await?;
    let lang = ssr::request_lang();
    match (view_data.section, mailbox) {
        (AdminSection::Mailbox, Some(login)) => {
            let address = administration::managed_address(&store, &account, &login).await?;
            if address.domain != domain {
                return Err(AppError::NotFound);
            }
            let domain_admin = view_data.domain_admins.contains(&address.to_string());
            view_data.mailbox = Some(mailbox::detail(&store, &address, domain_admin, lang).await?);
        }
        (AdminSection::Aliases, _) => aliases::load(&store, &domain, page, &mut view_data).await?,
        (AdminSection::Dns, _) => domains::load(&store, &domain, &mut view_data).await?,
        (AdminSection::Lists, _) => lists::load(&store, &domain, &mut view_data).await?,
        (AdminSection::Groups, _) => groups::load(&store, &domain, &mut view_data).await?,
        _ => {
            view_data.section = AdminSection::Mailboxes;
            let filter = view_data.filter.clone();
            let fetch = |page: u32| store.domain_mailboxes(&domain, &filter, (page - 1) * PAGE_SIZE, PAGE_SIZE);
            let asked = page.max(1);
            let (mut rows, matching) = fetch(asked).await?;
            let (page, pages) = page_within(asked, matching);
            if page != asked {
                // Past the last page (mailboxes went meanwhile): the last one.
                rows = fetch(page).await?.0;
            }
            view_data.mailboxes = rows.into_iter().map(|user| mailbox_row(user, lang)).collect();
            (view_data.total, view_data.page, view_data.pages) = (matching, page, pages);
        }
    }
    Ok(view_data)
}

/// The page asked for within the pages there are (the last when past it), and how many.
#[cfg(feature = "ssr")]
fn page_within(page: u32, matching: u32) -> (u32, u32) {
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    (page.clamp(1, pages), pages)
}

/// A mailbox as the administration lists it.
#[cfg(feature = "ssr")]
fn mailbox_row(user: store::UserInfo, lang: crate::i18n::Lang) -> MailboxRow {
    MailboxRow {
        login: user.login,
        name: user.display_name,
        used: crate::ssr::human_size(u64::try_from(user.used_bytes).unwrap_or(0), lang),
        quota_mb: user.quota_bytes.and_then(|bytes| u64::try_from(bytes / (1024 * 1024)).ok()),
        server_admin: user.is_admin,
        disabled: user.disabled,
    }
}

/// Reads a quota field: empty is unlimited, else whole megabytes.
#[cfg(feature = "ssr")]
fn quota_of(text: &str) -> Result<Option<u64>, AppError> {
    match text.trim() {
        "" => Ok(None),
        text => text.parse::<u64>().map(Some).map_err(|_| AppError::InvalidName),
    }
}

/// The address `local_part@domain` typed in a form (a new mailbox, alias or name), refused
/// when the local part is not one or names another domain.
#[cfg(feature = "ssr")]
fn address_in(domain: &str, local_part: &str) -> Result<store::Address, AppError> {
    let local_part = local_part.trim();
    store::parse_address(&format!("{local_part}@{domain}"))
        .ok()
        .filter(|address| address.domain == domain && !local_part.contains('@'))
        .ok_or(AppError::InvalidName)
}

/// A store or auth refusal as the reader is told it.
#[cfg(feature = "ssr")]
fn refusal(error: store::Error) -> AppError {
    match error {
        store::Error::Invalid { what: "password", .. } => AppError::WeakPassword,
        store::Error::UnknownTarget(address) => AppError::UnknownRecipient(address),
        store::Error::LastAdministrator(_) => AppError::LastAdministrator,
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
    let address = address_in(&domain, &local_part)?;
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
    Ok(())
}

/// Every action of the page, so each part can use those it needs and the page reloads its
/// data after any of them.
#[derive(Clone, Copy)]
struct AdminActions {
    create: ServerAction<CreateMailbox>,
    quota: ServerAction<SetQuota>,
    password: ServerAction<ResetPassword>,
    aliases: aliases::AliasActions,
    mailbox: mailbox::MailboxActions,
    domains: domains::DomainActions,
    create_list: ServerAction<lists::CreateList>,
    create_group: ServerAction<groups::CreateGroup>,
}

impl AdminActions {
    fn new() -> AdminActions {
        AdminActions {
            create: ServerAction::new(),
            quota: ServerAction::new(),
            password: ServerAction::new(),
            aliases: aliases::AliasActions::new(),
            mailbox: mailbox::MailboxActions::new(),
            domains: domains::DomainActions::new(),
            create_list: ServerAction::new(),
            create_group: ServerAction::new(),
        }
    }

    /// Changes each time an action completes.
    fn versions(self) -> usize {
        self.create.version().get()
            + self.quota.version().get()
            + self.password.version().get()
            + self.aliases.versions()
            + self.mailbox.versions()
            + self.domains.versions()
            + self.create_list.version().get()
            + self.create_group.version().get()
    }

    /// The refusal of the last action that failed, to show.
    fn error(self) -> Option<AppError> {
        [
            self.create.value().get(),
            self.quota.value().get(),
            self.password.value().get(),
            self.create_list.value().get(),
            self.create_group.value().get(),
        ]
        .into_iter()
        .chain(self.aliases.results())
        .chain(self.mailbox.results())
        .chain(self.domains.results())
        .flatten()
        .find_map(Result::err)
    }

    /// Whether an action that changes something in place (no new page) succeeded.
    fn saved(self) -> bool {
        [self.quota.value().get(), self.password.value().get()]
            .into_iter()
            .chain(self.aliases.results())
            .any(|value| matches!(value, Some(Ok(()))))
    }
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let actions = AdminActions::new();
    let asked = move || {
        query.with(|q| {
            let page = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            (q.get("domain"), q.get("q").unwrap_or_default(), page, q.get("view"), q.get("mailbox"))
        })
    };
    // A confirmation step loads again, so the count of messages it shows is the current one;
    // so does "Check again" on the DNS records (`check=N`).
    let fresh = move || query.with(|q| (q.get("confirm"), q.get("check")));
    let data = Resource::new(
        move || (asked(), fresh(), actions.versions()),
        |((domain, filter, page, view, mailbox), ..)| load_admin(domain, filter, page, view, mailbox),
    );
    let error = move || {
        actions.error().map(|error| {
            let detail = error.detail().map(|what| format!(" {what}"));
            view! { <p class="form-error" role="alert">{t(lang, error.message_key())}{detail}</p> }
        })
    };
    let saved = move || actions.saved().then(|| view! { <p class="note" role="status">{t(lang, Key::AdminSaved)}</p> });
    let deleted = move || {
        query.with(|q| q.get("deleted")).map(|address| {
            view! { <p class="note" role="status">{format!("{} ({address})", t(lang, Key::AdminDeleted))}</p> }
        })
    };
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |view_data| {
                    let role = t(lang, if view_data.server_admin { Key::AdminServerRole } else { Key::AdminDomainRole });
                    let login = view_data.login.clone();
                    let domains = view_data.domains.clone();
                    let current = view_data.domain.clone();
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page admin-page">
                                <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::Administration)}</h1>
                                <p class="note">{role}" "{t(lang, Key::AdminIntro)}</p>
                                {error}
                                {saved}
                                {deleted}
                                <DomainList domains current server_admin=view_data.server_admin actions=actions.domains/>
                                <DomainSection view_data actions/>
                            </main>
                        </div>
                    }
                        .into_any()
                })
            })}
        </Transition>
    }
}

/// The chosen domain's part of the page: tabs, then its mailboxes, its aliases or one mailbox.
#[component]
fn DomainSection(view_data: AdminView, actions: AdminActions) -> impl IntoView {
    let lang = use_lang();
    let Some(domain) = view_data.domain.clone() else { return ().into_any() };
    let section = view_data.section;
    let tab = |label: Key, of: AdminSection| {
        let current = section == of || (of == AdminSection::Mailboxes && section == AdminSection::Mailbox);
        view! {
            <a class="tab" href=section_path(&domain, of) aria-current=current.then_some("page")>{t(lang, label)}</a>
        }
    };
    let tabs = view! {
        <nav class="admin-tabs" aria-label=domain.clone()>
            {tab(Key::AdminMailboxes, AdminSection::Mailboxes)}
            {tab(Key::AdminAliases, AdminSection::Aliases)}
            {tab(Key::AdminLists, AdminSection::Lists)}
            {tab(Key::AdminGroups, AdminSection::Groups)}
            {tab(Key::AdminDns, AdminSection::Dns)}
        </nav>
    };
    let body = match section {
        AdminSection::Aliases => view! { <aliases::Aliases view_data actions=actions.aliases/> }.into_any(),
        AdminSection::Lists => view! { <lists::Lists view_data create=actions.create_list/> }.into_any(),
        AdminSection::Groups => view! { <groups::Groups view_data create=actions.create_group/> }.into_any(),
        AdminSection::Dns => {
            let AdminView { dns, zone, dns_checked, .. } = view_data;
            view! { <domains::DnsRecords domain rows=dns zone checked=dns_checked/> }.into_any()
        }
        AdminSection::Mailbox => match view_data.mailbox {
            Some(detail) => {
                let own = detail.row.login == view_data.login;
                view! { <mailbox::MailboxPage detail actions=actions.mailbox own/> }.into_any()
            }
            None => ().into_any(),
        },
        AdminSection::Mailboxes => {
            let AdminView { server_admin, domain_admins, filter, mailboxes, total, page, pages, .. } = view_data;
            let AdminActions { create, quota, password, .. } = actions;
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
            .into_any()
        }
    };
    view! {
        {tabs}
        {body}
    }
    .into_any()
}

/// What the page's last actions did: the refusal of one that failed, else "Saved." when one
/// succeeded (the list and group pages, whose every action changes something in place).
#[component]
pub fn ActionFeedback(
    results: impl Fn() -> Vec<Option<Result<(), AppError>>> + Send + Sync + 'static,
) -> impl IntoView {
    let lang = use_lang();
    move || {
        let results = results();
        if let Some(error) = results.iter().flatten().find_map(|result| result.clone().err()) {
            let detail = error.detail().map(|what| format!(" {what}"));
            return view! { <p class="form-error" role="alert">{t(lang, error.message_key())}{detail}</p> }.into_any();
        }
        if results.iter().any(|result| matches!(result, Some(Ok(())))) {
            return view! { <p class="note" role="status">{t(lang, Key::AdminSaved)}</p> }.into_any();
        }
        ().into_any()
    }
}

/// "‹ 2 / 5 ›": links to the previous and next pages, when there are several.
#[component]
fn Pager(page: u32, pages: u32, label: &'static str, link: impl Fn(u32) -> String + 'static) -> impl IntoView {
    (pages > 1).then(|| {
        view! {
            <nav class="pager" aria-label=label>
                {(page > 1).then(|| view! { <a class="button subtle" href=link(page - 1) rel="prev">"‹"</a> })}
                <span>{format!("{page} / {pages}")}</span>
                {(page < pages).then(|| view! { <a class="button subtle" href=link(page + 1) rel="next">"›"</a> })}
            </nav>
        }
    })
}

/// "1 mailbox", "3 mailboxes".
fn mailbox_count(n: i64, lang: crate::i18n::Lang) -> String {
    match n {
        1 => t(lang, Key::AdminOneMailbox).to_string(),
        n => format!("{n} {}", t(lang, Key::AdminMailboxCount)),
    }
}

#[component]
fn DomainList(
    domains: Vec<AdminDomain>,
    current: Option<String>,
    /// Only a server administrator adds and removes domains.
    server_admin: bool,
    actions: domains::DomainActions,
) -> impl IntoView {
    let lang = use_lang();
    let rows = domains
        .into_iter()
        .map(|domain| {
            let is_current = current.as_deref() == Some(domain.name.as_str());
            // A domain with mailboxes is not removed: the button would only say so.
            let remove = (server_admin && domain.mailboxes == 0)
                .then(|| view! { <domains::RemoveDomain domain=domain.name.clone() actions/> });
            view! {
                <li>
                    <a href=domain_path(&domain.name) aria-current=is_current.then_some("page")>{domain.name.clone()}</a>
                    " "
                    <span class="note">{mailbox_count(domain.mailboxes, lang)}</span>
                    {remove}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="admin-domains">
            <h2 id="admin-domains">{t(lang, Key::AdminDomains)}</h2>
            <ul class="admin-domains">{rows}</ul>
            {server_admin.then(|| view! { <domains::AddDomain actions/> })}
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
            <Pager page pages label=t(lang, Key::AdminMailboxes) link=page_link/>
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
    let MailboxRow { login, name, used, quota_mb, disabled, .. } = mailbox;
    let (login_for_quota, login_for_password) = (login.clone(), login.clone());
    let manage = editable.then(|| view! { <a href=mailbox_path(&login)>{t(lang, Key::AdminManage)}</a> });
    let quota_value = quota_mb.map(|mb| mb.to_string()).unwrap_or_default();
    view! {
        <li class="admin-mailbox">
            <p>
                <strong>{login}</strong>
                " "
                <span>{name}</span>
                " "
                <span class="note">{format!("{} {used} / {limit}", t(lang, Key::AdminUsed))}</span>
                {disabled.then(|| view! { " " <span class="badge">{t(lang, Key::AdminDisabled)}</span> })}
                " "
                {manage}
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
