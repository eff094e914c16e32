//! EHLO and HELO (RFC 5321 §4.1.1.1): name the client, reset any transaction, and list our
//! extensions.

use crate::reply::Reply;
use crate::session::{Hello, Session};

impl Session {
    pub(crate) fn handle_hello(&mut self, domain: String, extended: bool) -> Reply {
        // RFC 5321 §4.1.4: EHLO/HELO in the middle of a transaction clears it, like RSET.
        self.transaction = None;
        self.hello = Some(Hello { domain: domain.clone(), extended });
        let greeting = format!("{} greets {domain}", self.services.hostname);
        if !extended {
            return Reply::plain(250, vec![greeting]);
        }
        let mut lines = vec![
            greeting,
            // RFC 2920.
            "PIPELINING".to_string(),
            // RFC 6152.
            "8BITMIME".to_string(),
            // RFC 6531.
            "SMTPUTF8".to_string(),
            // RFC 1870.
            format!("SIZE {}", store::MAX_MESSAGE_BYTES),
            // RFC 2034.
            "ENHANCEDSTATUSCODES".to_string(),
        ];
        // RFC 3207 §4.2: STARTTLS is not offered again once TLS is running.
        if self.services.tls.is_some() && !self.tls {
            lines.push("STARTTLS".to_string());
        }
        // RFC 4954 §4, RFC 8314 §3: passwords only over TLS, so AUTH is offered only then.
        if self.is_submission() && self.tls && self.account.is_none() {
            lines.push("AUTH PLAIN LOGIN".to_string());
        }
        Reply::plain(250, lines)
    }
}
