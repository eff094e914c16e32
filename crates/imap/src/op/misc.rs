//! CAPABILITY, NOOP/CHECK, LOGOUT, ID and STARTTLS: the commands valid in (nearly) any state.

use imap_codec::imap_types::core::{IString, NString};
use imap_codec::imap_types::extensions::enable::CapabilityEnable;
use imap_codec::imap_types::extensions::utf8::Utf8Kind;

use crate::error::{Code, Error, Result};
use crate::op::list::{DELIMITER, Names};
use crate::response::{Response, string};
use crate::selected::{Access, Change, SeqNum, Uid};
use crate::session::{After, Session, loggable};

/// RFC 2971 §3.3: "Implementations MUST NOT send more than 30 field-value pairs."
const MAX_ID_PAIRS: usize = 30;
/// RFC 2971 §3.3: "Field strings MUST NOT be longer than 30 octets."
const MAX_ID_FIELD_BYTES: usize = 30;
/// RFC 2971 §3.3: "Value strings MUST NOT be longer than 1024 octets."
const MAX_ID_VALUE_BYTES: usize = 1024;

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
        let Some(selected) = self.selected() else { return Ok(()) };
        let account = self.account()?.id;
        let folder = selected.folder.id;
        let version = match self.services.store().folder_version(account, folder).await {
            Ok(version) => version,
            // Deleted for good by another session (DELETE in Trash): nothing the client holds
            // is valid any more, as Dovecot does.
            Err(store::Error::NotFound(_)) => {
                response.untagged("BYE The selected folder was deleted");
                self.end_after_reply();
                return Ok(());
            }
            Err(error) => return Err(error.into()),
        };
        if version == selected.version {
            return Ok(());
        }
        let (current, blobs) = self.services.store().message_states_and_blobs(account, folder).await?;
        let (condstore, qresync, rev2) = (self.condstore, self.qresync, self.rev2);
        let selected = self.selected_mut()?;
        selected.version = version;
        let changes = selected.refresh(&current, &blobs);
        // New mail: the part no other session was told about is \Recent here (RFC 3501 §2.3.2).
        let seen_below = selected.messages.last().map_or(0, |m| m.uid.0 + 1);
        let settled = selected.recent_settled_below();
        // IMAP4rev2 has no \Recent: such a session leaves the new mail recent for others.
        if seen_below > settled && !rev2 {
            let (folder, claim) = (selected.folder.id, selected.access == Access::ReadWrite);
            let first = self.services.store().recent_from(account, folder, seen_below, claim).await?;
            self.selected_mut()?.recent.push(first.max(settled)..seen_below);
        }
        // A keyword no FLAGS named goes out first.
        self.selected_mut()?.announce_own_keywords(response);
        let expunged: Vec<(SeqNum, Uid)> = changes
            .iter()
            .filter_map(|change| match change {
                Change::Expunge(seq, uid) => Some((*seq, *uid)),
                _ => None,
            })
            .collect();
        write_expunged(response, &expunged, qresync);
        for change in changes {
            match change {
                Change::Expunge(..) => {}
                Change::Flags(seq, message) => {
                    let modseq = if condstore { format!(" MODSEQ ({})", message.modseq) } else { String::new() };
                    let recent = self.selected_mut()?.is_recent(message.uid);
                    response.untagged(&format!(
                        "{} FETCH (UID {} FLAGS ({}){modseq})",
                        seq.0,
                        message.uid.0,
                        crate::op::fetch::flag_list(message.flags, &message.keywords, recent)
                    ))
                }
                Change::Exists(n) => {
                    response.untagged(&format!("{n} EXISTS"));
                    if !self.rev2 {
                        response.untagged(&format!("{} RECENT", self.selected_mut()?.n_recent()));
                    }
                }
            }
        }
        Ok(())
    }

    /// RFC 9051 §6.3.10 (RFC 2342): one personal namespace, the account's folders, with no
    /// prefix; no other users' or shared namespaces yet.
    pub(crate) fn handle_namespace(&self, tag: &str) -> Response {
        let mut response = Response::default();
        response.untagged(&format!("NAMESPACE ((\"\" {})) NIL NIL", string(&DELIMITER.to_string())));
        response.status_line(tag, "OK", None, "NAMESPACE completed");
        response
    }

    /// RFC 9051 §6.3.1 (RFC 5161): CONDSTORE, QRESYNC (which implies CONDSTORE, RFC 7162
    /// §3.2.3), UTF8=ACCEPT and IMAP4rev2 can be enabled; ENABLED names those asked for that
    /// are on. Names the server does not know are ignored, as the RFC says.
    pub(crate) fn handle_enable(&mut self, tag: &str, capabilities: &[CapabilityEnable<'_>]) -> Response {
        let mut enabled = Vec::new();
        let mut response = Response::default();
        for capability in capabilities {
            match capability {
                CapabilityEnable::CondStore => {
                    if let Some(line) = self.enable_condstore() {
                        response.bytes.extend_from_slice(line.as_bytes());
                    }
                    enabled.push("CONDSTORE");
                }
                // RFC 6855 §3: folder names in UTF-8 from now on. UTF8=ONLY is not offered.
                CapabilityEnable::Utf8(Utf8Kind::Accept) => {
                    self.names = Names::Utf8;
                    enabled.push("UTF8=ACCEPT");
                }
                // RFC 9051 §6.3.1: IMAP4rev2's answers (UTF-8 names among them) from now on.
                other if other.to_string().eq_ignore_ascii_case("IMAP4rev2") => {
                    self.rev2 = true;
                    self.names = Names::Utf8;
                    enabled.push("IMAP4rev2");
                }
                // imap-codec knows QRESYNC only by name.
                other if other.to_string().eq_ignore_ascii_case("QRESYNC") => {
                    if let Some(line) = self.enable_condstore() {
                        response.bytes.extend_from_slice(line.as_bytes());
                    }
                    self.qresync = true;
                    enabled.push("QRESYNC");
                }
                _ => {}
            }
        }
        enabled.dedup();
        response.untagged(&["ENABLED"].into_iter().chain(enabled).collect::<Vec<_>>().join(" "));
        response.status_line(tag, "OK", None, "ENABLE completed");
        response
    }

    /// RFC 9051 §6.1.3: BYE, then the tagged OK, then the connection closes.
    pub(crate) fn handle_logout(&self, tag: &str) -> Response {
        let mut response = Response::default();
        response.untagged("BYE Facteur logging out");
        response.status_line(tag, "OK", None, "LOGOUT completed");
        response
    }

    /// RFC 2971: we log what the client says about itself and tell our name. The client may
    /// speak before login, so its values go to the log escaped and truncated, and the limits of
    /// RFC 2971 §3.3 are enforced (at most 30 pairs, fields up to 30 octets, values up to 1024).
    pub(crate) fn handle_id(
        &self,
        tag: &str,
        parameters: Option<Vec<(IString<'static>, NString<'static>)>>,
    ) -> Result<Response> {
        if let Some(parameters) = parameters {
            check_id_limits(&parameters)?;
            let described: Vec<(String, Option<String>)> = parameters
                .iter()
                .map(|(field, value)| {
                    (loggable(field.as_ref()), value.0.as_ref().map(|value| loggable(value.as_ref())))
                })
                .collect();
            tracing::info!(client = ?described, "IMAP client ID");
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
        Ok(response)
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

    /// RFC 4978: DEFLATE is the only algorithm imap-codec parses, and the only one there is.
    pub(crate) fn handle_compress(&self, tag: &str) -> Result<(Response, After)> {
        if self.compressing {
            return Err(Error::no(Some(Code::CompressionActive), "Compression is already active"));
        }
        Ok((Response::tagged(tag, "OK", None, "DEFLATE active"), After::Compress))
    }
}

/// Tells the client these messages are gone, highest sequence number first: EXPUNGE lines, or
/// with QRESYNC one `VANISHED` of their UIDs (RFC 7162 §3.2.10).
pub(crate) fn write_expunged(response: &mut Response, expunged: &[(SeqNum, Uid)], qresync: bool) {
    if expunged.is_empty() {
        return;
    }
    if qresync {
        let mut uids: Vec<u32> = expunged.iter().map(|(_, uid)| uid.0).collect();
        uids.sort_unstable();
        response.untagged(&format!("VANISHED {}", crate::op::copy::uid_set(uids.into_iter())));
    } else {
        let mut seqs: Vec<u32> = expunged.iter().map(|(seq, _)| seq.0).collect();
        seqs.sort_unstable_by(|a, b| b.cmp(a));
        for seq in seqs {
            response.untagged(&format!("{seq} EXPUNGE"));
        }
    }
}

/// An ID list over the limits of RFC 2971 §3.3 is the client's bug: BAD.
fn check_id_limits(parameters: &[(IString<'_>, NString<'_>)]) -> Result<()> {
    if parameters.len() > MAX_ID_PAIRS {
        return Err(Error::bad(format!("ID takes at most {MAX_ID_PAIRS} field-value pairs (RFC 2971)")));
    }
    for (field, value) in parameters {
        if field.as_ref().len() > MAX_ID_FIELD_BYTES {
            return Err(Error::bad(format!("ID fields are at most {MAX_ID_FIELD_BYTES} octets (RFC 2971)")));
        }
        if value.0.as_ref().is_some_and(|value| value.as_ref().len() > MAX_ID_VALUE_BYTES) {
            return Err(Error::bad(format!("ID values are at most {MAX_ID_VALUE_BYTES} octets (RFC 2971)")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(n_pairs: usize, field_len: usize, value_len: usize) -> Vec<(IString<'static>, NString<'static>)> {
        (0..n_pairs)
            .map(|i| {
                let field = format!("{i:0>field_len$}");
                let value = "v".repeat(value_len);
                (
                    IString::try_from(field).expect("valid field in test"),
                    NString::try_from(value).expect("valid value in test"),
                )
            })
            .collect()
    }

    #[test]
    fn id_limits_of_rfc_2971() {
        for (n_pairs, field_len, value_len, ok) in
            [(0, 1, 1, true), (30, 30, 1024, true), (31, 2, 1, false), (1, 31, 1, false), (1, 5, 1025, false)]
        {
            let got = check_id_limits(&pairs(n_pairs, field_len, value_len));
            assert_eq!(got.is_ok(), ok, "{n_pairs} pairs, field {field_len}, value {value_len}: {got:?}");
            assert!(got.is_ok() || matches!(got, Err(Error::Bad(_))));
        }
    }
}
