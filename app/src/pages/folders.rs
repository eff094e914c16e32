//! /settings/folders: the account's folders (D1–D3). Create one at the top level or inside
//! another, rename or move a user folder with its subfolders, delete one into Trash (for good
//! when it is already there). The store keeps the rules: system folders are neither renamed nor
//! deleted, a folder never moves into itself, names are unique. Plain forms: all of it works
//! before the WASM has loaded.

use leptos::prelude::*;

use crate::dto::{FolderView, FoldersView};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const FOLDERS_PATH: &str = "/settings/folders";

/// A folder name as typed: one level (no `/`, the separator), no control characters, at most
/// 100 characters; none when empty.
pub fn folder_name(typed: &str) -> Option<String> {
    let name = typed.trim();
    let fine =
        !name.is_empty() && name.chars().count() <= 100 && !name.contains('/') && !name.chars().any(char::is_control);
    fine.then(|| name.to_string())
}

/// The path of a folder named `name` inside `parent` (empty: the top level).
pub fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_string() } else { format!("{parent}/{name}") }
}

#[cfg(feature = "ssr")]
fn folder_error(error: store::Error) -> AppError {
    match error {
        store::Error::Invalid { .. } | store::Error::Refused(_) => AppError::InvalidName,
        store::Error::Exists(_) => AppError::NameTaken,
        other => other.into(),
    }
}

/// The path `parent/name` once both are checked: `parent` one of the account's folders (or
/// empty), `name` a valid name.
#[cfg(feature = "ssr")]
async fn checked_path(
    store: &store::Store,
    account: &store::Account,
    parent: &str,
    name: &str,
) -> Result<String, AppError> {
    let name = folder_name(name).ok_or(AppError::InvalidName)?;
    if !parent.is_empty() && store.folder_by_name(account.id, parent).await?.is_none() {
        return Err(AppError::NotFound);
    }
    Ok(child_path(parent, &name))
}

#[server(endpoint = "load_folders")]
pub async fn load_folders() -> Result<FoldersView, AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let folders = store.folders(account.id).await?.iter().map(ssr::folder_view).collect();
    Ok(FoldersView { login: account.login.clone(), folders })
}

#[server(endpoint = "create_folder")]
pub async fn create_folder(name: String, parent: String) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let path = checked_path(&store, &account, &parent, &name).await?;
    let mail = expect_context::<mail::Mail>();
    mail.create_folder(account.id, &path, true).await.map_err(folder_error)?;
    leptos_axum::redirect(FOLDERS_PATH);
    Ok(())
}

#[server(endpoint = "rename_folder")]
pub async fn rename_folder(path: String, name: String, parent: String) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let to = checked_path(&store, &account, &parent, &name).await?;
    let mail = expect_context::<mail::Mail>();
    mail.rename_folder(account.id, &path, &to).await.map_err(folder_error)?;
    leptos_axum::redirect(FOLDERS_PATH);
    Ok(())
}

#[server(endpoint = "delete_folder")]
pub async fn delete_folder(path: String) -> Result<(), AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    mail.delete_folder(account.id, &path).await.map_err(folder_error)?;
    leptos_axum::redirect(FOLDERS_PATH);
    Ok(())
}

#[component]
pub fn FoldersPage() -> impl IntoView {
    let lang = use_lang();
    let create = ServerAction::<CreateFolder>::new();
    let rename = ServerAction::<RenameFolder>::new();
    let delete = ServerAction::<DeleteFolder>::new();
    let data = Resource::new(
        move || (create.version().get(), rename.version().get(), delete.version().get()),
        |_| load_folders(),
    );
    Effect::new(move |_| {
        let _ = (create.version().get(), rename.version().get(), delete.version().get());
        fold_tools();
    });
    let error = move || action_error([create.value().get(), rename.value().get(), delete.value().get()]);
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |FoldersView { login, folders }| {
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page">
                                <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::Folders)}</h1>
                                {error}
                                <NewFolder create folders=folders.clone()/>
                                <FolderAdmin folders rename delete/>
                            </main>
                        </div>
                    }
                        .into_any()
                })
            })}
        </Transition>
    }
}

/// Folds the page's open tools (`details.folder-tool`) once a form is done: the page is patched
/// in place, so an open `<details>` would otherwise stay open on whichever row takes its place
/// in the list. Also for the tags page.
pub(crate) fn fold_tools() {
    #[cfg(feature = "hydrate")]
    while let Ok(Some(open)) = document().query_selector("details.folder-tool[open]") {
        let _ = open.remove_attribute("open");
    }
}

/// The error of the page's last action, whichever it was, as its alert line.
pub(crate) fn action_error<const N: usize>(
    results: [Option<Result<(), AppError>>; N],
) -> Option<impl IntoView + use<N>> {
    let lang = use_lang();
    results
        .into_iter()
        .flatten()
        .find_map(Result::err)
        .map(|error| view! { <p class="form-error" role="alert">{t(lang, error.message_key())}</p> })
}

/// The `<option>`s of a parent menu: the top level, then every folder but `except` and its
/// subfolders (a folder cannot move into itself), indented by depth.
fn parent_options(folders: &[FolderView], except: Option<&str>, selected: &str) -> impl IntoView + use<> {
    let lang = use_lang();
    let inside = |path: &str, of: &str| path == of || path.starts_with(&format!("{of}/"));
    let options = folders
        .iter()
        .filter(|folder| except.is_none_or(|except| !inside(&folder.path, except)))
        .map(|folder| {
            let label = folder.indented_label(lang);
            view! { <option value=folder.path.clone() selected=folder.path == selected>{label}</option> }
        })
        .collect_view();
    view! {
        <option value="" selected=selected.is_empty()>{t(lang, Key::TopLevel)}</option>
        {options}
    }
}

#[component]
fn NewFolder(create: ServerAction<CreateFolder>, folders: Vec<FolderView>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card settings-card" aria-labelledby="new-folder">
            <h2 id="new-folder">{t(lang, Key::NewFolder)}</h2>
            <ActionForm action=create>
                <div class="field">
                    <label for="new-folder-name">{t(lang, Key::FolderName)}</label>
                    <input id="new-folder-name" name="name" type="text" maxlength="100" required/>
                </div>
                <div class="field">
                    <label for="new-folder-parent">{t(lang, Key::FolderParent)}</label>
                    <select id="new-folder-parent" name="parent">{parent_options(&folders, None, "")}</select>
                </div>
                <button type="submit" class="button primary">{t(lang, Key::CreateFolder)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn FolderAdmin(
    folders: Vec<FolderView>,
    rename: ServerAction<RenameFolder>,
    delete: ServerAction<DeleteFolder>,
) -> impl IntoView {
    let lang = use_lang();
    let trash = folders.iter().find(|f| f.role == Some(types::SpecialUse::Trash)).map(|f| f.path.clone());
    let rows = folders
        .iter()
        .map(|folder| {
            let label = folder.label(lang);
            let count = format!("{} {}", folder.n_messages, t(lang, Key::MessagesCount));
            // System folders are neither renamed nor deleted (D1).
            let tools = folder.role.is_none().then(|| folder_tools(folder, &folders, trash.as_deref(), rename, delete));
            view! {
                <li class="folder-admin-row" style=format!("--depth: {}", folder.depth)>
                    <span class="folder-admin-name">{label}</span>
                    <span class="note">{count}</span>
                    {tools}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="your-folders">
            <h2 id="your-folders">{t(lang, Key::YourFolders)}</h2>
            <ul class="folder-admin">{rows}</ul>
        </section>
    }
}

/// A user folder's "rename or move" and "delete" forms, each folded in a `<details>` (opened
/// without JavaScript).
fn folder_tools(
    folder: &FolderView,
    folders: &[FolderView],
    trash: Option<&str>,
    rename: ServerAction<RenameFolder>,
    delete: ServerAction<DeleteFolder>,
) -> impl IntoView + use<> {
    let lang = use_lang();
    let label = folder.label(lang);
    let path = folder.path.clone();
    let parent = path.rsplit_once('/').map(|(parent, _)| parent.to_string()).unwrap_or_default();
    let in_trash = trash.is_some_and(|trash| path.starts_with(&format!("{trash}/")));
    let options = parent_options(folders, Some(&path), &parent);
    let name = folder.name.clone();
    let (name_id, parent_id) = (format!("folder-{}-name", folder.id), format!("folder-{}-parent", folder.id));
    let (rename_path, delete_path) = (path.clone(), path);
    let (rename_label, delete_label, button_label) = (label.clone(), label.clone(), label);
    let warning = t(lang, if in_trash { Key::DeleteFolderForGood } else { Key::DeleteFolderToTrash });
    view! {
        <details class="folder-tool">
            <summary>{t(lang, Key::RenameOrMove)}<span class="visually-hidden">" "{rename_label}</span></summary>
            <ActionForm action=rename>
                <input type="hidden" name="path" value=rename_path/>
                <div class="field">
                    <label for=name_id.clone()>{t(lang, Key::FolderName)}</label>
                    <input id=name_id name="name" type="text" maxlength="100" required value=name/>
                </div>
                <div class="field">
                    <label for=parent_id.clone()>{t(lang, Key::FolderParent)}</label>
                    <select id=parent_id name="parent">{options}</select>
                </div>
                <button type="submit" class="button">{t(lang, Key::Save)}</button>
            </ActionForm>
        </details>
        <details class="folder-tool">
            <summary>{t(lang, Key::DeleteFolder)}<span class="visually-hidden">" "{delete_label}</span></summary>
            <p class="note">{warning}</p>
            <ActionForm action=delete>
                <input type="hidden" name="path" value=delete_path/>
                <button type="submit" class="button danger">
                    {t(lang, Key::DeleteFolder)}
                    <span class="visually-hidden">" "{button_label}</span>
                </button>
            </ActionForm>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_level() {
        assert_eq!(folder_name("  Projets 2026 "), Some("Projets 2026".to_string()));
        for bad in ["", "   ", "a/b", "tab\there", &"x".repeat(101)] {
            assert_eq!(folder_name(bad), None, "{bad:?}");
        }
        assert_eq!(child_path("", "Work"), "Work");
        assert_eq!(child_path("Work", "2026"), "Work/2026");
    }
}
