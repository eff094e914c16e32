//! The composer's text (B3): a plain text area, or rich text in the browser's own editor
//! (`contenteditable`) with a toolbar (bold, italic, underline, size, colour, alignment, lists,
//! link, quote, picture). The choice is the account's setting and can be switched for one
//! message. A picture is put in the text as a `data:` URL; the server makes it a part of the
//! message (`cid:`), and gives it back as a `data:` URL when a draft is taken up.
//!
//! Rich text needs the WASM: until it runs (or without JavaScript) the page shows the text area
//! with the message's text, and that is what is sent. Once live, rich text posts the editor's
//! HTML in a hidden `html` field with `format=rich`; the server cleans it (`render::composed`)
//! and makes the text/plain alternative from it.

use leptos::prelude::*;

use crate::dto::SignatureText;
use crate::i18n::{Key, t, use_lang};

/// The `format` a rich text message is posted with.
pub const RICH: &str = "rich";

/// A text, plain or rich: a message's, or a signature's (B13). `text_id` is the text area's
/// id (the editor's is the same with `-editor`), `label` their accessible name. For a message,
/// `signature` is the one of the address chosen to send from: when it changes, the text swaps
/// it, and it can be inserted at the cursor or taken out for this message. `changed` runs when
/// the text changed by other means than typing (the draft is then saved).
#[component]
pub fn MessageText(
    body: String,
    html: Option<String>,
    text_id: String,
    label: String,
    rows: u32,
    #[prop(optional)] signature: Option<Signal<Option<SignatureText>>>,
    changed: Callback<()>,
) -> impl IntoView {
    let lang = use_lang();
    let editor_id = format!("{text_id}-editor");
    let body_ref = NodeRef::<leptos::html::Textarea>::new();
    // Rendered as the text area first, on the server and while hydrating (they must agree);
    // rich text once the page is live.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    let rich = RwSignal::new(html.is_some());
    let html = RwSignal::new(html.unwrap_or_default());
    let editing_rich = move || live.get() && rich.get();
    let editor_ref = NodeRef::<leptos::html::Div>::new();
    let signature = signature.unwrap_or_else(|| Signal::derive(|| None));
    let switch = move |_| {
        if rich.get_untracked() {
            // To plain text: the editor's text as the browser lays it out.
            #[cfg(feature = "hydrate")]
            if let (Some(editor), Some(area)) = (editor_ref.get_untracked(), body_ref.get_untracked()) {
                use leptos::wasm_bindgen::JsCast;
                let text = editor.unchecked_ref::<web_sys::HtmlElement>().inner_text();
                // The browser drops the space ending the signature's "-- " line; it is put
                // back so the block is found again (RFC 3676 §4.3).
                let text: Vec<&str> =
                    text.trim_end_matches('\n').split('\n').map(|l| if l == "--" { "-- " } else { l }).collect();
                area.set_value(&text.join("\n"));
            }
            rich.set(false);
        } else {
            let text = body_ref.get_untracked().map(|area| area.value()).unwrap_or_default();
            // Its signature block stays marked, to be swapped or taken out.
            html.set(crate::signature::text_to_html_with_signature(&text, signature.get_untracked().as_ref()));
            rich.set(true);
        }
        changed.run(());
    };
    let edited = move |_| {
        if let Some(editor) = editor_ref.get_untracked() {
            html.set(editor.inner_html());
        }
    };
    // B13: the signature swapped when another address is chosen, inserted, or taken out.
    let change_signature = move |change: SignatureChange| {
        if editing_rich() {
            #[cfg(feature = "hydrate")]
            if let Some(editor) = editor_ref.get_untracked() {
                rich_signature(&editor, editor_ref, change);
                html.set(editor.inner_html());
            }
        } else if let Some(area) = body_ref.get_untracked() {
            plain_signature(&area, change);
        }
        changed.run(());
    };
    Effect::new(move |previous: Option<Option<SignatureText>>| {
        let current = signature.get();
        if let Some(previous) = previous.filter(|previous| *previous != current) {
            change_signature(SignatureChange::Swap { old: previous, new: current.clone() });
        }
        current
    });
    let signature_buttons = move || {
        let current = signature.get().filter(|s| !s.text.trim().is_empty())?;
        let insert = current.clone();
        Some(view! {
            <button
                type="button"
                class="button subtle"
                on:mousedown=|ev| ev.prevent_default()
                on:click=move |_| change_signature(SignatureChange::Insert(insert.clone()))
            >
                {t(lang, Key::InsertSignature)}
            </button>
            <button
                type="button"
                class="button subtle"
                on:click=move |_| change_signature(SignatureChange::Remove(current.clone()))
            >
                {t(lang, Key::RemoveSignature)}
            </button>
        })
    };
    view! {
        <div class="field message-text">
            <div class="text-mode">
                <Show when=move || live.get()>
                    {signature_buttons}
                    <button
                        type="button"
                        class="button subtle format-switch"
                        aria-pressed=move || rich.get().to_string()
                        on:click=switch
                    >
                        {t(lang, Key::RichText)}
                    </button>
                </Show>
            </div>
            <label for=text_id.clone() class="visually-hidden">
                {label.clone()}
            </label>
            <textarea id=text_id name="body" rows=rows node_ref=body_ref hidden=editing_rich>
                {crate::pages::compose::textarea_text(body)}
            </textarea>
            <Show when=editing_rich>
                <input type="hidden" name="format" value=RICH/>
                <input type="hidden" name="html" prop:value=move || html.get()/>
                <Toolbar editor_ref editor_id=editor_id.clone()/>
                <div
                    id=editor_id.clone()
                    class="rich-editor"
                    contenteditable="true"
                    role="textbox"
                    aria-multiline="true"
                    aria-label=label.clone()
                    node_ref=editor_ref
                    inner_html=html.get_untracked()
                    on:input=edited
                ></div>
            </Show>
        </div>
    }
}

/// What is done to the signature in the text.
#[derive(Debug, Clone)]
enum SignatureChange {
    /// Another address was chosen: its signature (or none) instead of the old one.
    Swap {
        old: Option<SignatureText>,
        new: Option<SignatureText>,
    },
    /// At the cursor.
    Insert(SignatureText),
    Remove(SignatureText),
}

/// The change in the text area: a swap leaves a block the writer edited alone
/// ([`crate::signature::swap`]), an insertion replaces the selection.
fn plain_signature(area: &leptos::web_sys::HtmlTextAreaElement, change: SignatureChange) {
    use crate::signature::{block, swap};
    match change {
        SignatureChange::Swap { old, new } => {
            let (old, new) = (old.map(|s| s.text), new.map(|s| s.text));
            area.set_value(&swap(&area.value(), old.as_deref(), new.as_deref()));
        }
        SignatureChange::Remove(signature) => area.set_value(&swap(&area.value(), Some(&signature.text), None)),
        SignatureChange::Insert(signature) => {
            let _ = area.focus();
            let _ = area.set_range_text(&block(&signature.text));
        }
    }
}

/// The change in the rich text: the signature is the block marked
/// [`crate::signature::SIGNATURE_ATTRIBUTE`]; a new one with no old one goes above the quote
/// (with the line that introduces it), else at the end.
#[cfg(feature = "hydrate")]
fn rich_signature(editor: &web_sys::HtmlDivElement, editor_ref: NodeRef<leptos::html::Div>, change: SignatureChange) {
    use crate::signature::{SIGNATURE_ATTRIBUTE, block_html};
    let marked = editor.query_selector(&format!("[{SIGNATURE_ATTRIBUTE}]")).ok().flatten();
    match change {
        SignatureChange::Swap { new: Some(new), .. } => match marked {
            Some(block) => block.set_outer_html(&block_html(&new)),
            None => match editor.query_selector("blockquote").ok().flatten() {
                Some(quote) => {
                    let anchor = quote.previous_element_sibling().unwrap_or(quote);
                    let _ = anchor.insert_adjacent_html("beforebegin", &block_html(&new));
                }
                None => {
                    let _ = editor.insert_adjacent_html("beforeend", &block_html(&new));
                }
            },
        },
        SignatureChange::Swap { new: None, .. } | SignatureChange::Remove(_) => {
            if let Some(block) = marked {
                block.remove();
            }
        }
        SignatureChange::Insert(signature) => {
            if let Some(block) = marked {
                block.remove();
            }
            run(editor_ref, "insertHTML", Some(&block_html(&signature)));
        }
    }
}

/// The formatting buttons. Each runs one of the browser's editing commands on the editor's
/// selection (`document.execCommand`: deprecated in name, but what every browser's
/// `contenteditable` implements, and it keeps the editor's undo history).
#[component]
fn Toolbar(editor_ref: NodeRef<leptos::html::Div>, editor_id: String) -> impl IntoView {
    let lang = use_lang();
    let link = move || {
        let answer = window().prompt_with_message(t(lang, Key::LinkAddress)).ok().flatten().unwrap_or_default();
        if let Some(url) = link_target(&answer) {
            run(editor_ref, "createLink", Some(&url));
        }
    };
    let size = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        if !value.is_empty() {
            run(editor_ref, "fontSize", Some(&value));
        }
    };
    let colour = move |ev: leptos::ev::Event| run(editor_ref, "foreColor", Some(&event_target_value(&ev)));
    // B3: a picture in the text, read in the page (no upload: it travels in the HTML).
    let picker = NodeRef::<leptos::html::Input>::new();
    let problem = RwSignal::new(None::<Key>);
    let pick_image = move || {
        if let Some(input) = picker.get_untracked() {
            input.click();
        }
    };
    // One per command; "link" and "image" ask for what to put first.
    let button = move |command: &'static str, label: Key, symbol: &'static str| {
        view! {
            <button
                type="button"
                class="tool"
                title=t(lang, label)
                aria-label=t(lang, label)
                // Keeps the editor's selection: a click would move the focus to the button.
                on:mousedown=|ev| ev.prevent_default()
                on:click=move |_| match command {
                    "link" => link(),
                    "image" => pick_image(),
                    command => run(editor_ref, command, None),
                }
            >
                {symbol}
            </button>
        }
    };
    let on_image = move |_ev: leptos::ev::Event| {
        problem.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(file) = picker.get_untracked().and_then(|input| input.files()).and_then(|files| files.item(0)) {
            match image_problem(&file.type_(), file.size() as u64) {
                Some(key) => problem.set(Some(key)),
                None => insert_image(editor_ref, &file),
            }
        }
        if let Some(input) = picker.get_untracked() {
            input.set_value("");
        }
    };
    view! {
        <div class="toolbar" role="toolbar" aria-label=t(lang, Key::Formatting) aria-controls=editor_id>
            {button("bold", Key::Bold, "B")}
            {button("italic", Key::Italic, "I")}
            {button("underline", Key::Underline, "U")}
            <select class="tool" aria-label=t(lang, Key::FontSize) title=t(lang, Key::FontSize) on:change=size>
                <option value="">{t(lang, Key::FontSize)}</option>
                <option value="2">{t(lang, Key::SizeSmall)}</option>
                <option value="3">{t(lang, Key::SizeNormal)}</option>
                <option value="5">{t(lang, Key::SizeLarge)}</option>
                <option value="7">{t(lang, Key::SizeHuge)}</option>
            </select>
            <input
                type="color"
                class="tool"
                aria-label=t(lang, Key::TextColour)
                title=t(lang, Key::TextColour)
                on:change=colour
            />
            {button("justifyLeft", Key::AlignLeft, "⯇")}
            {button("justifyCenter", Key::AlignCenter, "≡")}
            {button("justifyRight", Key::AlignRight, "⯈")}
            {button("insertUnorderedList", Key::BulletList, "•")}
            {button("insertOrderedList", Key::NumberedList, "1.")}
            {button("link", Key::InsertLink, "🔗")}
            {button("formatBlock:blockquote", Key::QuoteBlock, "❝")}
            {button("image", Key::InsertImage, "🖼")}
            <input
                type="file"
                class="visually-hidden"
                tabindex="-1"
                aria-label=t(lang, Key::InsertImage)
                accept=IMAGE_TYPES.join(",")
                node_ref=picker
                on:change=on_image
            />
            {button("removeFormat", Key::ClearFormatting, "⌫")}
            {move || problem.get().map(|key| view! { <span class="form-error" role="alert">{t(lang, key)}</span> })}
        </div>
    }
}

/// The pictures the text may hold: what every mail program shows.
const IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Why a file cannot go in the text, if it cannot: not a picture, or too large.
pub fn image_problem(content_type: &str, size: u64) -> Option<Key> {
    if !IMAGE_TYPES.contains(&content_type) {
        Some(Key::NotAnImage)
    } else if size > types::MAX_INLINE_IMAGE_BYTES as u64 {
        Some(Key::ImageTooLarge)
    } else {
        None
    }
}

/// Reads a picture and puts it at the editor's cursor.
#[cfg(feature = "hydrate")]
fn insert_image(editor_ref: NodeRef<leptos::html::Div>, file: &web_sys::File) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    let Ok(reader) = web_sys::FileReader::new() else { return };
    let read = reader.clone();
    let loaded = Closure::once(move || {
        if let Some(url) = read.result().ok().and_then(|result| result.as_string()) {
            run(editor_ref, "insertImage", Some(&url));
        }
    });
    reader.set_onload(Some(loaded.as_ref().unchecked_ref()));
    // Runs once, when the file is read; the page keeps it until then.
    loaded.forget();
    let _ = reader.read_as_data_url(file);
}

/// What a link typed in the prompt points to: the web address as typed, `https://` added when
/// it has no scheme, `mailto:` for an address; `None` for nothing or another scheme (the
/// server would drop it anyway).
pub fn link_target(typed: &str) -> Option<String> {
    let typed = typed.trim();
    if typed.is_empty() || typed.chars().any(char::is_whitespace) {
        return None;
    }
    let lower = typed.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") || lower.starts_with("mailto:") {
        return Some(typed.to_string());
    }
    if lower.contains(':') && !lower.contains('.') {
        return None;
    }
    match typed.split_once('@') {
        Some((local, domain)) if !local.is_empty() && domain.contains('.') && !typed.contains('/') => {
            Some(format!("mailto:{typed}"))
        }
        _ if lower.contains("://") || lower.starts_with("javascript:") || lower.starts_with("data:") => None,
        _ => Some(format!("https://{typed}")),
    }
}

/// Runs an editing command (`name`, or `formatBlock:tag`) on the editor, focused first: after
/// a choice in the size list or the colour picker the focus is there, not in the text.
fn run(editor_ref: NodeRef<leptos::html::Div>, name: &str, value: Option<&str>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(editor) = editor_ref.get_untracked() else { return };
        let _ = editor.focus();
        let Ok(document) = document().dyn_into::<web_sys::HtmlDocument>() else { return };
        // Sizes and colours as `style`, which the server keeps (it drops `<font>`).
        let _ = document.exec_command_with_show_ui_and_value("styleWithCSS", false, "true");
        let (name, value) = match name.split_once(':') {
            Some((name, tag)) => (name, Some(tag)),
            None => (name, value),
        };
        let _ = document.exec_command_with_show_ui_and_value(name, false, value.unwrap_or(""));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (editor_ref, name, value);
}

#[cfg(test)]
mod tests {
    use super::link_target;

    #[test]
    fn only_pictures_of_a_sensible_size_go_in_the_text() {
        use super::image_problem;
        use crate::i18n::Key;
        assert_eq!(image_problem("image/png", 2_000), None);
        assert_eq!(image_problem("image/svg+xml", 2_000), Some(Key::NotAnImage));
        assert_eq!(image_problem("application/pdf", 2_000), Some(Key::NotAnImage));
        assert_eq!(image_problem("image/jpeg", types::MAX_INLINE_IMAGE_BYTES as u64 + 1), Some(Key::ImageTooLarge));
    }

    #[test]
    fn typed_links_get_a_scheme_and_only_a_safe_one() {
        assert_eq!(link_target("https://example.org/a b"), None, "white space");
        assert_eq!(link_target(" https://example.org/cr "), Some("https://example.org/cr".into()));
        assert_eq!(link_target("example.org/cr"), Some("https://example.org/cr".into()));
        assert_eq!(link_target("ana@example.org"), Some("mailto:ana@example.org".into()));
        assert_eq!(link_target("javascript:alert(1)"), None);
        assert_eq!(link_target("data:text/html,x"), None);
        assert_eq!(link_target("ftp://example.org"), None);
        assert_eq!(link_target(""), None);
    }
}
