//! The composer's recipient fields (B8): each address a chip, checked as it is typed (a chip
//! that is not an address shows it), removable, draggable to another field (To, Cc, Bcc);
//! suggestions from the addresses the account has exchanged mail with, picked with the arrow
//! keys and Enter, or a click.
//!
//! Without the WASM (or until it has loaded) the field is a plain text input with the same name,
//! which the server reads the same way; once the page is live, the chips take over from what it
//! holds. The chips' value travels in a hidden input, so the form posts exactly the same field.

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::debounced::debounced;
use crate::recipients::{join_recipients, looks_valid, split_recipients};

/// At most this many suggestions are shown.
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
const MAX_SUGGESTIONS: u32 = 8;
/// How long after a keystroke suggestions are asked for.
const SUGGEST_DELAY: std::time::Duration = std::time::Duration::from_millis(150);

/// Addresses the account has written to or received from, matching `text` (B8).
#[server(endpoint = "suggest_recipients")]
pub async fn suggest_recipients(text: String) -> Result<Vec<String>, AppError> {
    use crate::ssr;
    use render::compose::{Mailbox, parse_recipients};
    let (store, account) = ssr::current_account().await?;
    let text = text.trim();
    if text.chars().count() < 2 || text.len() > 200 {
        return Ok(Vec::new());
    }
    let mail = expect_context::<mail::Mail>();
    let own: Vec<String> =
        ssr::compose::identities(&mail, &account).await?.into_iter().map(|a| a.to_ascii_lowercase()).collect();
    let found = store.correspondents(account.id, text, MAX_SUGGESTIONS).await?;
    let needle = text.to_lowercase();
    let mentions = |m: &Mailbox| {
        m.address.to_lowercase().starts_with(&needle)
            || m.name.as_deref().is_some_and(|name| name.to_lowercase().contains(&needle))
    };
    let sent_to = found.sent_to.iter().flat_map(|list| parse_recipients(list).unwrap_or_default()).filter(mentions);
    let senders = found
        .senders
        .into_iter()
        .map(|(name, address)| Mailbox { name: Some(name).filter(|n| !n.trim().is_empty()), address });
    let mut seen: Vec<String> = own;
    let mut suggestions = Vec::new();
    for mailbox in senders.chain(sent_to) {
        let key = mailbox.address.to_ascii_lowercase();
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        suggestions.push(mailbox.display());
        if suggestions.len() == MAX_SUGGESTIONS as usize {
            break;
        }
    }
    Ok(suggestions)
}

/// A chip being dragged: the field it comes from and its place there.
#[derive(Clone, Copy)]
pub(crate) struct DraggedChip(pub(crate) RwSignal<Option<(RwSignal<Vec<String>>, usize)>>);

/// One recipient field. `changed` runs when chips change without typing (removed, dragged),
/// so the draft is saved.
#[component]
pub fn RecipientField(
    id: &'static str,
    name: &'static str,
    label: Key,
    value: String,
    changed: Callback<()>,
    #[prop(optional)] placeholder: Option<Key>,
) -> impl IntoView {
    let lang = use_lang();
    let placeholder = placeholder.map(|key| t(lang, key));
    let chips = RwSignal::new(split_recipients(&value));
    let pending = RwSignal::new(String::new());
    let enhanced = RwSignal::new(false);
    // Once live, the chips take over, from what the plain field holds then (typed before the
    // page came alive).
    let plain = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = plain.get_untracked() {
            chips.set(split_recipients(&input.value()));
        }
        enhanced.set(true);
    });
    // The last suggestions found. Asked for without an action: an answer may come after the
    // field is gone (the composer replaced after "Save draft"), and then it is dropped
    // (`try_set`), where an action read its disposed value and stopped the page.
    let found = RwSignal::new(Vec::<String>::new());
    let open = RwSignal::new(false);
    let active = RwSignal::new(None::<usize>);
    let suggestions = move || if open.get() { found.get() } else { Vec::new() };
    // Only the answer to the last question counts (an older one may come back later).
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let ask_later = debounced(SUGGEST_DELAY, move |text: String| {
        use std::sync::atomic::Ordering;
        let question = asked.fetch_add(1, Ordering::Relaxed) + 1;
        let asked = std::sync::Arc::clone(&asked);
        leptos::task::spawn_local(async move {
            if let Ok(list) = suggest_recipients(text).await
                && asked.load(Ordering::Relaxed) == question
            {
                found.try_set(list);
            }
        });
    });
    let dragged = use_context::<DraggedChip>();

    let hidden = move || {
        let mut items = chips.get();
        let typed = pending.get();
        if !typed.trim().is_empty() {
            items.push(typed.trim().to_string());
        }
        join_recipients(&items)
    };
    let commit = move || {
        let typed = pending.get_untracked();
        let items = split_recipients(&typed);
        if !items.is_empty() {
            chips.update(|c| c.extend(items));
        }
        pending.set(String::new());
        open.set(false);
        active.set(None);
    };
    let pick = move |choice: String| {
        chips.update(|c| c.push(choice));
        pending.set(String::new());
        open.set(false);
        active.set(None);
        changed.run(());
    };
    let on_input = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        // What is followed by a comma or semicolon becomes chips; the rest is still being typed.
        let ends_item = text.ends_with([',', ';']);
        let mut items = split_recipients(&text);
        let rest = if ends_item { String::new() } else { items.pop().unwrap_or_default() };
        if !items.is_empty() {
            chips.update(|c| c.extend(items));
        }
        pending.set(rest.clone());
        active.set(None);
        open.set(rest.trim().chars().count() >= 2);
        if rest.trim().chars().count() >= 2 {
            ask_later(rest.trim().to_string());
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        let count = suggestions().len();
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
            }
            "Enter" | "Tab" if active.get_untracked().is_some() => {
                ev.prevent_default();
                if let Some(choice) = active.get_untracked().and_then(|i| suggestions().get(i).cloned()) {
                    pick(choice);
                }
            }
            // Enter ends the address being typed; it never sends the form from here.
            "Enter" => {
                ev.prevent_default();
                commit();
            }
            "Escape" => open.set(false),
            "Backspace" if pending.get_untracked().is_empty() => {
                // The last chip comes back as text, to be corrected.
                if let Some(last) = chips.try_update(|c| c.pop()).flatten() {
                    ev.prevent_default();
                    pending.set(last);
                }
            }
            _ => {}
        }
    };
    let remove = move |index: usize| {
        chips.update(|c| {
            if index < c.len() {
                c.remove(index);
            }
        });
        changed.run(());
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        let Some(DraggedChip(source)) = dragged else { return };
        let Some((from, index)) = source.get_untracked() else { return };
        ev.prevent_default();
        source.set(None);
        if from == chips {
            return;
        }
        let Some(item) = from.try_update(|c| (index < c.len()).then(|| c.remove(index))).flatten() else { return };
        chips.update(|c| c.push(item));
        changed.run(());
    };
    let listbox = format!("{id}-suggestions");
    let option_id = move |index: usize| format!("{id}-suggestion-{index}");
    let chip_views = move || {
        chips
            .get()
            .into_iter()
            .enumerate()
            .map(|(index, item)| {
                let valid = looks_valid(&item);
                let title = (!valid).then(|| t(lang, Key::ErrBadRecipient));
                let remove_label = format!("{} {item}", t(lang, Key::RemoveAttachment));
                view! {
                    <span
                        class="chip"
                        class:invalid=!valid
                        title=title
                        draggable="true"
                        on:dragstart=move |_| {
                            if let Some(DraggedChip(source)) = dragged {
                                source.set(Some((chips, index)));
                            }
                        }
                    >
                        {item.clone()}
                        <button type="button" class="chip-remove" aria-label=remove_label on:click=move |_| remove(index)>
                            "×"
                        </button>
                    </span>
                }
            })
            .collect_view()
    };
    let fallback_value = value.clone();
    view! {
        <div class="field">
            <label for=id>{t(lang, label)}</label>
            <Show
                when=move || enhanced.get()
                fallback=move || {
                    view! {
                        <input
                            id=id
                            name=name
                            type="text"
                            node_ref=plain
                            value=fallback_value.clone()
                            autocomplete="off"
                            placeholder=placeholder
                        />
                    }
                }
            >
                <div
                    class="recipients"
                    on:dragover=move |ev: leptos::ev::DragEvent| ev.prevent_default()
                    on:drop=on_drop
                >
                    <input type="hidden" name=name value=hidden/>
                    {chip_views}
                    <input
                        id=id
                        type="text"
                        class="recipient-input"
                        autocomplete="off"
                        role="combobox"
                        aria-autocomplete="list"
                        aria-controls=listbox.clone()
                        aria-expanded=move || (!suggestions().is_empty()).to_string()
                        aria-activedescendant=move || active.get().map(option_id)
                        placeholder=move || chips.with(Vec::is_empty).then_some(placeholder).flatten()
                        prop:value=move || pending.get()
                        on:input=on_input
                        on:keydown=on_keydown
                        on:blur=move |_| commit()
                    />
                    <ul id=listbox.clone() role="listbox" class="suggestions" hidden=move || suggestions().is_empty()>
                        {move || {
                            suggestions()
                                .into_iter()
                                .enumerate()
                                .map(|(index, choice)| {
                                    let picked = choice.clone();
                                    view! {
                                        <li
                                            id=option_id(index)
                                            role="option"
                                            aria-selected=move || (active.get() == Some(index)).to_string()
                                            // Before the field loses the focus (which would end the typing).
                                            on:mousedown=move |ev| {
                                                ev.prevent_default();
                                                pick(picked.clone());
                                            }
                                        >
                                            {choice}
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </div>
            </Show>
        </div>
    }
}
