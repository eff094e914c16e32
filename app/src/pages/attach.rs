//! The composer's attachments (B1): the files the message carries, each removable; more are
//! picked or dropped onto the form and uploaded one request each, with a progress bar, to
//! [`crate::attachments::UPLOAD_PATH`] (its answer is the file's key). The form posts the keys in one
//! hidden field, so it needs no JavaScript to send what is already attached; uploading does.

use leptos::prelude::*;

use crate::attachments::{human_size, join_keys};
use crate::dto::AttachedFile;
use crate::i18n::{Key, t, use_lang};

/// Forgets one of the account's uploads (removed from the message before it was saved).
#[server(endpoint = "forget_upload")]
pub async fn forget_upload(key: String) -> Result<(), crate::error::AppError> {
    use crate::attachments::AttachmentKey;
    let (store, account) = crate::ssr::current_account().await?;
    if let Some(AttachmentKey::Upload(id)) = AttachmentKey::parse(&key) {
        store.remove_uploads(account.id, &[id]).await?;
    }
    Ok(())
}

/// A file on its way up.
#[derive(Debug, Clone)]
// The server renders none; only the page's uploads read these.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
struct Uploading {
    serial: u32,
    name: String,
    size: u64,
    /// 0 to 1.
    progress: RwSignal<f64>,
}

/// The attachments area; `changed` runs when a file was added or removed (the draft is then
/// saved).
#[component]
pub fn Attachments(attached: RwSignal<Vec<AttachedFile>>, changed: Callback<()>) -> impl IntoView {
    let lang = use_lang();
    let uploading = RwSignal::new(Vec::<Uploading>::new());
    let problems = RwSignal::new(Vec::<String>::new());
    let keys = move || attached.with(|files| join_keys(files.iter().map(|f| f.key.as_str())));
    let forget = ServerAction::<ForgetUpload>::new();
    let remove = move |key: String| {
        attached.update(|files| files.retain(|f| f.key != key));
        // An uploaded file no message carries is dropped on the server at once (it would
        // count against the account's uploads for two days).
        if key.starts_with('u') {
            forget.dispatch(ForgetUpload { key: key.clone() });
        }
        changed.run(());
    };
    let file_rows = move || {
        attached
            .get()
            .into_iter()
            .map(|file| {
                let key = file.key.clone();
                let label = format!("{} {}", t(lang, Key::RemoveAttachment), file.name);
                view! {
                    <li class="attached-file">
                        <span class="file-name">{file.name.clone()}</span>
                        " "
                        <span class="file-size">{human_size(file.size)}</span>
                        " "
                        <button type="button" class="link-button" aria-label=label on:click=move |_| remove(key.clone())>
                            {t(lang, Key::RemoveAttachment)}
                        </button>
                    </li>
                }
            })
            .collect_view()
    };
    let upload_rows = move || {
        uploading
            .get()
            .into_iter()
            .map(|file| {
                view! {
                    <li class="attached-file uploading">
                        <span class="file-name">{file.name}</span>
                        " "
                        <progress max="1" value=move || file.progress.get() aria-label=t(lang, Key::Uploading)></progress>
                    </li>
                }
            })
            .collect_view()
    };
    let problem_lines = move || {
        problems.get().into_iter().map(|text| view! { <p class="form-error" role="alert">{text}</p> }).collect_view()
    };
    let on_pick = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            let input: web_sys::HtmlInputElement = event_target(&ev);
            if let Some(files) = input.files() {
                start_uploads(files, attached, uploading, problems, changed);
            }
            // The same file can be picked again after being removed.
            input.set_value("");
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };
    let on_dragover = move |ev: leptos::ev::DragEvent| ev.prevent_default();
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        if let Some(files) = ev.data_transfer().and_then(|transfer| transfer.files()) {
            start_uploads(files, attached, uploading, problems, changed);
        }
    };
    view! {
        <section class="attachments-area" aria-label=t(lang, Key::Attachments) on:dragover=on_dragover on:drop=on_drop>
            <input type="hidden" name="attachments" value=keys/>
            <ul class="attached-files">{file_rows} {upload_rows}</ul>
            {problem_lines}
            <label class="button attach-button">
                {t(lang, Key::AttachFiles)}
                <input type="file" multiple class="visually-hidden" on:change=on_pick/>
            </label>
            " "
            <span class="drop-hint">{t(lang, Key::DropFilesHere)}</span>
        </section>
    }
}

/// Uploads each file that fits within what a message may carry, one request each.
#[cfg(feature = "hydrate")]
fn start_uploads(
    files: web_sys::FileList,
    attached: RwSignal<Vec<AttachedFile>>,
    uploading: RwSignal<Vec<Uploading>>,
    problems: RwSignal<Vec<String>>,
    changed: Callback<()>,
) {
    let lang = use_lang();
    problems.set(Vec::new());
    for index in 0..files.length() {
        let Some(file) = files.item(index) else { continue };
        let (name, size) = (file.name(), file.size() as u64);
        let weight = attached.with_untracked(|f| f.iter().map(|f| f.size).sum::<u64>())
            + uploading.with_untracked(|u| u.iter().map(|u| u.size).sum::<u64>());
        if weight + size > types::MAX_ATTACHMENTS_BYTES as u64 {
            problems.update(|p| p.push(format!("{name} {}", t(lang, Key::FileTooLarge))));
            continue;
        }
        let serial = next_serial();
        let progress = RwSignal::new(0.0);
        uploading.update(|u| u.push(Uploading { serial, name: name.clone(), size, progress }));
        send(
            &file,
            move |fraction| progress.set(fraction),
            move |answer| {
                uploading.update(|u| u.retain(|up| up.serial != serial));
                match answer {
                    Ok(key) => {
                        attached.update(|files| files.push(AttachedFile { key, name, size }));
                        changed.run(());
                    }
                    Err(refusal) => {
                        let text = match refusal.as_str() {
                            crate::attachments::UPLOAD_TOO_LARGE => format!("{name} {}", t(lang, Key::FileTooLarge)),
                            crate::attachments::UPLOAD_TOO_MANY => t(lang, Key::TooManyUploads).to_string(),
                            crate::attachments::UPLOAD_BUSY => format!("{name} {}", t(lang, Key::UploadBusy)),
                            _ => format!("{name} {}", t(lang, Key::UploadFailed)),
                        };
                        problems.update(|p| p.push(text));
                    }
                }
            },
        );
    }
}

/// A number for each upload of the page, to find it again when it ends.
#[cfg(feature = "hydrate")]
fn next_serial() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// POSTs one file with XMLHttpRequest (fetch cannot tell how far an upload got); `done` gets
/// the file's key, or the refusal's text.
#[cfg(feature = "hydrate")]
fn send(file: &web_sys::File, progress: impl Fn(f64) + 'static, done: impl FnOnce(Result<String, String>) + 'static) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let Ok(request) = web_sys::XmlHttpRequest::new() else { return done(Err(String::new())) };
    let url = format!(
        "{}?name={}",
        crate::attachments::UPLOAD_PATH,
        String::from(js_sys::encode_uri_component(&file.name()))
    );
    if request.open("POST", &url).is_err() {
        return done(Err(String::new()));
    }
    if !file.type_().is_empty() {
        let _ = request.set_request_header("Content-Type", &file.type_());
    }
    let on_progress = Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            progress(ev.loaded() / ev.total());
        }
    });
    if let Ok(upload) = request.upload() {
        upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    }
    let answered = request.clone();
    let on_end = Closure::once_into_js(move || {
        // The progress handler is not called after the end; it goes with this one.
        drop(on_progress);
        let text = answered.response_text().ok().flatten().unwrap_or_default();
        match answered.status() {
            Ok(200) if crate::attachments::AttachmentKey::parse(&text).is_some() => done(Ok(text)),
            _ => done(Err(text)),
        }
    });
    request.set_onloadend(Some(on_end.unchecked_ref()));
    if request.send_with_opt_blob(Some(file)).is_err() {
        // `loadend` still comes, and reports it.
    }
}
