//! POST [`ACTIONS_PATH`]: what the message list's and the reading pane's buttons do (D4–D8):
//! mark read or unread, flag, move to a folder, delete into Trash (for good from Trash), empty
//! Trash after a confirmation, add or remove a tag, write or remove a comment, take an
//! attachment out of a message (C7).
//!
//! The chosen messages are acted on in the folder each is in (a tag's list shows several
//! folders); the form's `folder` names the list's own folder, for emptying Trash.
//!
//! A plain form post answered with `303 See Other` back to the page it came from, so the
//! buttons work before the WASM has loaded (and without it). It is an axum handler, not a
//! server function, because the list names each chosen message in its own `id=` field, which a
//! server function's form decoding cannot read as a list. Every change goes through `Mail`, so
//! IMAP clients see it at once.

use axum::body::Bytes;
use axum::http::header::HeaderMap;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::dto::with_query_pair;
use crate::error::AppError;
use crate::i18n::{Key, Lang, t};
pub(super) use crate::pages::mail::ACTIONS_PATH;
use store::{FlagOp, Flags, FolderId, MessageId, SpecialUse};

/// At most this many messages in one action (a page shows 100).
const MAX_MESSAGES: usize = 1000;

/// What a button asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Read,
    Unread,
    Flag,
    Unflag,
    Move(FolderId),
    /// Into Trash; from Trash for good, asked again first unless `confirmed` (D5).
    Delete {
        confirmed: bool,
    },
    /// D6, by keyword.
    Tag(String),
    Untag(String),
    /// D7: the text (empty removes it).
    Comment(String),
    /// C7: the attachment at this index (as the reading pane lists them) is taken out of the
    /// one chosen message, a note left in its place.
    RemoveAttachment(u32),
    /// Empty Trash; asked again first unless `confirmed`, then only the messages the page
    /// showed (UIDs below `below`), not those moved there since.
    EmptyTrash {
        confirmed: bool,
        below: Option<u32>,
    },
}

/// The form, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActionRequest {
    /// The list's folder; none for a tag's list.
    folder: Option<FolderId>,
    ids: Vec<MessageId>,
    action: Action,
    /// Where to go afterwards: a page of the mail view.
    back: String,
    /// The page's script posted it (a drop) and wants no redirect: `204 No Content`.
    quiet: bool,
    /// C11: each chosen message stands for its whole conversation in its folder.
    whole_threads: bool,
}

/// Why a form cannot be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormError {
    /// Missing or malformed fields.
    Malformed,
    /// More than [`MAX_MESSAGES`].
    TooMany,
}

fn parse_form(body: &[u8]) -> Result<ActionRequest, FormError> {
    let (mut folder, mut action, mut to, mut back, mut confirmed) = (None, None, None, None, false);
    let (mut tag, mut comment, mut quiet, mut whole_threads) = (None, None, false, false);
    let (mut below, mut part) = (None, None);
    let mut ids = Vec::new();
    for (name, value) in form_urlencoded::parse(body) {
        match &*name {
            "folder" => folder = Some(value.parse().map_err(|_| FormError::Malformed)?),
            "id" => {
                if ids.len() == MAX_MESSAGES {
                    return Err(FormError::TooMany);
                }
                ids.push(MessageId(value.parse().map_err(|_| FormError::Malformed)?));
            }
            "action" => action = Some(value.into_owned()),
            // The list's move menu starts on an empty choice.
            "to" if !value.is_empty() => to = Some(value.parse().map_err(|_| FormError::Malformed)?),
            "back" => back = Some(value.into_owned()),
            "tag" if !value.is_empty() => tag = Some(value.into_owned()),
            "comment" => comment = Some(value.into_owned()),
            "reply" => quiet = value == "none",
            "whole_threads" => whole_threads = value == "1",
            "below" => below = Some(value.parse().map_err(|_| FormError::Malformed)?),
            "confirm" => confirmed = value == "yes",
            "part" => part = Some(value.parse().map_err(|_| FormError::Malformed)?),
            _ => {}
        }
    }
    let folder = folder.map(FolderId);
    let action = match action.as_deref().ok_or(FormError::Malformed)? {
        "read" => Action::Read,
        "unread" => Action::Unread,
        "flag" => Action::Flag,
        "unflag" => Action::Unflag,
        "move" => Action::Move(FolderId(to.ok_or(FormError::Malformed)?)),
        "delete" => Action::Delete { confirmed },
        "empty" if folder.is_some() => Action::EmptyTrash { confirmed, below },
        "tag" => Action::Tag(tag.ok_or(FormError::Malformed)?),
        "untag" => Action::Untag(tag.ok_or(FormError::Malformed)?),
        "comment" => Action::Comment(comment.ok_or(FormError::Malformed)?),
        "uncomment" => Action::Comment(String::new()),
        "remove_attachment" if ids.len() == 1 => Action::RemoveAttachment(part.ok_or(FormError::Malformed)?),
        _ => return Err(FormError::Malformed),
    };
    let back = back
        .filter(|back| is_mail_page(back))
        .unwrap_or_else(|| folder.map_or_else(|| "/mail".to_string(), |folder| format!("/mail/{}", folder.0)));
    Ok(ActionRequest { folder, ids, action, back, quiet, whole_threads })
}

/// Whether `path` is a page of the mail view on this site (never another site: `//host` or
/// `/\host` are links elsewhere for a browser).
fn is_mail_page(path: &str) -> bool {
    let route = path.split('?').next().unwrap_or_default();
    // A `.` or `..` segment, written plainly or percent-encoded, would leave the mail view.
    let dot_segment = |segment: &str| {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        decoded == "." || decoded == ".."
    };
    path.len() <= 2048
        && (route == "/mail" || route.starts_with("/mail/"))
        && !route.split('/').any(dot_segment)
        && !path.contains("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// The handler: the session's account, then the action, then back.
pub(super) async fn act(mail: mail::Mail, auth: auth::Auth, headers: HeaderMap, body: Bytes) -> Response {
    let lang = super::lang_of(&headers);
    let account = match super::session_of(&auth, &headers).await {
        Ok(Some(account)) => account,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(error) => {
            tracing::error!(%error, "web client: message action failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, Key::ErrInternal);
        }
    };
    let request = match parse_form(&body) {
        Ok(request) => request,
        Err(FormError::TooMany) => return error_page(StatusCode::BAD_REQUEST, lang, Key::ErrTooManyChosen),
        Err(FormError::Malformed) => return error_page(StatusCode::BAD_REQUEST, lang, Key::ErrBadForm),
    };
    match perform(&mail, &account, &request, lang).await {
        Ok(Some(ask)) => Redirect::to(&ask).into_response(),
        Ok(None) if request.quiet => StatusCode::NO_CONTENT.into_response(),
        Ok(None) => Redirect::to(&request.back).into_response(),
        Err(AppError::NotFound) => error_page(StatusCode::NOT_FOUND, lang, Key::ErrNotFound),
        Err(AppError::TooManyChosen) => error_page(StatusCode::BAD_REQUEST, lang, Key::ErrTooManyChosen),
        Err(AppError::WholeMessageAttachment) => {
            error_page(StatusCode::BAD_REQUEST, lang, Key::ErrWholeMessageAttachment)
        }
        // Logged where it happened; the reader is told the server failed.
        Err(error) => error_page(StatusCode::INTERNAL_SERVER_ERROR, lang, error.message_key()),
    }
}

/// Does what `request` asks; `Some(url)` to go there rather than back: when it must be asked
/// again first (emptying Trash), or the message shown has a new id (an attachment removed).
async fn perform(
    mail: &mail::Mail,
    account: &store::Account,
    request: &ActionRequest,
    lang: Lang,
) -> Result<Option<String>, AppError> {
    let store = mail.store();
    // The list's folder, when named, is the account's own: another's is not found.
    let list_folder = match request.folder {
        Some(folder) => Some(store.folder(account.id, folder).await?.ok_or(AppError::NotFound)?),
        None => None,
    };
    if let Action::EmptyTrash { confirmed, below } = request.action {
        // Only Trash is emptied: anywhere else there is no such thing to do.
        let trash =
            list_folder.filter(|folder| folder.special_use == Some(SpecialUse::Trash)).ok_or(AppError::NotFound)?;
        if !confirmed {
            return Ok(Some(with_query_pair(&request.back, "confirm=empty")));
        }
        let shown = |uid: u32| below.is_none_or(|below| uid < below);
        let uids: Vec<u32> =
            store.message_states(account.id, trash.id).await?.iter().map(|m| m.uid).filter(|&uid| shown(uid)).collect();
        mail.delete_for_good(account.id, trash.id, &uids).await?;
        // And the folders deleted into Trash, with theirs (each removes its own subfolders).
        let inside = format!("{}/", trash.name);
        for folder in store.folders(account.id).await? {
            if folder.name.strip_prefix(&inside).is_some_and(|rest| !rest.contains('/')) {
                mail.delete_folder(account.id, &folder.name).await?;
            }
        }
        return Ok(None);
    }
    // The chosen messages, the account's own by construction, by the folder each is in. Those
    // gone since the page was shown (moved by IMAP) are skipped.
    let mut rows = store.messages_by_ids(account.id, &request.ids).await?;
    if request.whole_threads {
        // Conversations are a folder's: only the list's own, and within the bound on one action.
        let folder = list_folder.as_ref().ok_or(AppError::NotFound)?.id;
        rows.retain(|row| row.folder_id == folder);
        rows = with_their_conversations(store, account.id, folder, rows).await?;
        if rows.len() > MAX_MESSAGES {
            return Err(AppError::TooManyChosen);
        }
    }
    if let Action::RemoveAttachment(part) = request.action {
        let row = rows.first().ok_or(AppError::NotFound)?;
        let new = remove_attachment(mail, account, row, part, lang).await?;
        return Ok(Some(with_message(&request.back, row.id, new)));
    }
    if let Action::Comment(text) = &request.action {
        for row in &rows {
            store.set_comment(account.id, row.id, Some(text)).await.map_err(|error| match error {
                store::Error::Invalid { .. } => AppError::InvalidName,
                other => other.into(),
            })?;
        }
        return Ok(None);
    }
    if let Action::Delete { confirmed: false } = request.action {
        let trash = store.special_folder(account.id, SpecialUse::Trash).await?.id;
        if rows.iter().any(|row| row.folder_id == trash) {
            // Some would go for good: the page asks first, naming the messages chosen.
            let chosen: Vec<String> = request.ids.iter().map(|id| id.0.to_string()).collect();
            return Ok(Some(with_query_pair(&request.back, &format!("confirm=delete&chosen={}", chosen.join(",")))));
        }
    }
    let keyword = match &request.action {
        Action::Tag(keyword) | Action::Untag(keyword) => {
            // Only the account's own tags: not any keyword a form names.
            let tags = mail.tags(account.id).await?;
            Some(tags.into_iter().find(|tag| tag.keyword == *keyword).ok_or(AppError::NotFound)?.keyword)
        }
        _ => None,
    };
    let target = match request.action {
        Action::Move(to) => Some(store.folder(account.id, to).await?.ok_or(AppError::NotFound)?.id),
        _ => None,
    };
    let mut by_folder: Vec<(FolderId, Vec<u32>)> = Vec::new();
    for row in rows {
        match by_folder.iter_mut().find(|(folder, _)| *folder == row.folder_id) {
            Some((_, uids)) => uids.push(row.uid),
            None => by_folder.push((row.folder_id, vec![row.uid])),
        }
    }
    let mut trash = None;
    for (folder, uids) in by_folder {
        let flags = |op, flags| mail.set_flags(account.id, folder, &uids, op, flags, &[]);
        let keywords = |op| mail.set_flags(account.id, folder, &uids, op, Flags::empty(), keyword.as_slice());
        match request.action {
            Action::Read => drop(flags(FlagOp::Add, Flags::SEEN).await?),
            Action::Unread => drop(flags(FlagOp::Remove, Flags::SEEN).await?),
            Action::Flag => drop(flags(FlagOp::Add, Flags::FLAGGED).await?),
            Action::Unflag => drop(flags(FlagOp::Remove, Flags::FLAGGED).await?),
            Action::Tag(_) => drop(keywords(FlagOp::Add).await?),
            Action::Untag(_) => drop(keywords(FlagOp::Remove).await?),
            Action::Move(_) => {
                if let Some(target) = target.filter(|target| *target != folder) {
                    mail.move_messages(account.id, folder, &uids, target).await?;
                }
            }
            Action::Delete { .. } => {
                let trash = match trash {
                    Some(trash) => trash,
                    None => *trash.insert(store.special_folder(account.id, SpecialUse::Trash).await?.id),
                };
                if folder == trash {
                    mail.delete_for_good(account.id, folder, &uids).await?;
                } else {
                    mail.move_messages(account.id, folder, &uids, trash).await?;
                }
            }
            Action::EmptyTrash { .. } | Action::Comment(_) | Action::RemoveAttachment(_) => {}
        }
    }
    Ok(None)
}

/// C7: takes attachment `part` out of the message `row`, a note in its place, and returns the
/// id the message has now (it is stored anew: IMAP clients see the old UID expunged and a new
/// one, as for any message whose content changes).
async fn remove_attachment(
    mail: &mail::Mail,
    account: &store::Account,
    row: &store::MessageRow,
    part: u32,
    lang: Lang,
) -> Result<MessageId, AppError> {
    let store = mail.store();
    let raw = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await?.ok_or(AppError::NotFound)?;
    let when = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let removed = tokio::task::spawn_blocking(move || {
        render::without_attachment(&raw, part, |name| render::Trace {
            file_name: format!("{name}{}", t(lang, Key::RemovedAttachmentSuffix)),
            text: format!("{}\n\n{name}\n{when}\n", t(lang, Key::RemovedAttachmentNote)),
        })
    })
    .await
    .map_err(|_| AppError::Internal)?;
    let (raw, _) = removed.map_err(|why| match why {
        render::Unremovable::NotFound => AppError::NotFound,
        render::Unremovable::WholeMessage => AppError::WholeMessageAttachment,
    })?;
    let (_, id) = mail.replace_message(account.id, row.folder_id, row.uid, raw).await?;
    Ok(id)
}

/// `back` naming message `new` where it named `old` (the last segment of its path).
fn with_message(back: &str, old: MessageId, new: MessageId) -> String {
    let (route, query) = back.split_once('?').map_or((back, None), |(route, query)| (route, Some(query)));
    let route = match route.rsplit_once('/') {
        Some((parent, last)) if last == old.0.to_string() => format!("{parent}/{}", new.0),
        _ => route.to_string(),
    };
    match query {
        Some(query) => format!("{route}?{query}"),
        None => route,
    }
}

/// The chosen messages and every other message of their conversations, in their folders (C11).
async fn with_their_conversations(
    store: &store::Store,
    account: store::AccountId,
    folder: FolderId,
    chosen: Vec<store::MessageRow>,
) -> Result<Vec<store::MessageRow>, AppError> {
    if chosen.is_empty() {
        return Ok(chosen);
    }
    let chosen: std::collections::HashSet<MessageId> = chosen.iter().map(|row| row.id).collect();
    let mut ids: Vec<MessageId> = Vec::new();
    for conversation in super::conversations::folder_conversations(store, account, folder).await? {
        if conversation.iter().any(|m| chosen.contains(&m.id)) {
            ids.extend(conversation.iter().map(|m| m.id));
            if ids.len() > MAX_MESSAGES {
                break;
            }
        }
    }
    Ok(store.messages_by_ids(account, &ids).await?)
}

/// A whole page saying what went wrong, with the way back.
fn error_page(status: StatusCode, lang: Lang, message: Key) -> Response {
    let page = super::plain_page(lang, t(lang, message));
    (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_with_every_chosen_message() {
        let request = parse_form(b"folder=3&id=10&id=12&action=move&to=7&back=%2Fmail%2F3%3Fpage%3D2").unwrap();
        assert_eq!(request.folder, Some(FolderId(3)));
        assert_eq!(request.ids, vec![MessageId(10), MessageId(12)]);
        assert_eq!(request.action, Action::Move(FolderId(7)));
        assert_eq!(request.back, "/mail/3?page=2");
        let empty = parse_form(b"folder=4&action=empty&to=&confirm=yes&below=12").unwrap();
        assert_eq!(empty.action, Action::EmptyTrash { confirmed: true, below: Some(12) });
        assert_eq!(empty.back, "/mail/4");
        let tag = parse_form(b"id=5&action=tag&tag=%26AMk-t%26AOk-&back=%2Fmail%2Ftag%3Ftag%3Dx").unwrap();
        assert_eq!((tag.folder, tag.action), (None, Action::Tag("&AMk-t&AOk-".into())));
        assert_eq!(tag.back, "/mail/tag?tag=x");
        let comment = parse_form(b"folder=2&id=5&action=comment&comment=Call+Bob").unwrap();
        assert_eq!(comment.action, Action::Comment("Call Bob".into()));
        assert_eq!(parse_form(b"id=5&action=uncomment").unwrap().action, Action::Comment(String::new()));
        assert_eq!(parse_form(b"id=5&action=uncomment").unwrap().back, "/mail");
        assert!(parse_form(b"folder=2&id=5&action=read&whole_threads=1").unwrap().whole_threads);
        assert!(!parse_form(b"folder=2&id=5&action=read").unwrap().whole_threads);
    }

    #[test]
    fn after_an_attachment_is_removed_the_page_shows_the_message_anew() {
        let request =
            parse_form(b"folder=3&id=10&action=remove_attachment&part=1&back=%2Fmail%2F3%2F10%3Fpage%3D2").unwrap();
        assert_eq!(request.action, Action::RemoveAttachment(1));
        assert_eq!(with_message(&request.back, MessageId(10), MessageId(42)), "/mail/3/42?page=2");
        assert_eq!(with_message("/mail/tag/10?tag=x", MessageId(10), MessageId(42)), "/mail/tag/42?tag=x");
        assert_eq!(with_message("/mail/3", MessageId(10), MessageId(42)), "/mail/3");
        // One message at a time, and the part named.
        assert_eq!(parse_form(b"id=10&id=11&action=remove_attachment&part=1"), Err(FormError::Malformed));
        assert_eq!(parse_form(b"id=10&action=remove_attachment"), Err(FormError::Malformed));
    }

    #[test]
    fn bad_forms_are_refused() {
        for body in [
            "",
            "folder=x&action=read",
            "folder=1",
            "folder=1&action=paint",
            "folder=1&action=move",
            "folder=1&id=a&action=read",
            "action=empty&confirm=yes",
            "folder=1&id=2&action=tag",
            "folder=1&id=2&action=untag&tag=",
            "folder=1&id=2&action=comment",
        ] {
            assert_eq!(parse_form(body.as_bytes()), Err(FormError::Malformed), "{body}");
        }
        let many = format!("folder=1&action=read{}", "&id=1".repeat(MAX_MESSAGES + 1));
        assert_eq!(parse_form(many.as_bytes()), Err(FormError::TooMany));
    }

    #[test]
    fn the_way_back_stays_in_the_mail_view() {
        for (back, want) in [
            ("/mail/3/9?sort=size-asc", "/mail/3/9?sort=size-asc"),
            ("/mail", "/mail"),
            ("https://evil.example/", "/mail/3"),
            ("//evil.example/mail/", "/mail/3"),
            ("/mail/..//evil.example", "/mail/3"),
            ("/mail/\\evil.example", "/mail/3"),
            ("/login", "/mail/3"),
            ("/mailbox", "/mail/3"),
            ("/mail/../settings/folders", "/mail/3"),
            ("/mail/%2e%2E/login", "/mail/3"),
            ("/mail/3?sort=a..b", "/mail/3?sort=a..b"),
        ] {
            let body = format!(
                "folder=3&action=read&back={}",
                form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>()
            );
            assert_eq!(parse_form(body.as_bytes()).unwrap().back, want, "{back}");
        }
    }

    #[test]
    fn the_confirmation_is_asked_on_the_page_it_came_from() {
        assert_eq!(with_query_pair("/mail/4", "confirm=empty"), "/mail/4?confirm=empty");
        assert_eq!(with_query_pair("/mail/4?page=2", "confirm=empty"), "/mail/4?page=2&confirm=empty");
    }
}
