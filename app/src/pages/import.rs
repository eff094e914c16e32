//! /settings/import: a `.zip` of `.eml` files into the mailbox (D10), its subfolders mapped to
//! folders (created when missing). The form posts the archive to [`IMPORT_UPLOAD`]
//! (`ssr::import`), which answers with a `303` back here; the page then shows what the last
//! import did: messages by folder, and each file left out with why. Once the page runs, the
//! upload shows its progress.

use leptos::prelude::*;

use crate::dto::ImportSummaryView;
use crate::error::AppError;
use crate::i18n::{Key, Lang, t, use_lang};
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives.
pub const IMPORT_PATH: &str = "/settings/import";
/// Where the archive is posted.
pub const IMPORT_UPLOAD: &str = "/import";
/// The largest archive taken.
pub const MAX_IMPORT_BYTES: usize = 100 * 1000 * 1000;
/// The account setting keeping the last import's summary (JSON).
pub const IMPORT_SUMMARY_SETTING: &str = "last_import";

#[server(endpoint = "load_import")]
pub async fn load_import() -> Result<(String, Option<ImportSummaryView>), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let summary = store
        .account_setting(account.id, IMPORT_SUMMARY_SETTING)
        .await?
        .and_then(|json| serde_json::from_str::<ImportSummaryView>(&json).ok());
    Ok((account.login.clone(), summary))
}

#[component]
pub fn ImportPage() -> impl IntoView {
    let lang = use_lang();
    let data = Resource::new(|| (), |_| load_import());
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |(login, summary)| {
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page">
                                <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::ImportTitle)}</h1>
                                <p class="note">{t(lang, Key::ImportIntro)}</p>
                                <ImportForm/>
                                {summary.map(|summary| view! { <ImportSummary summary/> })}
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
fn ImportForm() -> impl IntoView {
    let lang = use_lang();
    // Sent so far, from 0 to 1, while the page's script uploads.
    let progress = RwSignal::new(None::<f64>);
    let on_submit = move |event: leptos::ev::SubmitEvent| upload_with_progress(event, progress);
    view! {
        <form
            class="card settings-card"
            method="post"
            action=IMPORT_UPLOAD
            enctype="multipart/form-data"
            on:submit=on_submit
        >
            <div class="field">
                <label for="import-archive">{t(lang, Key::ImportArchive)}</label>
                <input id="import-archive" type="file" name="archive" accept=".zip,application/zip" required/>
            </div>
            <button type="submit" class="button primary" disabled=move || progress.get().is_some()>
                {t(lang, Key::ImportButton)}
            </button>
            {move || {
                progress
                    .get()
                    .map(|sent| {
                        let label = if sent < 1.0 { t(lang, Key::ImportUploading) } else { t(lang, Key::Importing) };
                        view! {
                            <p class="import-progress" role="status">
                                <progress max="100" value=format!("{:.0}", sent * 100.0) aria-label=label></progress>
                                " "
                                {label}
                            </p>
                        }
                    })
            }}
        </form>
    }
}

/// Posts the form with XMLHttpRequest, showing how far the upload got, then loads the page
/// again to show the summary (the server's `303` leads back here).
#[cfg(feature = "hydrate")]
fn upload_with_progress(event: leptos::ev::SubmitEvent, progress: RwSignal<Option<f64>>) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let Some(form) = event.target().and_then(|target| target.dyn_into::<web_sys::HtmlFormElement>().ok()) else {
        return;
    };
    let (Ok(data), Ok(request)) = (web_sys::FormData::new_with_form(&form), web_sys::XmlHttpRequest::new()) else {
        return;
    };
    if request.open("POST", IMPORT_UPLOAD).is_err() {
        return;
    }
    event.prevent_default();
    progress.set(Some(0.0));
    let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            progress.try_set(Some(ev.loaded() / ev.total()));
        }
    });
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let on_end = Closure::once_into_js(move || {
        drop(on_progress);
        let _ = window().location().assign(IMPORT_PATH);
    });
    request.set_onloadend(Some(on_end.unchecked_ref()));
    let _ = request.send_with_opt_form_data(Some(&data));
}

#[cfg(not(feature = "hydrate"))]
fn upload_with_progress(_event: leptos::ev::SubmitEvent, _progress: RwSignal<Option<f64>>) {}

#[component]
fn ImportSummary(summary: ImportSummaryView) -> impl IntoView {
    let lang = use_lang();
    let ImportSummaryView { when, imported, total, rejected, more_rejected, not_a_zip } = summary;
    let reason = move |code: &str| {
        t(
            lang,
            match code {
                "not_eml" => Key::RejectNotEml,
                "too_large" => Key::RejectTooLarge,
                "not_a_message" => Key::RejectNotAMessage,
                "bad_folder" => Key::RejectBadFolder,
                "over_quota" => Key::RejectOverQuota,
                "too_many" => Key::RejectTooMany,
                _ => Key::RejectUnreadable,
            },
        )
    };
    let folders = imported
        .into_iter()
        .map(|(folder, count)| view! { <li><span class="folder-admin-name">{folder}</span>" "<span class="note">{count}</span></li> })
        .collect_view();
    let left_out = (!rejected.is_empty()).then(|| {
        let rows = rejected
            .into_iter()
            .map(|(name, code)| view! { <tr><td>{name}</td><td>{reason(&code)}</td></tr> })
            .collect_view();
        view! {
            <h3>{t(lang, Key::ImportRejected)}</h3>
            <table class="import-rejected">
                <thead><tr><th scope="col">{t(lang, Key::ImportFile)}</th><th scope="col">{t(lang, Key::ImportWhy)}</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {(more_rejected > 0).then(|| view! { <p class="note">{format!("+ {more_rejected}")}</p> })}
        }
    });
    view! {
        <section class="card settings-card import-summary" aria-labelledby="import-summary" role="status">
            <h2 id="import-summary">{t(lang, Key::ImportLast)}" "<span class="note">{when}</span></h2>
            {not_a_zip.then(|| view! { <p class="form-error">{t(lang, Key::ImportNotAZip)}</p> })}
            <p>{t(lang, Key::ImportedMessages)}{format!("{}{total}", if lang == Lang::Fr { " : " } else { ": " })}</p>
            <ul class="folder-admin">{folders}</ul>
            {left_out}
        </section>
    }
}
