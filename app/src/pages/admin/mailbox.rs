//! One mailbox in the administration (issue 18, A2, A4): renamed, disabled or enabled, deleted,
//! or turned into an alias. Deleting and turning into an alias lose mail, so each first shows how
//! many messages go and asks (`&confirm=delete`, `&confirm=alias&targets=...`: plain links and
//! a plain GET form, so it works before the WASM has loaded); nothing is deleted without that
//! second step. The reader's own mailbox is not offered these (they would lock themselves out),
//! and the server functions refuse it too.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[cfg(feature = "ssr")]
use super::domain_path;
use super::mailbox_path;
#[cfg(feature = "ssr")]
use crate::dto::form_urlencoded_value;
use crate::dto::{MailboxDetail, MailboxRow};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};

/// The mailbox's detail, with what deleting it loses; `domain_admin`: whether it administers
/// its domain (the page has read the domain's administrators already).
#[cfg(feature = "ssr")]
pub(super) async fn detail(
    store: &store::Store,
    address: &store::Address,
    domain_admin: bool,
    lang: crate::i18n::Lang,
) -> Result<MailboxDetail, AppError> {
    let user = store.mailbox_info(address).await?.ok_or(AppError::NotFound)?;
    let (messages, bytes) = store.mailbox_contents(address).await?;
    Ok(MailboxDetail {
        row: super::mailbox_row(user, lang),
        messages,
        size: crate::ssr::human_size(bytes, lang),
        domain_admin,
    })
}

/// The mailbox `address` when the reader may manage it and it is not their own.
#[cfg(feature = "ssr")]
async fn managed_other(address: &str) -> Result<(store::Store, store::Account, store::Address), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let address = administration::managed_address(&store, &account, address).await?;
    if address.to_string() == account.login {
        return Err(AppError::OwnMailbox);
    }
    Ok((store, account, address))
}

#[server(endpoint = "admin_set_disabled")]
pub async fn set_disabled(address: String, disabled: String) -> Result<(), AppError> {
    let (store, account, address) = managed_other(&address).await?;
    let disabled = disabled == "true";
    store.set_mailbox_disabled(&address, disabled).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, mailbox = %address, disabled, "administration: mailbox disabled or enabled");
    Ok(())
}

/// Renames a mailbox within its domain; with `keep_old`, the old address stays as an alias.
/// One's own too: the session follows the account, not its name.
#[server(endpoint = "admin_rename_mailbox")]
pub async fn rename_mailbox(address: String, local_part: String, keep_old: Option<String>) -> Result<(), AppError> {
    use crate::ssr::{self, administration};
    let (store, account) = ssr::current_account().await?;
    let address = administration::managed_address(&store, &account, &address).await?;
    let new = super::address_in(&address.domain, &local_part)?;
    let keep_old = keep_old.is_some();
    store.rename_mailbox(&address, &new, keep_old).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, mailbox = %address, new = %new, keep_old, "administration: mailbox renamed");
    leptos_axum::redirect(&mailbox_path(&new.to_string()));
    Ok(())
}

/// Makes a mailbox an administrator of its domain, or takes that from it. Whoever manages the
/// domain may: a domain administrator gives no more than they have.
#[server(endpoint = "admin_set_domain_admin")]
pub async fn set_domain_admin(address: String, admin: String) -> Result<(), AppError> {
    let (store, account, address) = managed_other(&address).await?;
    if admin == "true" {
        store.add_domain_admin(&address.domain, &address).await.map_err(super::refusal)?;
    } else {
        store.remove_domain_admin(&address.domain, &address).await.map_err(super::refusal)?;
    }
    tracing::info!(by = %account.login, mailbox = %address, admin, "administration: domain administrator set");
    Ok(())
}

#[server(endpoint = "admin_delete_mailbox")]
pub async fn delete_mailbox(address: String) -> Result<(), AppError> {
    let (store, account, address) = managed_other(&address).await?;
    let deleted = store.delete_mailbox(&address).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, mailbox = %address, messages = deleted, "administration: mailbox deleted");
    let back = format!("{}&deleted={}", domain_path(&address.domain), form_urlencoded_value(&address.to_string()));
    leptos_axum::redirect(&back);
    Ok(())
}

/// A4: the mailbox becomes an alias to `targets`; its messages are deleted.
#[server(endpoint = "admin_mailbox_to_alias")]
pub async fn mailbox_to_alias(address: String, targets: String) -> Result<(), AppError> {
    let (store, account, address) = managed_other(&address).await?;
    let targets = super::aliases::targets_of(&targets)?;
    let deleted = store.mailbox_to_alias(&address, &targets).await.map_err(super::refusal)?;
    tracing::info!(by = %account.login, alias = %address, messages = deleted, "administration: mailbox made an alias");
    let aliases = super::section_path(&address.domain, crate::dto::AdminSection::Aliases);
    leptos_axum::redirect(&format!("{aliases}&q={}", form_urlencoded_value(&address.to_string())));
    Ok(())
}

#[derive(Clone, Copy)]
pub struct MailboxActions {
    rename: ServerAction<RenameMailbox>,
    domain_admin: ServerAction<SetDomainAdmin>,
    disable: ServerAction<SetDisabled>,
    delete: ServerAction<DeleteMailbox>,
    to_alias: ServerAction<MailboxToAlias>,
}

impl MailboxActions {
    pub(super) fn new() -> MailboxActions {
        MailboxActions {
            rename: ServerAction::new(),
            domain_admin: ServerAction::new(),
            disable: ServerAction::new(),
            delete: ServerAction::new(),
            to_alias: ServerAction::new(),
        }
    }

    pub(super) fn versions(self) -> usize {
        self.rename.version().get()
            + self.domain_admin.version().get()
            + self.disable.version().get()
            + self.delete.version().get()
            + self.to_alias.version().get()
    }

    pub(super) fn results(self) -> [Option<Result<(), AppError>>; 5] {
        [
            self.rename.value().get(),
            self.domain_admin.value().get(),
            self.disable.value().get(),
            self.delete.value().get(),
            self.to_alias.value().get(),
        ]
    }
}

/// A sentence with its `{name}` placeholders filled.
fn filled(text: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(text.to_string(), |text, (name, value)| text.replace(&format!("{{{name}}}"), value))
}

#[component]
pub fn MailboxPage(detail: MailboxDetail, actions: MailboxActions, own: bool) -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let MailboxDetail { row, messages, size, domain_admin } = detail;
    let MailboxRow { login, name, used, disabled, server_admin: row_server_admin, .. } = row;
    // "message" and "messages" are the same words in French.
    let count = if messages == 1 { "1 message".to_string() } else { format!("{messages} messages") };
    let holds = filled(t(lang, Key::AdminHolds), &[("messages", &count), ("size", &size)]);
    let back = mailbox_path(&login);
    let (local, domain_suffix) = match login.rsplit_once('@') {
        Some((local, domain)) => (local.to_string(), format!("@{domain}")),
        None => (login.clone(), String::new()),
    };
    let for_rename = login.clone();
    let rename = view! {
        <ActionForm action=actions.rename>
            <input type="hidden" name="address" value=for_rename/>
            <div class="field">
                <label for="rename-local">{t(lang, Key::AdminNewAddress)}</label>
                <span class="address-field">
                    <input id="rename-local" name="local_part" type="text" maxlength="64" value=local required/>
                    <span>{domain_suffix}</span>
                </span>
            </div>
            <label class="check">
                <input type="checkbox" name="keep_old" value="on" checked/>
                " "
                {t(lang, Key::AdminKeepOld)}
            </label>
            <button type="submit" class="button subtle">{t(lang, Key::AdminRename)}</button>
        </ActionForm>
    };
    let for_admin = login.clone();
    // A server administrator administers every domain already.
    let administration = (!own && !row_server_admin).then(move || {
        let (label, value) =
            if domain_admin { (Key::AdminRemoveDomainAdmin, "false") } else { (Key::AdminMakeDomainAdmin, "true") };
        view! {
            {domain_admin.then(|| view! { <p>{t(lang, Key::AdminIsDomainAdmin)}</p> })}
            <ActionForm action=actions.domain_admin>
                <input type="hidden" name="address" value=for_admin/>
                <input type="hidden" name="admin" value=value/>
                <button type="submit" class="button subtle">{t(lang, label)}</button>
            </ActionForm>
        }
    });
    let for_state = login.clone();
    let state = (!own).then(move || {
        let (label, value) = if disabled { (Key::AdminEnable, "false") } else { (Key::AdminDisable, "true") };
        view! {
            <ActionForm action=actions.disable>
                <input type="hidden" name="address" value=for_state/>
                <input type="hidden" name="disabled" value=value/>
                <p class="note">{t(lang, Key::AdminDisableNote)}</p>
                <button type="submit" class="button">{t(lang, label)}</button>
            </ActionForm>
        }
    });
    let heading = login.clone();
    // The `confirm` step as the address said when this data was loaded: changing it (a
    // link, Cancel, the GET form) loads the page's data again, and only that new data shows
    // the step, so its count is never the one from before.
    let danger = move || {
        if own {
            return None;
        }
        let (login, back, count, size) = (login.clone(), back.clone(), count.clone(), size.clone());
        let confirm = query.with_untracked(|q| (q.get("confirm"), q.get("targets").unwrap_or_default()));
        let step = match confirm {
            (Some(step), _) if step == "delete" => {
                let warning = filled(
                    t(lang, Key::AdminDeleteWarning),
                    &[("address", &login), ("messages", &count), ("size", &size)],
                );
                view! {
                    <div class="confirm-banner" role="alertdialog" aria-labelledby="confirm-delete-mailbox">
                        <p id="confirm-delete-mailbox">{warning}</p>
                        <ActionForm action=actions.delete attr:class="inline-form">
                            <input type="hidden" name="address" value=login.clone()/>
                            <button type="submit" class="button danger">{t(lang, Key::AdminDeleteConfirm)}</button>
                        </ActionForm>
                        <a class="button subtle" href=back.clone()>{t(lang, Key::Cancel)}</a>
                    </div>
                }
                .into_any()
            }
            (Some(step), targets) if step == "alias" && !targets.trim().is_empty() => {
                let warning = filled(
                    t(lang, Key::AdminToAliasWarning),
                    &[("address", &login), ("messages", &count), ("size", &size), ("targets", targets.trim())],
                );
                view! {
                    <div class="confirm-banner" role="alertdialog" aria-labelledby="confirm-to-alias">
                        <p id="confirm-to-alias">{warning}</p>
                        <ActionForm action=actions.to_alias attr:class="inline-form">
                            <input type="hidden" name="address" value=login.clone()/>
                            <input type="hidden" name="targets" value=targets.clone()/>
                            <button type="submit" class="button danger">{t(lang, Key::AdminToAliasConfirm)}</button>
                        </ActionForm>
                        <a class="button subtle" href=back.clone()>{t(lang, Key::Cancel)}</a>
                    </div>
                }
                .into_any()
            }
            _ => {
                let domain = login.rsplit_once('@').map_or("", |(_, domain)| domain).to_string();
                view! {
                    <p>
                        <a class="button danger" href=format!("{back}&confirm=delete")>
                            {t(lang, Key::AdminDeleteMailbox)}
                        </a>
                    </p>
                    // Step one of turning into an alias is a GET: it only shows the confirmation.
                    <form method="get" action=super::ADMIN_PATH class="inline-form">
                        <input type="hidden" name="domain" value=domain/>
                        <input type="hidden" name="view" value="mailbox"/>
                        <input type="hidden" name="mailbox" value=login.clone()/>
                        <input type="hidden" name="confirm" value="alias"/>
                        <label for="to-alias-targets">{t(lang, Key::AdminTargets)}</label>
                        <input id="to-alias-targets" name="targets" type="text" maxlength="4000" required/>
                        <button type="submit" class="button subtle">{t(lang, Key::AdminToAlias)}</button>
                    </form>
                }
                .into_any()
            }
        };
        Some(view! {
            <section class="card settings-card" aria-labelledby="admin-danger">
                <h2 id="admin-danger">{t(lang, Key::AdminDangerZone)}</h2>
                {step}
            </section>
        })
    };
    view! {
        <section class="card settings-card" aria-labelledby="admin-mailbox">
            <h2 id="admin-mailbox">{heading}</h2>
            <p>
                <span>{name}</span>
                " "
                <span class="note">{format!("{} {used}", t(lang, Key::AdminUsed))}</span>
                {disabled.then(|| view! { " " <span class="badge">{t(lang, Key::AdminDisabled)}</span> })}
            </p>
            <p>{holds}</p>
            {rename}
            {administration}
            {state}
        </section>
        {danger}
    }
}
