//! The message list's rows (C5, C9), written as markup on the server only. `mail_view`
//! sends them as one string of `<li>` rows, which the page shows once: the server-rendered
//! page holds them as markup but not again in its hydration data (`mail::SentOnce`), and the
//! browser puts a later answer's rows in place as they are (`mail::MessageRows`), so the WASM
//! builds no row itself.

use leptos::prelude::*;

use super::mail::{Paperclip, TagChip};
use crate::dto::{ListPlace, MessageListItem};
use crate::i18n::{Key, Lang, t};

/// The rows of `items` as markup, each a link into `place` with the list's `query`, the
/// message `open` marked as the one shown.
pub(crate) fn rows_html(
    items: Vec<MessageListItem>,
    place: &ListPlace,
    query: &str,
    open: Option<i64>,
    lang: Lang,
) -> String {
    items
        .into_iter()
        .map(|item| {
            let selected = open == Some(item.id);
            let href = place.path(Some(item.id), query);
            view! { <MessageRow item href selected lang/> }.to_html()
        })
        .collect()
}

#[component]
fn MessageRow(item: MessageListItem, href: String, selected: bool, lang: Lang) -> impl IntoView {
    let sender = if item.sender.is_empty() { t(lang, Key::UnknownSender).to_string() } else { item.sender.clone() };
    let subject =
        if item.subject.trim().is_empty() { t(lang, Key::NoSubject).to_string() } else { item.subject.clone() };
    let colon = if lang == Lang::Fr { " : " } else { ": " };
    let choose_label = format!("{}{colon}{subject}", t(lang, Key::Choose));
    let chips = item.tags.iter().cloned().map(|tag| view! { <TagChip tag/> }).collect_view();
    let mark = move |shown: bool, symbol: &'static str, class: &'static str, key: Key| {
        shown.then(|| {
            view! {
                <span class=format!("mark {class}") title=t(lang, key)>
                    <span aria-hidden="true">{symbol}</span>
                    <span class="visually-hidden">{t(lang, key)}</span>
                </span>
            }
        })
    };
    view! {
        <li
            class="message-row"
            class:unread=item.unread
            class:selected=selected
            class:flagged=item.flagged
            class:deleted=item.deleted
            data-id=item.id.to_string()
            draggable="true"
        >
            <input type="checkbox" class="row-check" name="id" value=item.id.to_string() aria-label=choose_label/>
            <a href=href aria-current=selected.then_some("page")>
                <span class="row-line">
                    <span class="sender" title=item.sender_address.clone()>
                        {if item.sender.is_empty() { sender.into_any() } else { marked_text(sender, &item.sender_marks) }}
                        {(item.thread_count > 1)
                            .then(|| {
                                view! {
                                    <span class="thread-count" title=format!("{} {}", item.thread_count, t(lang, Key::MessagesInThread))>
                                        <span aria-hidden="true">{item.thread_count}</span>
                                        <span class="visually-hidden">
                                            {format!(", {} {}", item.thread_count, t(lang, Key::MessagesInThread))}
                                        </span>
                                    </span>
                                }
                            })}
                    </span>
                    <time class="date" datetime=item.iso_date.clone() title=item.full_date.clone()>
                        {item.short_date.clone()}
                    </time>
                </span>
                <span class="row-line">
                    <span class="subject">
                        {item.unread.then(|| view! { <span class="visually-hidden">{t(lang, Key::Unread)}", "</span> })}
                        {item.deleted
                            .then(|| view! { <span class="visually-hidden">{t(lang, Key::MarkedDeleted)}", "</span> })}
                        {item.priority_high
                            .then(|| {
                                view! {
                                    <span class="priority" title=t(lang, Key::HighPriority)>
                                        <span aria-hidden="true">"!"</span>
                                        <span class="visually-hidden">{t(lang, Key::HighPriority)}", "</span>
                                    </span>
                                }
                            })}
                        {if item.subject.trim().is_empty() { subject.into_any() } else { marked_text(subject, &item.subject_marks) }}
                    </span>
                    <span class="row-tags">{chips}</span>
                    <span class="row-meta">
                        {mark(item.has_comment, "✎", "comment", Key::HasComment)}
                        {mark(item.answered, "↩", "answered", Key::Answered)}
                        {mark(item.forwarded, "↪", "forwarded", Key::Forwarded)}
                        {item.has_attachments.then(|| view! { <Paperclip label=t(lang, Key::HasAttachments)/> })}
                        {mark(item.flagged, "⚑", "flag", Key::Flagged)}
                        <span class="size">{item.size.clone()}</span>
                    </span>
                </span>
            </a>
        </li>
    }
}

/// `text` with the byte ranges `marks` in `<mark>` (search results).
fn marked_text(text: String, marks: &[(u32, u32)]) -> AnyView {
    if marks.is_empty() {
        return text.into_any();
    }
    let mut pieces = Vec::new();
    let mut at = 0;
    for &(from, to) in marks {
        let (from, to) = (from as usize, to as usize);
        if from < at || to > text.len() || !text.is_char_boundary(from) || !text.is_char_boundary(to) {
            continue;
        }
        pieces.push((text[at..from].to_string(), false));
        pieces.push((text[from..to].to_string(), true));
        at = to;
    }
    pieces.push((text[at..].to_string(), false));
    pieces
        .into_iter()
        .map(|(piece, marked)| if marked { view! { <mark>{piece}</mark> }.into_any() } else { piece.into_any() })
        .collect_view()
        .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::{Tag, TagColour};

    fn item(id: i64, sender: &str, subject: &str) -> MessageListItem {
        MessageListItem {
            id,
            sender: sender.to_string(),
            sender_address: format!("\"{sender}\"@example.net"),
            subject: subject.to_string(),
            short_date: "09:30".to_string(),
            full_date: "Mon 7 Dec 2026 09:30".to_string(),
            iso_date: "2026-12-07T09:30:00+00:00".to_string(),
            size: "2 kB".to_string(),
            unread: true,
            has_attachments: false,
            priority_high: false,
            flagged: false,
            answered: false,
            forwarded: false,
            deleted: false,
            tags: vec![Tag { keyword: "x".to_string(), name: "<b>tag</b>".to_string(), colour: TagColour::Red }],
            has_comment: false,
            thread_count: 0,
            subject_marks: Vec::new(),
            sender_marks: Vec::new(),
        }
    }

    #[test]
    fn what_a_sender_wrote_is_text_in_the_rows_never_markup() {
        let mut hostile = item(7, "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)> invoice");
        // A search's marks split the subject: each piece is escaped as well.
        hostile.subject_marks = vec![(31, 38)];
        let rows = rows_html(
            vec![hostile, item(8, "Ana", "Lunch")],
            &ListPlace::Folder(3),
            "?sort=date-asc",
            Some(8),
            Lang::En,
        );
        assert!(!rows.contains("<script") && !rows.contains("<img") && !rows.contains("<b>"), "{rows}");
        assert!(rows.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{rows}");
        assert!(rows.contains("<mark>invoice</mark>"), "{rows}");
        // No attribute is closed early by a quote the sender chose.
        assert!(!rows.contains("\"><img"), "{rows}");
        assert_eq!(rows.matches("<li ").count(), 2);
        assert!(rows.contains("href=\"/mail/3/7?sort=date-asc\""), "{rows}");
        // The open message's row says so.
        let open = &rows[rows.find("data-id=\"8\"").unwrap()..];
        assert!(open.contains("aria-current=\"page\"") && rows.contains("selected"), "{rows}");
    }
}
