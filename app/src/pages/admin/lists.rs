//! A domain's mailing lists in the administration (issue 18, A7, A8): the lists with their kind
//! and members, a new list; each list's own page is `/admin/list` ([`crate::pages::list_admin`]).

use leptos::prelude::*;
use types::{ListKind, MailingList};

use crate::dto::AdminView;
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::list_admin::list_path;

/// Fills the lists' part of the page.
#[cfg(feature = "ssr")]
pub(super) async fn load(store: &store::Store, domain: &str, view: &mut AdminView) -> Result<(), AppError> {
    view.lists = store.domain_lists(domain).await?;
    Ok(())
}

/// A list's kind as the reader reads it.
pub fn kind_key(kind: ListKind) -> Key {
    match kind {
        ListKind::Distribution => Key::ListDistribution,
        ListKind::Discussion => Key::ListDiscussion,
    }
}

#[server(endpoint = "admin_create_list")]
pub async fn create_list(domain: String, local_part: String, kind: String, name: String) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let domain = administration::managed_domain(&store, &account, &domain).await?;
    let address = super::address_in(&domain, &local_part)?;
    let kind = ListKind::parse(&kind).ok_or(AppError::InvalidName)?;
    let list = store.create_list(&address, kind, &name).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, list = %list.address, "administration: list created");
    leptos_axum::redirect(&list_path(list.id));
    Ok(())
}

#[component]
pub fn Lists(view_data: AdminView, create: ServerAction<CreateList>) -> impl IntoView {
    let lang = use_lang();
    let domain = view_data.domain.unwrap_or_default();
    let empty = view_data.lists.is_empty();
    let rows = view_data.lists.into_iter().map(|list| view! { <ListItem list/> }).collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="admin-lists">
            <h2 id="admin-lists">{format!("{} · {domain}", t(lang, Key::AdminLists))}</h2>
            <p class="note">{t(lang, Key::ListsIntro)}</p>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::NoList)}</p> })}
            <ul class="admin-aliases">{rows}</ul>
        </section>
        <section class="card settings-card" aria-labelledby="admin-new-list">
            <h2 id="admin-new-list">{t(lang, Key::NewList)}</h2>
            <ActionForm action=create>
                <input type="hidden" name="domain" value=domain.clone()/>
                <div class="field">
                    <label for="new-list-local">{t(lang, Key::AdminAddress)}</label>
                    <span class="address-field">
                        <input id="new-list-local" name="local_part" type="text" required maxlength="64" autocomplete="off"/>
                        <span>{format!("@{domain}")}</span>
                    </span>
                </div>
                <div class="field">
                    <label for="new-list-name">{t(lang, Key::AdminName)}</label>
                    <input id="new-list-name" name="name" type="text" maxlength="100"/>
                </div>
                <div class="field">
                    <label for="new-list-kind">{t(lang, Key::ListKindLabel)}</label>
                    <select id="new-list-kind" name="kind">
                        <option value="discussion">{t(lang, Key::ListDiscussion)}</option>
                        <option value="distribution">{t(lang, Key::ListDistribution)}</option>
                    </select>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::CreateList)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ListItem(list: MailingList) -> impl IntoView {
    let lang = use_lang();
    let name = (!list.name.is_empty()).then(|| view! { <span class="note">{list.name.clone()}</span> });
    view! {
        <li class="admin-alias">
            <strong>{list.address.clone()}</strong>
            " "
            {name}
            <span class="note">
                {format!(" · {} · {} {}", t(lang, kind_key(list.kind)), list.members, t(lang, Key::ListMembersCount))}
            </span>
            " "
            <a href=list_path(list.id)>{t(lang, Key::AdminManage)}</a>
        </li>
    }
}
