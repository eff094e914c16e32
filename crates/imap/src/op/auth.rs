//! LOGIN and AUTHENTICATE PLAIN (RFC 9051 §6.2.2, §6.2.3; RFC 4616 for PLAIN).
//!
//! Passwords stay in imap-types' `Secret` (whose Debug hides them) until handed to the store,
//! and are never logged. Login names are logged escaped and truncated (they come from an
//! unauthenticated client). Throttling is the `auth` crate's (F8): a throttled login is
//! `NO [UNAVAILABLE]`. On a plaintext connection that could use STARTTLS, both commands are
//! refused with `NO [PRIVACYREQUIRED]` before any password is looked at.

use std::borrow::Cow;

use auth::AuthOutcome;
use imap_codec::AuthenticateDataCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::secret::Secret;

use crate::error::{Code, Error, Result};
use crate::response::Response;
use crate::session::{Session, loggable};

impl Session {
    /// RFC 9051 §6.2.3 (and RFC 3501 §6.2.3): while LOGINDISABLED is advertised, LOGIN and
    /// AUTHENTICATE fail with PRIVACYREQUIRED (RFC 9051 §7.1); RFC 8314 §3 wants passwords
    /// over TLS only.
    fn refuse_cleartext_password(&self) -> Result<()> {
        if self.login_disabled() {
            return Err(Error::no(Some(Code::PrivacyRequired), "Use STARTTLS (or IMAPS) before logging in"));
        }
        Ok(())
    }

    pub(crate) async fn handle_login(
        &mut self,
        tag: &str,
        username: AString<'static>,
        password: Secret<AString<'static>>,
    ) -> Result<Response> {
        self.refuse_cleartext_password()?;
        let login = String::from_utf8_lossy(username.as_ref()).into_owned();
        let password = String::from_utf8_lossy(password.declassify().as_ref()).into_owned();
        self.log_in(tag, &login, &password).await
    }

    pub(crate) async fn handle_authenticate(
        &mut self,
        tag: &str,
        mechanism: AuthMechanism<'static>,
        initial_response: Option<Secret<Cow<'static, [u8]>>>,
    ) -> Result<Response> {
        // Before the continuation request, so a client without SASL-IR sends nothing.
        self.refuse_cleartext_password()?;
        if mechanism != AuthMechanism::Plain {
            return Err(Error::no(Some(Code::Cannot), format!("Unsupported mechanism {mechanism}; use PLAIN")));
        }
        let data = match initial_response {
            // RFC 4959 (SASL-IR): the response came with the command.
            Some(data) => data.declassify().to_vec(),
            None => {
                // RFC 9051 §6.2.2: an empty challenge, then one line of base64.
                self.write(b"+ \r\n").await?;
                let line = match self.read_line().await? {
                    Some(Ok(line)) => line,
                    Some(Err(())) => return Err(Error::bad("Authentication line too long")),
                    None => return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into())),
                };
                match AuthenticateDataCodec::default().decode(&line) {
                    Ok((_, AuthenticateData::Continue(data))) => data.declassify().to_vec(),
                    Ok((_, AuthenticateData::Cancel)) => return Err(Error::bad("Authentication cancelled")),
                    Err(_) => return Err(Error::bad("Invalid base64 in authentication data")),
                }
            }
        };
        let Some((login, password)) = parse_plain(&data) else {
            return Err(Error::bad("Malformed PLAIN credentials"));
        };
        self.log_in(tag, &login, &password).await
    }

    async fn log_in(&mut self, tag: &str, login: &str, password: &str) -> Result<Response> {
        let peer_ip = self.peer.map(|p| p.ip());
        match self.services.auth.authenticate(login, password, peer_ip).await? {
            AuthOutcome::Ok(account) => {
                tracing::info!(login = %account.login, "IMAP login");
                self.set_account(account);
                let capabilities = self.capabilities();
                Ok(Response::tagged(tag, "OK", Some(&format!("CAPABILITY {capabilities}")), "Logged in"))
            }
            AuthOutcome::BadCredentials => {
                tracing::info!(login = ?loggable(login.as_bytes()), "IMAP login failed");
                Err(Error::no(Some(Code::AuthenticationFailed), "Invalid credentials"))
            }
            AuthOutcome::Throttled => {
                tracing::warn!(login = ?loggable(login.as_bytes()), "IMAP login throttled");
                Err(Error::no(Some(Code::Unavailable), "Too many failed logins; try again later"))
            }
        }
    }
}

/// RFC 4616: `[authzid] NUL authcid NUL passwd`. An authorization identity other than the
/// login itself is refused (no proxy logins).
fn parse_plain(data: &[u8]) -> Option<(String, String)> {
    let mut fields = data.split(|&b| b == 0);
    let authzid = fields.next()?;
    let authcid = std::str::from_utf8(fields.next()?).ok()?;
    let password = std::str::from_utf8(fields.next()?).ok()?;
    if fields.next().is_some() || authcid.is_empty() {
        return None;
    }
    if !authzid.is_empty() && !authzid.eq_ignore_ascii_case(authcid.as_bytes()) {
        return None;
    }
    Some((authcid.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::parse_plain;

    #[test]
    fn plain_credentials() {
        for (data, want) in [
            (&b"\0ana@example.org\0pw pw"[..], Some(("ana@example.org", "pw pw"))),
            (b"ana@example.org\0ana@example.org\0pw", Some(("ana@example.org", "pw"))),
            (b"bob@example.org\0ana@example.org\0pw", None),
            (b"\0\0pw", None),
            (b"\0ana", None),
            (b"\0a\0b\0c", None),
        ] {
            let got = parse_plain(data);
            assert_eq!(got.as_ref().map(|(l, p)| (l.as_str(), p.as_str())), want);
        }
    }
}
