//! Delivery status notifications (RFC 3464, in a multipart/report of RFC 6522): the message
//! that tells a sender their mail could not be delivered, or is late.
//!
//! Written by hand: the format is fixed and small, and the report's own part types
//! (`message/delivery-status`, `text/rfc822-headers`) are plain text fields.

use chrono::{DateTime, TimeZone, Utc};

/// Whether the report says the message failed for good, or is only late.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
}

/// One recipient the report is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address: String,
    /// What the other server said ("550 5.1.1 No such user"), or what went wrong on the way.
    pub diagnostic: String,
    /// The server that said it, if one did.
    pub remote_mta: Option<String>,
}

/// What the report is about: the returned message and when it arrived.
pub struct Report<'a> {
    pub action: Action,
    /// This server's name.
    pub hostname: &'a str,
    /// Who is told: the original envelope sender.
    pub to: &'a str,
    /// Unix seconds.
    pub arrival: i64,
    pub recipients: &'a [Recipient],
    /// The original message; its header section is returned (RFC 3462's text/rfc822-headers:
    /// enough to recognise it, without sending a large message back).
    pub original: &'a [u8],
}

impl Report<'_> {
    pub fn render(&self, now: DateTime<Utc>) -> Vec<u8> {
        let boundary = format!("dsn-{}", mail::outgoing::new_message_id("boundary", now).replace('@', "-"));
        let (english, french, status_class) = match self.action {
            Action::Failed => ("Undelivered Mail Returned to Sender", "Message non distribué", '5'),
            Action::Delayed => ("Delayed Mail (still being retried)", "Message retardé (nouvel essai en cours)", '4'),
        };
        let arrival = Utc.timestamp_opt(self.arrival, 0).single().unwrap_or(now);
        let mut out = String::new();
        out.push_str(&format!("From: Mail Delivery System <MAILER-DAEMON@{}>\r\n", self.hostname));
        out.push_str(&format!("To: <{}>\r\n", self.to));
        // The French half as an encoded word (RFC 2047), within its 75 characters.
        out.push_str(&format!("Subject: {english} /\r\n =?utf-8?b?{}?=\r\n", base64_utf8(french)));
        out.push_str(&format!("Date: {}\r\n", now.to_rfc2822()));
        out.push_str(&format!("Message-ID: <{}>\r\n", mail::outgoing::new_message_id(self.hostname, now)));
        // RFC 3834 §5: an automatic message, to which nobody should reply automatically.
        out.push_str("Auto-Submitted: auto-replied\r\n");
        out.push_str("MIME-Version: 1.0\r\n");
        out.push_str(&format!(
            "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
        ));
        out.push_str("This is a delivery status notification (RFC 3464).\r\n\r\n");

        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        out.push_str(&self.human_text());

        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str("Content-Type: message/delivery-status\r\n\r\n");
        out.push_str(&format!("Reporting-MTA: dns; {}\r\n", self.hostname));
        out.push_str(&format!("Arrival-Date: {}\r\n", arrival.to_rfc2822()));
        for recipient in self.recipients {
            out.push_str("\r\n");
            out.push_str(&format!("Final-Recipient: rfc822; {}\r\n", field_text(&recipient.address)));
            out.push_str(&format!(
                "Action: {}\r\n",
                match self.action {
                    Action::Failed => "failed",
                    Action::Delayed => "delayed",
                }
            ));
            out.push_str(&format!("Status: {}\r\n", status(&recipient.diagnostic, status_class)));
            if let Some(mta) = &recipient.remote_mta {
                out.push_str(&format!("Remote-MTA: dns; {}\r\n", field_text(mta)));
            }
            let kind = if starts_with_reply_code(&recipient.diagnostic) { "smtp" } else { "x-local" };
            out.push_str(&format!("Diagnostic-Code: {kind}; {}\r\n", field_text(&recipient.diagnostic)));
            out.push_str(&format!("Last-Attempt-Date: {}\r\n", now.to_rfc2822()));
        }
        out.push_str("\r\n");

        out.push_str(&format!("--{boundary}\r\n"));
        out.push_str("Content-Type: text/rfc822-headers\r\n\r\n");
        let mut bytes = out.into_bytes();
        let headers = mail::header::header_section(self.original);
        bytes.extend_from_slice(headers);
        if !headers.ends_with(b"\n") {
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        bytes
    }

    fn human_text(&self) -> String {
        let mut text = String::new();
        let list: String = self
            .recipients
            .iter()
            .map(|r| format!("  <{}>: {}\r\n", field_text(&r.address), field_text(&r.diagnostic)))
            .collect();
        match self.action {
            Action::Failed => {
                text.push_str(&format!(
                    "Your message could not be delivered to these recipients; it will not be tried again.\r\n\
                     Votre message n'a pas pu être remis à ces destinataires ; il ne sera plus réessayé.\r\n\r\n{list}\r\n"
                ));
            }
            Action::Delayed => {
                text.push_str(&format!(
                    "Your message has not been delivered to these recipients yet. It is still being tried;\r\n\
                     you need not send it again. You will be told if it fails for good.\r\n\
                     Votre message n'a pas encore été remis à ces destinataires. De nouveaux essais sont en\r\n\
                     cours ; inutile de le renvoyer. Vous serez prévenu s'il échoue définitivement.\r\n\r\n{list}\r\n"
                ));
            }
        }
        text
    }
}

/// RFC 3464 §2.3.4: the status is the reply's enhanced code when it has one of the right
/// class, else the class alone.
fn status(diagnostic: &str, class: char) -> String {
    let reply_text = diagnostic.get(4..).filter(|_| starts_with_reply_code(diagnostic));
    match reply_text.and_then(crate::client::enhanced_status) {
        Some(code) if code.starts_with(class) => code.to_string(),
        _ => format!("{class}.0.0"),
    }
}

fn starts_with_reply_code(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 3 && bytes[..3].iter().all(u8::is_ascii_digit) && bytes.get(3).is_none_or(|&b| b == b' ')
}

/// A value safe on one header line: no line breaks or other controls, not endless.
fn field_text(text: &str) -> String {
    let mut out: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if out.len() > 900 {
        let mut cut = 900;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

fn base64_utf8(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_report_names_each_recipient_with_its_status() {
        let recipients = [
            Recipient {
                address: "bob@example.org".into(),
                diagnostic: "550 5.1.1 No such user".into(),
                remote_mta: Some("mx.example.org".into()),
            },
            Recipient {
                address: "eve@example.org".into(),
                diagnostic: "connection refused\r\nX: y".into(),
                remote_mta: None,
            },
        ];
        let report = Report {
            action: Action::Failed,
            hostname: "mail.example.com",
            to: "alice@example.com",
            arrival: 1_700_000_000,
            recipients: &recipients,
            original: b"Subject: hi\r\nFrom: alice@example.com\r\n\r\nbody never returned\r\n",
        };
        let text = String::from_utf8(report.render(Utc::now())).expect("utf-8");
        assert!(text.contains("report-type=delivery-status"));
        assert!(text.contains("Final-Recipient: rfc822; bob@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"));
        assert!(text.contains("Remote-MTA: dns; mx.example.org"));
        assert!(text.contains("Status: 5.0.0\r\nDiagnostic-Code: x-local; connection refused  X: y\r\n"));
        assert!(text.contains("Subject: hi\r\nFrom: alice@example.com\r\n"));
        assert!(!text.contains("body never returned"));
    }

    #[test]
    fn a_status_of_the_wrong_class_is_not_copied() {
        assert_eq!(status("451 4.3.0 try later", '5'), "5.0.0");
        assert_eq!(status("451 4.3.0 try later", '4'), "4.3.0");
        assert_eq!(status("550 no such user", '5'), "5.0.0");
        assert_eq!(status("550 5.1.x not a status", '5'), "5.0.0");
    }
}
