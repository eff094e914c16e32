//! The mail view's keyboard and mouse shortcuts (issue 16), once the page runs: `j`/`k` move
//! between messages and open them, `o` or Enter opens the one focused, `x` ticks it, `#`
//! deletes the ticked messages (else the one open), `r`/`a`/`f` answer, answer all or forward
//! it, `?` shows the list. In the list, shift-click ticks a range and ctrl-click (cmd-click)
//! ticks a row instead of opening it; "select all" ticks the page.
//!
//! They drive the page's own links, checkboxes and buttons, so every shortcut does exactly
//! what a click does, and the page works the same without them.

use leptos::prelude::*;

use crate::i18n::{Key, t, use_lang};

/// The shortcuts, as the help lists them.
const SHORTCUTS: [(&str, Key); 9] = [
    ("j", Key::ShortcutNext),
    ("k", Key::ShortcutPrevious),
    ("o", Key::ShortcutOpen),
    ("x", Key::ShortcutTick),
    ("#", Key::ShortcutDelete),
    ("r", Key::Reply),
    ("a", Key::ReplyAll),
    ("f", Key::Forward),
    ("?", Key::ShortcutHelp),
];

/// The list of shortcuts, shown by `?` (and closed by Escape or its button).
#[component]
pub fn ShortcutHelp(open: RwSignal<bool>) -> impl IntoView {
    let lang = use_lang();
    // Made each time the list opens: a view is not cloned.
    let rows = move || {
        SHORTCUTS
            .iter()
            .map(|(key, what)| {
                view! {
                    <div class="shortcut">
                        <dt><kbd>{*key}</kbd></dt>
                        <dd>{t(lang, *what)}</dd>
                    </div>
                }
            })
            .collect_view()
    };
    view! {
        <Show when=move || open.get()>
            <div class="shortcut-help card" role="dialog" aria-modal="false" aria-labelledby="shortcut-title">
                <h2 id="shortcut-title">{t(lang, Key::KeyboardShortcuts)}</h2>
                <dl>{rows()}</dl>
                <button type="button" class="button" on:click=move |_| open.set(false)>{t(lang, Key::Close)}</button>
            </div>
        </Show>
    }
}

/// Listens on the document while the mail view is shown (browser only).
#[cfg(feature = "hydrate")]
pub fn follow_shortcuts(help: RwSignal<bool>) {
    use leptos::wasm_bindgen::JsCast;
    use leptos::wasm_bindgen::closure::Closure;
    use std::cell::Cell;
    use std::rc::Rc;

    let document = document();
    let on_key = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(move |event: web_sys::KeyboardEvent| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() || typing(event.target()) {
            return;
        }
        let done = match event.key().as_str() {
            "j" => step(1),
            "k" => step(-1),
            "o" => click_focused_row(),
            "x" => tick_focused_row(),
            "#" => delete(),
            "r" => click(".message-actions a[href*='?reply=']"),
            "a" => click(".message-actions a[href*='?reply_all=']"),
            "f" => click(".message-actions a[href*='?forward=']"),
            "?" => {
                help.update(|open| *open = !*open);
                true
            }
            "Escape" if help.get_untracked() => {
                help.set(false);
                true
            }
            _ => false,
        };
        if done {
            event.prevent_default();
        }
    });
    // The row last ticked or unticked by a click, for shift-click ranges.
    let last_ticked: Rc<Cell<Option<usize>>> = Rc::default();
    let on_click = Closure::<dyn FnMut(web_sys::MouseEvent)>::new(move |event: web_sys::MouseEvent| {
        let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
        if target.id() == "select-all" {
            let checked = target.unchecked_ref::<web_sys::HtmlInputElement>().checked();
            for check in row_checks() {
                check.set_checked(checked);
            }
            return;
        }
        let checks = row_checks();
        if target.class_list().contains("row-check") {
            let Some(index) = checks.iter().position(|c| c.unchecked_ref::<web_sys::Element>() == &target) else {
                return;
            };
            if event.shift_key()
                && let Some(last) = last_ticked.get()
            {
                let checked = checks[index].checked();
                for check in &checks[index.min(last)..=index.max(last)] {
                    check.set_checked(checked);
                }
            }
            last_ticked.set(Some(index));
            return;
        }
        // Ctrl-click (cmd-click) on a row ticks it instead of opening it.
        if (event.ctrl_key() || event.meta_key())
            && let Ok(Some(row)) = target.closest(".message-row")
            && let Ok(Some(check)) = row.query_selector(".row-check")
        {
            event.prevent_default();
            event.stop_propagation();
            let check = check.unchecked_into::<web_sys::HtmlInputElement>();
            check.set_checked(!check.checked());
        }
    });
    let _ = document.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    // Capture: before the router, which would open the row.
    let _ = document.add_event_listener_with_callback_and_bool("click", on_click.as_ref().unchecked_ref(), true);
    let (on_key, on_click) = (StoredValue::new_local(on_key), StoredValue::new_local(on_click));
    on_cleanup(move || {
        let document = leptos::prelude::document();
        on_key.try_with_value(|f| document.remove_event_listener_with_callback("keydown", f.as_ref().unchecked_ref()));
        on_click.try_with_value(|f| {
            document.remove_event_listener_with_callback_and_bool("click", f.as_ref().unchecked_ref(), true)
        });
    });
}

#[cfg(not(feature = "hydrate"))]
pub fn follow_shortcuts(_help: RwSignal<bool>) {}

/// Puts new rows (markup from the server) in `list`, keeping what the reader did to the old
/// ones: the ticked messages stay ticked and the focused row's link or checkbox keeps the
/// focus, found by message id. Nothing happens when the markup is the one last put there.
#[cfg(feature = "hydrate")]
pub(crate) fn replace_rows(list: &web_sys::HtmlElement, rows: &str) {
    use leptos::wasm_bindgen::JsCast;
    const SHOWN: &str = "data-rows-shown";
    let digest = rows_digest(rows);
    if list.get_attribute(SHOWN).as_deref() == Some(digest.as_str()) {
        return;
    }
    let ticked: Vec<String> = row_checks().iter().filter(|check| check.checked()).map(|check| check.value()).collect();
    let focused = document().active_element().filter(|element| list.contains(Some(element.as_ref())));
    let focus = focused.as_ref().and_then(|element| {
        let row = element.closest(".message-row").ok().flatten()?;
        let on_check = element.class_list().contains("row-check");
        Some((row.get_attribute("data-id")?, on_check))
    });
    list.set_inner_html(rows);
    let _ = list.set_attribute(SHOWN, &digest);
    for check in row_checks() {
        if ticked.contains(&check.value()) {
            check.set_checked(true);
        }
    }
    if let Some((id, on_check)) = focus {
        let part = if on_check { ".row-check" } else { "a" };
        // Ids are numbers (the server writes them), so the selector needs no escaping.
        if id.bytes().all(|b| b.is_ascii_digit())
            && let Ok(Some(element)) = list.query_selector(&format!(".message-row[data-id=\"{id}\"] {part}"))
            && let Ok(element) = element.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = element.focus();
        }
    }
}

/// A short fingerprint of a list's markup, to tell whether it changed (FNV-1a).
#[cfg(feature = "hydrate")]
fn rows_digest(rows: &str) -> String {
    let hash = rows
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
    format!("{:x}-{}", hash, rows.len())
}

/// Whether a key press goes to something being typed in.
#[cfg(feature = "hydrate")]
fn typing(target: Option<web_sys::EventTarget>) -> bool {
    use leptos::wasm_bindgen::JsCast;
    let Some(element) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else { return false };
    match element.tag_name().as_str() {
        // A ticked checkbox keeps the focus: shortcuts still work there.
        "INPUT" => !matches!(
            element.get_attribute("type").unwrap_or_default().as_str(),
            "checkbox" | "radio" | "button" | "submit" | "reset"
        ),
        "TEXTAREA" | "SELECT" => true,
        _ => element.is_content_editable(),
    }
}

#[cfg(feature = "hydrate")]
fn row_checks() -> Vec<web_sys::HtmlInputElement> {
    use leptos::wasm_bindgen::JsCast;
    let Ok(list) = document().query_selector_all(".message-row .row-check") else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|node| node.dyn_into().ok()).collect()
}

#[cfg(feature = "hydrate")]
fn row_links() -> Vec<web_sys::HtmlElement> {
    use leptos::wasm_bindgen::JsCast;
    let Ok(list) = document().query_selector_all(".message-row > a") else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|node| node.dyn_into().ok()).collect()
}

/// The row whose link has the focus, else the open message's.
#[cfg(feature = "hydrate")]
fn current_row(links: &[web_sys::HtmlElement]) -> Option<usize> {
    let focused = document().active_element();
    links
        .iter()
        .position(|link| focused.as_ref().is_some_and(|f| f == link.as_ref() as &web_sys::Element))
        .or_else(|| links.iter().position(|link| link.get_attribute("aria-current").is_some()))
}

/// `j`/`k`: opens the next or previous message and keeps the focus on its row.
#[cfg(feature = "hydrate")]
fn step(by: isize) -> bool {
    let links = row_links();
    let next = match current_row(&links) {
        Some(index) => index.checked_add_signed(by).filter(|&i| i < links.len()),
        None => (!links.is_empty()).then_some(0),
    };
    let Some(next) = next else { return false };
    let _ = links[next].focus();
    links[next].click();
    true
}

#[cfg(feature = "hydrate")]
fn click_focused_row() -> bool {
    let links = row_links();
    let Some(index) = current_row(&links) else { return false };
    links[index].click();
    true
}

#[cfg(feature = "hydrate")]
fn tick_focused_row() -> bool {
    let links = row_links();
    let Some(index) = current_row(&links) else { return false };
    let checks = row_checks();
    let Some(check) = checks.get(index) else { return false };
    check.set_checked(!check.checked());
    true
}

/// `#`: the ticked messages, else the one open.
#[cfg(feature = "hydrate")]
fn delete() -> bool {
    if row_checks().iter().any(|c| c.checked()) {
        click(".list-toolbar button[value='delete']")
    } else {
        click(".message-tools button[value='delete']")
    }
}

#[cfg(feature = "hydrate")]
fn click(selector: &str) -> bool {
    use leptos::wasm_bindgen::JsCast;
    match document().query_selector(selector) {
        Ok(Some(element)) => match element.dyn_into::<web_sys::HtmlElement>() {
            Ok(element) => {
                element.click();
                true
            }
            Err(_) => false,
        },
        _ => false,
    }
}
