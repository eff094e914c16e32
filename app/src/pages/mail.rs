//! /mail, /mail/{folder_id}, /mail/{folder_id}/{message_id}: the three-pane mail view (C, D3)
//! and the logout action.
//!
//! One server function returns everything the panes show, in one round trip and in a fixed
//! order: opening a message marks it `\Seen` first (as IMAP `FETCH BODY[]` would), then the
//! folder counts and the list are read, so the list never shows a just-opened message as unread.
//! On phones the page shows one pane at a time, chosen by the URL (`data-pane`).

use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::dto::{FolderView, MailboxView, MessageBody, MessageListItem, MessageView};
use crate::error::AppError;
use crate::i18n::{Key, Lang, t, use_lang};
use types::SpecialUse;

/// `?images=show` on a message's URL lets its remote images load (C3). The page's own CSP
/// follows the same parameter (see `set_page_security_headers`), so the link to it is a full
/// page load, not a client-side navigation.
pub const SHOW_IMAGES_VALUE: &str = "show";

/// The list shows at most this many messages (newest first).
#[cfg(feature = "ssr")]
const MAX_LIST_ROWS: usize = 500;

/// The data of the three panes. `message_id`, when given, must be in `folder_id`; it is marked
/// read, and its remote images load when `show_images` (C3).
#[server(endpoint = "mail_view")]
pub async fn mail_view(
    folder_id: Option<i64>,
    message_id: Option<i64>,
    show_images: bool,
) -> Result<MailboxView, AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let lang = ssr::request_lang();
    let mut folders = store.folders(account.id).await?;
    let current = match folder_id {
        Some(id) => folders.iter().find(|f| f.id.0 == id),
        None => folders.iter().find(|f| f.special_use == Some(store::SpecialUse::Inbox)).or(folders.first()),
    }
    .cloned()
    .ok_or(AppError::NotFound)?;

    let mut message = None;
    if let Some(message_id) = message_id {
        let row = store
            .message(account.id, store::MessageId(message_id))
            .await?
            .filter(|row| row.folder_id == current.id)
            .ok_or(AppError::NotFound)?;
        // The read policy decides: only a first-party navigation marks the message read, not
        // a link on another site or in a message (issue 12, defect 9).
        let reading = mail::Reading::WebOpen { first_party: ssr::request_is_first_party() };
        if !row.flags.contains(store::Flags::SEEN) {
            let mail = expect_context::<mail::Mail>();
            if !mail.mark_read(account.id, current.id, &[row.uid], reading).await?.is_empty() {
                // The unread counts changed.
                folders = store.folders(account.id).await?;
            }
        }
        // Expunged (and its file cleaned up) since the row was read: not there any more.
        let raw = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await?.ok_or(AppError::NotFound)?;
        // Only our own "Show images" button may load a message's images: a link to
        // `?images=show` in the message itself (or on another site) must not trigger its trackers.
        let show_images = show_images && ssr::request_is_first_party();
        // Parsing and sanitising a large message is CPU work: keep it off the async workers.
        let view = tokio::task::spawn_blocking(move || ssr::message_view(&row, &raw, lang, show_images))
            .await
            .map_err(|_| AppError::Internal)?;
        message = Some(view);
    }

    // C1 default: newest first, by the date the list shows. One more than shown tells
    // whether there are more.
    let mut rows = store.newest_messages(account.id, current.id, MAX_LIST_ROWS + 1).await?;
    let truncated = rows.len() > MAX_LIST_ROWS;
    rows.truncate(MAX_LIST_ROWS);
    let now = ssr::local_time(chrono::Utc::now().timestamp());
    Ok(MailboxView {
        login: account.login.clone(),
        folders: folders.iter().map(ssr::folder_view).collect(),
        current_folder_id: current.id.0,
        messages: rows.iter().map(|row| ssr::list_item(row, &now, lang)).collect(),
        truncated,
        message,
    })
}

/// Answers a message's request for a read receipt (C8): `answer` "send" sends it, anything
/// else declines; either way it is not asked again.
#[server(endpoint = "answer_receipt")]
pub async fn answer_receipt(message_id: i64, answer: String) -> Result<(), AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    let hostname = ssr::web_settings().hostname;
    let (folder, id) =
        ssr::receipt::answer(&mail, &account, message_id, answer == "send", &hostname, ssr::request_lang()).await?;
    leptos_axum::redirect(&format!("/mail/{folder}/{id}"));
    Ok(())
}

/// Closes the session and clears its cookie.
#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::ssr;
    let auth = use_context::<auth::Auth>().ok_or(AppError::Internal)?;
    if let Some(token) = ssr::session_token() {
        auth.delete_web_session(&token).await?;
    }
    ssr::set_cookie(&ssr::session_cookie(None, ssr::web_settings().secure_cookies))?;
    leptos_axum::redirect("/login");
    Ok(())
}

/// Which pane a phone shows.
fn pane_for(folder_chosen: bool, message_chosen: bool) -> &'static str {
    match (folder_chosen, message_chosen) {
        (_, true) => "message",
        (true, false) => "list",
        (false, false) => "folders",
    }
}

/// Reads `{folder_id}/{message_id}` (both optional) from the rest of a /mail URL. A malformed id
/// becomes one that matches nothing, so the page says "not found" instead of showing the Inbox.
fn parse_selection(rest: &str) -> (Option<i64>, Option<i64>) {
    let mut ids = rest.split('/').filter(|segment| !segment.is_empty()).map(|text| text.parse::<i64>().unwrap_or(-1));
    let folder_id = ids.next();
    let message_id = ids.next();
    match ids.next() {
        Some(_) => (Some(-1), None),
        None => (folder_id, message_id),
    }
}

#[component]
pub fn MailPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let selection = move || params.with(|p| parse_selection(&p.get("selection").unwrap_or_default()));
    let show_images = move || query.with(|q| q.get("images").as_deref() == Some(SHOW_IMAGES_VALUE));
    let data = Resource::new(
        move || (selection(), show_images()),
        |((folder_id, message_id), show_images)| mail_view(folder_id, message_id, show_images),
    );
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                let (folder_param, message_param) = selection();
                page_or_error(data.await, |mailbox| {
                    let pane = pane_for(folder_param.is_some(), message_param.is_some());
                    let sent = query.with(|q| SentNote {
                        sent: q.get("sent").is_some(),
                        undo: q.get("undo").and_then(|id| id.parse().ok()),
                        undo_seconds: q.get("delay").and_then(|s| s.parse().ok()),
                        scheduled: q.get("scheduled").is_some(),
                    });
                    view! { <MailLayout mailbox pane sent/> }.into_any()
                })
            })}
        </Transition>
    }
}

/// What a page shows once its data came: the page, the sign-in page when the session ended,
/// else the error in plain words.
pub(crate) fn page_or_error<T>(data: Result<T, AppError>, page: impl FnOnce(T) -> AnyView) -> AnyView {
    match data {
        Ok(data) => page(data),
        Err(AppError::NotLoggedIn) => view! { <Redirect path="/login"/> }.into_any(),
        Err(error) => view! { <MailError error/> }.into_any(),
    }
}

#[component]
pub(crate) fn MailError(error: AppError) -> impl IntoView {
    let lang = use_lang();
    // A page for something that is not there says so to machines too (the route renders
    // asynchronously, so the status is still ours to set).
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(match error {
            AppError::NotFound => axum::http::StatusCode::NOT_FOUND,
            _ => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        });
    }
    view! {
        <main class="centered-page">
            <div class="card">
                <p class="form-error" role="alert">{t(lang, error.message_key())}</p>
                <p><a href="/mail">{t(lang, Key::BackHome)}</a></p>
            </div>
        </main>
    }
}

#[component]
fn MailLayout(mailbox: MailboxView, pane: &'static str, sent: SentNote) -> impl IntoView {
    let lang = use_lang();
    let MailboxView { login, folders, current_folder_id, messages, truncated, message } = mailbox;
    let current = folders.iter().find(|f| f.id == current_folder_id);
    let current_folder = current.map(|f| f.label(lang)).unwrap_or_default();
    let role = current.and_then(|f| f.role);
    let selected_message = message.as_ref().map(|m| m.id);
    view! {
        <div class="app">
            <AppHeader login/>
            <SentBanner sent/>
            <div class="mail" data-pane=pane>
                <FolderTree folders current_folder_id/>
                <main class="mail-main">
                    <MessageList
                        folder_name=current_folder
                        folder_id=current_folder_id
                        messages
                        truncated
                        selected_message
                    />
                    <ReadingPane message folder_id=current_folder_id role/>
                </main>
            </div>
        </div>
    }
}

/// What the composer said on its way back to the mail (B15): sent (with the draft that waits
/// the undo delay, if any), or scheduled.
#[derive(Debug, Clone, Copy, Default)]
struct SentNote {
    sent: bool,
    undo: Option<i64>,
    /// How long the undo is offered for, from when the page shows.
    undo_seconds: Option<u32>,
    scheduled: bool,
}

#[component]
fn SentBanner(sent: SentNote) -> impl IntoView {
    let lang = use_lang();
    let undo = ServerAction::<crate::pages::scheduled::UndoSend>::new();
    let key = match sent {
        SentNote { scheduled: true, .. } => Key::MessageScheduled,
        SentNote { sent: true, .. } => Key::MessageSent,
        _ => return ().into_any(),
    };
    // The Undo button goes once the message has left (a click would only say "too late").
    let offered = RwSignal::new(true);
    if let Some(seconds) = sent.undo_seconds {
        Effect::new(move |_| {
            set_timeout(move || offered.set(false), std::time::Duration::from_secs(u64::from(seconds)));
        });
    }
    let undo_form = sent.undo.map(|id| {
        view! {
            <Show when=move || offered.get()>
                <ActionForm action=undo attr:class="inline-form">
                    <input type="hidden" name="id" value=id.to_string()/>
                    <button type="submit" class="link-button">{t(lang, Key::Undo)}</button>
                </ActionForm>
            </Show>
        }
    });
    let error = move || {
        undo.value()
            .get()
            .and_then(Result::err)
            .map(|error| view! { <span role="alert">" "{t(lang, error.message_key())}</span> })
    };
    view! {
        <div class="banner sent-banner" role="status">
            {t(lang, key)}
            " "
            {undo_form}
            {error}
        </div>
    }
    .into_any()
}

/// The app's mark: an envelope, drawn inline so it needs no request.
#[component]
pub fn Logo() -> impl IntoView {
    view! {
        <svg class="logo" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
            <rect x="2.5" y="5" width="19" height="14" rx="2.5" fill="currentColor" opacity="0.15"></rect>
            <rect x="2.5" y="5" width="19" height="14" rx="2.5" fill="none" stroke="currentColor" stroke-width="1.8"></rect>
            <path d="M3.5 7l8.5 6 8.5-6" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"></path>
        </svg>
    }
}

#[component]
pub(crate) fn AppHeader(login: String) -> impl IntoView {
    let lang = use_lang();
    let logout = ServerAction::<Logout>::new();
    view! {
        <header class="app-header">
            <a class="brand" href="/mail">
                <Logo/>
                <span>{t(lang, Key::AppName)}</span>
            </a>
            <div class="account">
                <span class="visually-hidden">{t(lang, Key::SignedInAs)}" "</span>
                // A full load: the composer rewrites its own address as it saves (autosave), which
                // the router does not see, so a routed link from the composer would not reset it.
                <a class="button primary" href=crate::pages::compose::COMPOSE_PATH rel="external">
                    {t(lang, Key::NewMessage)}
                </a>
                <span class="account-address" title=login.clone()>{login.clone()}</span>
                <a class="button subtle" href=crate::pages::scheduled::SCHEDULED_PATH>
                    {t(lang, Key::Scheduled)}
                </a>
                <a class="button subtle" href=crate::pages::signatures::SIGNATURES_PATH>
                    {t(lang, Key::Signatures)}
                </a>
                <a class="button subtle" href=crate::pages::settings::APP_PASSWORDS_PATH>
                    {t(lang, Key::AppPasswords)}
                </a>
                <ActionForm action=logout>
                    <button type="submit" class="button subtle">{t(lang, Key::Logout)}</button>
                </ActionForm>
            </div>
        </header>
    }
}

#[component]
fn FolderTree(folders: Vec<FolderView>, current_folder_id: i64) -> impl IntoView {
    let lang = use_lang();
    let items = folders
        .into_iter()
        .map(|folder| {
            let current = folder.id == current_folder_id;
            let label = folder.label(lang);
            let unseen = folder.n_unseen;
            let has_unread = unseen > 0;
            let indent = format!("--depth: {}", folder.depth);
            let role_class = folder.role.map_or("user", SpecialUse::as_db);
            view! {
                <li style=indent>
                    <a
                        href=format!("/mail/{}", folder.id)
                        class="folder"
                        class:current=current
                        class:has-unread=has_unread
                        data-role=role_class
                        aria-current=current.then_some("page")
                    >
                        <span class="folder-name">{label}</span>
                        {has_unread
                            .then(|| {
                                view! {
                                    <span class="count">
                                        {unseen}
                                        <span class="visually-hidden">" "{t(lang, Key::UnreadCount)}</span>
                                    </span>
                                }
                            })}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="pane folders-pane" aria-label=t(lang, Key::FoldersNav)>
            <h2 class="pane-title">{t(lang, Key::Folders)}</h2>
            <ul class="folder-list">{items}</ul>
        </nav>
    }
}

#[component]
fn MessageList(
    folder_name: String,
    folder_id: i64,
    messages: Vec<MessageListItem>,
    truncated: bool,
    selected_message: Option<i64>,
) -> impl IntoView {
    let lang = use_lang();
    let empty = messages.is_empty();
    let rows = messages
        .into_iter()
        .map(|item| {
            let selected = selected_message == Some(item.id);
            view! { <MessageRow item folder_id selected lang/> }
        })
        .collect_view();
    view! {
        <section class="pane list-pane" aria-labelledby="list-title">
            <div class="pane-head">
                <a class="back" href="/mail">"‹ "{t(lang, Key::BackToFolders)}</a>
                <h2 class="pane-title" id="list-title">{folder_name}</h2>
            </div>
            {empty.then(|| view! { <p class="empty">{t(lang, Key::EmptyFolder)}</p> })}
            <ul class="message-list">{rows}</ul>
            {truncated.then(|| view! { <p class="note">{t(lang, Key::ListTruncated)}</p> })}
        </section>
    }
}

#[component]
fn MessageRow(item: MessageListItem, folder_id: i64, selected: bool, lang: Lang) -> impl IntoView {
    let sender = if item.sender.is_empty() { t(lang, Key::UnknownSender).to_string() } else { item.sender.clone() };
    let subject =
        if item.subject.trim().is_empty() { t(lang, Key::NoSubject).to_string() } else { item.subject.clone() };
    view! {
        <li class="message-row" class:unread=item.unread class:selected=selected>
            <a href=format!("/mail/{folder_id}/{}", item.id) aria-current=selected.then_some("page")>
                <span class="row-line">
                    <span class="sender" title=item.sender_address.clone()>{sender}</span>
                    <time class="date" datetime=item.iso_date.clone() title=item.full_date.clone()>
                        {item.short_date.clone()}
                    </time>
                </span>
                <span class="row-line">
                    <span class="subject">
                        {item.unread.then(|| view! { <span class="visually-hidden">{t(lang, Key::Unread)}", "</span> })}
                        {item.priority_high
                            .then(|| {
                                view! {
                                    <span class="priority" title=t(lang, Key::HighPriority)>
                                        <span aria-hidden="true">"!"</span>
                                        <span class="visually-hidden">{t(lang, Key::HighPriority)}", "</span>
                                    </span>
                                }
                            })}
                        {subject}
                    </span>
                    <span class="row-meta">
                        {item.has_attachments.then(|| view! { <Paperclip label=t(lang, Key::HasAttachments)/> })}
                        <span class="size">{item.size.clone()}</span>
                    </span>
                </span>
            </a>
        </li>
    }
}

#[component]
fn Paperclip(label: &'static str) -> impl IntoView {
    view! {
        <span class="clip" title=label>
            <svg viewBox="0 0 24 24" width="14" height="14" aria-hidden="true" focusable="false">
                <path
                    d="M8 12.5l6.5-6.5a3 3 0 014.2 4.2l-8 8a5 5 0 01-7-7l7.5-7.5"
                    fill="none"
                    stroke="currentColor"
                    stroke-width="2"
                    stroke-linecap="round"
                ></path>
            </svg>
            <span class="visually-hidden">{label}</span>
        </span>
    }
}

#[component]
fn ReadingPane(message: Option<MessageView>, folder_id: i64, role: Option<SpecialUse>) -> impl IntoView {
    let lang = use_lang();
    let content = match message {
        None => view! { <p class="empty reader-empty">{t(lang, Key::NoMessageSelected)}</p> }.into_any(),
        Some(message) => view! { <MessageDisplay message folder_id role/> }.into_any(),
    };
    view! {
        <article class="pane reader-pane" aria-label=t(lang, Key::MessageBody)>
            {content}
        </article>
    }
}

/// What can be done with the message shown: answer or forward it, continue it when it is a
/// draft, start a new message from it when it is a template. Plain links to the composer, so
/// they work before the page is hydrated.
#[component]
fn MessageActions(id: i64, role: Option<SpecialUse>) -> impl IntoView {
    let lang = use_lang();
    let compose = crate::pages::compose::COMPOSE_PATH;
    let actions = if role == Some(SpecialUse::Drafts) {
        view! { <a class="button primary" href=format!("{compose}?draft={id}")>{t(lang, Key::EditDraft)}</a> }
            .into_any()
    } else if role == Some(SpecialUse::Templates) {
        view! { <a class="button primary" href=format!("{compose}?template={id}")>{t(lang, Key::UseTemplate)}</a> }
            .into_any()
    } else {
        view! {
            <a class="button" href=format!("{compose}?reply={id}")>{t(lang, Key::Reply)}</a>
            <a class="button" href=format!("{compose}?reply_all={id}")>{t(lang, Key::ReplyAll)}</a>
            <a class="button" href=format!("{compose}?forward={id}")>{t(lang, Key::Forward)}</a>
        }
        .into_any()
    };
    view! { <nav class="message-actions" aria-label=t(lang, Key::MessageActions)>{actions}</nav> }
}

/// C8: the message asks for a read receipt; the reader sends one or declines, once.
#[component]
fn ReceiptRequest(id: i64, address: String) -> impl IntoView {
    let lang = use_lang();
    let answer = ServerAction::<AnswerReceipt>::new();
    // Answered: gone at once (the server's redirect is to this same page, which the router
    // does not load again).
    let unanswered = move || !matches!(answer.value().get(), Some(Ok(())));
    view! {
        <Show when=unanswered>
        <div class="banner receipt-request" role="status">
            <span>{t(lang, Key::ReceiptAsked)}" "{address.clone()}</span>
            <ActionForm action=answer>
                <input type="hidden" name="message_id" value=id.to_string()/>
                <button type="submit" name="answer" value="send" class="button">
                    {t(lang, Key::SendReceipt)}
                </button>
                " "
                <button type="submit" name="answer" value="decline" class="button subtle">
                    {t(lang, Key::DeclineReceipt)}
                </button>
            </ActionForm>
            {move || {
                answer
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|error| view! { <span class="form-error">{t(lang, error.message_key())}</span> })
            }}
        </div>
        </Show>
    }
}

#[component]
fn MessageDisplay(message: MessageView, folder_id: i64, role: Option<SpecialUse>) -> impl IntoView {
    let lang = use_lang();
    let MessageView { id, from, to, cc, date, subject, body, attachments, receipt_requested } = message;
    let receipt = receipt_requested.map(|address| view! { <ReceiptRequest id address/> });
    let subject = if subject.trim().is_empty() { t(lang, Key::NoSubject).to_string() } else { subject };
    let header_row = move |key: Key, value: String| {
        (!value.is_empty()).then(|| {
            view! {
                <div class="header-row">
                    <dt>{t(lang, key)}</dt>
                    <dd>{value}</dd>
                </div>
            }
        })
    };
    let body_view = match body {
        MessageBody::Text(text) => view! { <div class="text-body">{text}</div> }.into_any(),
        MessageBody::Html { srcdoc, remote_content_blocked } => view! {
            {remote_content_blocked
                .then(|| {
                    view! {
                        <p class="banner" role="status">
                            <span>{t(lang, Key::ImagesBlocked)}</span>
                            " "
                            <a
                                class="button subtle"
                                href=format!("/mail/{folder_id}/{id}?images={SHOW_IMAGES_VALUE}")
                                rel="external"
                            >
                                {t(lang, Key::ShowImages)}
                            </a>
                        </p>
                    }
                })}
            <iframe
                class="html-body"
                title=t(lang, Key::MessageBody)
                sandbox="allow-popups allow-popups-to-escape-sandbox"
                referrerpolicy="no-referrer"
                srcdoc=srcdoc
            ></iframe>
        }
        .into_any(),
        MessageBody::Empty => view! { <p class="empty">{t(lang, Key::EmptyBody)}</p> }.into_any(),
    };
    let attachment_list = (!attachments.is_empty()).then(|| {
        let items = attachments
            .into_iter()
            .map(|attachment| {
                view! {
                    <li>
                        <a class="attachment" href=format!("/download/{id}/{}", attachment.index) download=attachment.name.clone()>
                            <Paperclip label=t(lang, Key::Download)/>
                            <span class="attachment-name">{attachment.name.clone()}</span>
                            <span class="size">{attachment.size.clone()}</span>
                        </a>
                    </li>
                }
            })
            .collect_view();
        view! {
            <section class="attachments" aria-label=t(lang, Key::Attachments)>
                <h3>{t(lang, Key::Attachments)}</h3>
                <ul>{items}</ul>
            </section>
        }
    });
    view! {
        <div class="pane-head">
            <a class="back" href=format!("/mail/{folder_id}")>"‹ "{t(lang, Key::BackToList)}</a>
        </div>
        <div class="message">
            <MessageActions id role/>
            {receipt}
            <h2 class="message-subject">{subject}</h2>
            <dl class="message-headers">
                {header_row(Key::From, from)}
                {header_row(Key::To, to)}
                {header_row(Key::Cc, cc)}
                {header_row(Key::Date, date)}
            </dl>
            {attachment_list}
            <div class="message-body">{body_view}</div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_show_the_deepest_chosen_pane() {
        assert_eq!(pane_for(false, false), "folders");
        assert_eq!(pane_for(true, false), "list");
        assert_eq!(pane_for(true, true), "message");
    }

    #[test]
    fn selections_are_read_from_the_url() {
        for (rest, want) in [
            ("", (None, None)),
            ("3", (Some(3), None)),
            ("3/", (Some(3), None)),
            ("3/17", (Some(3), Some(17))),
            ("x", (Some(-1), None)),
            ("3/y", (Some(3), Some(-1))),
            ("3/17/9", (Some(-1), None)),
        ] {
            assert_eq!(parse_selection(rest), want, "{rest:?}");
        }
    }
}
