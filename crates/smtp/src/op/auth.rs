//! AUTH (RFC 4954) on the submission ports, with PLAIN (RFC 4616) and LOGIN (the mechanism
//! Outlook and older clients use): only over TLS, once per session, never in a transaction.
//! Checking the password, and throttling failures (F8), is the `auth` crate's, as for IMAP.
//! Passwords are never logged.

use auth::AuthOutcome;
use auth::sasl::parse_plain;
use base64::Engine;

use crate::reply::Reply;
use crate::session::{COMMAND_TIMEOUT, Session};
use crate::{Error, Result};

/// Failed AUTH attempts one connection may make; the last closes it.
pub(crate) const MAX_FAILED_AUTHS: u32 = 3;
/// How long a failed AUTH waits for its answer (a guessing client gains nothing by hurrying).
const FAILED_AUTH_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

impl Session {
    pub(crate) async fn handle_auth(&mut self, mechanism: &str, initial: Option<String>) -> Result<Reply> {
        if !self.is_submission() {
            // RFC 4954 §4: the MX does not offer AUTH.
            return Err(Error::NotImplemented);
        }
        if !self.tls {
            return Err(Error::EncryptionRequired);
        }
        if self.hello.is_none() {
            return Err(Error::BadSequence("Send EHLO first"));
        }
        if self.account.is_some() {
            return Err(Error::BadSequence("Already authenticated"));
        }
        if self.transaction.is_some() {
            return Err(Error::BadSequence("AUTH is not allowed during a mail transaction"));
        }
        // One deadline for the whole exchange, as for a command line.
        let deadline = tokio::time::Instant::now() + COMMAND_TIMEOUT;
        let (login, password) = match mechanism {
            "PLAIN" => {
                let data = match initial {
                    Some(initial) => decode(&initial)?,
                    // RFC 4954 §4: an empty challenge, then the response.
                    None => self.sasl_response("", deadline).await?,
                };
                parse_plain(&data).map_err(|_| Error::AuthFailed)?
            }
            "LOGIN" => {
                let login = match initial {
                    Some(initial) => decode(&initial)?,
                    None => self.sasl_response("VXNlcm5hbWU6", deadline).await?,
                };
                let password = self.sasl_response("UGFzc3dvcmQ6", deadline).await?;
                (
                    String::from_utf8(login).map_err(|_| Error::AuthFailed)?,
                    String::from_utf8(password).map_err(|_| Error::AuthFailed)?,
                )
            }
            _ => return Err(Error::UnsupportedMechanism),
        };
        match self.services.auth.authenticate(&login, &password, Some(self.peer), "submission").await? {
            AuthOutcome::Ok(account) => {
                tracing::info!(login = %account.login, "SMTP AUTH");
                self.account = Some(account);
                Ok(Reply::new(235, "2.7.0", "Authentication successful"))
            }
            AuthOutcome::BadCredentials => {
                self.failed_auths += 1;
                tokio::time::sleep(FAILED_AUTH_DELAY).await;
                if self.failed_auths >= MAX_FAILED_AUTHS {
                    return Err(Error::TooManyErrors);
                }
                Err(Error::AuthFailed)
            }
            AuthOutcome::Throttled => Err(Error::AuthThrottled),
        }
    }

    /// Sends a `334` challenge (base64, possibly empty) and decodes the client's one-line
    /// answer; `*` cancels the exchange (RFC 4954 §4).
    async fn sasl_response(&mut self, challenge: &str, deadline: tokio::time::Instant) -> Result<Vec<u8>> {
        self.push(&Reply::plain(334, vec![challenge.to_string()]));
        let line = self.read_line(deadline).await?;
        if line == b"*" {
            return Err(Error::AuthCancelled);
        }
        decode(std::str::from_utf8(&line).map_err(|_| Error::AuthFailed)?)
    }
}

/// Base64 as RFC 4954 §4 sends it (`=` is the empty response), padded or not: some clients
/// leave the padding out.
fn decode(text: &str) -> Result<Vec<u8>> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    if text == "=" {
        return Ok(Vec::new());
    }
    LENIENT.decode(text.trim()).map_err(|_| Error::AuthFailed)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn sasl_base64_padded_or_not() {
        assert_eq!(decode("AGFuYQBwdw==").unwrap(), b"\0ana\0pw");
        assert_eq!(decode("AGFuYQBwdw").unwrap(), b"\0ana\0pw");
        assert_eq!(decode("=").unwrap(), b"");
        assert!(decode("not base64!").is_err());
    }
}
