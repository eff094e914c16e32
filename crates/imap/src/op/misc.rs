//! CAPABILITY, NOOP/CHECK, LOGOUT, ID and STARTTLS: the commands valid in (nearly) any state.

use imap_codec::imap_types::core::{IString, NString};

use crate::error::{Code, Error, Result};
use crate::response::{Response, string};
use crate::selected::Change;
use crate::session::{After, Session};

impl Session {
    /// RFC 9051 §6.1.1.
    pub(crate) fn handle_capability(&self, tag: &str) -> Response {
        let mut response = Response::default();
        response.untagged(&format!("CAPABILITY {}", self.capabilities()));
        response.status_line(tag, "OK", None, "CAPABILITY completed");
        response
    }

    /// RFC 9051 §6.1.2 (NOOP) and §6.4.1 (CHECK, which is NOOP in IMAP4rev2): report what
    /// changed in the selected folder since the client last heard about it.
    pub(crate) async fn handle_noop(&mut self, tag: &str) -> Result<Response> {
        let mut response = Response::default();
        self.report_changes(&mut response).await?;
        response.status_line(tag, "OK", None, "NOOP completed");
        Ok(response)
    }

    /// Compares the selected folder with the snapshot and appends EXPUNGE, FETCH FLAGS and
    /// EXISTS responses (RFC 9051 §7.4.1, §7.5.1, §7.5.2).
    pub(crate) async fn report_changes(&mut self, response: &mut Response) -> Result<()> {
        let Some(selected) = self.selected.as_ref() else { return Ok(()) };
        let account = self.account()?.id;
        let current = self.services.store.messages(account, selected.folder.id).await?;
        let selected = self.selected_mut()?;
        for change in selected.refresh(&current) {
            match change {
                Change::Expunge(seq) => response.untagged(&format!("{} EXPUNGE", seq.0)),
                Change::Flags(seq, message) => response.untagged(&format!(
                    "{} FETCH (UID {} FLAGS ({}))",
                    seq.0,
                    message.uid.0,
                    crate::op::fetch::flag_list(message.flags, &message.keywords)
                )),
                Change::Exists(n) => response.untagged(&format!("{n} EXISTS")),
            }
        }
        Ok(())
    }

    /// RFC 9051 §6.1.3: BYE, then the tagged OK, then the connection closes.
    pub(crate) fn handle_logout(&self, tag: &str) -> Response {
        let mut response = Response::default();
        response.untagged("BYE Facteur logging out");
        response.status_line(tag, "OK", None, "LOGOUT completed");
        response
    }

    /// RFC 2971: we log what the client says about itself and tell our name.
    pub(crate) fn handle_id(
        &self,
        tag: &str,
        parameters: Option<Vec<(IString<'static>, NString<'static>)>>,
    ) -> Response {
        if let Some(parameters) = parameters {
            let described: Vec<String> = parameters
                .iter()
                .take(30)
                .map(|(key, value)| {
                    let value = value.0.as_ref().map(|v| String::from_utf8_lossy(v.as_ref()).into_owned());
                    format!("{}={}", String::from_utf8_lossy(key.as_ref()), value.unwrap_or_default())
                })
                .collect();
            tracing::info!(client = %described.join(", "), "IMAP client ID");
        }
        let mut response = Response::default();
        response.untagged(&format!(
            "ID ({} {} {} {})",
            string("name"),
            string("Facteur"),
            string("version"),
            string(env!("CARGO_PKG_VERSION"))
        ));
        response.status_line(tag, "OK", None, "ID completed");
        response
    }

    /// RFC 9051 §6.2.1: only on a plaintext connection with a certificate to offer.
    pub(crate) fn handle_starttls(&self, tag: &str) -> Result<(Response, After)> {
        if self.tls_active {
            return Err(Error::bad("TLS is already active"));
        }
        if self.services.tls.is_none() {
            return Err(Error::no(Some(Code::Cannot), "TLS is not configured on this server"));
        }
        Ok((Response::tagged(tag, "OK", None, "Begin TLS negotiation now"), After::StartTls))
    }
}
