//! /scheduled: sending later (B15). The seconds a message sent waits with "undo" offered, and
//! the drafts scheduled to be sent, each to edit (it stays scheduled when saved) or to take off
//! the schedule (it stays in Drafts). Also the "undo" of a message just sent, which the mail
//! page offers. Every form works without the WASM too.

use leptos::prelude::*;

use crate::dto::{ScheduledMessage, ScheduledView};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::compose::COMPOSE_PATH;
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const SCHEDULED_PATH: &str = "/scheduled";

/// The delays offered, in seconds (B15: 0 to 30).
const UNDO_DELAYS: [u32; 6] = [0, 5, 10, 15, 20, 30];

#[server(endpoint = "load_scheduled")]
pub async fn load_scheduled() -> Result<ScheduledView, AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let lang = ssr::request_lang();
    let mut messages = Vec::new();
    for send in store.scheduled_sends(account.id).await? {
        let Some(row) = store.message(account.id, send.message_id).await? else { continue };
        messages.push(ScheduledMessage {
            id: row.id.0,
            subject: row.subject,
            to: row.to_addrs,
            when: ssr::full_date(&ssr::local_time(send.send_at), lang),
        });
    }
    Ok(ScheduledView { login: account.login.clone(), undo_delay: ssr::undo_delay(&store, &account).await?, messages })
}

/// Takes a draft off the schedule; it stays in Drafts.
#[server(endpoint = "cancel_scheduled")]
pub async fn cancel_scheduled(id: i64) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    if !store.unschedule_send(account.id, store::MessageId(id)).await? {
        return Err(AppError::TooLateToUndo);
    }
    leptos_axum::redirect(SCHEDULED_PATH);
    Ok(())
}

/// Sets the account's undo delay.
#[server(endpoint = "set_undo_delay")]
pub async fn set_undo_delay(seconds: u32) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    if !UNDO_DELAYS.contains(&seconds) {
        return Err(AppError::InvalidName);
    }
    store.set_account_setting(account.id, ssr::UNDO_DELAY_SETTING, Some(&seconds.to_string())).await?;
    leptos_axum::redirect(SCHEDULED_PATH);
    Ok(())
}

/// "Undo" of a message just sent: it goes back to the composer, unless it has left.
#[server(endpoint = "undo_send")]
pub async fn undo_send(id: i64) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    if !store.unschedule_send(account.id, store::MessageId(id)).await? {
        return Err(AppError::TooLateToUndo);
    }
    leptos_axum::redirect(&format!("{COMPOSE_PATH}?draft={id}&undone=1"));
    Ok(())
}

#[component]
pub fn ScheduledPage() -> impl IntoView {
    let lang = use_lang();
    let cancel = ServerAction::<CancelScheduled>::new();
    let delay = ServerAction::<SetUndoDelay>::new();
    // Read again after each change.
    let data = Resource::new(move || (cancel.version().get(), delay.version().get()), |_| load_scheduled());
    let status = move || {
        let key = match (cancel.value().get(), delay.value().get()) {
            (Some(Err(error)), _) | (_, Some(Err(error))) => {
                return view! { <p class="form-error" role="alert">{t(lang, error.message_key())}</p> }.into_any();
            }
            (Some(Ok(())), _) => Key::SendingCancelled,
            (_, Some(Ok(()))) => Key::SettingSaved,
            _ => return ().into_any(),
        };
        view! { <p class="banner" role="status">{t(lang, key)}</p> }.into_any()
    };
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |ScheduledView { login, undo_delay, messages }| {
                    let empty = messages.is_empty();
                    let options = UNDO_DELAYS
                        .iter()
                        .map(|&seconds| {
                            let label = match seconds {
                                0 => t(lang, Key::NoDelay).to_string(),
                                n => format!("{n} {}", t(lang, Key::Seconds)),
                            };
                            view! { <option value=seconds.to_string() selected=seconds == undo_delay>{label}</option> }
                        })
                        .collect_view();
                    let rows = messages
                        .into_iter()
                        .map(|ScheduledMessage { id, subject, to, when }| {
                            view! {
                                <li class="scheduled-message">
                                    <div>
                                        <strong>{subject}</strong>
                                        " · "
                                        <span>{to}</span>
                                    </div>
                                    <div class="when">{t(lang, Key::SendsAt)}" "{when}</div>
                                    <div class="actions">
                                        <a class="button" href=format!("{COMPOSE_PATH}?draft={id}") rel="external">
                                            {t(lang, Key::Edit)}
                                        </a>
                                        <ActionForm action=cancel>
                                            <input type="hidden" name="id" value=id.to_string()/>
                                            <button type="submit" class="button subtle">{t(lang, Key::DoNotSend)}</button>
                                        </ActionForm>
                                    </div>
                                </li>
                            }
                        })
                        .collect_view();
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page">
                                <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::ScheduledTitle)}</h1>
                                {status}
                                <section class="card settings-card">
                                    <ActionForm action=delay>
                                        <div class="field">
                                            <label for="undo-delay">{t(lang, Key::UndoDelay)}</label>
                                            <select id="undo-delay" name="seconds">{options}</select>
                                        </div>
                                        <button type="submit" class="button primary">{t(lang, Key::Save)}</button>
                                    </ActionForm>
                                </section>
                                {if empty {
                                    view! { <p class="note">{t(lang, Key::NoScheduled)}</p> }.into_any()
                                } else {
                                    view! { <ul class="scheduled-list">{rows}</ul> }.into_any()
                                }}
                            </main>
                        </div>
                    }
                    .into_any()
                })
            })}
        </Transition>
    }
}
