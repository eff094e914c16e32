//! Read receipts (C8, RFC 8098): a message that asks for one (`Disposition-Notification-To:`)
//! shows the question once in the reading pane; the reader sends a receipt or declines, and
//! either way the message gets the `$MDNSent` keyword (RFC 9051 §2.3.2), so it is not asked
//! again, here or in a desktop program that honours the keyword.
//!
//! The receipt is sent only on a click, never by itself: the address asking may not be the
//! sender's (RFC 8098 §2.1 asks for the reader's consent then), and a receipt tells the asker
//! that the mailbox is read.

use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use store::{Account, FlagOp, Flags, MessageId};

use crate::error::AppError;
use crate::i18n::Lang;

/// The keyword a message gets once its receipt was sent or declined.
pub(crate) const MDN_SENT: &str = "$MDNSent";

/// Whether the reader's answer is to send the receipt.
pub(crate) async fn answer(
    mail: &mail::Mail,
    account: &Account,
    message_id: i64,
    send: bool,
    hostname: &str,
    lang: Lang,
) -> Result<(i64, i64), AppError> {
    let store = mail.store();
    let row = store.message(account.id, MessageId(message_id)).await?.ok_or(AppError::NotFound)?;
    let already = row.keywords.iter().any(|k| k.eq_ignore_ascii_case(MDN_SENT));
    if send && !already {
        let raw = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await?.ok_or(AppError::NotFound)?;
        let original = render::compose::Original::parse(&raw).unwrap_or_default();
        let Some(to) = original.receipt_to.clone() else { return Err(AppError::NotFound) };
        // The receipt counts in the hourly limit like any message the account sends.
        let slot = mail.reserve_sending(account.id).ok_or(AppError::SendingLimit)?;
        let receipt = build(&account.login, &to, &original, hostname, lang).map_err(|_| AppError::Internal)?;
        // RFC 8098 §2.1: from the null sender, so no receipt or bounce answers it.
        match mail.send_from_server(&to, receipt).await? {
            mail::ServerMessage::Sent => slot.keep(),
            mail::ServerMessage::NoSuchAddress => return Err(AppError::UnknownRecipient(to)),
            mail::ServerMessage::MailboxFull => return Err(AppError::RecipientMailboxFull),
        }
    }
    let keyword = [MDN_SENT.to_string()];
    mail.set_flags(account.id, row.folder_id, &[row.uid], FlagOp::Add, Flags::empty(), &keyword).await?;
    Ok((row.folder_id.0, row.id.0))
}

/// An RFC 8098 disposition notification: "displayed", sent by hand, with a sentence for people.
fn build(
    reader: &str,
    to: &str,
    original: &render::compose::Original,
    hostname: &str,
    lang: Lang,
) -> std::io::Result<Vec<u8>> {
    let (subject, text) = match lang {
        Lang::En => (
            format!("Read: {}", original.subject),
            format!("Your message to {reader} (\"{}\") was displayed.\r\n", original.subject),
        ),
        Lang::Fr => (
            format!("Lu : {}", original.subject),
            format!("Votre message à {reader} (« {} ») a été affiché.\r\n", original.subject),
        ),
    };
    let mut report = format!("Reporting-UA: {hostname}; Facteur\r\nFinal-Recipient: rfc822;{reader}\r\n");
    if let Some(id) = &original.message_id {
        report.push_str(&format!("Original-Message-ID: <{id}>\r\n"));
    }
    report.push_str("Disposition: manual-action/MDN-sent-manually; displayed\r\n");
    // A message/* part is never base64 (RFC 2046 §5.2.4): written as it is.
    let encoding = if report.is_ascii() { "7bit" } else { "8bit" };
    let body = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "disposition-notification"),
        vec![
            MimePart::new("text/plain", text),
            MimePart::new("message/disposition-notification", report).transfer_encoding(encoding),
        ],
    );
    MessageBuilder::new()
        .from(reader)
        .to(to)
        .subject(subject)
        .message_id(mail::outgoing::new_message_id(hostname, chrono::Utc::now()))
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(body)
        .write_to_vec()
}
