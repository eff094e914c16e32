//! A domain's groups in the administration (issue 18, A11): the groups with their member
//! counts, a new group; each group's own page is `/admin/group` ([`crate::pages::group_admin`]).

use leptos::prelude::*;
use types::GroupInfo;

use crate::dto::AdminView;
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::group_admin::group_path;

/// Fills the groups' part of the page.
#[cfg(feature = "ssr")]
pub(super) async fn load(store: &store::Store, domain: &str, view: &mut AdminView) -> Result<(), AppError> {
    view.groups = store.domain_groups(domain).await?;
    Ok(())
}

#[server(endpoint = "admin_create_group")]
pub async fn create_group(domain: String, name: String, description: String) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let domain = administration::managed_domain(&store, &account, &domain).await?;
    let group = store.create_group(&domain, &name, &description).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, group = %group.name, %domain, "administration: group created");
    leptos_axum::redirect(&group_path(group.id));
    Ok(())
}

#[component]
pub fn Groups(view_data: AdminView, create: ServerAction<CreateGroup>) -> impl IntoView {
    let lang = use_lang();
    let domain = view_data.domain.unwrap_or_default();
    let empty = view_data.groups.is_empty();
    let rows = view_data.groups.into_iter().map(|group| view! { <GroupItem group/> }).collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="admin-groups">
            <h2 id="admin-groups">{format!("{} · {domain}", t(lang, Key::AdminGroups))}</h2>
            <p class="note">{t(lang, Key::GroupsIntro)}</p>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::NoGroup)}</p> })}
            <ul class="admin-aliases">{rows}</ul>
        </section>
        <section class="card settings-card" aria-labelledby="admin-new-group">
            <h2 id="admin-new-group">{t(lang, Key::NewGroup)}</h2>
            <ActionForm action=create>
                <input type="hidden" name="domain" value=domain/>
                <div class="field">
                    <label for="new-group-name">{t(lang, Key::AdminName)}</label>
                    <input id="new-group-name" name="name" type="text" required maxlength="100"/>
                </div>
                <div class="field">
                    <label for="new-group-description">{t(lang, Key::GroupDescription)}</label>
                    <input id="new-group-description" name="description" type="text" maxlength="500"/>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::CreateGroup)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn GroupItem(group: GroupInfo) -> impl IntoView {
    let lang = use_lang();
    let description = (!group.description.is_empty()).then(|| format!(" · {}", group.description));
    view! {
        <li class="admin-alias">
            <strong>{group.name.clone()}</strong>
            <span class="note">{description}{format!(" · {} {}", group.members, t(lang, Key::ListMembersCount))}</span>
            " "
            <a href=group_path(group.id)>{t(lang, Key::AdminManage)}</a>
        </li>
    }
}
