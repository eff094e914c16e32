//! The composer's server side (B1, B2, B4, B5, B6, B12, B13, B14): what a new message starts
//! from (a reply to the sender or to all, a forward, a draft taken up again, a template, the
//! sender's signature), and what was written, sent through the one sending pipeline
//! (`mail::Mail::submit`, as SMTP submission: Bcc removed, a Sent copy, the queue for other
//! servers) or saved in Drafts or Templates. The message is built with mail-builder.

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as BuiltAddress;
use mail_builder::headers::raw::Raw;
use render::compose::{
    DRAFT_ANSWERS_FIELD, DRAFT_FORWARDS_FIELD, Mailbox, Original, parse_recipients, prefixed_subject, quoted,
};
use store::{Account, FlagOp, Flags, MessageId, MessageRow, SpecialUse};

use crate::attachments::AttachmentKey;
use crate::dto::{AttachedFile, ComposeForm};
use crate::error::AppError;
use crate::i18n::{Key, Lang, t};
use crate::signature::Placement;

/// Recipients per message, as SMTP submission allows (RFC 5321 §4.5.3.1.8): the hourly limit
/// counts messages, so this keeps one message from reaching thousands.
const MAX_RECIPIENTS: usize = 100;

/// Where the composer starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    New,
    Reply(i64),
    ReplyAll(i64),
    Forward(i64),
    Draft(i64),
    /// B12: a new message from a template, which stays as it is.
    Template(i64),
}

/// What the reader wrote in the composer.
#[derive(Debug, Clone, Default)]
pub(crate) struct Written {
    /// The address to send from; the login when absent.
    pub(crate) from: Option<String>,
    pub(crate) to: String,
    pub(crate) cc: String,
    pub(crate) bcc: String,
    pub(crate) subject: String,
    pub(crate) body: String,
    /// B3: the message as the rich text editor wrote it (HTML, not yet cleaned); its text
    /// version is made from it, and `body` is not used.
    pub(crate) html: Option<String>,
    pub(crate) reply_to: Option<i64>,
    pub(crate) forward_of: Option<i64>,
    pub(crate) draft_id: Option<i64>,
    /// The attachments' keys ([`crate::attachments::parse_keys`]).
    pub(crate) attachments: String,
    pub(crate) high_priority: bool,
    pub(crate) receipt: bool,
}

/// What the reader asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    Send,
    /// The schedule sends a draft it claimed (B15): the draft's row goes as soon as the message
    /// is on its way, so a stop before the draft is removed cannot send it twice.
    SendScheduled,
    /// B15: keep it in Drafts and send it at this time (unix seconds): a few seconds from now
    /// with "undo" offered meanwhile (`undo`), or when the reader chose.
    SendLater {
        at: i64,
        undo: bool,
    },
    SaveDraft,
    /// B12: keep it in Templates, to start new messages from.
    SaveTemplate,
}

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Done {
    Sent,
    /// Saved in Drafts as this message.
    Saved(i64),
    /// Saved in Drafts as this message, to be sent later (B15).
    Scheduled {
        id: i64,
        undo: bool,
    },
    /// Saved in Templates (this folder) as this message.
    Template {
        folder: i64,
        id: i64,
    },
}

/// One of the account's messages and its bytes; another account's is simply not found.
async fn own_message(store: &store::Store, account: &Account, id: i64) -> Result<(MessageRow, Vec<u8>), AppError> {
    let row = store.message(account.id, MessageId(id)).await?.ok_or(AppError::NotFound)?;
    let raw = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await?.ok_or(AppError::NotFound)?;
    Ok((row, raw))
}

/// Whether `address` (as typed) is the account's own ([`mail::Mail::owns`]); not when it is
/// not an address, or cannot be looked up now.
pub(crate) async fn is_own(mail: &mail::Mail, account: &Account, address: &str) -> bool {
    let Ok(parsed) = store::parse_address(address) else { return false };
    mail.owns(account.id, &parsed).await.unwrap_or(false)
}

/// When a message scheduled from the composer goes (B15): `text` as a `datetime-local` field
/// gives it (`2026-12-07T09:30`, seconds optional), in the reader's time zone: the one their
/// browser named, else `tz_offset`, what the page's JavaScript read (minutes from local time to
/// UTC, as `Date.getTimezoneOffset` counts them: right for today, not across a change of summer
/// time), else the server's own zone. It must be in the future and within a year of `now`.
pub(crate) fn send_time(
    text: &str,
    zone: super::ReaderZone,
    tz_offset: Option<&str>,
    now: i64,
) -> Result<i64, AppError> {
    let text = text.trim();
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| AppError::BadSendTime)?;
    let offset = tz_offset.and_then(|o| o.trim().parse::<i64>().ok()).filter(|o| o.abs() <= 24 * 60);
    let at = match (zone, offset) {
        (zone, Some(minutes)) if zone == super::ReaderZone::default() => naive.and_utc().timestamp() + minutes * 60,
        (zone, _) => zone.unix_of(&naive).ok_or(AppError::BadSendTime)?,
    };
    if at <= now || at > now + 366 * 24 * 60 * 60 {
        return Err(AppError::BadSendTime);
    }
    Ok(at)
}

/// The composer's fields for `start`.
pub(crate) async fn compose_from(
    mail: &mail::Mail,
    account: &Account,
    start: Start,
    lang: Lang,
) -> Result<ComposeForm, AppError> {
    let store = mail.store();
    let identities = identities(mail, account).await?;
    let signatures = signatures(store, account).await?;
    let signature = |address: &str| signatures.iter().find(|(a, _)| a.eq_ignore_ascii_case(address)).map(|(_, s)| s);
    let signature_of = |address: &str| signature(address).map(|s| s.text.clone());
    // B6: the address chosen as the default, while it is still one of the account's.
    let default_from = store
        .account_setting(account.id, super::DEFAULT_IDENTITY_SETTING)
        .await?
        .and_then(|chosen| identities.iter().find(|identity| identity.eq_ignore_ascii_case(&chosen)).cloned())
        .unwrap_or_else(|| account.login.clone());
    let mut names = Vec::new();
    for identity in &identities {
        if let Some(name) = super::identity_name(store, account, identity).await? {
            names.push((identity.clone(), name));
        }
    }
    let mut view = ComposeForm {
        login: account.login.clone(),
        from: default_from,
        identities: identities.clone(),
        identity_names: names,
        footer: store.server_setting(store::FOOTER_SETTING).await?,
        ..ComposeForm::default()
    };
    view.signatures = signatures.clone();
    let preferences = super::compose_preferences(store, account).await?;
    let placement = preferences.signature;
    // B3: a message started in rich text starts from its text, as HTML, its signature marked.
    let in_format = |mut view: ComposeForm| {
        if preferences.rich {
            view.html = Some(crate::signature::text_to_html_with_signature(&view.body, signature(&view.from)));
        }
        view
    };
    let id = match start {
        Start::New => {
            // B13: a new message starts with its sender's signature below the text to come.
            view.body = signature_of(&view.from)
                .filter(|_| placement != Placement::Manual)
                .map(|s| format!("\n\n{}", crate::signature::block(&s)))
                .unwrap_or_default();
            return Ok(in_format(view));
        }
        Start::Reply(id) | Start::ReplyAll(id) | Start::Forward(id) | Start::Draft(id) | Start::Template(id) => id,
    };
    let (_, raw) = own_message(store, account, id).await?;
    let original = Original::parse(&raw).unwrap_or_default();
    // B6: an answer or a forward leaves from the address the message came to, a draft from
    // the one it was written from.
    let came_to = if matches!(start, Start::Draft(_) | Start::Template(_)) { &original.from } else { &original.to };
    let addressed = came_to
        .iter()
        .chain(&original.cc)
        .find_map(|mailbox| identities.iter().find(|identity| identity.eq_ignore_ascii_case(&mailbox.address)));
    if let Some(identity) = addressed {
        view.from = identity.clone();
    }
    // An answer's signature goes between its text and what it quotes, or at the very end.
    let block = signature_of(&view.from).map(|s| crate::signature::block(&s));
    let above = block.clone().filter(|_| placement == Placement::Above);
    let signature = above.map(|b| format!("{b}\n\n")).unwrap_or_default();
    let below = block.filter(|_| placement == Placement::Below);
    let below = |body: String| match &below {
        Some(block) => format!("{}\n\n{block}", body.trim_end()),
        None => body,
    };
    match start {
        Start::New => {}
        Start::Reply(_) | Start::ReplyAll(_) => {
            let (to, cc) = if start == Start::ReplyAll(id) {
                let mut own = Vec::new();
                for mailbox in original.reply_recipients().iter().chain(&original.to).chain(&original.cc) {
                    if is_own(mail, account, &mailbox.address).await {
                        own.push(mailbox.address.to_ascii_lowercase());
                    }
                }
                original.reply_all_recipients(|address| own.contains(&address.to_ascii_lowercase()))
            } else {
                (original.reply_recipients(), Vec::new())
            };
            view.to = Mailbox::list(&to);
            view.cc = Mailbox::list(&cc);
            view.subject = prefixed_subject("Re", &original.subject);
            view.templates = templates(store, account).await?;
            view.body = below(format!("\n\n{signature}{}\n{}\n", attribution(&original, lang), quoted(&original.text)));
            view.reply_to = Some(id);
        }
        Start::Forward(_) if preferences.forward_attached => {
            // B5: the message goes along whole, as a file a mail program opens.
            view.subject = prefixed_subject("Fwd", &original.subject);
            view.body = below(format!("\n\n{signature}"));
            view.forward_of = Some(id);
            view.attachments = vec![AttachedFile {
                key: AttachmentKey::Message(id).to_string(),
                name: eml_name(&original.subject),
                size: raw.len() as u64,
            }];
        }
        Start::Forward(_) => {
            view.subject = prefixed_subject("Fwd", &original.subject);
            view.body = below(format!("\n\n{signature}{}\n{}", forwarded_header(&original, lang), original.text));
            view.forward_of = Some(id);
            view.attachments = attached_files(id, &raw);
        }
        Start::Draft(_) | Start::Template(_) => {
            // Only a message in Drafts continues as a draft, only one in Templates is used as
            // a template.
            let role = if matches!(start, Start::Draft(_)) { SpecialUse::Drafts } else { SpecialUse::Templates };
            if row_in(store, account, id, role).await?.is_none() {
                return Err(AppError::NotFound);
            }
            view.to = Mailbox::list(&original.to);
            view.cc = Mailbox::list(&original.cc);
            view.bcc = Mailbox::list(&original.bcc);
            view.subject = original.subject.clone();
            view.body = original.text.clone();
            // Written in rich text, it goes on in rich text.
            view.html = rich_text_of(&raw);
            if role == SpecialUse::Drafts {
                view.draft_id = Some(id);
                view.reply_to = original.answers;
                view.forward_of = original.forwards;
                let scheduled = store.scheduled_send(account.id, MessageId(id)).await?;
                view.scheduled_for = scheduled.map(|s| super::full_date(&super::local_time(s.send_at), lang));
            }
            view.high_priority = original.high_priority;
            view.receipt = original.receipt_to.is_some();
            view.attachments = attached_files(id, &raw);
            return Ok(view);
        }
    }
    Ok(in_format(view))
}

/// A draft's or a template's rich text, as the editor takes it up (B3): its HTML with its own
/// pictures, cleaned; `None` when it was written in plain text.
fn rich_text_of(raw: &[u8]) -> Option<String> {
    render::html_with_images(raw).as_deref().map(render::composed::clean_composed_html)
}

/// The account's signatures (B13), by address, with their rich text.
pub(crate) async fn signatures(
    store: &store::Store,
    account: &Account,
) -> Result<Vec<(String, crate::dto::SignatureText)>, AppError> {
    let rich = store.signatures_html(account.id).await?;
    Ok(store
        .signatures(account.id)
        .await?
        .into_iter()
        .map(|(address, text)| {
            let html = rich.iter().find(|(a, _)| *a == address).map(|(_, html)| html.clone());
            (address, crate::dto::SignatureText { text, html })
        })
        .collect())
}

/// The account's templates (B12), newest first: (id, subject).
async fn templates(store: &store::Store, account: &Account) -> Result<Vec<(i64, String)>, AppError> {
    let folder = store.special_folder(account.id, SpecialUse::Templates).await?.id;
    let rows = store.newest_messages(account.id, folder, 100).await?;
    Ok(rows.into_iter().map(|row| (row.id.0, row.subject)).collect())
}

/// B12: a reply written from template `id`: its text above what the reply quotes, its
/// attachments along. The template stays as it is.
pub(crate) async fn with_template(
    store: &store::Store,
    account: &Account,
    mut view: ComposeForm,
    id: i64,
) -> Result<ComposeForm, AppError> {
    let Some((_, raw)) = own_in(store, account, id, SpecialUse::Templates).await? else {
        return Err(AppError::NotFound);
    };
    let template = Original::parse(&raw).unwrap_or_default();
    view.body = format!("{}\n\n{}", template.text.trim_end(), view.body.trim_start_matches('\n'));
    // In rich text, the template's own (its pictures too) above the reply's, whose signature
    // stays marked.
    if let Some(reply) = view.html.take() {
        let template_html =
            rich_text_of(&raw).unwrap_or_else(|| crate::rich_text::text_to_html(template.text.trim_end()));
        let reply = reply.strip_prefix("<div><br></div>").unwrap_or(&reply);
        view.html = Some(format!("{template_html}<div><br></div>{reply}"));
    }
    view.attachments = attached_files(id, &raw);
    Ok(view)
}

/// The addresses the account sends from (B6): its login, then the aliases that lead to its
/// mailbox alone.
pub(crate) async fn identities(mail: &mail::Mail, account: &Account) -> Result<Vec<String>, AppError> {
    let mut found = vec![account.login.clone()];
    let Ok(login) = store::parse_address(&account.login) else { return Ok(found) };
    for alias in mail.store().aliases_targeting(&login).await? {
        if !found.contains(&alias) && is_own(mail, account, &alias).await {
            found.push(alias);
        }
    }
    Ok(found)
}

/// The attachments of message `id` (a forward's, a draft's, a template's), as the composer
/// carries them.
fn attached_files(id: i64, raw: &[u8]) -> Vec<AttachedFile> {
    let parts = render::attachments(raw).into_iter().enumerate();
    parts
        .map(|(index, part)| AttachedFile {
            key: AttachmentKey::Part { message: id, index: index as u32 }.to_string(),
            name: part.file_name,
            size: part.bytes.len() as u64,
        })
        .collect()
}

/// The files behind the composer's attachment keys, each checked to be the account's; at most
/// [`store::MAX_ATTACHMENTS_BYTES`] together.
async fn attachment_files(
    store: &store::Store,
    account: &Account,
    keys: &[AttachmentKey],
) -> Result<Vec<render::Attachment>, AppError> {
    let mut files = Vec::with_capacity(keys.len());
    // Several parts of one message are read from one parse of it.
    let mut parts_of: Vec<(i64, Vec<render::Attachment>)> = Vec::new();
    for key in keys {
        let file = match *key {
            AttachmentKey::Upload(id) => {
                let upload = store.upload(account.id, id).await?.ok_or(AppError::AttachmentGone)?;
                render::Attachment {
                    file_name: upload.file_name,
                    content_type: upload.content_type,
                    bytes: upload.bytes,
                }
            }
            AttachmentKey::Message(id) => {
                let (_, raw) = own_message(store, account, id).await.map_err(|_| AppError::AttachmentGone)?;
                let subject = Original::parse(&raw).map(|original| original.subject).unwrap_or_default();
                render::Attachment { file_name: eml_name(&subject), content_type: MESSAGE_TYPE.to_string(), bytes: raw }
            }
            AttachmentKey::Part { message, index } => {
                if !parts_of.iter().any(|(id, _)| *id == message) {
                    let (_, raw) = own_message(store, account, message).await.map_err(|_| AppError::AttachmentGone)?;
                    parts_of.push((message, render::attachments(&raw)));
                }
                let parts = parts_of.iter().find(|(id, _)| *id == message).map(|(_, parts)| parts);
                parts.and_then(|parts| parts.get(index as usize)).cloned().ok_or(AppError::AttachmentGone)?
            }
        };
        files.push(file);
    }
    if files.iter().map(|file| file.bytes.len()).sum::<usize>() > store::MAX_ATTACHMENTS_BYTES {
        return Err(AppError::AttachmentsTooLarge);
    }
    Ok(files)
}

/// The media type of a message carried whole.
const MESSAGE_TYPE: &str = "message/rfc822";

/// The file name of a message carried whole: its subject, made a safe file name.
fn eml_name(subject: &str) -> String {
    let cleaned: String = subject
        .chars()
        .map(|c| if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let stem: String = super::upload_name(&cleaned).chars().take(100).collect();
    let stem = if stem == "attachment" && subject.trim().is_empty() { "message".to_string() } else { stem };
    format!("{}.eml", stem.trim())
}

/// A part carrying a whole message (RFC 2046 §5.2.1): as it is, 7bit or 8bit, never base64;
/// `None` when its bytes could not go so (a NUL, a bare line end, a line over 998 octets), and
/// it goes as any other file.
fn message_part(attachment: &render::Attachment) -> Option<mail_builder::mime::MimePart<'_>> {
    let bytes = attachment.bytes.as_slice();
    let lines_ok = bytes.split(|b| *b == b'\n').all(|line| line.len() <= 999);
    let ends_ok = bytes.windows(2).all(|w| (w[1] != b'\n' || w[0] == b'\r') && (w[0] != b'\r' || w[1] == b'\n'))
        && bytes.first() != Some(&b'\n')
        && bytes.last() != Some(&b'\r');
    if bytes.contains(&0) || !lines_ok || !ends_ok {
        return None;
    }
    let encoding = if bytes.is_ascii() { "7bit" } else { "8bit" };
    Some(
        mail_builder::mime::MimePart::new(MESSAGE_TYPE, mail_builder::mime::BodyPart::Binary(bytes.into()))
            .attachment(attachment.file_name.clone())
            .transfer_encoding(encoding),
    )
}

/// The message's body made `multipart/related` (RFC 2387): its text and HTML, then the
/// pictures the HTML shows; the attachments, if any, beside it in `multipart/mixed`.
fn with_related_images<'x>(
    mut builder: MessageBuilder<'x>,
    images: &'x [render::composed::InlineImage],
) -> MessageBuilder<'x> {
    use mail_builder::mime::{BodyPart, MimePart};
    let text = builder.text_body.take().into_iter();
    let html = builder.html_body.take().into_iter();
    let mut related = vec![MimePart::new("multipart/alternative", text.chain(html).collect::<Vec<_>>())];
    for image in images {
        related.push(
            MimePart::new(image.content_type.as_str(), BodyPart::Binary(image.bytes.as_slice().into()))
                .inline()
                .cid(image.content_id.as_str()),
        );
    }
    let related = MimePart::new("multipart/related", related);
    let body = match builder.attachments.take() {
        Some(attachments) => {
            MimePart::new("multipart/mixed", std::iter::once(related).chain(attachments).collect::<Vec<_>>())
        }
        None => related,
    };
    builder.body(body)
}

/// "On {date}, {sender} wrote:", above the quoted text of a reply.
fn attribution(original: &Original, lang: Lang) -> String {
    let who = original.from.first().map(|m| m.name.clone().unwrap_or_else(|| m.address.clone())).unwrap_or_default();
    let date = original.date.map(|unix| super::full_date(&super::local_time(unix), lang)).unwrap_or_default();
    // The sentence's word order differs between the languages, so it is written here whole.
    match lang {
        Lang::En => format!("On {date}, {who} wrote:"),
        Lang::Fr => format!("Le {date}, {who} a écrit :"),
    }
}

/// The forwarded message's header lines, above its text.
fn forwarded_header(original: &Original, lang: Lang) -> String {
    let date = original.date.map(|unix| super::full_date(&super::local_time(unix), lang)).unwrap_or_default();
    let mut lines = vec![t(lang, Key::ForwardedMessage).to_string()];
    for (key, value) in [
        (Key::From, Mailbox::list(&original.from)),
        (Key::Date, date),
        (Key::Subject, original.subject.clone()),
        (Key::To, Mailbox::list(&original.to)),
        (Key::Cc, Mailbox::list(&original.cc)),
    ] {
        if !value.is_empty() {
            lines.push(format!("{}: {value}", t(lang, key)));
        }
    }
    lines.join("\n") + "\n"
}

/// Sends what was written, or saves it in Drafts or Templates.
pub(crate) async fn send_or_save(
    mail: &mail::Mail,
    account: &Account,
    written: Written,
    intent: Intent,
    hostname: &str,
) -> Result<Done, AppError> {
    let store = mail.store();
    let recipients = |text: &str| parse_recipients(text).map_err(AppError::BadRecipient);
    let (to, cc, bcc) = (recipients(&written.to)?, recipients(&written.cc)?, recipients(&written.bcc)?);
    if to.len() + cc.len() + bcc.len() > MAX_RECIPIENTS {
        return Err(AppError::TooManyRecipients);
    }
    // Only one of the account's own addresses (RFC 6409 §8.1, as SMTP submission checks).
    let from = written.from.as_deref().map(str::trim).filter(|f| !f.is_empty()).unwrap_or(&account.login).to_string();
    if !is_own(mail, account, &from).await {
        return Err(AppError::NotYourAddress(from));
    }
    // An original deleted meanwhile only loses the message its thread and flag, not its sending.
    let answered = match written.reply_to {
        Some(id) => own_message(store, account, id).await.ok(),
        None => None,
    };
    let forwarded = match written.forward_of {
        Some(id) => own_message(store, account, id).await.ok(),
        None => None,
    };
    // A draft taken up again keeps its place in a thread.
    let draft = match written.draft_id {
        Some(id) => own_in(store, account, id, SpecialUse::Drafts).await?,
        None => None,
    };
    // Sent from the composer while the schedule is sending it: once is enough.
    if let Some((row, _)) = &draft
        && matches!(intent, Intent::Send | Intent::SendLater { .. })
    {
        store.unschedule_send(account.id, row.id).await?;
        if store.send_claimed(account.id, row.id).await? {
            return Err(AppError::TooLateToUndo);
        }
    }
    let draft_original = draft.as_ref().and_then(|(_, raw)| Original::parse(raw));
    let (in_reply_to, references) = match answered.as_ref().and_then(|(_, raw)| Original::parse(raw)) {
        Some(original) => (original.message_id.clone(), original.answer_references()),
        None => draft_original.map(|d| (d.in_reply_to, d.references)).unwrap_or_default(),
    };
    let keys = crate::attachments::parse_keys(&written.attachments);
    let attachments = attachment_files(store, account, &keys).await?;

    // B3: rich text is cleaned like mail that comes in, and its text version made from it.
    let html = written.html.as_deref().map(render::composed::clean_composed_html);
    let mut body = match &html {
        Some(html) => render::composed::composed_to_text(html),
        None => written.body.replace("\r\n", "\n"),
    };
    // B13: the organisation's footer ends every message sent from here; drafts and templates
    // get it when they are sent.
    let footer = match intent {
        Intent::Send | Intent::SendScheduled => store.server_setting(store::FOOTER_SETTING).await?,
        Intent::SendLater { .. } | Intent::SaveDraft | Intent::SaveTemplate => None,
    };
    let html = html.map(|html| match &footer {
        Some(footer) => format!("{html}<div><br></div>{}", crate::rich_text::text_to_html(footer)),
        None => html,
    });
    if let Some(footer) = footer {
        body = format!("{}\n\n{footer}\n", body.trim_end());
    }
    // B3: the pictures of the text become parts of the message, named from its id.
    let message_id = mail::outgoing::new_message_id(hostname, chrono::Utc::now());
    let (html, images) = match html {
        Some(html) => {
            let (html, images) = render::composed::take_inline_images(&html, |n| {
                format!("part{n}.{}", message_id.trim_matches(['<', '>']))
            });
            (Some(html), images)
        }
        None => (None, Vec::new()),
    };
    let image_bytes: usize = images.iter().map(|image| image.bytes.len()).sum();
    if image_bytes + attachments.iter().map(|file| file.bytes.len()).sum::<usize>() > store::MAX_ATTACHMENTS_BYTES {
        return Err(AppError::AttachmentsTooLarge);
    }
    // B6: the name the writer gave this address.
    let from_name = super::identity_name(store, account, &from).await?;
    let mut builder = MessageBuilder::new()
        .from(BuiltAddress::new_address(from_name, from.clone()))
        .subject(written.subject.trim())
        .message_id(message_id.clone())
        .text_body(body);
    if let Some(html) = html {
        builder = builder
            .html_body(format!("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body>{html}</body></html>"));
    }
    let list = |mailboxes: &[Mailbox]| {
        (!mailboxes.is_empty()).then(|| {
            BuiltAddress::new_list(
                mailboxes.iter().map(|m| BuiltAddress::new_address(m.name.clone(), m.address.clone())).collect(),
            )
        })
    };
    if let Some(to) = list(&to) {
        builder = builder.to(to);
    }
    if let Some(cc) = list(&cc) {
        builder = builder.cc(cc);
    }
    if let Some(bcc) = list(&bcc) {
        builder = builder.bcc(bcc);
    }
    if let Some(id) = in_reply_to {
        builder = builder.in_reply_to(id);
    }
    // B14: both fields a priority is read from (X-Priority by most programs, Importance by
    // Outlook), and RFC 8098's receipt request to the sender.
    if written.high_priority {
        builder = builder.header("X-Priority", Raw::new("1 (Highest)")).header("Importance", Raw::new("high"));
    }
    if written.receipt {
        builder = builder.header("Disposition-Notification-To", BuiltAddress::new_address(None::<&str>, from.clone()));
    }
    if !references.is_empty() {
        builder = builder.references(references.as_slice());
    }
    // A draft remembers what it answers or forwards, to mark it once sent.
    if matches!(intent, Intent::SaveDraft | Intent::SendLater { .. }) {
        for (field, row) in [(DRAFT_ANSWERS_FIELD, &answered), (DRAFT_FORWARDS_FIELD, &forwarded)] {
            if let Some((row, _)) = row {
                builder = builder.header(field, Raw::new(row.id.0.to_string()));
            }
        }
    }
    for attachment in &attachments {
        if attachment.content_type == MESSAGE_TYPE
            && let Some(part) = message_part(attachment)
        {
            builder.attachments.get_or_insert_with(Vec::new).push(part);
            continue;
        }
        // Only a plain `type/subtype` goes into the part's header (a forwarded message's own
        // could be anything).
        let content_type = match attachment.content_type.as_str() {
            known if super::is_simple_media_type(known) => known.to_string(),
            _ => "application/octet-stream".to_string(),
        };
        builder = builder.attachment(content_type, attachment.file_name.clone(), attachment.bytes.as_slice());
    }
    if !images.is_empty() {
        builder = with_related_images(builder, &images);
    }
    let raw = builder.write_to_vec().map_err(|_| AppError::Internal)?;

    let keep = |role: SpecialUse, flags: Flags, raw: Vec<u8>| async move {
        let folder = store.special_folder(account.id, role).await?.id;
        let (_, id) = mail.append(account.id, folder, raw, flags, &[], None).await.map_err(|error| match error {
            store::Error::QuotaExceeded => AppError::MailboxFull,
            other => AppError::from(other),
        })?;
        Ok::<_, AppError>((folder, id))
    };
    let done = match intent {
        Intent::SaveDraft => {
            let (_, id) = keep(SpecialUse::Drafts, Flags::SEEN.union(Flags::DRAFT), raw).await?;
            // A scheduled draft saved again stays scheduled, as the new draft.
            if let Some((row, _)) = &draft {
                store.move_schedule(account.id, row.id, id).await?;
            }
            Done::Saved(id.0)
        }
        Intent::SendLater { at, undo } => {
            // Said now rather than when it is due: an unknown local address, no recipient.
            route(mail, &to, &cc, &bcc).await?;
            let (_, id) = keep(SpecialUse::Drafts, Flags::SEEN.union(Flags::DRAFT), raw).await?;
            store
                .schedule_send(&store::ScheduledSend {
                    message_id: id,
                    account_id: account.id,
                    send_at: at,
                    is_undo: undo,
                })
                .await?;
            if let Some(send_later) = leptos::prelude::use_context::<super::send_later::SendLater>() {
                send_later.wake();
            }
            Done::Scheduled { id: id.0, undo }
        }
        Intent::SaveTemplate => {
            let (folder, id) = keep(SpecialUse::Templates, Flags::SEEN, raw).await?;
            Done::Template { folder: folder.0, id: id.0 }
        }
        Intent::Send => {
            send(mail, account, &from, &to, &cc, &bcc, raw, hostname).await?;
            Done::Sent
        }
        Intent::SendScheduled => {
            send(mail, account, &from, &to, &cc, &bcc, raw, hostname).await?;
            // Sent: whatever follows must not report it as failed (the schedule would say so).
            if let Some((row, _)) = &draft
                && let Err(error) = store.drop_send(row.id).await
            {
                tracing::error!(%error, "a scheduled message left, but its schedule was not cleared");
            }
            Done::Sent
        }
    };
    // Sent (or saved): what follows only tidies up, and a failure there is logged, never
    // reported as the message's, which would have it sent again.
    let uploads: Vec<i64> = keys
        .iter()
        .filter_map(|key| match key {
            AttachmentKey::Upload(id) => Some(*id),
            AttachmentKey::Part { .. } | AttachmentKey::Message(_) => None,
        })
        .collect();
    if let Err(error) = tidy_up(mail, account, done, &answered, &forwarded, written.draft_id, &uploads).await {
        tracing::warn!(login = %account.login, ?error, "after sending from the web client: flags or draft not updated");
    }
    Ok(done)
}

/// After a message was sent: the original shows answered or forwarded (C6), and the draft it
/// continued is gone (or, saved again, replaced by the new one). The files uploaded for it are
/// in the message now (sent, or saved: the page names them by their place in the new draft).
async fn tidy_up(
    mail: &mail::Mail,
    account: &Account,
    done: Done,
    answered: &Option<(MessageRow, Vec<u8>)>,
    forwarded: &Option<(MessageRow, Vec<u8>)>,
    draft_id: Option<i64>,
    uploads: &[i64],
) -> Result<(), AppError> {
    mail.store().remove_uploads(account.id, uploads).await?;
    if done == Done::Sent {
        if let Some((row, _)) = answered {
            mail.set_flags(account.id, row.folder_id, &[row.uid], FlagOp::Add, Flags::ANSWERED, &[]).await?;
        }
        if let Some((row, _)) = forwarded {
            let keyword = ["$Forwarded".to_string()];
            mail.set_flags(account.id, row.folder_id, &[row.uid], FlagOp::Add, Flags::empty(), &keyword).await?;
        }
    }
    // A template made from a draft leaves the draft as it was.
    if let Some(id) = draft_id.filter(|_| !matches!(done, Done::Template { .. })) {
        remove_draft(mail, account, id).await?;
    }
    Ok(())
}

/// One of the account's messages, if `id` is one in the folder of `role` (a draft in Drafts, a
/// template in Templates).
async fn row_in(
    store: &store::Store,
    account: &Account,
    id: i64,
    role: SpecialUse,
) -> Result<Option<MessageRow>, AppError> {
    let Some(row) = store.message(account.id, MessageId(id)).await? else { return Ok(None) };
    let folder = store.special_folder(account.id, role).await?.id;
    Ok((row.folder_id == folder).then_some(row))
}

/// [`row_in`], with the message's bytes (read only once it is known to be there).
async fn own_in(
    store: &store::Store,
    account: &Account,
    id: i64,
    role: SpecialUse,
) -> Result<Option<(MessageRow, Vec<u8>)>, AppError> {
    let Some(row) = row_in(store, account, id, role).await? else { return Ok(None) };
    Ok(store.read_raw_if_present(account.id, row.id, &row.blob_hash).await?.map(|raw| (row, raw)))
}

/// Removes a draft the composer continued, if it is still one of the account's drafts.
async fn remove_draft(mail: &mail::Mail, account: &Account, id: i64) -> Result<(), AppError> {
    let Some(row) = row_in(mail.store(), account, id, SpecialUse::Drafts).await? else { return Ok(()) };
    mail.set_flags(account.id, row.folder_id, &[row.uid], FlagOp::Add, Flags::DELETED, &[]).await?;
    mail.expunge(account.id, row.folder_id, Some(&[row.uid])).await?;
    Ok(())
}

/// Routes the recipients and hands the message to the sending pipeline, within the account's
/// hourly limit.
#[allow(clippy::too_many_arguments)] // the envelope's parts, each named
async fn send(
    mail: &mail::Mail,
    account: &Account,
    from: &str,
    to: &[Mailbox],
    cc: &[Mailbox],
    bcc: &[Mailbox],
    raw: Vec<u8>,
    hostname: &str,
) -> Result<(), AppError> {
    let (local, remote, lists) = route(mail, to, cc, bcc).await?;
    let slot = mail.reserve_sending(account.id).ok_or(AppError::SendingLimit)?;
    // A list's post from here is the account's: held when it may not post freely (A7, A8).
    let mut posts = Vec::with_capacity(lists.len());
    for list in &lists {
        if let mail::lists::PostDecision::Post(post) = mail.list_post(list, from, &raw, Some(account.id)).await? {
            posts.push(post);
        }
    }
    let envelope = mail::Envelope { sender: from, local: &local, remote: &remote, lists: &posts };
    match mail.submit(account.id, envelope, raw, hostname).await {
        Ok(submitted) => {
            slot.keep();
            tracing::info!(login = %account.login, queued = ?submitted.queued, n_local = submitted.delivered.len(), "message sent from the web client");
            Ok(())
        }
        Err(store::Error::QuotaExceeded) => Err(AppError::RecipientMailboxFull),
        Err(other) => Err(other.into()),
    }
}

/// The accounts here, the addresses elsewhere and the mailing lists the recipients lead to;
/// an error for a local address nobody has, or no recipient at all.
async fn route(
    mail: &mail::Mail,
    to: &[Mailbox],
    cc: &[Mailbox],
    bcc: &[Mailbox],
) -> Result<(Vec<store::AccountId>, Vec<String>, Vec<store::MailingList>), AppError> {
    let mut lists: Vec<store::MailingList> = Vec::new();
    let mut local = Vec::new();
    let mut remote: Vec<String> = Vec::new();
    // At most MAX_RECIPIENTS each way: the lists stay short, `contains` is fine.
    let all: Vec<&Mailbox> = to.iter().chain(cc).chain(bcc).collect();
    if all.is_empty() {
        return Err(AppError::NoRecipient);
    }
    for mailbox in all {
        let address =
            store::parse_address(&mailbox.address).map_err(|_| AppError::BadRecipient(mailbox.address.clone()))?;
        match mail.route(&address).await? {
            store::Route::Local { accounts, external } => {
                for id in accounts {
                    if !local.contains(&id) {
                        local.push(id);
                    }
                }
                remote.extend(external.into_iter().filter(|e| !remote.contains(e)).collect::<Vec<_>>());
            }
            store::Route::NotLocal => {
                let remote_form = mail::outgoing::remote_form(&address, Some(&mailbox.address));
                if !remote.contains(&remote_form) {
                    remote.push(remote_form);
                }
            }
            store::Route::List(id) => {
                if let Some(list) = mail.store().mailing_list(id).await?
                    && !lists.iter().any(|known| known.id == id)
                {
                    lists.push(list);
                }
            }
            store::Route::UnknownUser | store::Route::ListBounce { .. } => {
                return Err(AppError::UnknownRecipient(mailbox.address.clone()));
            }
        }
    }
    Ok((local, remote, lists))
}

#[cfg(test)]
mod tests {
    use super::send_time;
    use crate::ssr::ReaderZone;

    #[test]
    fn scheduled_times_are_read_in_the_readers_zone() {
        let now = 1_796_000_000; // 2026-11-30
        // 2026-12-07 09:30 in Paris (UTC+1: the page says -60) is 08:30 UTC.
        assert_eq!(send_time("2026-12-07T09:30", ReaderZone::default(), Some("-60"), now).ok(), Some(1_796_632_200));
        assert_eq!(send_time("2026-12-07T09:30:15", ReaderZone::default(), Some("-60"), now).ok(), Some(1_796_632_215));
        assert!(send_time("2026-11-01T09:30", ReaderZone::default(), Some("0"), now).is_err(), "in the past");
        assert!(send_time("2028-12-07T09:30", ReaderZone::default(), Some("0"), now).is_err(), "beyond a year");
        assert!(send_time("tomorrow", ReaderZone::default(), Some("0"), now).is_err());
        assert!(send_time("2026-12-07T09:30", ReaderZone::default(), None, now).is_ok(), "the server's zone");
    }
}
