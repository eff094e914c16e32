//! LOGIN and AUTHENTICATE PLAIN and LOGIN (RFC 9051 §6.2.2, §6.2.3; RFC 4616 for PLAIN).
//!
//! Passwords stay in imap-types' `Secret` (whose Debug hides them) until handed to the store,
//! and are never logged. Login names are logged escaped and truncated (they come from an
//! unauthenticated client). Throttling is the `auth` crate's (F8): a throttled login is
//! `NO [UNAVAILABLE]`. On a plaintext connection that could use STARTTLS, both commands are
//! refused with `NO [PRIVACYREQUIRED]` before any password is looked at.

use std::borrow::Cow;

use auth::AuthOutcome;
use auth::sasl::{PlainError, parse_plain};
use imap_codec::AuthenticateDataCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_codec::imap_types::core::AString;
use imap_codec::imap_types::secret::Secret;

use crate::error::{Code, Error, Result};
use crate::response::Response;
use crate::session::Session;

/// How long a failed login waits for its answer.
pub(crate) const FAILED_LOGIN_DELAY: std::time::Duration = std::time::Duration::from_secs(1);
/// Failed logins one connection may make; the last is followed by BYE.
pub(crate) const MAX_FAILED_LOGINS: u32 = 3;

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
        let initial = initial_response.map(|data| data.declassify().to_vec());
        let data = match mechanism {
            AuthMechanism::Plain => match initial {
                // RFC 4959 (SASL-IR): the response came with the command.
                Some(data) => data,
                // RFC 9051 §6.2.2: an empty challenge, then one line of base64.
                None => self.sasl_response("").await?,
            },
            // The LOGIN mechanism (draft-murchison-sasl-login; Outlook and older clients): the
            // name, then the password, each asked for.
            AuthMechanism::Login => {
                let login = match initial {
                    Some(data) => data,
                    None => self.sasl_response("VXNlcm5hbWU6").await?,
                };
                let password = self.sasl_response("UGFzc3dvcmQ6").await?;
                let login = String::from_utf8(login).map_err(|_| Error::bad("The login name is not UTF-8"))?;
                let password = String::from_utf8(password).map_err(|_| Error::bad("The password is not UTF-8"))?;
                return self.log_in(tag, &login, &password).await;
            }
            other => return Err(Error::no(Some(Code::Cannot), format!("Unsupported mechanism {other}; use PLAIN"))),
        };
        let (login, password) = match parse_plain(&data) {
            Ok(credentials) => credentials,
            Err(PlainError::Malformed) => return Err(Error::bad("Malformed PLAIN credentials")),
            // Well-formed, refused: RFC 9051 §7.1 AUTHORIZATIONFAILED, not a syntax error.
            Err(PlainError::OtherIdentity) => {
                return Err(Error::no(Some(Code::AuthorizationFailed), "Logging in as someone else is not allowed"));
            }
        };
        self.log_in(tag, &login, &password).await
    }

    /// Sends a SASL challenge (base64, possibly empty) and reads the client's one-line answer.
    async fn sasl_response(&mut self, challenge: &str) -> Result<Vec<u8>> {
        self.write(format!("+ {challenge}\r\n").as_bytes()).await?;
        let line = match self.read_line().await? {
            Some(Ok(line)) => line,
            Some(Err(())) => return Err(Error::bad("Authentication line too long")),
            None => return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into())),
        };
        match AuthenticateDataCodec::default().decode(&line) {
            Ok((_, AuthenticateData::Continue(data))) => Ok(data.declassify().to_vec()),
            Ok((_, AuthenticateData::Cancel)) => Err(Error::bad("Authentication cancelled")),
            Err(_) => Err(Error::bad("Invalid base64 in authentication data")),
        }
    }

    /// Checks the credentials (`auth` logs failures). A failure is answered only after
    /// [`FAILED_LOGIN_DELAY`], and the [`MAX_FAILED_LOGINS`]th ends the session, so one
    /// connection cannot make thousands of attempts a second (issue 12, defect 6).
    async fn log_in(&mut self, tag: &str, login: &str, password: &str) -> Result<Response> {
        let peer_ip = self.peer.map(|p| p.ip());
        let refusal = match self.services.auth.authenticate(login, password, peer_ip, "imap").await? {
            AuthOutcome::Ok(account) => {
                tracing::info!(login = %account.login, "IMAP login");
                self.set_account(account);
                let capabilities = self.capabilities();
                return Ok(Response::tagged(tag, "OK", Some(&format!("CAPABILITY {capabilities}")), "Logged in"));
            }
            AuthOutcome::BadCredentials => (Code::AuthenticationFailed, "Invalid credentials"),
            AuthOutcome::Throttled => (Code::Unavailable, "Too many failed logins; try again later"),
        };
        self.failed_logins += 1;
        tokio::time::sleep(FAILED_LOGIN_DELAY).await;
        let mut response = Response::default();
        if self.failed_logins >= MAX_FAILED_LOGINS {
            response.untagged("BYE Too many failed logins");
            self.end_after_reply();
        }
        response.status_line(tag, "NO", Some(refusal.0.as_str()), refusal.1);
        Ok(response)
    }
}
