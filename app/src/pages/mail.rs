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

use crate::dto::{
    ConversationEntry, Correspondent, FolderView, ListAsk, ListPlace, ListView, MailboxView, MessageBody, MessageView,
    SearchAsk, SearchView, UsageView, form_urlencoded_value, with_query_pair,
};
use crate::error::AppError;
use crate::i18n::{Key, Lang, t, use_lang};
use types::{SortKey, SpecialUse, Tag};

/// `?images=show` on a message's URL lets its remote images load (C3). The page's own CSP
/// follows the same parameter (see `set_page_security_headers`), so the link to it is a full
/// page load, not a client-side navigation.
pub const SHOW_IMAGES_VALUE: &str = "show";

/// Where the list's and the reading pane's buttons post (`ssr::message_actions`).
pub const ACTIONS_PATH: &str = "/actions";

/// Where the page hears of changes to the account's mail (`ssr::live`).
pub const EVENTS_PATH: &str = "/events";

/// A message alone, to print (C10): `{PRINT_PATH}/{message_id}` (`ssr::print`).
pub const PRINT_PATH: &str = "/print";

/// A page of the list holds this many messages (C2).
pub const PAGE_SIZE: u32 = 100;

/// The data of the three panes. The list is a folder's (`folder_id`, else the Inbox) or, with
/// `tag`, the messages with that tag in every folder (D6). `message_id`, when given, must be in
/// the list's folder (any of the account's, for a tag); it is marked read, and its remote images
/// load when `show_images` (C3). The list is the page `page` (from 1) in the order `sort`
/// (`date-desc`...; else the one kept for the folder), of the unread messages only when
/// `unread_only`. A `refresh` (a live update, not the reader's doing) does not mark the open
/// message read again, and drops it when it is gone instead of failing.
#[server(endpoint = "mail_view", input = leptos::server_fn::codec::Json)]
pub async fn mail_view(
    folder_id: Option<i64>,
    tag: Option<String>,
    message_id: Option<i64>,
    show_images: bool,
    list: ListAsk,
    refresh: bool,
    search: Option<SearchAsk>,
) -> Result<MailboxView, AppError> {
    use crate::ssr;
    use types::{ListSort, ListWindow};
    let ListAsk { sort, page, unread_only } = list;
    let (store, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    let lang = ssr::request_lang();
    let zone = ssr::ReaderZone::of_request();
    let tags = mail.tags(account.id).await?;
    let preferences = crate::pages::preferences::stored_preferences(&store, account.id).await?;
    // This browser's cookies follow the account's choices made elsewhere (M1).
    crate::pages::preferences::keep_preference_cookies(&preferences)?;
    let listed_tag = match tag {
        Some(keyword) => Some(tags.iter().find(|tag| tag.keyword == keyword).cloned().ok_or(AppError::NotFound)?),
        None => None,
    };
    let mut folders = store.folders(account.id).await?;
    // A search within a folder shows that folder as current; across folders, none.
    let folder_id = match &search {
        Some(search) => search.folder_id,
        None => folder_id,
    };
    // A tag's list belongs to no folder: the tree then shows none as current.
    let current = match (folder_id, &listed_tag) {
        (_, Some(_)) => None,
        (None, None) if search.is_some() => None,
        (Some(id), None) => Some(folders.iter().find(|f| f.id.0 == id).cloned().ok_or(AppError::NotFound)?),
        (None, None) => Some(
            folders
                .iter()
                .find(|f| f.special_use == Some(store::SpecialUse::Inbox))
                .or(folders.first())
                .cloned()
                .ok_or(AppError::NotFound)?,
        ),
    };

    let mut message = None;
    let row = match message_id {
        Some(id) => store
            .message(account.id, store::MessageId(id))
            .await?
            .filter(|row| search.is_some() || current.as_ref().is_none_or(|current| row.folder_id == current.id)),
        None => None,
    };
    if message_id.is_some() && row.is_none() && !refresh {
        return Err(AppError::NotFound);
    }
    if let Some(row) = row {
        // The read policy decides: only a first-party navigation marks the message read, not
        // a link on another site or in a message (issue 12, defect 9), nor a live update.
        let reading = mail::Reading::WebOpen { first_party: ssr::request_is_first_party() && !refresh };
        if !row.flags.contains(store::Flags::SEEN)
            && !mail.mark_read(account.id, row.folder_id, &[row.uid], reading).await?.is_empty()
        {
            // The unread counts changed.
            folders = store.folders(account.id).await?;
        }
        // Expunged (and its file cleaned up) since the row was read: not there any more.
        let raw = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await?.ok_or(AppError::NotFound)?;
        // Only our own "Show images" button may load a message's images: a link to
        // `?images=show` in the message itself (or on another site) must not trigger its trackers.
        // Unless the reader chose to always see them (M1).
        let show_images = (show_images && ssr::request_is_first_party()) || preferences.always_images;
        let tags = tags.clone();
        // Parsing and sanitising a large message is CPU work: keep it off the async workers.
        let view = tokio::task::spawn_blocking(move || ssr::message_view(&row, &raw, zone, lang, show_images, &tags))
            .await
            .map_err(|_| AppError::Internal)?;
        message = Some(view);
    }

    // C1: an order asked for in the address is kept for the folder (only when our own page
    // asked: not a link elsewhere); without one, the order kept, else newest first. A tag's
    // list keeps none.
    let kept = match &current {
        Some(current) => store.folder_list_sort(account.id, current.id).await?.as_deref().and_then(ListSort::parse),
        None => None,
    };
    let (sort, sort_is_kept) = match (sort.as_deref().and_then(ListSort::parse), &current) {
        (Some(asked), _) if kept == Some(asked) => (asked, true),
        (Some(asked), Some(current)) if ssr::request_is_first_party() => {
            store.set_folder_list_sort(account.id, current.id, &asked.as_string()).await?;
            (asked, true)
        }
        (Some(asked), _) => (asked, listed_tag.is_some() && asked == ListSort::default()),
        (None, _) => (kept.unwrap_or_default(), true),
    };
    let now = zone.at(chrono::Utc::now().timestamp());
    let shown = ssr::ListContext { zone, now, lang, tags: &tags };
    let mut search_view = None;
    let (messages, total, page, pages, threads) = match (&current, &listed_tag) {
        _ if search.is_some() => {
            let SearchAsk { query, folder_id } = search.clone().unwrap_or_default();
            let found = ssr::search::run(&store, account.id, &query, folder_id.map(store::FolderId)).await?;
            let (items, error) = match found {
                Ok(found) => {
                    let mut items = shown.items(&found.rows);
                    for item in &mut items {
                        item.subject_marks = ssr::search::marks(&item.subject, &found.marked);
                        item.sender_marks = ssr::search::marks(&item.sender, &found.marked);
                    }
                    (items, None)
                }
                Err(key) => (Vec::new(), Some(t(lang, key).to_string())),
            };
            search_view = Some(SearchView { query, folder_id, error });
            let total = items.len() as u32;
            (items, total, 1, 1, false)
        }
        (_, Some(tag)) => {
            let page = page.unwrap_or(1).max(1);
            let window = ListWindow { sort, unread_only, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
            let (rows, total) = store.list_tagged(account.id, &tag.keyword, &window).await?;
            (shown.items(&rows), total, page, total.div_ceil(PAGE_SIZE).max(1), false)
        }
        // C11: a folder's list by conversation, when the reader chose so.
        (Some(current), None) if preferences.threads => {
            let conversations = ssr::conversations::folder_conversations(&store, account.id, current.id).await?;
            if let Some(view) = message.as_mut() {
                view.conversation = shown.conversation_of(&conversations, view.id);
            }
            let asked = ssr::conversations::Asked { sort, unread_only, page, page_size: PAGE_SIZE };
            let (items, total, page, pages) = shown.conversation_page(&store, account.id, conversations, asked).await?;
            (items, total, page, pages, true)
        }
        (Some(current), None) => {
            // The counts as they are after the message opened was marked read.
            let counts = folders.iter().find(|f| f.id == current.id).unwrap_or(current);
            let total = if unread_only { counts.n_unseen } else { counts.n_messages };
            let pages = total.div_ceil(PAGE_SIZE).max(1);
            let page = page.unwrap_or(1).clamp(1, pages);
            let window = ListWindow { sort, unread_only, offset: (page - 1) * PAGE_SIZE, limit: PAGE_SIZE };
            (shown.items(&store.list_messages(account.id, current.id, &window).await?), total, page, pages, false)
        }
        // Without a tag there is a current folder (see above).
        (None, None) => return Err(AppError::NotFound),
    };
    let usage = ssr::usage_view(store.used_bytes(account.id).await?, account.quota_bytes, lang);
    let mut view = MailboxView {
        login: account.login.clone(),
        folders: folders.iter().map(ssr::folder_view).collect(),
        current_folder_id: current.map_or(0, |current| current.id.0),
        rows: String::new(),
        row_count: messages.len() as u32,
        list: ListView { sort, sort_is_kept, unread_only, page, pages, total },
        message,
        usage,
        tags,
        listed_tag,
        compact: preferences.compact,
        threads,
        search: search_view,
        last_search: ssr::search::last_search(&store, account.id).await?,
        administers: ssr::administration::administers(&store, &account).await?,
    };
    let open = view.message.as_ref().map(|message| message.id);
    view.rows = crate::pages::mail_rows::rows_html(messages, &view.place(), &view.list.query(), open, lang);
    Ok(view)
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
    // The next person at this browser gets the defaults, not this reader's choices.
    crate::pages::preferences::set_preference_cookies(&crate::dto::PreferencesView::default())?;
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

/// What the rest of a /mail URL chose: `{folder_id}/{message_id}` (both optional), or
/// `tag/{message_id}` for a tag's list (the tag itself is in the query, `?tag=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Selection {
    tag_list: bool,
    /// `search/{message_id}`: a search's results (the query is in `?q=`).
    search_list: bool,
    folder_id: Option<i64>,
    message_id: Option<i64>,
}

/// Reads a [`Selection`]. A malformed id becomes one that matches nothing, so the page says
/// "not found" instead of showing the Inbox.
fn parse_selection(rest: &str) -> Selection {
    let mut segments = rest.split('/').filter(|segment| !segment.is_empty()).peekable();
    let tag_list = segments.next_if_eq(&"tag").is_some();
    let search_list = !tag_list && segments.next_if_eq(&"search").is_some();
    let mut ids = segments.map(|text| text.parse::<i64>().unwrap_or(-1));
    let (first, second, more) = (ids.next(), ids.next(), ids.next().is_some());
    let malformed = Selection { tag_list: false, search_list: false, folder_id: Some(-1), message_id: None };
    let across = tag_list || search_list;
    match (across, second, more) {
        (_, _, true) | (true, Some(_), _) => malformed,
        (true, None, false) => Selection { tag_list, search_list, folder_id: None, message_id: first },
        (false, _, false) => Selection { tag_list, search_list, folder_id: first, message_id: second },
    }
}

#[component]
pub fn MailPage() -> impl IntoView {
    let lang = use_lang();
    let params = use_params_map();
    let query = use_query_map();
    let selection = move || params.with(|p| parse_selection(&p.get("selection").unwrap_or_default()));
    // A tag's list names its tag in the query (a keyword may hold `/`-free but odd characters).
    let tag = move || selection().tag_list.then(|| query.with(|q| q.get("tag").unwrap_or_default()));
    let search = move || {
        selection().search_list.then(|| {
            query.with(|q| SearchAsk {
                // E3: the advanced form's fields, written in the box's language.
                query: match crate::search_form::has_fields(|name| q.get(name)) {
                    true => crate::search_form::compose(|name| q.get(name)),
                    false => q.get("q").unwrap_or_default(),
                },
                folder_id: q.get("in").and_then(|id| id.parse().ok()),
            })
        })
    };
    let show_images = move || query.with(|q| q.get("images").as_deref() == Some(SHOW_IMAGES_VALUE));
    let list = move || {
        query.with(|q| ListAsk {
            sort: q.get("sort"),
            page: q.get("page").and_then(|page| page.parse::<u32>().ok()),
            unread_only: q.get("unread").as_deref() == Some("1"),
        })
    };
    // Set by a live update for the one request it makes.
    let refreshing = RwSignal::new(false);
    let sent_once = SentOnce::default();
    let fetch_aside = sent_once.clone();
    let data = Resource::new(
        move || (selection(), tag(), show_images(), list(), search()),
        move |(selection, tag, show_images, list, search)| {
            let refresh = refreshing.try_get_untracked().unwrap_or(false);
            refreshing.try_set(false);
            let Selection { folder_id, message_id, .. } = selection;
            let aside = fetch_aside.clone();
            async move { aside.set_aside(mail_view(folder_id, tag, message_id, show_images, list, refresh, search).await) }
        },
    );
    // Live updates and shortcuts: only in the browser, once the page runs.
    Effect::new(move |_| follow_changes(data, refreshing));
    let help = RwSignal::new(false);
    Effect::new(move |_| crate::pages::list_keys::follow_shortcuts(help));
    // A drop acted: read the view again, as a live update would (the open message is not
    // marked read again).
    Effect::new(move |_| {
        crate::pages::drag_drop::follow_drags(move || {
            refreshing.try_set(true);
            data.refetch();
        })
    });
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || {
                let sent_once = sent_once.clone();
                Suspend::new(async move {
                let Selection { tag_list, search_list, folder_id, message_id } = selection();
                page_or_error(data.await, |mut mailbox| {
                    sent_once.put_back(&mut mailbox);
                    let pane = pane_for(folder_id.is_some() || tag_list || search_list, message_id.is_some());
                    let sent = query.with(|q| SentNote {
                        sent: q.get("sent").is_some(),
                        undo: q.get("undo").and_then(|id| id.parse().ok()),
                        undo_seconds: q.get("delay").and_then(|s| s.parse().ok()),
                        scheduled: q.get("scheduled").is_some(),
                    });
                    let confirm_empty = query.with(|q| q.get("confirm").as_deref() == Some("empty"));
                    // D5: deleting from Trash for good asks first, naming the chosen messages.
                    let confirm_delete: Vec<i64> = query.with(|q| {
                        (q.get("confirm").as_deref() == Some("delete"))
                            .then(|| q.get("chosen").unwrap_or_default())
                            .map(|chosen| chosen.split(',').filter_map(|id| id.parse().ok()).collect())
                            .unwrap_or_default()
                    });
                    view! { <MailLayout mailbox pane sent confirm_empty confirm_delete/> }.into_any()
                })
            })}}
        </Transition>
        <crate::pages::list_keys::ShortcutHelp open=help/>
    }
}

/// Sends the list's rows and the open message's body once (issue 16). On the server they leave
/// the resource's value, which Leptos writes into the page as hydration data, and come back
/// here for the page's markup; in the browser the hydrated page keeps the rows and the body it
/// was given (`MessageRows`, `HtmlBody`, `TextBody`), and later answers of `mail_view`
/// (navigation, live updates) carry theirs as usual.
#[derive(Clone, Default)]
struct SentOnce {
    /// The rows, and the body's `srcdoc` or text.
    #[cfg(feature = "ssr")]
    kept: std::sync::Arc<std::sync::Mutex<(String, String)>>,
}

/// The open message's body as markup or text, whichever it has.
#[cfg(feature = "ssr")]
fn body_text(view: &mut MailboxView) -> Option<&mut String> {
    match &mut view.message.as_mut()?.body {
        MessageBody::Html { srcdoc, .. } => Some(srcdoc),
        MessageBody::Text(text) => Some(text),
        MessageBody::Empty => None,
    }
}

impl SentOnce {
    fn set_aside(&self, view: Result<MailboxView, AppError>) -> Result<MailboxView, AppError> {
        #[cfg(feature = "ssr")]
        let view = view.map(|mut view| {
            let body = body_text(&mut view).map(std::mem::take).unwrap_or_default();
            *self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = (std::mem::take(&mut view.rows), body);
            view
        });
        view
    }

    fn put_back(&self, view: &mut MailboxView) {
        #[cfg(feature = "ssr")]
        {
            let (rows, body) = self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone();
            if view.rows.is_empty() {
                view.rows = rows;
            }
            if let Some(text) = body_text(view).filter(|text| text.is_empty()) {
                *text = body;
            }
        }
        #[cfg(not(feature = "ssr"))]
        let _ = view;
    }
}

/// Asks for the page's view again when the account's mail changes somewhere else (a delivery,
/// an IMAP client, another tab): a change to a folder newer than the state shown. Bursts (a
/// hundred messages marked read) make one request; while messages are ticked in the list, it
/// waits, so the ticks are not lost.
#[cfg(feature = "hydrate")]
fn follow_changes(data: Resource<Result<MailboxView, AppError>>, refreshing: RwSignal<bool>) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    use std::cell::Cell;
    use std::rc::Rc;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let Ok(source) = web_sys::EventSource::new(EVENTS_PATH) else { return };
    // Set once the page is gone: a timer still pending then must not touch its data.
    let alive = Arc::new(AtomicBool::new(true));
    type Data = Resource<Result<MailboxView, AppError>>;
    // `pending` stays set until the request is made: events meanwhile add no second timer.
    fn refresh(data: Data, refreshing: RwSignal<bool>, pending: Rc<Cell<bool>>, alive: Arc<AtomicBool>) {
        if !alive.load(Ordering::Relaxed) {
            return;
        }
        if document().query_selector(".row-check:checked").ok().flatten().is_some() {
            set_timeout(move || refresh(data, refreshing, pending, alive), Duration::from_secs(2));
        } else {
            pending.set(false);
            refreshing.try_set(true);
            data.refetch();
        }
    }
    let pending = Rc::new(Cell::new(false));
    let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new({
        let alive = Arc::clone(&alive);
        move |event: web_sys::MessageEvent| {
            let text = event.data().as_string().unwrap_or_default();
            let mut numbers = text.split(' ').map(|n| n.parse::<i64>().unwrap_or(0));
            let (folder, modseq) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
            let shown = data.with_untracked(|view| {
                view.as_ref()
                    .and_then(|view| view.as_ref().ok())
                    .and_then(|view| view.folders.iter().find(|f| f.id == folder).map(|f| f.modseq))
            });
            if shown.is_some_and(|shown| modseq <= shown as i64) || pending.replace(true) {
                return;
            }
            let (pending, alive) = (Rc::clone(&pending), Arc::clone(&alive));
            set_timeout(move || refresh(data, refreshing, pending, alive), Duration::from_millis(200));
        }
    });
    let _ = source.add_event_listener_with_callback("change", on_change.as_ref().unchecked_ref());
    // The listener lives as long as the source, which closes with the page.
    on_change.forget();
    let source = StoredValue::new_local(source);
    on_cleanup(move || {
        alive.store(false, Ordering::Relaxed);
        source.try_with_value(|source| source.close());
    });
}

#[cfg(not(feature = "hydrate"))]
fn follow_changes(_data: Resource<Result<MailboxView, AppError>>, _refreshing: RwSignal<bool>) {}

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
            AppError::Forbidden => axum::http::StatusCode::FORBIDDEN,
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
fn MailLayout(
    mailbox: MailboxView,
    pane: &'static str,
    sent: SentNote,
    confirm_empty: bool,
    confirm_delete: Vec<i64>,
) -> impl IntoView {
    let lang = use_lang();
    let place = mailbox.place();
    let MailboxView {
        login,
        folders,
        current_folder_id,
        rows,
        row_count,
        list,
        message,
        usage,
        tags,
        listed_tag,
        compact,
        threads,
        search,
        last_search,
        administers,
    } = mailbox;
    let current = folders.iter().find(|f| f.id == current_folder_id);
    let role = current.and_then(|f| f.role);
    // D5: emptying Trash takes what the page showed, not what was moved there since.
    let shown_below = current.map_or(0, |f| f.uidnext);
    let list_title = match (&listed_tag, &search) {
        (_, Some(search)) => format!("{} {}", t(lang, Key::SearchTitle), search.query),
        (Some(tag), None) => format!("{} {}", t(lang, Key::TagTitle), tag.name),
        (None, None) => current.map(|f| f.label(lang)).unwrap_or_default(),
    };
    let search_folder = current.map(|folder| (folder.id, folder.label(lang)));
    // The advanced search's choices (E3): folders by path, indented as in the tree; tags by name.
    let search_folders: Vec<(String, String)> = folders
        .iter()
        .map(|folder| {
            (folder.path.clone(), format!("{}{}", "\u{a0}\u{a0}".repeat(folder.depth as usize), folder.label(lang)))
        })
        .collect();
    let search_tags: Vec<String> = tags.iter().map(|tag| tag.name.clone()).collect();
    // The folder the open message is in: the list's, or any for a tag's list.
    let message_role = message.as_ref().and_then(|m| folders.iter().find(|f| f.id == m.folder_id)).and_then(|f| f.role);
    let move_targets = move_targets(&folders, current_folder_id, lang);
    let list_query = list.query();
    view! {
        <div class="app">
            <AppHeader login administers/>
            <SentBanner sent/>
            <SearchBar search last_search folder=search_folder folders=search_folders tags=search_tags/>
            <div class="mail" class:compact=compact data-pane=pane>
                <FolderTree folders current_folder_id usage tags=tags.clone() listed_tag=listed_tag.map(|tag| tag.keyword)/>
                <main class="mail-main">
                    <MessageList
                        title=list_title
                        place=place.clone()
                        role
                        rows
                        row_count
                        list
                        move_targets=move_targets.clone()
                        confirm_empty
                        confirm_delete
                        tags=tags.clone()
                        threads
                        shown_below
                    />
                    <ReadingPane message place role=message_role list_query move_targets tags/>
                </main>
            </div>
        </div>
    }
}

/// The search box (E1, E2): a plain GET form, so it works before the WASM runs; the query's
/// language in its help, where to search (the folder shown, or all), the last search again,
/// and what went wrong. Below it, advanced search (E3): another GET form whose fields the page
/// writes as a query in the same language (`search_form`), shown in the box with the results.
#[component]
fn SearchBar(
    search: Option<SearchView>,
    last_search: Option<String>,
    folder: Option<(i64, String)>,
    /// (path, label) of every folder, in the tree's order.
    folders: Vec<(String, String)>,
    /// Tags' names.
    tags: Vec<String>,
) -> impl IntoView {
    let lang = use_lang();
    let typed = search.as_ref().map(|search| search.query.clone()).unwrap_or_default();
    let within = search.as_ref().and_then(|search| search.folder_id);
    let error = search.as_ref().and_then(|search| search.error.clone());
    let last = last_search.filter(|last| search.is_none() && !last.is_empty()).map(|last| {
        let href = ListPlace::Search(last.clone(), None).path(None, "");
        view! {
            <a class="last-search" href=href title=last.clone()>
                {t(lang, Key::LastSearch)}
            </a>
        }
    });
    let text_field = |name: &'static str, key: Key, kind: &'static str| {
        view! {
            <label>
                <span>{t(lang, key)}</span>
                <input type=kind name=name maxlength="200"/>
            </label>
        }
    };
    let size_field = |name: &'static str, key: Key| {
        view! {
            <label>
                <span>{t(lang, key)}</span>
                <input type="number" name=name min="0" step="1" inputmode="numeric"/>
            </label>
        }
    };
    view! {
        <div class="search-area">
            <form class="search-bar" role="search" method="get" action="/mail/search">
                <input
                    type="search"
                    name="q"
                    value=typed
                    aria-label=t(lang, Key::SearchLabel)
                    placeholder=t(lang, Key::SearchLabel)
                    title=t(lang, Key::SearchHelp)
                    maxlength="500"
                />
                {folder
                    .map(|(id, label)| {
                        view! {
                            <select name="in" aria-label=t(lang, Key::SearchScope)>
                                <option value="">{t(lang, Key::SearchAllFolders)}</option>
                                <option value=id.to_string() selected=within == Some(id)>
                                    {format!("{} ({label})", t(lang, Key::SearchThisFolder))}
                                </option>
                            </select>
                        }
                    })}
                <button type="submit" class="button">{t(lang, Key::Search)}</button>
                {last}
                {error.map(|error| view! { <p class="form-error" role="alert">{error}</p> })}
            </form>
            <details class="advanced-search">
                <summary>{t(lang, Key::AdvSearch)}</summary>
                <form method="get" action="/mail/search" aria-label=t(lang, Key::AdvSearch)>
                    {text_field("q", Key::AdvWords, "text")}
                    {text_field("from", Key::AdvFrom, "text")}
                    {text_field("to", Key::AdvTo, "text")}
                    {text_field("subject", Key::AdvSubject, "text")}
                    {text_field("body", Key::AdvBody, "text")}
                    {text_field("after", Key::AdvAfter, "date")}
                    {text_field("until", Key::AdvUntil, "date")}
                    <label>
                        <span>{t(lang, Key::AdvFolder)}</span>
                        <select name="folder">
                            <option value="">{t(lang, Key::AdvAnyFolder)}</option>
                            {folders
                                .into_iter()
                                .map(|(path, label)| view! { <option value=path>{label}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <label>
                        <span>{t(lang, Key::AdvTag)}</span>
                        <select name="tag">
                            <option value="">{t(lang, Key::AdvAnyTag)}</option>
                            {tags
                                .into_iter()
                                .map(|name| {
                                    let label = name.clone();
                                    view! { <option value=name>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    {size_field("larger", Key::AdvLarger)}
                    {size_field("smaller", Key::AdvSmaller)}
                    <label class="check">
                        <input type="checkbox" name="attachment" value="1"/>
                        <span>{t(lang, Key::AdvAttachment)}</span>
                    </label>
                    <button type="submit" class="button">{t(lang, Key::Search)}</button>
                </form>
            </details>
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
pub(crate) fn AppHeader(
    login: String,
    /// Offers the administration (issue 18); only the mail page knows, the others leave it out.
    #[prop(optional)]
    administers: bool,
) -> impl IntoView {
    let lang = use_lang();
    let logout = ServerAction::<Logout>::new();
    #[cfg(feature = "hydrate")]
    close_account_menu_from_outside();
    view! {
        <header class="app-header">
            <a class="brand" href="/mail">
                <Logo/>
                <span>{t(lang, Key::AppName)}</span>
            </a>
            <div class="account">
                // A full load: the composer rewrites its own address as it saves (autosave), which
                // the router does not see, so a routed link from the composer would not reset it.
                <a class="button primary" href=crate::pages::compose::COMPOSE_PATH rel="external">
                    {t(lang, Key::NewMessage)}
                </a>
                // The account's pages in a menu under its address: one line on a phone as on a
                // desktop, and a `<details>` opens without the WASM.
                <details class="account-menu">
                    <summary class="button subtle" title=login.clone()>
                        <span class="visually-hidden">{t(lang, Key::SignedInAs)}" "</span>
                        <span class="account-address">{login.clone()}</span>
                    </summary>
                    <nav class="account-menu-items" aria-label=t(lang, Key::AccountMenu)>
                        // In full, where the button had to cut it (a phone).
                        <p class="account-menu-login">{login}</p>
                        <a href=crate::pages::scheduled::SCHEDULED_PATH>{t(lang, Key::Scheduled)}</a>
                        <a href=crate::pages::signatures::SIGNATURES_PATH>{t(lang, Key::Signatures)}</a>
                        <a href=crate::pages::settings::APP_PASSWORDS_PATH>{t(lang, Key::AppPasswords)}</a>
                        <a href=crate::pages::preferences::PREFERENCES_PATH>{t(lang, Key::Preferences)}</a>
                        {administers
                            .then(|| {
                                view! {
                                    <a href=crate::pages::admin::ADMIN_PATH>{t(lang, Key::Administration)}</a>
                                }
                            })}
                        <ActionForm action=logout>
                            <button type="submit">{t(lang, Key::Logout)}</button>
                        </ActionForm>
                    </nav>
                </details>
            </div>
        </header>
    }
}

/// Closes the account menu on a click outside it, and on Escape (giving the focus back to its
/// button), as a menu does; a `<details>` alone stays open.
#[cfg(feature = "hydrate")]
fn close_account_menu_from_outside() {
    use leptos::wasm_bindgen::JsCast;

    fn open_menu() -> Option<web_sys::Element> {
        document().query_selector("details.account-menu[open]").ok().flatten()
    }
    let on_click = window_event_listener(leptos::ev::click, |event| {
        let target = event.target().and_then(|t| t.dyn_into::<web_sys::Node>().ok());
        if let Some(menu) = open_menu().filter(|menu| !menu.contains(target.as_ref())) {
            let _ = menu.remove_attribute("open");
        }
    });
    let on_key = window_event_listener(leptos::ev::keydown, |event| {
        if event.key() != "Escape" {
            return;
        }
        if let Some(menu) = open_menu() {
            let _ = menu.remove_attribute("open");
            if let Some(summary) = menu.query_selector("summary").ok().flatten() {
                let _ = summary.unchecked_into::<web_sys::HtmlElement>().focus();
            }
        }
    });
    on_cleanup(move || {
        on_click.remove();
        on_key.remove();
    });
}

#[component]
fn FolderTree(
    folders: Vec<FolderView>,
    current_folder_id: i64,
    usage: UsageView,
    tags: Vec<Tag>,
    listed_tag: Option<String>,
) -> impl IntoView {
    let lang = use_lang();
    // D3: a parent shows bold when one of its subfolders has unread mail.
    let unread_below = |parent: &FolderView| {
        let prefix = format!("{}/", parent.path);
        folders.iter().any(|folder| folder.n_unseen > 0 && folder.path.starts_with(&prefix))
    };
    let below: Vec<bool> = folders.iter().map(unread_below).collect();
    let items = folders
        .into_iter()
        .zip(below)
        .map(|(folder, unread_below)| {
            let current = folder.id == current_folder_id;
            let label = folder.label(lang);
            let unseen = folder.n_unseen;
            let has_unread = unseen > 0;
            // The total, on demand (D3): shown on hover.
            let total = format!("{} {}", folder.n_messages, t(lang, Key::MessagesCount));
            let indent = format!("--depth: {}", folder.depth);
            let role_class = folder.role.map_or("user", SpecialUse::as_db);
            // D3: a user folder can be dragged onto another (`drag_drop`); system folders stay.
            let draggable = folder.role.is_none().then_some("true");
            view! {
                <li style=indent>
                    <a
                        href=format!("/mail/{}", folder.id)
                        class="folder"
                        data-folder=folder.id.to_string()
                        data-path=folder.path.clone()
                        draggable=draggable
                        class:current=current
                        class:has-unread=has_unread || unread_below
                        data-role=role_class
                        aria-current=current.then_some("page")
                        title=total
                    >
                        <span class="folder-name">
                            {label}
                            {(unread_below && !has_unread)
                                .then(|| view! { <span class="visually-hidden">", "{t(lang, Key::UnreadBelow)}</span> })}
                        </span>
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
            // A folder dropped on the title goes to the top level.
            <h2 class="pane-title folders-top" data-path="">{t(lang, Key::Folders)}</h2>
            <ul class="folder-list">{items}</ul>
            <p class="folder-manage">
                <a href=crate::pages::folders::FOLDERS_PATH>{t(lang, Key::ManageFolders)}</a>
                " · "
                <a href=crate::pages::import::IMPORT_PATH>{t(lang, Key::ImportMenu)}</a>
            </p>
            <TagList tags listed_tag/>
            <QuotaGauge usage/>
        </nav>
    }
}

/// D6: the account's tags under the folders, each a link to its messages, and draggable onto
/// messages of the list (`drag_drop`).
#[component]
fn TagList(tags: Vec<Tag>, listed_tag: Option<String>) -> impl IntoView {
    let lang = use_lang();
    let items = tags
        .into_iter()
        .map(|tag| {
            let current = listed_tag.as_deref() == Some(tag.keyword.as_str());
            let href = ListPlace::Tag(tag.keyword.clone()).path(None, "");
            view! {
                <li>
                    <a
                        href=href
                        class="tag-link"
                        class:current=current
                        aria-current=current.then_some("page")
                        draggable="true"
                        data-tag=tag.keyword.clone()
                    >
                        <span class=format!("tag-dot tag-{}", tag.colour.as_str()) aria-hidden="true"></span>
                        {tag.name.clone()}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <h2 class="pane-title tags-title">{t(lang, Key::Tags)}</h2>
        <ul class="tag-list">{items}</ul>
        <p class="folder-manage">
            <a href=crate::pages::tags::TAGS_PATH>{t(lang, Key::ManageTags)}</a>
        </p>
    }
}

/// D6: a tag as a coloured chip.
#[component]
pub(crate) fn TagChip(tag: Tag) -> impl IntoView {
    view! { <span class=format!("tag-chip tag-{}", tag.colour.as_str())>{tag.name}</span> }
}

/// D6: the menu of tags to add or remove (the list's toolbar and the reading pane).
#[component]
fn TagMenu(tags: Vec<Tag>) -> impl IntoView {
    let lang = use_lang();
    let options = tags.into_iter().map(|tag| view! { <option value=tag.keyword>{tag.name}</option> }).collect_view();
    view! {
        <select name="tag" aria-label=t(lang, Key::TagMenu)>
            <option value="">{t(lang, Key::TagMenu)}"…"</option>
            {options}
        </select>
    }
}

/// The folders a message can be moved to from `current`, indented by depth, in the reader's
/// language (D4).
fn move_targets(folders: &[FolderView], current: i64, lang: Lang) -> Vec<(i64, String)> {
    folders
        .iter()
        .filter(|folder| folder.id != current)
        .map(|folder| (folder.id, folder.indented_label(lang)))
        .collect()
}

/// D4: the menu of folders to move to, starting on an empty choice (the list's toolbar and the
/// reading pane).
#[component]
fn MoveMenu(move_targets: Vec<(i64, String)>) -> impl IntoView {
    let lang = use_lang();
    let options = move_targets
        .into_iter()
        .map(|(id, label)| view! { <option value=id.to_string()>{label}</option> })
        .collect_view();
    view! {
        <select name="to" aria-label=t(lang, Key::MoveTo)>
            <option value="">{t(lang, Key::MoveTo)}"…"</option>
            {options}
        </select>
    }
}

/// A10: the mailbox's space, under the folder tree.
#[component]
fn QuotaGauge(usage: UsageView) -> impl IntoView {
    let lang = use_lang();
    let UsageView { used, quota, percent } = usage;
    let text = match &quota {
        Some(quota) => format!("{used} {} {quota}", t(lang, Key::OfTotal)),
        None => format!("{used} {}", t(lang, Key::SpaceUsed)),
    };
    view! {
        <div class="quota" class:nearly-full=percent.is_some_and(|p| p >= 90)>
            {percent
                .map(|percent| {
                    view! {
                        <meter
                            min="0"
                            max="100"
                            low="80"
                            high="90"
                            optimum="0"
                            value=percent.to_string()
                            aria-labelledby="quota-text"
                        ></meter>
                    }
                })}
            <span id="quota-text">
                <span class="visually-hidden">{t(lang, Key::MailboxSpace)}": "</span>
                {text}
            </span>
        </div>
    }
}

#[component]
fn MessageList(
    title: String,
    place: ListPlace,
    role: Option<SpecialUse>,
    /// The rows' markup (`pages::mail_rows`), empty while hydrating.
    rows: String,
    row_count: u32,
    list: ListView,
    move_targets: Vec<(i64, String)>,
    confirm_empty: bool,
    /// The messages chosen to be deleted for good, when the page asks first.
    confirm_delete: Vec<i64>,
    tags: Vec<Tag>,
    threads: bool,
    shown_below: u32,
) -> impl IntoView {
    let lang = use_lang();
    let empty = row_count == 0;
    let in_trash = role == Some(SpecialUse::Trash);
    let list_url = place.path(None, &list.query());
    // A folder's list names it (for emptying Trash); a tag's holds messages of every folder.
    let folder_id = match place {
        ListPlace::Folder(id) => Some(id),
        ListPlace::Tag(_) | ListPlace::Search(..) => None,
    };
    let empty_note = match (&place, list.unread_only) {
        (ListPlace::Search(..), _) => Key::NoResults,
        (_, true) => Key::NoUnread,
        (_, false) => Key::EmptyFolder,
    };
    view! {
        <section class="pane list-pane" aria-labelledby="list-title">
            <div class="pane-head">
                <a class="back" href="/mail">"‹ "{t(lang, Key::BackToFolders)}</a>
                <h2 class="pane-title" id="list-title">{title}</h2>
            </div>
            <ListControls place=place.clone() list/>
            {folder_id
                .filter(|_| confirm_empty && in_trash)
                .map(|folder_id| view! { <EmptyTrashConfirm folder_id shown_below back=list_url.clone()/> })}
            {(!confirm_delete.is_empty())
                .then(|| {
                    view! { <DeleteForGoodConfirm folder_id ids=confirm_delete threads back=list_url.clone()/> }
                })}
            // One form around the rows: each row's checkbox names its message (`id=`), the
            // toolbar's buttons say what to do with them.
            <form class="list-form" method="post" action=ACTIONS_PATH>
                {folder_id.map(|id| view! { <input type="hidden" name="folder" value=id.to_string()/> })}
                // C11: a ticked conversation is acted on whole.
                {threads.then(|| view! { <input type="hidden" name="whole_threads" value="1"/> })}
                <input type="hidden" name="back" value=list_url.clone()/>
                {(!empty).then(|| view! { <ListToolbar move_targets in_trash tags/> })}
                {empty.then(|| view! { <p class="empty">{t(lang, empty_note)}</p> })}
                <MessageRows rows count=row_count/>
            </form>
            <Pager place list/>
        </section>
    }
}

/// The list's `count` rows, written on the server (`pages::mail_rows`). While hydrating the
/// markup is set aside (empty for a list that is not) and the page keeps the rows it came
/// with; a later answer's rows replace them, an empty list included, keeping the ticks and the
/// focus a reader gave them (by message).
#[component]
fn MessageRows(rows: String, count: u32) -> impl IntoView {
    let list = NodeRef::<leptos::html::Ul>::new();
    #[cfg(feature = "hydrate")]
    {
        let rows = rows.clone();
        let set_aside = rows.is_empty() && count > 0;
        Effect::new(move |_| {
            if let Some(list) = list.get()
                && !set_aside
            {
                crate::pages::list_keys::replace_rows(&list, &rows);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = count;
    // In the browser the markup is only ever set by the effect above.
    let markup = if cfg!(feature = "ssr") { rows } else { String::new() };
    view! { <ul class="message-list" node_ref=list inner_html=markup></ul> }
}

/// A message's sanitised HTML in its sandboxed frame (C4). While hydrating `srcdoc` is empty
/// and the frame keeps the document the server wrote (`SentOnce`); a later answer's is set only
/// when it differs, so a live update does not reload the message being read. (A document is
/// never empty: `render` always writes a whole one, so empty means set aside.)
#[component]
fn HtmlBody(srcdoc: String, title: &'static str) -> impl IntoView {
    let frame = NodeRef::<leptos::html::Iframe>::new();
    #[cfg(feature = "hydrate")]
    {
        let srcdoc = srcdoc.clone();
        Effect::new(move |_| {
            if let Some(frame) = frame.get()
                && !srcdoc.is_empty()
                && frame.get_attribute("srcdoc").as_deref() != Some(srcdoc.as_str())
            {
                let _ = frame.set_attribute("srcdoc", &srcdoc);
            }
        });
    }
    // In the browser the document is only ever set by the effect above: the frame is built
    // without one, rather than loading an empty document first.
    let markup = cfg!(feature = "ssr").then_some(srcdoc);
    view! {
        <iframe
            class="html-body"
            title=title
            sandbox="allow-popups allow-popups-to-escape-sandbox"
            referrerpolicy="no-referrer"
            node_ref=frame
            srcdoc=markup
        ></iframe>
    }
}

/// A plain text body, sent once as `HtmlBody` is: written (escaped) on the server, set as
/// text in the browser when a later answer brings another. (`render` gives an empty text
/// body as `MessageBody::Empty`, so empty means set aside.)
#[component]
fn TextBody(text: String) -> impl IntoView {
    let body = NodeRef::<leptos::html::Div>::new();
    #[cfg(feature = "hydrate")]
    {
        let text = text.clone();
        Effect::new(move |_| {
            if let Some(body) = body.get()
                && !text.is_empty()
                && body.text_content().as_deref() != Some(text.as_str())
            {
                body.set_text_content(Some(&text));
            }
        });
    }
    // Escaped as any text of a view is; in the browser only the effect above writes it.
    let markup = if cfg!(feature = "ssr") { view! { {text} }.to_html() } else { String::new() };
    view! { <div class="text-body" node_ref=body inner_html=markup></div> }
}

/// C1: the orders the list offers, and the unread-only filter (C2). Plain links: they work
/// before the WASM, and the router follows them without reloading the page after.
#[component]
fn ListControls(place: ListPlace, list: ListView) -> impl IntoView {
    let lang = use_lang();
    let links = SortKey::ALL
        .into_iter()
        .map(|key| {
            let current = list.sort.key == key;
            let href = place.path(None, &ListView::query_for(Some(list.sort.clicked(key)), list.unread_only, 1));
            let label = t(
                lang,
                match key {
                    SortKey::Date => Key::Date,
                    SortKey::Subject => Key::Subject,
                    SortKey::Sender => Key::SortSender,
                    SortKey::Size => Key::SortSize,
                },
            );
            let direction = current.then(|| {
                let (arrow, words) =
                    if list.sort.descending { ("↓", Key::Descending) } else { ("↑", Key::Ascending) };
                view! {
                    <span aria-hidden="true">" "{arrow}</span>
                    <span class="visually-hidden">", "{t(lang, words)}</span>
                }
            });
            view! {
                <a class="sort-link" class:current=current href=href aria-current=current.then_some("true")>
                    {label}
                    {direction}
                </a>
            }
        })
        .collect_view();
    let toggled = ListView { unread_only: !list.unread_only, ..list };
    let unread_href = place.path(None, &toggled.page_query(1));
    view! {
        <div class="list-controls">
            <nav class="sort-links" aria-label=t(lang, Key::SortBy)>
                <span class="sort-label" aria-hidden="true">{t(lang, Key::SortBy)}</span>
                {links}
            </nav>
            <a
                class="filter-toggle"
                class:current=list.unread_only
                href=unread_href
                aria-current=list.unread_only.then_some("true")
            >
                {t(lang, Key::UnreadOnly)}
            </a>
        </div>
    }
}

/// What can be done with the messages ticked in the list (C6, D4, D5).
#[component]
fn ListToolbar(move_targets: Vec<(i64, String)>, in_trash: bool, tags: Vec<Tag>) -> impl IntoView {
    let lang = use_lang();
    let button = move |action: &'static str, key: Key| {
        view! {
            <button type="submit" name="action" value=action class="button subtle">
                {t(lang, key)}
            </button>
        }
    };
    view! {
        <div class="list-toolbar" role="toolbar" aria-label=t(lang, Key::ChosenMessages)>
            // Ticks the whole page; it needs the page to run (see `list_keys`).
            <label class="select-all needs-script">
                <input type="checkbox" id="select-all"/>
                " "
                {t(lang, Key::SelectAll)}
            </label>
            {button("read", Key::MarkRead)}
            {button("unread", Key::MarkUnread)}
            {button("flag", Key::FlagAction)}
            {button("unflag", Key::UnflagAction)}
            <span class="move-to">
                <MoveMenu move_targets/>
                {button("move", Key::MoveAction)}
            </span>
            {(!tags.is_empty())
                .then(|| {
                    view! {
                        <span class="move-to">
                            <TagMenu tags/>
                            {button("tag", Key::AddTag)}
                            {button("untag", Key::RemoveTag)}
                        </span>
                    }
                })}
            <button type="submit" name="action" value="delete" class="button subtle danger">
                {t(lang, if in_trash { Key::DeleteForGood } else { Key::DeleteAction })}
            </button>
            {in_trash
                .then(|| {
                    view! {
                        <button type="submit" name="action" value="empty" class="button subtle danger">
                            {t(lang, Key::EmptyTrash)}
                        </button>
                    }
                })}
        </div>
    }
}

/// D5: emptying Trash is asked once more, on the page itself (it works without JavaScript).
#[component]
fn EmptyTrashConfirm(folder_id: i64, shown_below: u32, back: String) -> impl IntoView {
    let lang = use_lang();
    view! {
        <form class="banner confirm-banner" role="alertdialog" aria-labelledby="empty-trash-ask" method="post" action=ACTIONS_PATH>
            <span id="empty-trash-ask">{t(lang, Key::EmptyTrashAsk)}</span>
            <input type="hidden" name="folder" value=folder_id.to_string()/>
            <input type="hidden" name="back" value=back.clone()/>
            <input type="hidden" name="confirm" value="yes"/>
            <input type="hidden" name="below" value=shown_below.to_string()/>
            <button type="submit" name="action" value="empty" class="button danger">{t(lang, Key::EmptyTrash)}</button>
            " "
            <a class="button subtle" href=back>{t(lang, Key::Cancel)}</a>
        </form>
    }
}

/// D5: deleting messages from Trash for good is asked once more, on the page itself (it works
/// without JavaScript): the same action, confirmed, for the same messages.
#[component]
fn DeleteForGoodConfirm(folder_id: Option<i64>, ids: Vec<i64>, threads: bool, back: String) -> impl IntoView {
    let lang = use_lang();
    view! {
        <form class="banner confirm-banner" role="alertdialog" aria-labelledby="delete-ask" method="post" action=ACTIONS_PATH>
            <span id="delete-ask">{t(lang, Key::DeleteForGoodAsk)}</span>
            {folder_id.map(|id| view! { <input type="hidden" name="folder" value=id.to_string()/> })}
            {ids.into_iter().map(|id| view! { <input type="hidden" name="id" value=id.to_string()/> }).collect_view()}
            {threads.then(|| view! { <input type="hidden" name="whole_threads" value="1"/> })}
            <input type="hidden" name="back" value=back.clone()/>
            <input type="hidden" name="confirm" value="yes"/>
            <button type="submit" name="action" value="delete" class="button danger">{t(lang, Key::DeleteForGood)}</button>
            " "
            <a class="button subtle" href=back>{t(lang, Key::Cancel)}</a>
        </form>
    }
}

/// C2: where this page stands among the list's pages, and the way to the others.
#[component]
fn Pager(place: ListPlace, list: ListView) -> impl IntoView {
    let lang = use_lang();
    let first = (list.page - 1) * PAGE_SIZE + 1;
    let last = (list.page * PAGE_SIZE).min(list.total);
    let link = move |page: u32| place.path(None, &list.page_query(page));
    (list.total > 0).then(|| {
        view! {
            <nav class="pager" aria-label=t(lang, Key::Pages)>
                <span class="range">{format!("{first}–{last} ")}{t(lang, Key::OfTotal)}{format!(" {}", list.total)}</span>
                {(list.page > 1)
                    .then(|| {
                        view! {
                            <a class="button subtle" href=link(list.page - 1) rel="prev">
                                "‹ "{t(lang, Key::PreviousPage)}
                            </a>
                        }
                    })}
                {(list.page < list.pages)
                    .then(|| {
                        view! {
                            <a class="button subtle" href=link(list.page + 1) rel="next">
                                {t(lang, Key::NextPage)}" ›"
                            </a>
                        }
                    })}
            </nav>
        }
    })
}

#[component]
pub(crate) fn Paperclip(label: &'static str) -> impl IntoView {
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
fn ReadingPane(
    message: Option<MessageView>,
    place: ListPlace,
    role: Option<SpecialUse>,
    list_query: String,
    move_targets: Vec<(i64, String)>,
    tags: Vec<Tag>,
) -> impl IntoView {
    let lang = use_lang();
    let content = match message {
        None => view! { <p class="empty reader-empty">{t(lang, Key::NoMessageSelected)}</p> }.into_any(),
        Some(message) => view! { <MessageDisplay message place role list_query move_targets tags/> }.into_any(),
    };
    view! {
        <article class="pane reader-pane" aria-label=t(lang, Key::MessageBody)>
            {content}
        </article>
    }
}

/// What can be done with the message shown: answer or forward it, continue it when it is a
/// draft, start a new message from it when it is a template (plain links to the composer); mark
/// it unread, flag, move or delete it (forms, like the list's). All work before the page is
/// hydrated.
#[component]
fn MessageActions(
    id: i64,
    role: Option<SpecialUse>,
    folder_id: i64,
    flagged: bool,
    list_url: String,
    message_url: String,
    move_targets: Vec<(i64, String)>,
) -> impl IntoView {
    let lang = use_lang();
    // After flagging, the message stays open; after the others, back to the list (reading it
    // again would mark it read again).
    let hidden = move |back: String| message_fields(folder_id, id, back);
    let in_trash = role == Some(SpecialUse::Trash);
    let tools = view! {
        <form class="inline-form message-tools" method="post" action=ACTIONS_PATH>
            {hidden(message_url)}
            <button
                type="submit"
                name="action"
                value=if flagged { "unflag" } else { "flag" }
                class="button subtle"
                aria-pressed=if flagged { "true" } else { "false" }
            >
                <span aria-hidden="true">"⚑ "</span>
                {t(lang, Key::FlagAction)}
            </button>
        </form>
        <form class="inline-form message-tools" method="post" action=ACTIONS_PATH>
            {hidden(list_url)}
            <button type="submit" name="action" value="unread" class="button subtle">{t(lang, Key::MarkUnread)}</button>
            <MoveMenu move_targets/>
            <button type="submit" name="action" value="move" class="button subtle">{t(lang, Key::MoveAction)}</button>
            <button type="submit" name="action" value="delete" class="button subtle danger">
                {t(lang, if in_trash { Key::DeleteForGood } else { Key::DeleteAction })}
            </button>
        </form>
    };
    let print = view! {
        <a class="button subtle" href=format!("{PRINT_PATH}/{id}") target="_blank" rel="noopener external">
            {t(lang, Key::Print)}
        </a>
    };
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
    view! { <nav class="message-actions" aria-label=t(lang, Key::MessageActions)>{actions}{tools}{print}</nav> }
}

/// The fields every reading-pane form posts to the actions: the message, its folder, and
/// where to go afterwards.
fn message_fields(folder_id: i64, id: i64, back: String) -> impl IntoView {
    view! {
        <input type="hidden" name="folder" value=folder_id.to_string()/>
        <input type="hidden" name="id" value=id.to_string()/>
        <input type="hidden" name="back" value=back/>
    }
}

/// D6: the open message's tags, each with a button taking it off, and the menu to add one.
#[component]
fn MessageTags(id: i64, folder_id: i64, message_tags: Vec<Tag>, tags: Vec<Tag>, back: String) -> impl IntoView {
    let lang = use_lang();
    let hidden = move |back: String| message_fields(folder_id, id, back);
    let addable: Vec<Tag> = tags.into_iter().filter(|tag| !message_tags.contains(tag)).collect();
    let chips = message_tags
        .into_iter()
        .map(|tag| {
            let remove = format!("{} {}", t(lang, Key::RemoveTag), tag.name);
            let keyword = tag.keyword.clone();
            view! {
                <li class="message-tag">
                    <TagChip tag/>
                    <form class="inline-form" method="post" action=ACTIONS_PATH>
                        {hidden(back.clone())}
                        <input type="hidden" name="tag" value=keyword/>
                        <button type="submit" name="action" value="untag" class="chip-remove" title=remove.clone() aria-label=remove>
                            "×"
                        </button>
                    </form>
                </li>
            }
        })
        .collect_view();
    let add = (!addable.is_empty()).then(|| {
        view! {
            <form class="inline-form" method="post" action=ACTIONS_PATH>
                {hidden(back.clone())}
                <TagMenu tags=addable/>
                <button type="submit" name="action" value="tag" class="button subtle">{t(lang, Key::AddTag)}</button>
            </form>
        }
    });
    view! {
        <div class="message-tags" role="group" aria-label=t(lang, Key::Tags)>
            <ul class="tag-chips">{chips}</ul>
            {add}
        </div>
    }
}

/// C11: the open message's conversation, oldest first (the newest at the bottom), each a link
/// to open it.
#[component]
fn ConversationList(conversation: Vec<ConversationEntry>, place: ListPlace, list_query: String) -> impl IntoView {
    let lang = use_lang();
    (!conversation.is_empty()).then(|| {
        let items = conversation
            .into_iter()
            .map(|entry| {
                let href = place.path(Some(entry.id), &list_query);
                view! {
                    <li class:unread=entry.unread class:current=entry.current>
                        <a href=href aria-current=entry.current.then_some("page")>
                            <span class="sender">{entry.sender}</span>
                            <time title=entry.full_date>{entry.short_date}</time>
                        </a>
                    </li>
                }
            })
            .collect_view();
        view! {
            <nav class="conversation" aria-label=t(lang, Key::Conversation)>
                <h3>{t(lang, Key::Conversation)}</h3>
                <ol>{items}</ol>
            </nav>
        }
    })
}

/// D7: the reader's private note on the open message: shown when there is one, written or
/// changed in a folded form, removed by saving it empty or with its own button.
#[component]
fn MessageComment(id: i64, folder_id: i64, comment: Option<String>, back: String) -> impl IntoView {
    let lang = use_lang();
    let has_comment = comment.is_some();
    let text = comment.clone().unwrap_or_default();
    view! {
        {comment.map(|comment| {
            view! {
                <div class="message-comment" role="note" aria-label=t(lang, Key::Comment)>
                    <span aria-hidden="true">"✎ "</span>
                    {comment}
                </div>
            }
        })}
        <details class="comment-tool">
            <summary>{t(lang, if has_comment { Key::EditComment } else { Key::AddComment })}</summary>
            <form method="post" action=ACTIONS_PATH>
                {message_fields(folder_id, id, back)}
                <label class="visually-hidden" for="comment-text">{t(lang, Key::Comment)}</label>
                <textarea id="comment-text" name="comment" rows="3" maxlength="4000">{text}</textarea>
                <button type="submit" name="action" value="comment" class="button">{t(lang, Key::Save)}</button>
                {has_comment
                    .then(|| {
                        view! {
                            " "
                            <button type="submit" name="action" value="uncomment" class="button subtle danger">
                                {t(lang, Key::RemoveComment)}
                            </button>
                        }
                    })}
            </form>
        </details>
    }
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
fn MessageDisplay(
    message: MessageView,
    place: ListPlace,
    role: Option<SpecialUse>,
    list_query: String,
    move_targets: Vec<(i64, String)>,
    tags: Vec<Tag>,
) -> impl IntoView {
    let lang = use_lang();
    let MessageView {
        id,
        from,
        to,
        cc,
        date,
        subject,
        body,
        attachments,
        receipt_requested,
        flagged,
        folder_id,
        tags: message_tags,
        comment,
        conversation,
    } = message;
    let receipt = receipt_requested.map(|address| view! { <ReceiptRequest id address/> });
    // The list's address and the message's own, both with the list's order and page.
    let list_url = place.path(None, &list_query);
    let message_url = place.path(Some(id), &list_query);
    let subject = if subject.trim().is_empty() { t(lang, Key::NoSubject).to_string() } else { subject };
    let header_row = move |key: Key, people: Vec<Correspondent>| {
        (!people.is_empty()).then(|| {
            view! {
                <div class="header-row">
                    <dt>{t(lang, key)}</dt>
                    <dd>
                        <Correspondents people/>
                    </dd>
                </div>
            }
        })
    };
    let body_view = match body {
        MessageBody::Text(text) => view! { <TextBody text/> }.into_any(),
        MessageBody::Html { srcdoc, remote_content_blocked } => view! {
            {remote_content_blocked
                .then(|| {
                    view! {
                        <p class="banner" role="status">
                            <span>{t(lang, Key::ImagesBlocked)}</span>
                            " "
                            <a
                                class="button subtle"
                                href=with_query_pair(&message_url, &format!("images={SHOW_IMAGES_VALUE}"))
                                rel="external"
                            >
                                {t(lang, Key::ShowImages)}
                            </a>
                        </p>
                    }
                })}
            <HtmlBody srcdoc title=t(lang, Key::MessageBody)/>
        }
        .into_any(),
        MessageBody::Empty => view! { <p class="empty">{t(lang, Key::EmptyBody)}</p> }.into_any(),
    };
    let attachment_list = (!attachments.is_empty()).then(|| {
        let items = attachments
            .into_iter()
            .map(|attachment| {
                let remove_label = format!("{} {}", t(lang, Key::DeleteAttachment), attachment.name);
                view! {
                    <li class="attachment-item">
                        <a class="attachment" href=format!("/download/{id}/{}", attachment.index) download=attachment.name.clone()>
                            <Paperclip label=t(lang, Key::Download)/>
                            <span class="attachment-name">{attachment.name.clone()}</span>
                            <span class="size">{attachment.size.clone()}</span>
                        </a>
                        // C7: taken out of the stored message, after a second click that says so.
                        <details class="attachment-remove">
                            <summary aria-label=remove_label>{t(lang, Key::DeleteAttachment)}</summary>
                            <form class="inline-form" method="post" action=ACTIONS_PATH>
                                {message_fields(folder_id, id, message_url.clone())}
                                <input type="hidden" name="part" value=attachment.index.to_string()/>
                                <p class="note">{t(lang, Key::RemoveAttachmentWarning)}</p>
                                <button type="submit" name="action" value="remove_attachment" class="button subtle danger">
                                    {t(lang, Key::RemoveAttachmentForGood)}
                                </button>
                            </form>
                        </details>
                    </li>
                }
            })
            .collect_view();
        // The area folds away (C7), without script.
        view! {
            <details class="attachments" open>
                <summary>
                    <h3>{t(lang, Key::Attachments)}</h3>
                </summary>
                <ul>{items}</ul>
            </details>
        }
    });
    view! {
        <div class="pane-head">
            <a class="back" href=list_url.clone()>"‹ "{t(lang, Key::BackToList)}</a>
        </div>
        <div class="message">
            <MessageActions id role folder_id flagged list_url=list_url.clone() message_url=message_url.clone() move_targets/>
            {receipt}
            <h2 class="message-subject">{subject}</h2>
            <MessageTags id folder_id message_tags tags back=message_url.clone()/>
            <MessageComment id folder_id comment back=message_url.clone()/>
            <ConversationList conversation place=place.clone() list_query=list_query.clone()/>
            <dl class="message-headers">
                {header_row(Key::From, from)}
                {header_row(Key::To, to)}
                {header_row(Key::Cc, cc)}
                <div class="header-row">
                    <dt>{t(lang, Key::Date)}</dt>
                    <dd>{date}</dd>
                </div>
            </dl>
            {attachment_list}
            <div class="message-body">{body_view}</div>
        </div>
    }
}

/// C12: a header's correspondents, each a fold (it needs no script) that shows its address and
/// offers to write to it. Saving as a contact and the messages exchanged come with contacts and
/// search.
#[component]
fn Correspondents(people: Vec<Correspondent>) -> impl IntoView {
    let lang = use_lang();
    let items = people
        .into_iter()
        .map(|Correspondent { name, address }| {
            if address.is_empty() {
                return view! { <li class="correspondent">{name}</li> }.into_any();
            }
            let write = format!(
                "{}?to={}",
                crate::pages::compose::COMPOSE_PATH,
                form_urlencoded_value(&crate::recipients::recipient_item(&name, &address))
            );
            // E5: every message from them and to them.
            let exchanged = ListPlace::Search(format!("from:\"{address}\" OR to:\"{address}\""), None).path(None, "");
            // The address is always in sight: a name alone can claim to be anyone.
            let named = (!name.is_empty())
                .then(|| view! { <span class="correspondent-address">{format!("<{address}>")}</span> });
            let shown = if name.is_empty() { address.clone() } else { name };
            view! {
                <li>
                    <details class="correspondent">
                        <summary>
                            <span class="correspondent-name">{shown}</span>
                            " "
                            {named}
                        </summary>
                        <div class="correspondent-card">
                            <span class="correspondent-full">{address}</span>
                            <a class="button subtle" href=write>{t(lang, Key::WriteTo)}</a>
                            <a class="button subtle" href=exchanged>{t(lang, Key::MessagesExchanged)}</a>
                        </div>
                    </details>
                </li>
            }
            .into_any()
        })
        .collect_view();
    view! { <ul class="correspondents">{items}</ul> }
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
    fn list_addresses_name_only_what_differs_from_the_folder_default() {
        let list = ListView {
            sort: types::ListSort::default(),
            sort_is_kept: true,
            unread_only: false,
            page: 1,
            pages: 3,
            total: 250,
        };
        assert_eq!(list.query(), "");
        assert_eq!(list.page_query(2), "?page=2");
        let asked = ListView { sort_is_kept: false, unread_only: true, page: 3, ..list };
        assert_eq!(asked.query(), "?sort=date-desc&unread=1&page=3");
        assert_eq!(with_query_pair("/mail/3/9", "images=show"), "/mail/3/9?images=show");
    }

    #[test]
    fn selections_are_read_from_the_url() {
        let folder = |folder_id, message_id| Selection { tag_list: false, search_list: false, folder_id, message_id };
        let tag = |message_id| Selection { tag_list: true, search_list: false, folder_id: None, message_id };
        for (rest, want) in [
            ("", folder(None, None)),
            ("3", folder(Some(3), None)),
            ("3/", folder(Some(3), None)),
            ("3/17", folder(Some(3), Some(17))),
            ("x", folder(Some(-1), None)),
            ("3/y", folder(Some(3), Some(-1))),
            ("3/17/9", folder(Some(-1), None)),
            ("tag", tag(None)),
            ("tag/17", tag(Some(17))),
            ("tag/z", tag(Some(-1))),
            ("tag/17/9", folder(Some(-1), None)),
            ("search", Selection { tag_list: false, search_list: true, folder_id: None, message_id: None }),
            ("search/5", Selection { tag_list: false, search_list: true, folder_id: None, message_id: Some(5) }),
        ] {
            assert_eq!(parse_selection(rest), want, "{rest:?}");
        }
    }

    #[test]
    fn a_tag_list_names_its_tag_in_the_query() {
        let tag = ListPlace::Tag("&AMA-_traiter+x#y".into());
        assert_eq!(tag.path(None, ""), "/mail/tag?tag=%26AMA-_traiter%2Bx%23y");
        assert_eq!(tag.path(Some(9), "?page=2"), "/mail/tag/9?tag=%26AMA-_traiter%2Bx%23y&page=2");
        let search = ListPlace::Search("été OR \"a&b\"".into(), Some(4));
        assert_eq!(search.path(Some(9), ""), "/mail/search/9?q=%C3%A9t%C3%A9%20OR%20%22a%26b%22&in=4");
        assert_eq!(ListPlace::Folder(3).path(Some(9), "?page=2"), "/mail/3/9?page=2");
    }
}
