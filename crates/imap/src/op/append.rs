//! APPEND (RFC 9051 §6.3.12) with UIDPLUS's APPENDUID (RFC 4315) and APPENDLIMIT (RFC 7889):
//! how a desktop client saves a draft or its copy of a sent message.

use imap_codec::imap_types::datetime::DateTime;
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::Flag;
use imap_codec::imap_types::mailbox::Mailbox;

use crate::error::{Code, Error, Result};
use crate::op::binary_append::encode_binary_parts;
use crate::op::list::mailbox_name;
use crate::op::store::split_flags;
use crate::response::Response;
use crate::session::Session;

impl Session {
    pub(crate) async fn handle_append(
        &mut self,
        tag: &str,
        mailbox: Mailbox<'static>,
        flags: Vec<Flag<'static>>,
        date: Option<DateTime>,
        message: LiteralOrLiteral8<'static>,
    ) -> Result<Response> {
        let name = mailbox_name(&mailbox, self.names)?;
        let account = self.account()?.id;
        let (system, keywords) = split_flags(&flags)?;
        let raw = match message {
            LiteralOrLiteral8::Literal(literal) => literal.into_inner().into_owned(),
            LiteralOrLiteral8::Literal8(literal) => {
                let raw = literal.data.into_owned();
                match encode_binary_parts(&raw) {
                    Ok(encoded) => encoded.unwrap_or(raw),
                    Err(()) => {
                        return Err(Error::no(
                            Some(Code::UnknownCte),
                            "Binary content outside a MIME part body cannot be stored",
                        ));
                    }
                }
            }
        };
        if raw.is_empty() {
            return Err(Error::no(Some(Code::Cannot), "An empty message cannot be stored"));
        }
        // RFC 9051 §6.3.12: a missing folder is NO [TRYCREATE], so the client may CREATE it.
        let Some(folder) = self.services.store().folder_by_name(account, &name).await? else {
            return Err(Error::no(Some(Code::TryCreate), format!("No folder named {name}")));
        };
        let internal_date = date.map(|date| date.as_ref().timestamp());
        let (uid, _) = self.services.mail.append(account, folder.id, raw, system, &keywords, internal_date).await?;
        let mut response = Response::default();
        // RFC 9051 §6.3.12: the selected folder's new message is announced at once.
        self.report_changes(&mut response).await?;
        let code = format!("APPENDUID {} {uid}", folder.uidvalidity);
        response.status_line(tag, "OK", Some(&code), "APPEND completed");
        Ok(response)
    }
}
