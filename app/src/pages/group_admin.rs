//! /admin/group?id=N: one group (issue 18, A11). A domain administrator renames or deletes it
//! and says who administers it; its administrators (who need not administer anything else)
//! put the domain's mailboxes in it and take them out. Every server function asks
//! `group_role` first and answers `403` otherwise.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use types::{GroupId, GroupInfo, GroupMember};

use crate::dto::{AdminSection, GroupPageData};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::admin::ActionFeedback;
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const GROUP_ADMIN_PATH: &str = "/admin/group";

/// The page of one group.
pub fn group_path(group: GroupId) -> String {
    format!("{GROUP_ADMIN_PATH}?id={}", group.0)
}

/// The group, whether the reader administers its domain (else they administer the group), or
/// `403` when they do neither, or the group does not exist.
#[cfg(feature = "ssr")]
async fn with_role(id: i64) -> Result<(store::Store, store::Account, GroupInfo, bool), AppError> {
    use crate::ssr::administration::forbidden;
    let (store, account) = crate::ssr::current_account().await?;
    let Some(group) = store.group(GroupId(id)).await? else { return Err(forbidden()) };
    let domain_admin = account.is_admin || store.administered_domains(account.id).await?.contains(&group.domain);
    if !domain_admin && !store.is_group_admin(group.id, account.id).await? {
        return Err(forbidden());
    }
    Ok((store, account, group, domain_admin))
}

/// A mailbox of the group's domain, from what was typed (a login, or a local part).
#[cfg(feature = "ssr")]
fn member_address(group: &GroupInfo, typed: &str) -> Result<store::Address, AppError> {
    let typed = typed.trim();
    let full = if typed.contains('@') { typed.to_string() } else { format!("{typed}@{}", group.domain) };
    store::parse_address(&full)
        .ok()
        .filter(|address| address.domain == group.domain)
        .ok_or_else(|| AppError::UnknownRecipient(typed.chars().take(200).collect()))
}

#[server(endpoint = "group_view")]
pub async fn load_group(id: i64) -> Result<GroupPageData, AppError> {
    let (store, account, group, domain_admin) = with_role(id).await?;
    Ok(GroupPageData { login: account.login, members: store.group_members(group.id).await?, group, domain_admin })
}

/// Puts a mailbox in the group; only a domain administrator makes it an administrator of it.
#[server(endpoint = "group_set_member")]
pub async fn set_group_member(id: i64, address: String, admin: Option<String>) -> Result<(), AppError> {
    let (store, account, group, domain_admin) = with_role(id).await?;
    if admin.is_some() && !domain_admin {
        return Err(crate::ssr::administration::forbidden());
    }
    let address = member_address(&group, &address)?;
    // A group administrator keeps what a member is when adding them again.
    let keep =
        !domain_admin && store.group_members(group.id).await?.iter().any(|m| m.login == address.to_string() && m.admin);
    store.set_group_member(group.id, &address, admin.is_some() || keep).await.map_err(|error| match error {
        store::Error::UnknownTarget(who) => AppError::UnknownRecipient(who),
        other => other.into(),
    })?;
    tracing::info!(by = %account.login, group = %group.name, member = %address, "group member set");
    Ok(())
}

#[server(endpoint = "group_remove_member")]
pub async fn remove_group_member(id: i64, address: String) -> Result<(), AppError> {
    let (store, account, group, _) = with_role(id).await?;
    let address = member_address(&group, &address)?;
    store.remove_group_member(group.id, &address).await?;
    tracing::info!(by = %account.login, group = %group.name, member = %address, "group member removed");
    Ok(())
}

#[server(endpoint = "group_update")]
pub async fn update_group(id: i64, name: String, description: String) -> Result<(), AppError> {
    let (store, account, group, domain_admin) = with_role(id).await?;
    if !domain_admin {
        return Err(crate::ssr::administration::forbidden());
    }
    store.update_group(group.id, &name, &description).await.map_err(|error| match error {
        store::Error::Exists(_) => AppError::NameTaken,
        store::Error::Invalid { .. } => AppError::InvalidName,
        other => other.into(),
    })?;
    tracing::info!(by = %account.login, group = %group.name, "group renamed");
    Ok(())
}

#[server(endpoint = "group_delete")]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    let (store, account, group, domain_admin) = with_role(id).await?;
    if !domain_admin {
        return Err(crate::ssr::administration::forbidden());
    }
    store.delete_group(group.id).await?;
    tracing::info!(by = %account.login, group = %group.name, "group deleted");
    leptos_axum::redirect(&format!(
        "{}?domain={}&view={}",
        crate::pages::admin::ADMIN_PATH,
        crate::dto::form_urlencoded_value(&group.domain),
        AdminSection::Groups.as_query()
    ));
    Ok(())
}

#[derive(Clone, Copy)]
struct GroupActions {
    set_member: ServerAction<SetGroupMember>,
    remove_member: ServerAction<RemoveGroupMember>,
    update: ServerAction<UpdateGroup>,
    delete: ServerAction<DeleteGroup>,
}

impl GroupActions {
    fn results(self) -> [Option<Result<(), AppError>>; 4] {
        [
            self.set_member.value().get(),
            self.remove_member.value().get(),
            self.update.value().get(),
            self.delete.value().get(),
        ]
    }

    fn versions(self) -> usize {
        self.set_member.version().get() + self.remove_member.version().get() + self.update.version().get()
    }
}

#[component]
pub fn GroupAdminPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let actions = GroupActions {
        set_member: ServerAction::new(),
        remove_member: ServerAction::new(),
        update: ServerAction::new(),
        delete: ServerAction::new(),
    };
    let id = move || query.with(|q| q.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new(move || (id(), actions.versions()), |(id, _)| load_group(id));
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |page| {
                    let GroupPageData { login, group, members, domain_admin } = page;
                    let back = format!(
                        "{}?domain={}&view={}",
                        crate::pages::admin::ADMIN_PATH,
                        crate::dto::form_urlencoded_value(&group.domain),
                        AdminSection::Groups.as_query()
                    );
                    let id = group.id.0;
                    let description = (!group.description.is_empty())
                        .then(|| view! { <p class="note">{group.description.clone()}</p> });
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page admin-page">
                                {domain_admin.then(|| view! { <p><a href=back>"‹ "{t(lang, Key::AdminGroups)}</a></p> })}
                                <h1>{format!("{} · {}", t(lang, Key::GroupAdministration), group.name)}</h1>
                                {description}
                                <ActionFeedback results=move || actions.results().to_vec()/>
                                <Members id domain=group.domain.clone() members domain_admin actions/>
                                {domain_admin.then(|| view! { <Settings group=group.clone() actions/> })}
                            </main>
                        </div>
                    }
                        .into_any()
                })
            })}
        </Transition>
    }
}

#[component]
fn Members(
    id: i64,
    domain: String,
    members: Vec<GroupMember>,
    domain_admin: bool,
    actions: GroupActions,
) -> impl IntoView {
    let lang = use_lang();
    let empty = members.is_empty();
    let rows = members
        .into_iter()
        .map(|member| {
            let role = member.admin.then(|| format!(" · {}", t(lang, Key::GroupAdmin)));
            let name = (!member.name.is_empty()).then(|| format!(" ({})", member.name));
            let toggle = domain_admin.then(|| {
                let login = member.login.clone();
                let (label, admin) =
                    if member.admin { (Key::GroupNotAdmin, None) } else { (Key::GroupMakeAdmin, Some("on")) };
                view! {
                    <ActionForm action=actions.set_member attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="address" value=login/>
                        {admin.map(|on| view! { <input type="hidden" name="admin" value=on/> })}
                        <button type="submit" class="button subtle">{t(lang, label)}</button>
                    </ActionForm>
                }
            });
            let login = member.login.clone();
            view! {
                <li class="admin-alias">
                    <strong>{member.login.clone()}</strong>
                    <span class="note">{name}{role}</span>
                    {toggle}
                    <ActionForm action=actions.remove_member attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="address" value=login/>
                        <button type="submit" class="button subtle danger">{t(lang, Key::RemoveMember)}</button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="group-members">
            <h2 id="group-members">{t(lang, Key::ListMembers)}</h2>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::NoGroupMember)}</p> })}
            <ul class="admin-aliases">{rows}</ul>
            <ActionForm action=actions.set_member>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="group-new-member">{t(lang, Key::GroupAddMailbox)}</label>
                    <span class="address-field">
                        <input id="group-new-member" name="address" type="text" required maxlength="320" autocomplete="off"/>
                        <span>{format!("@{domain}")}</span>
                    </span>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::AdminAdd)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Settings(group: GroupInfo, actions: GroupActions) -> impl IntoView {
    let lang = use_lang();
    let id = group.id.0;
    view! {
        <section class="card settings-card" aria-labelledby="group-settings">
            <h2 id="group-settings">{t(lang, Key::ListSettings)}</h2>
            <ActionForm action=actions.update>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="group-name">{t(lang, Key::AdminName)}</label>
                    <input id="group-name" name="name" type="text" required maxlength="100" value=group.name.clone()/>
                </div>
                <div class="field">
                    <label for="group-description">{t(lang, Key::GroupDescription)}</label>
                    <input id="group-description" name="description" type="text" maxlength="500" value=group.description.clone()/>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::Save)}</button>
            </ActionForm>
            <ActionForm action=actions.delete attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="button subtle danger">{t(lang, Key::DeleteGroup)}</button>
            </ActionForm>
        </section>
    }
}
