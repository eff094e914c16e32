//! IDLE (RFC 9051 §6.3.13, RFC 2177): the client waits and the server tells it of changes to
//! the selected folder as they are committed, whoever made them (another IMAP session, an SMTP
//! delivery, the web client, `facteur admin`), through the mail core's change feed.

use tokio::sync::broadcast::error::RecvError;

use crate::error::{Error, Result};
use crate::response::Response;
use crate::session::Session;

impl Session {
    pub(crate) async fn handle_idle(&mut self, tag: &str) -> Result<Response> {
        // Subscribed before the first look, so nothing committed in between is missed.
        let mut feed = self.services.mail.subscribe();
        let account = self.account()?.id;
        self.write(b"+ idling\r\n").await?;
        self.report_now().await?;
        loop {
            let folder = self.selected().map(|selected| selected.folder.id);
            tokio::select! {
                line = self.read_line() => {
                    return match line? {
                        Some(Ok(line)) if line.trim_ascii().eq_ignore_ascii_case(b"DONE") => {
                            Ok(Response::tagged(tag, "OK", None, "IDLE terminated"))
                        }
                        Some(_) => Err(Error::bad("Expected DONE to end IDLE")),
                        // End of stream, or a timer ran out (the BYE is sent).
                        None => Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into())),
                    };
                }
                change = feed.recv() => match change {
                    Ok(change) if change.account == account && Some(change.folder) == folder => {
                        self.report_now().await?;
                    }
                    Ok(_) => {}
                    // Fell behind the feed: the folder is compared whole anyway.
                    Err(RecvError::Lagged(_)) => self.report_now().await?,
                    Err(RecvError::Closed) => return Err(Error::Internal("the change feed stopped".into())),
                },
            }
            if self.ending() {
                return Ok(Response::default());
            }
        }
    }

    /// Writes what changed in the selected folder, if anything, at once.
    async fn report_now(&mut self) -> Result<()> {
        let mut response = Response::default();
        self.report_changes(&mut response).await?;
        if !response.bytes.is_empty() {
            self.write(&response.bytes).await?;
        }
        Ok(())
    }
}
