//! /compose: writing a message (B1, B2, B4, B5): a new one, a reply (`?reply=ID`), a reply to
//! all (`?reply_all=ID`), a forward (`?forward=ID`), a draft taken up again (`?draft=ID`) or
//! a new one from a template (`?template=ID`, B12), or a new one to a correspondent
//! (`?to=ADDRESS`, C12).
//! Plain or rich text (B3, [`crate::pages::editor`]); the message leaves through the same
//! pipeline as SMTP submission.
//!
//! The form is an `ActionForm`: it posts to `compose_submit` without JavaScript too. Once the
//! page is live, errors (an unknown local recipient, a full mailbox, the hourly limit) are shown
//! above the form, which keeps what was typed.

// A server function's arguments are the form's fields, one each (a plain HTML form posts them
// so), and the macro's wrappers repeat them.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::attachments::{AttachmentKey, parse_keys, renumbered};
use crate::dto::ComposeForm;
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::attach::Attachments;
use crate::pages::debounced::debounced;
use crate::pages::editor::MessageText;
use crate::pages::mail::{AppHeader, page_or_error};
use crate::pages::recipients::{DraggedChip, RecipientField};

/// Where the composer lives.
pub const COMPOSE_PATH: &str = "/compose";

/// How much of `?to=` a new message's To takes: a few addresses, not a payload.
#[cfg(feature = "ssr")]
const MAX_TO_QUERY_CHARS: usize = 2000;

/// The `intent` of a save the page makes by itself, a few seconds after typing stops (B2).
const AUTOSAVE: &str = "autosave";
/// How long after the last keystroke the draft is saved.
const AUTOSAVE_DELAY: std::time::Duration = std::time::Duration::from_secs(3);

#[server(endpoint = "compose_view")]
pub async fn compose_view(
    reply: Option<i64>,
    reply_all: Option<i64>,
    forward: Option<i64>,
    draft: Option<i64>,
    template: Option<i64>,
    to: Option<String>,
) -> Result<ComposeForm, AppError> {
    use crate::ssr;
    use crate::ssr::compose::Start;
    let (_, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    let start = match (reply, reply_all, forward, draft, template) {
        (Some(id), ..) => Start::Reply(id),
        (_, Some(id), ..) => Start::ReplyAll(id),
        (_, _, Some(id), ..) => Start::Forward(id),
        (_, _, _, Some(id), _) => Start::Draft(id),
        (.., Some(id)) => Start::Template(id),
        _ => Start::New,
    };
    let mut form = ssr::compose::compose_from(&mail, &account, start, ssr::request_lang()).await?;
    // C12: writing to a correspondent of the reading pane (`?to=`), a new message's To.
    if let (Start::New, Some(to)) = (start, to) {
        form.to = to.chars().take(MAX_TO_QUERY_CHARS).collect();
    }
    // B12: a reply written from a template.
    match (start, template) {
        (Start::Reply(_) | Start::ReplyAll(_), Some(id)) => {
            ssr::compose::with_template(mail.store(), &account, form, id).await
        }
        _ => Ok(form),
    }
}

/// Sends the message (`intent` "send") or saves it in Drafts ("draft"), then goes to the
/// mail (or back to the composer, with the saved draft).
#[server(endpoint = "compose_submit")]
pub async fn compose_submit(
    from: Option<String>,
    to: String,
    cc: Option<String>,
    bcc: Option<String>,
    subject: String,
    body: String,
    html: Option<String>,
    format: Option<String>,
    reply_to: Option<i64>,
    forward_of: Option<i64>,
    draft_id: Option<i64>,
    attachments: Option<String>,
    high_priority: Option<String>,
    receipt: Option<String>,
    send_at: Option<String>,
    tz_offset: Option<String>,
    intent: Option<String>,
) -> Result<Option<i64>, AppError> {
    use crate::ssr;
    use crate::ssr::compose::{Done, Intent, Written};
    let (_, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    // An autosave stays on the page; the buttons go on to the mail or the saved draft.
    let autosave = intent.as_deref() == Some(AUTOSAVE);
    let now = chrono::Utc::now().timestamp();
    let intent = match intent.as_deref() {
        Some("draft" | AUTOSAVE) => Intent::SaveDraft,
        Some("template") => Intent::SaveTemplate,
        // B15: at the time chosen, or after the undo delay.
        Some("schedule") => Intent::SendLater {
            at: ssr::compose::send_time(
                send_at.as_deref().unwrap_or(""),
                ssr::ReaderZone::of_request(),
                tz_offset.as_deref(),
                now,
            )?,
            undo: false,
        },
        _ => match ssr::undo_delay(mail.store(), &account).await? {
            0 => Intent::Send,
            delay => Intent::SendLater { at: now + i64::from(delay), undo: true },
        },
    };
    let undo_seconds = match intent {
        Intent::SendLater { at, undo: true } => (at - now).max(0),
        _ => 0,
    };
    let written = Written {
        from,
        to,
        cc: cc.unwrap_or_default(),
        bcc: bcc.unwrap_or_default(),
        subject,
        body,
        // B3: the editor's HTML, when the message is written in rich text.
        html: html.filter(|_| format.as_deref() == Some(crate::pages::editor::RICH)),
        reply_to,
        forward_of,
        draft_id,
        attachments: attachments.unwrap_or_default(),
        // A checkbox is sent only when checked.
        high_priority: high_priority.is_some(),
        receipt: receipt.is_some(),
    };
    match ssr::compose::send_or_save(&mail, &account, written, intent, &ssr::web_settings().hostname).await? {
        Done::Sent => {
            leptos_axum::redirect("/mail?sent=1");
            Ok(None)
        }
        Done::Saved(id) => {
            if !autosave {
                leptos_axum::redirect(&format!("{COMPOSE_PATH}?draft={id}&saved=1"));
            }
            Ok(Some(id))
        }
        Done::Scheduled { id, undo: true } => {
            leptos_axum::redirect(&format!("/mail?sent=1&undo={id}&delay={undo_seconds}"));
            Ok(None)
        }
        Done::Scheduled { undo: false, .. } => {
            leptos_axum::redirect("/mail?scheduled=1");
            Ok(None)
        }
        Done::Template { folder, id } => {
            leptos_axum::redirect(&format!("/mail/{folder}/{id}"));
            Ok(None)
        }
    }
}

/// B12: on a reply, a choice of template to write it from: a plain GET of the composer with
/// the same reply and the template (the template's text and files replace the reply's start).
#[component]
fn ReplyTemplates(templates: Vec<(i64, String)>) -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    // The reply as the address says it: to the sender, or to all.
    let (name, id) = query.with_untracked(|q| match query_id(q, "reply_all") {
        Some(id) => ("reply_all", id),
        None => ("reply", query_id(q, "reply").unwrap_or_default()),
    });
    (!templates.is_empty()).then(|| {
        view! {
            <form method="get" action=COMPOSE_PATH class="reply-template">
                <input type="hidden" name=name value=id.to_string()/>
                <label for="reply-template">{t(lang, Key::ReplyWithTemplate)}</label>
                " "
                <select id="reply-template" name="template">
                    {templates
                        .into_iter()
                        .map(|(id, subject)| view! { <option value=id.to_string()>{subject}</option> })
                        .collect_view()}
                </select>
                " "
                <button type="submit" class="button subtle">{t(lang, Key::UseThisTemplate)}</button>
            </form>
        }
    })
}

/// Reads an id from the query, `None` when absent or not a number.
fn query_id(query: &leptos_router::params::ParamsMap, name: &str) -> Option<i64> {
    query.get(name).and_then(|value| value.parse().ok())
}

/// The text of a `<textarea>`. Parsing HTML drops a line break right after `<textarea>`, so
/// the server's markup starts with one more, and the text (a reply starts with blank lines)
/// arrives as written; a page built in the browser sets the text as it is.
pub(crate) fn textarea_text(text: String) -> String {
    if cfg!(feature = "ssr") { format!("\n{text}") } else { text }
}

#[component]
pub fn ComposePage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let start = move || {
        query.with(|q| {
            let id = |name| query_id(q, name);
            (id("reply"), id("reply_all"), id("forward"), id("draft"), id("template"), q.get("to"))
        })
    };
    // What brought the reader here: a draft saved by the button, or a send undone (B15).
    let notice = move || {
        query.with(|q| match (q.get("saved"), q.get("undone")) {
            (_, Some(_)) => Some(Key::SendingUndone),
            (Some(_), _) => Some(Key::DraftSaved),
            _ => None,
        })
    };
    let data = Resource::new(start, |(reply, reply_all, forward, draft, template, to)| {
        compose_view(reply, reply_all, forward, draft, template, to)
    });
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |form| view! { <Composer form notice=notice()/> }.into_any())
            })}
        </Transition>
    }
}

#[component]
fn Composer(form: ComposeForm, notice: Option<Key>) -> impl IntoView {
    let lang = use_lang();
    let submit = ServerAction::<ComposeSubmit>::new();
    // B2: a few seconds after typing stops, the draft is saved in place, and the address bar
    // points at it, so a reload or a lost connection loses nothing.
    let autosave = ServerAction::<ComposeSubmit>::new();
    let draft = RwSignal::new(form.draft_id);
    let attached = RwSignal::new(form.attachments.clone());
    // The attachments the last autosave carried: once saved, they are the new draft's.
    let saved_keys = StoredValue::new(Vec::<AttachmentKey>::new());
    let form_ref = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(Some(id))) = autosave.value().get() {
            draft.set(Some(id));
            let saved = saved_keys.get_value();
            attached.update(|files| {
                for file in files.iter_mut() {
                    if let Some(key) = AttachmentKey::parse(&file.key) {
                        file.key = renumbered(&saved, id, key).to_string();
                    }
                }
            });
            if let Ok(history) = window().history() {
                let url = format!("{COMPOSE_PATH}?draft={id}");
                let _ = history.replace_state_with_url(&leptos::wasm_bindgen::JsValue::NULL, "", Some(&url));
            }
        }
    });
    let save_later = debounced(AUTOSAVE_DELAY, move |()| {
        // Not while the message is being sent or saved by a button (it would come back as
        // a draft after leaving), nor twice at once (the older draft would stay).
        if submit.pending().get_untracked() || autosave.pending().get_untracked() {
            return;
        }
        // Sent or saved by a button: the page is on its way out, its draft already replaced.
        if matches!(submit.value().get_untracked(), Some(Ok(_))) {
            return;
        }
        let Some(element) = form_ref.get_untracked() else { return };
        let Ok(data) = leptos::web_sys::FormData::new_with_form(&element) else { return };
        let Ok(mut save) = <ComposeSubmit as leptos::form::FromFormData>::from_form_data(&data) else { return };
        save.intent = Some(AUTOSAVE.to_string());
        saved_keys.set_value(parse_keys(save.attachments.as_deref().unwrap_or("")));
        autosave.dispatch(save);
    });
    // Typing and adding or removing a file both save later.
    let edited = Callback::new(save_later);
    // B8: a recipient dragged from one field to another.
    provide_context(DraggedChip(RwSignal::new(None)));
    // Only a save made here: a refusal Leptos read from the URL (a post without the WASM) is
    // the send's, which `error` shows, not an autosave's.
    let autosaved = move || match autosave.value().get().filter(|_| autosave.version().get() > 0) {
        Some(Ok(Some(_))) => {
            view! { <p class="note autosaved" role="status">{t(lang, Key::DraftAutosaved)}</p> }.into_any()
        }
        // Say why (an address half typed, a full mailbox): the next pause tries again.
        Some(Err(error)) => {
            let detail = error.detail().map(|d| format!(" {d}")).unwrap_or_default();
            view! {
                <p class="note autosaved" role="status">
                    {t(lang, Key::DraftNotSaved)}" "{t(lang, error.message_key())}{detail}
                </p>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    let ComposeForm {
        login,
        from,
        identities,
        identity_names,
        to,
        cc,
        bcc,
        subject,
        body,
        html,
        reply_to,
        forward_of,
        draft_id: _,
        attachments: _,
        high_priority,
        receipt,
        signatures,
        footer,
        scheduled_for,
        templates,
    } = form;
    // B15: the page's time zone at the time chosen to send at (a clock change may come between),
    // read by the browser; the server's own zone without it.
    let tz_offset = RwSignal::new(String::new());
    let read_offset = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            // A date and time without a zone is read in the browser's own (ECMAScript §21.4.3.2).
            let chosen = js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_str(&event_target_value(&ev)));
            let offset = chosen.get_timezone_offset();
            tz_offset.set(if offset.is_finite() { offset.to_string() } else { String::new() });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, tz_offset);
    };
    // B13: the signature of the address chosen to send from (the text swaps it).
    let chosen = RwSignal::new(from.clone());
    let signatures = StoredValue::new(signatures);
    let signature = Signal::derive(move || {
        let address = chosen.get();
        signatures
            .with_value(|all| all.iter().find(|(a, _)| a.eq_ignore_ascii_case(&address)).map(|(_, body)| body.clone()))
    });
    // One per thing to do with what is written; none while a save is under way.
    let intent_button = move |intent: &'static str, class: &'static str, label: Key| {
        view! {
            <button
                type="submit"
                name="intent"
                value=intent
                class=class
                disabled=move || submit.pending().get() || autosave.pending().get()
            >
                {t(lang, label)}
            </button>
        }
    };
    let footer_note = footer.map(|footer| {
        view! {
            <div class="note footer-note">
                <p>{t(lang, Key::FooterNote)}</p>
                <pre>{footer}</pre>
            </div>
        }
    });
    let open_copies = !cc.is_empty() || !bcc.is_empty();
    let hidden = |name: &'static str, value: Option<i64>| {
        value.map(|value| view! { <input type="hidden" name=name value=value.to_string()/> })
    };
    let error = move || {
        submit.value().get().and_then(Result::err).map(|error| {
            let detail = error.detail().map(|d| format!(" {d}")).unwrap_or_default();
            view! { <p class="form-error" role="alert">{t(lang, error.message_key())}{detail}</p> }
        })
    };
    view! {
        <div class="app">
            <AppHeader login/>
            <main class="compose-page">
                <h1>{t(lang, Key::NewMessage)}</h1>
                {notice.map(|key| view! { <p class="banner" role="status">{t(lang, key)}</p> })}
                {scheduled_for
                    .map(|when| {
                        view! { <p class="banner scheduled-note" role="status">{t(lang, Key::ScheduledFor)}" "{when}"."</p> }
                    })}
                {error}
                {autosaved}
                <ReplyTemplates templates/>
                <ActionForm action=submit node_ref=form_ref attr:class="compose-form" on:input=move |_| save_later(())>
                    {hidden("reply_to", reply_to)}
                    {hidden("forward_of", forward_of)}
                    {move || {
                        draft.get().map(|id| view! { <input type="hidden" name="draft_id" value=id.to_string()/> })
                    }}
                    <div class="field">
                        <label for="compose-from">{t(lang, Key::From)}</label>
                        <select id="compose-from" name="from" on:change=move |ev| chosen.set(event_target_value(&ev))>
                            {identities
                                .into_iter()
                                .map(|identity| {
                                    let selected = identity == from;
                                    let name = identity_names.iter().find(|(a, _)| *a == identity).map(|(_, n)| n);
                                    let label = match name {
                                        Some(name) => format!("{name} <{identity}>"),
                                        None => identity.clone(),
                                    };
                                    view! { <option value=identity.clone() selected=selected>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    </div>
                    <RecipientField
                        id="compose-to"
                        name="to"
                        label=Key::To
                        value=to
                        changed=edited
                        placeholder=Key::RecipientsHint
                    />
                    <details class="copies" open=open_copies>
                        <summary>{t(lang, Key::CcBcc)}</summary>
                        <RecipientField id="compose-cc" name="cc" label=Key::Cc value=cc changed=edited/>
                        <RecipientField id="compose-bcc" name="bcc" label=Key::Bcc value=bcc changed=edited/>
                    </details>
                    <div class="field">
                        <label for="compose-subject">{t(lang, Key::Subject)}</label>
                        <input id="compose-subject" name="subject" type="text" value=subject maxlength="998"/>
                    </div>
                    <MessageText
                        body
                        html
                        text_id="compose-body".to_string()
                        label=t(lang, Key::MessageBody).to_string()
                        rows=18
                        signature
                        changed=edited
                    />
                    {footer_note}
                    <Attachments attached changed=edited/>
                    <fieldset class="options">
                        <legend>{t(lang, Key::Options)}</legend>
                        <label>
                            <input type="checkbox" name="high_priority" value="on" checked=high_priority/>
                            " "{t(lang, Key::HighPriority)}
                        </label>
                        <label>
                            <input type="checkbox" name="receipt" value="on" checked=receipt/>
                            " "{t(lang, Key::ReadReceipt)}
                        </label>
                    </fieldset>
                    <div class="actions">
                        {intent_button("send", "button primary", Key::Send)}
                        {intent_button("draft", "button", Key::SaveDraft)}
                        {intent_button("template", "button subtle", Key::SaveTemplate)}
                        <a class="button subtle" href="/mail">{t(lang, Key::Cancel)}</a>
                    </div>
                    <details class="send-later">
                        <summary>{t(lang, Key::SendLater)}</summary>
                        <div class="field">
                            <label for="compose-send-at">{t(lang, Key::SendAt)}</label>
                            <input id="compose-send-at" name="send_at" type="datetime-local" step="1" on:input=read_offset/>
                            <input type="hidden" name="tz_offset" value=move || tz_offset.get()/>
                        </div>
                        {intent_button("schedule", "button", Key::Schedule)}
                    </details>
                </ActionForm>
            </main>
        </div>
    }
}
