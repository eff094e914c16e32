//! /admin/list?id=N: one mailing list (issue 18, A7, A8), for whoever has a part in it. A
//! domain administrator does everything; an owner changes its settings and who is on it; a
//! moderator (and an owner) sends or deletes the posts held for approval and answers the
//! subscriptions waiting. Every server function asks `ssr::administration::list_role` first and
//! answers `403` otherwise. Plain forms: it all works before the WASM has loaded.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use types::{ListId, ListKind, ListMember, MailingList, Posting, ReplyTo, Subscription};

use crate::dto::{AdminSection, HeldRow, ListPageData};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::admin::ActionFeedback;
use crate::pages::admin::lists::kind_key;
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const LIST_ADMIN_PATH: &str = "/admin/list";

/// The page of one list.
pub fn list_path(list: ListId) -> String {
    format!("{LIST_ADMIN_PATH}?id={}", list.0)
}

/// The list and the reader's role, or `403`.
#[cfg(feature = "ssr")]
async fn with_role(
    id: i64,
) -> Result<(mail::Mail, store::Account, MailingList, crate::ssr::administration::ListRole), AppError> {
    let (_, account) = crate::ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    let (list, role) = crate::ssr::administration::list_role(&mail, &account, ListId(id)).await?;
    Ok((mail, account, list, role))
}

/// The same, for what an owner or a domain administrator may do.
#[cfg(feature = "ssr")]
async fn editor(id: i64) -> Result<(mail::Mail, store::Account, MailingList), AppError> {
    use crate::ssr::administration::{ListRole, forbidden};
    match with_role(id).await? {
        (_, _, _, ListRole::Moderator) => Err(forbidden()),
        (mail, account, list, _) => Ok((mail, account, list)),
    }
}

#[server(endpoint = "list_view")]
pub async fn load_list(id: i64) -> Result<ListPageData, AppError> {
    use crate::ssr::administration::ListRole;
    let (mail, account, list, role) = with_role(id).await?;
    let store = mail.store();
    let lang = crate::ssr::request_lang();
    let held = store
        .held_posts(list.id)
        .await?
        .into_iter()
        .map(|post| HeldRow {
            id: post.id,
            author: post.author,
            subject: post.subject,
            size: crate::ssr::human_size(post.size, lang),
            received: crate::ssr::full_date(&crate::ssr::local_time(post.received_at), lang),
        })
        .collect();
    Ok(ListPageData {
        login: account.login.clone(),
        can_edit: role != ListRole::Moderator,
        can_delete: role == ListRole::Administrator,
        members: store.list_members(list.id).await?,
        pending: store.pending_subscriptions(list.id).await?,
        held,
        list,
    })
}

#[server(endpoint = "list_update")]
pub async fn update_list(
    id: i64,
    name: String,
    subscription: Option<String>,
    posting: Option<String>,
    reply_to: Option<String>,
) -> Result<(), AppError> {
    let (mail, account, list) = editor(id).await?;
    let pick = |word: Option<String>| word.unwrap_or_default();
    let subscription = Subscription::parse(&pick(subscription)).unwrap_or(list.subscription);
    let posting = Posting::parse(&pick(posting)).unwrap_or(list.posting);
    let reply_to = ReplyTo::parse(&pick(reply_to)).unwrap_or(list.reply_to);
    mail.store().update_list(list.id, &name, subscription, posting, reply_to).await.map_err(refusal)?;
    tracing::info!(by = %account.login, list = %list.address, "list settings changed");
    Ok(())
}

/// Puts an address on the list as a member, an owner and/or a moderator (ticked boxes).
#[server(endpoint = "list_set_member")]
pub async fn set_list_member(
    id: i64,
    address: String,
    member: Option<String>,
    owner: Option<String>,
    moderator: Option<String>,
) -> Result<(), AppError> {
    let (mail, account, list) = editor(id).await?;
    let address = store::parse_address(address.trim())
        .map_err(|_| AppError::BadRecipient(address.chars().take(200).collect()))?;
    let (member, owner, moderator) = (member.is_some(), owner.is_some(), moderator.is_some());
    if !(member || owner || moderator) {
        return Err(AppError::InvalidName);
    }
    mail.store().set_list_member(list.id, &address, member, owner, moderator).await.map_err(refusal)?;
    tracing::info!(by = %account.login, list = %list.address, %address, "list member set");
    Ok(())
}

#[server(endpoint = "list_remove_member")]
pub async fn remove_list_member(id: i64, address: String) -> Result<(), AppError> {
    let (mail, account, list) = editor(id).await?;
    let address = store::parse_address(&address).map_err(|_| AppError::NotFound)?;
    mail.store().set_list_member(list.id, &address, false, false, false).await?;
    tracing::info!(by = %account.login, list = %list.address, %address, "list member removed");
    Ok(())
}

#[server(endpoint = "list_enable_member")]
pub async fn enable_list_member(id: i64, address: String) -> Result<(), AppError> {
    let (mail, _, list) = editor(id).await?;
    mail.store().enable_list_member(list.id, &address).await?;
    Ok(())
}

/// A moderator's answer to a held post: `send` or `delete`.
#[server(endpoint = "list_decide_post")]
pub async fn decide_post(id: i64, post: i64, decision: String) -> Result<(), AppError> {
    let (mail, account, list, _) = with_role(id).await?;
    let done = if decision == "send" {
        let approved = mail.store().approve_post(list.id, post).await?;
        mail.list_posts_waiting();
        approved
    } else {
        mail.store().reject_post(list.id, post).await?
    };
    if !done {
        return Err(AppError::NotFound);
    }
    tracing::info!(by = %account.login, list = %list.address, post, %decision, "held post decided");
    Ok(())
}

/// A moderator's answer to a subscription waiting: `accept` or `refuse`.
#[server(endpoint = "list_decide_subscription")]
pub async fn decide_subscription(id: i64, request: i64, decision: String) -> Result<(), AppError> {
    let (mail, account, list, _) = with_role(id).await?;
    let address = mail.store().decide_subscription(list.id, request, decision == "accept").await?;
    let Some(address) = address else { return Err(AppError::NotFound) };
    tracing::info!(by = %account.login, list = %list.address, %address, %decision, "subscription decided");
    Ok(())
}

#[server(endpoint = "list_delete")]
pub async fn delete_list(id: i64) -> Result<(), AppError> {
    use crate::ssr::administration::{ListRole, forbidden};
    let (mail, account, list, role) = with_role(id).await?;
    if role != ListRole::Administrator {
        return Err(forbidden());
    }
    mail.store().delete_list(list.id).await?;
    tracing::info!(by = %account.login, list = %list.address, "list deleted");
    let domain = list.address.rsplit_once('@').map_or("", |(_, domain)| domain);
    leptos_axum::redirect(&format!(
        "{}?domain={}&view={}",
        crate::pages::admin::ADMIN_PATH,
        crate::dto::form_urlencoded_value(domain),
        AdminSection::Lists.as_query()
    ));
    Ok(())
}

#[cfg(feature = "ssr")]
fn refusal(error: store::Error) -> AppError {
    match error {
        store::Error::Invalid { .. } | store::Error::Refused(_) => AppError::InvalidName,
        other => other.into(),
    }
}

#[derive(Clone, Copy)]
struct ListActions {
    update: ServerAction<UpdateList>,
    set_member: ServerAction<SetListMember>,
    remove_member: ServerAction<RemoveListMember>,
    enable_member: ServerAction<EnableListMember>,
    decide_post: ServerAction<DecidePost>,
    decide_subscription: ServerAction<DecideSubscription>,
    delete: ServerAction<DeleteList>,
}

impl ListActions {
    fn new() -> ListActions {
        ListActions {
            update: ServerAction::new(),
            set_member: ServerAction::new(),
            remove_member: ServerAction::new(),
            enable_member: ServerAction::new(),
            decide_post: ServerAction::new(),
            decide_subscription: ServerAction::new(),
            delete: ServerAction::new(),
        }
    }

    fn results(self) -> [Option<Result<(), AppError>>; 7] {
        [
            self.update.value().get(),
            self.set_member.value().get(),
            self.remove_member.value().get(),
            self.enable_member.value().get(),
            self.decide_post.value().get(),
            self.decide_subscription.value().get(),
            self.delete.value().get(),
        ]
    }

    fn versions(self) -> usize {
        self.update.version().get()
            + self.set_member.version().get()
            + self.remove_member.version().get()
            + self.enable_member.version().get()
            + self.decide_post.version().get()
            + self.decide_subscription.version().get()
    }
}

#[component]
pub fn ListAdminPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let actions = ListActions::new();
    let id = move || query.with(|q| q.get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let data = Resource::new(move || (id(), actions.versions()), |(id, _)| load_list(id));
    let confirm_delete = move || query.with(|q| q.get("confirm").is_some_and(|c| c == "delete"));
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |page| {
                    let ListPageData { login, list, can_edit, can_delete, members, held, pending } = page;
                    let domain = list.address.rsplit_once('@').map_or(String::new(), |(_, d)| d.to_string());
                    let back = format!(
                        "{}?domain={}&view={}",
                        crate::pages::admin::ADMIN_PATH,
                        crate::dto::form_urlencoded_value(&domain),
                        AdminSection::Lists.as_query()
                    );
                    let public = format!("/lists/{}", list.id.0);
                    let summary = format!(
                        "{} · {} {}",
                        t(lang, kind_key(list.kind)),
                        list.members,
                        t(lang, Key::ListMembersCount)
                    );
                    let id = list.id.0;
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page admin-page">
                                <p><a href=back>"‹ "{t(lang, Key::AdminLists)}</a></p>
                                <h1>{format!("{} · {}", t(lang, Key::ListAdministration), list.title())}</h1>
                                <p class="note">
                                    <strong>{list.address.clone()}</strong>
                                    {format!(" · {summary} · ")}
                                    <a href=public>{t(lang, Key::ListPublicPage)}</a>
                                </p>
                                <ActionFeedback results=move || actions.results().to_vec()/>
                                <HeldPosts id held actions/>
                                <PendingSubscriptions id pending actions/>
                                {can_edit.then(|| view! { <Settings list=list.clone() actions/> })}
                                <Members id members can_edit actions/>
                                {can_delete.then(|| view! { <DeleteList id confirm=confirm_delete() actions/> })}
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
fn HeldPosts(id: i64, held: Vec<HeldRow>, actions: ListActions) -> impl IntoView {
    let lang = use_lang();
    let empty = held.is_empty();
    let rows = held
        .into_iter()
        .map(|post| {
            view! {
                <li class="admin-alias">
                    <strong>{post.subject}</strong>
                    <span class="note">{format!(" · {} · {} · {}", post.author, post.received, post.size)}</span>
                    <ActionForm action=actions.decide_post attr:class="inline-form">
                        <input type="hidden" name="id" value=id/>
                        <input type="hidden" name="post" value=post.id/>
                        <button type="submit" class="button primary" name="decision" value="send">
                            {t(lang, Key::ApprovePost)}
                        </button>
                        <button type="submit" class="button subtle danger" name="decision" value="delete">
                            {t(lang, Key::RejectPost)}
                        </button>
                    </ActionForm>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card settings-card" aria-labelledby="list-held">
            <h2 id="list-held">{t(lang, Key::HeldPosts)}</h2>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::NoHeldPost)}</p> })}
            <ul class="admin-aliases">{rows}</ul>
        </section>
    }
}

#[component]
fn PendingSubscriptions(id: i64, pending: Vec<types::PendingSubscription>, actions: ListActions) -> impl IntoView {
    let lang = use_lang();
    (!pending.is_empty()).then(|| {
        let rows = pending
            .into_iter()
            .map(|request| {
                view! {
                    <li class="admin-alias">
                        <strong>{request.address}</strong>
                        <ActionForm action=actions.decide_subscription attr:class="inline-form">
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="request" value=request.id/>
                            <button type="submit" class="button primary" name="decision" value="accept">
                                {t(lang, Key::AcceptSubscription)}
                            </button>
                            <button type="submit" class="button subtle" name="decision" value="refuse">
                                {t(lang, Key::RefuseSubscription)}
                            </button>
                        </ActionForm>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="card settings-card" aria-labelledby="list-pending">
                <h2 id="list-pending">{t(lang, Key::PendingSubscriptions)}</h2>
                <ul class="admin-aliases">{rows}</ul>
            </section>
        }
    })
}

/// A `<select>` of a setting's words, the current one chosen.
fn choice<T: Copy + PartialEq + 'static>(
    id: &'static str,
    name: &'static str,
    label: Key,
    current: T,
    options: &[(T, &'static str, Key)],
) -> impl IntoView + use<T> {
    let lang = use_lang();
    let options = options
        .iter()
        .map(|&(value, word, key)| view! { <option value=word selected=value == current>{t(lang, key)}</option> })
        .collect_view();
    view! {
        <div class="field">
            <label for=id>{t(lang, label)}</label>
            <select id=id name=name>{options}</select>
        </div>
    }
}

#[component]
fn Settings(list: MailingList, actions: ListActions) -> impl IntoView {
    let lang = use_lang();
    let discussion = list.kind == ListKind::Discussion;
    let behaviour = discussion.then(|| {
        view! {
            {choice(
                "list-subscription",
                "subscription",
                Key::ListSubscription,
                list.subscription,
                &[
                    (Subscription::Open, "open", Key::SubOpen),
                    (Subscription::Confirm, "confirm", Key::SubConfirm),
                    (Subscription::Moderated, "moderated", Key::SubModerated),
                ],
            )}
            {choice(
                "list-posting",
                "posting",
                Key::ListPosting,
                list.posting,
                &[
                    (Posting::Members, "members", Key::PostMembers),
                    (Posting::Moderated, "moderated", Key::PostModerated),
                    (Posting::Anyone, "anyone", Key::PostAnyone),
                ],
            )}
            {choice(
                "list-reply-to",
                "reply_to",
                Key::ListReplyTo,
                list.reply_to,
                &[(ReplyTo::List, "list", Key::ReplyToList), (ReplyTo::Author, "author", Key::ReplyToAuthor)],
            )}
        }
    });
    view! {
        <section class="card settings-card" aria-labelledby="list-settings">
            <h2 id="list-settings">{t(lang, Key::ListSettings)}</h2>
            <ActionForm action=actions.update>
                <input type="hidden" name="id" value=list.id.0/>
                <div class="field">
                    <label for="list-name">{t(lang, Key::AdminName)}</label>
                    <input id="list-name" name="name" type="text" maxlength="100" value=list.name.clone()/>
                </div>
                {behaviour}
                <button type="submit" class="button primary">{t(lang, Key::Save)}</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Members(id: i64, members: Vec<ListMember>, can_edit: bool, actions: ListActions) -> impl IntoView {
    let lang = use_lang();
    let empty = members.is_empty();
    let rows = members.into_iter().map(|member| view! { <MemberItem id member can_edit actions/> }).collect_view();
    let add = can_edit.then(|| {
        view! {
            <ActionForm action=actions.set_member>
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="list-new-member">{t(lang, Key::AdminAddress)}</label>
                    <input id="list-new-member" name="address" type="email" required maxlength="320"/>
                </div>
                <fieldset class="field checkboxes">
                    <legend class="visually-hidden">{t(lang, Key::ListMembers)}</legend>
                    <label><input type="checkbox" name="member" value="on" checked/>" "{t(lang, Key::RoleMember)}</label>
                    <label><input type="checkbox" name="owner" value="on"/>" "{t(lang, Key::RoleOwner)}</label>
                    <label><input type="checkbox" name="moderator" value="on"/>" "{t(lang, Key::RoleModerator)}</label>
                </fieldset>
                <button type="submit" class="button primary">{t(lang, Key::AddMember)}</button>
            </ActionForm>
        }
    });
    view! {
        <section class="card settings-card" aria-labelledby="list-members">
            <h2 id="list-members">{t(lang, Key::ListMembers)}</h2>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::NoListMember)}</p> })}
            <ul class="admin-aliases">{rows}</ul>
            {add}
        </section>
    }
}

#[component]
fn MemberItem(id: i64, member: ListMember, can_edit: bool, actions: ListActions) -> impl IntoView {
    let lang = use_lang();
    let roles: Vec<&str> =
        [(member.member, Key::RoleMember), (member.owner, Key::RoleOwner), (member.moderator, Key::RoleModerator)]
            .into_iter()
            .filter(|(has, _)| *has)
            .map(|(_, key)| t(lang, key))
            .collect();
    let bounces = if member.disabled {
        Some(format!(" · {}", t(lang, Key::BouncesDisabled)))
    } else {
        (member.bounce_score > 0).then(|| format!(" · {} {}", member.bounce_score, t(lang, Key::BounceCount)))
    };
    let controls = can_edit.then(|| {
        let enable = member.disabled.then(|| {
            let address = member.address.clone();
            view! {
                <ActionForm action=actions.enable_member attr:class="inline-form">
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="address" value=address/>
                    <button type="submit" class="button subtle">{t(lang, Key::EnableMember)}</button>
                </ActionForm>
            }
        });
        let address = member.address.clone();
        view! {
            {enable}
            <ActionForm action=actions.remove_member attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="address" value=address/>
                <button type="submit" class="button subtle danger">{t(lang, Key::RemoveMember)}</button>
            </ActionForm>
        }
    });
    view! {
        <li class="admin-alias">
            <strong>{member.address.clone()}</strong>
            <span class="note">{format!(" · {}", roles.join(", "))}{bounces}</span>
            {controls}
        </li>
    }
}

#[component]
fn DeleteList(id: i64, confirm: bool, actions: ListActions) -> impl IntoView {
    let lang = use_lang();
    let content = if confirm {
        view! {
            <p class="form-error">{t(lang, Key::DeleteListWarning)}</p>
            <ActionForm action=actions.delete attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="button danger">{t(lang, Key::AdminDeleteConfirm)}</button>
                <a class="button subtle" href=list_path(ListId(id))>{t(lang, Key::Cancel)}</a>
            </ActionForm>
        }
        .into_any()
    } else {
        view! {
            <a class="button subtle danger" href=format!("{}&confirm=delete", list_path(ListId(id)))>
                {t(lang, Key::DeleteList)}
            </a>
        }
        .into_any()
    };
    view! {
        <section class="card settings-card" aria-labelledby="list-delete">
            <h2 id="list-delete">{t(lang, Key::RejectPost)}</h2>
            {content}
        </section>
    }
}
