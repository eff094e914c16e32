//! Turns store rows and raw messages into the view data of [`crate::dto`]: dates and sizes in
//! the reader's language (C5); what a message shows (body, sanitised HTML, attachments) comes
//! from the `render` crate.
//!
//! A message mail-parser cannot read still opens, with an empty body.

use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike};
use render::RemoteImages;

use crate::dto::{AttachmentView, Correspondent, FolderView, MessageBody, MessageListItem, MessageView, UsageView};
use crate::i18n::Lang;

const MONTHS_EN: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTHS_FR: [&str; 12] =
    ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
const WEEKDAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const WEEKDAYS_FR: [&str; 7] = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];

/// The reader's time zone: the one their browser named ([`crate::time_zone`]), else the
/// server's own (before the page first ran, and outside a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct ReaderZone(Option<chrono_tz::Tz>);

impl ReaderZone {
    /// The zone the current request's cookie names, if it is a real one.
    pub(crate) fn of_request() -> ReaderZone {
        let named = super::request_cookie(crate::time_zone::TIME_ZONE_COOKIE)
            .filter(|name| crate::time_zone::is_zone_name(name))
            .and_then(|name| name.parse::<chrono_tz::Tz>().ok());
        ReaderZone(named)
    }

    /// The zone a request's cookie names (for handlers outside the Leptos context).
    pub(crate) fn of_headers(headers: &axum::http::HeaderMap) -> ReaderZone {
        let named = super::cookie_value(headers, crate::time_zone::TIME_ZONE_COOKIE)
            .filter(|name| crate::time_zone::is_zone_name(name))
            .and_then(|name| name.parse::<chrono_tz::Tz>().ok());
        ReaderZone(named)
    }

    /// A Unix time in this zone.
    pub(crate) fn at(self, unix_seconds: i64) -> DateTime<FixedOffset> {
        let utc = chrono::Utc.timestamp_opt(unix_seconds, 0).single().unwrap_or_default();
        match self.0 {
            Some(zone) => utc.with_timezone(&zone).fixed_offset(),
            None => utc.with_timezone(&chrono::Local).fixed_offset(),
        }
    }

    /// The Unix time of a wall-clock time in this zone (the earlier one when clocks go back;
    /// none in the hour skipped when they go forward).
    pub(crate) fn unix_of(self, local: &chrono::NaiveDateTime) -> Option<i64> {
        match self.0 {
            Some(zone) => zone.from_local_datetime(local).earliest().map(|at| at.timestamp()),
            None => chrono::Local.from_local_datetime(local).earliest().map(|at| at.timestamp()),
        }
    }
}

/// A Unix time in the reader's time zone.
pub(crate) fn local_time(unix_seconds: i64) -> DateTime<FixedOffset> {
    ReaderZone::of_request().at(unix_seconds)
}

fn month_name(lang: Lang, date: &DateTime<FixedOffset>) -> &'static str {
    let index = date.month0() as usize % 12;
    match lang {
        Lang::En => MONTHS_EN[index],
        Lang::Fr => MONTHS_FR[index],
    }
}

/// C5: the time if `date` is today, else day and month if it is this year, else with the year.
pub(crate) fn short_date(date: &DateTime<FixedOffset>, now: &DateTime<FixedOffset>, lang: Lang) -> String {
    if date.date_naive() == now.date_naive() {
        format!("{:02}:{:02}", date.hour(), date.minute())
    } else if date.year() == now.year() {
        format!("{} {}", date.day(), month_name(lang, date))
    } else {
        format!("{} {} {}", date.day(), month_name(lang, date), date.year())
    }
}

/// C5: the full date and time, shown on hover and in the reading pane.
pub(crate) fn full_date(date: &DateTime<FixedOffset>, lang: Lang) -> String {
    let weekday = date.weekday().num_days_from_monday() as usize % 7;
    let weekday = match lang {
        Lang::En => WEEKDAYS_EN[weekday],
        Lang::Fr => WEEKDAYS_FR[weekday],
    };
    format!(
        "{weekday} {} {} {} {:02}:{:02}",
        date.day(),
        month_name(lang, date),
        date.year(),
        date.hour(),
        date.minute()
    )
}

/// A size in bytes for people: "512 B", "1.2 kB", "3.4 MB" (French: "1,2 ko", "3,4 Mo").
pub(crate) fn human_size(bytes: u64, lang: Lang) -> String {
    let units: [&str; 4] = match lang {
        Lang::En => ["B", "kB", "MB", "GB"],
        Lang::Fr => ["o", "ko", "Mo", "Go"],
    };
    if bytes < 1000 {
        return format!("{bytes} {}", units[0]);
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 999.95 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    let number = if value < 10.0 { format!("{value:.1}") } else { format!("{value:.0}") };
    let number = match lang {
        Lang::En => number,
        Lang::Fr => number.replace('.', ","),
    };
    format!("{number} {}", units[unit])
}

/// A10: `used` bytes against `quota` (none: no quota), for the gauge.
pub(crate) fn usage_view(used: i64, quota: Option<i64>, lang: Lang) -> UsageView {
    let used = used.max(0) as u64;
    let quota = quota.filter(|quota| *quota > 0).map(|quota| quota as u64);
    UsageView {
        used: human_size(used, lang),
        quota: quota.map(|quota| human_size(quota, lang)),
        percent: quota.map(|quota| (used.saturating_mul(100) / quota).min(100) as u32),
    }
}

pub(crate) fn folder_view(folder: &store::Folder) -> FolderView {
    let role = folder.special_use;
    let name = folder.name.rsplit('/').next().unwrap_or(&folder.name).to_string();
    let depth = folder.name.matches('/').count() as u32;
    FolderView {
        id: folder.id.0,
        path: folder.name.clone(),
        name,
        role,
        depth,
        n_unseen: folder.n_unseen,
        n_messages: folder.n_messages,
        modseq: folder.highest_modseq,
        uidnext: folder.uidnext,
    }
}

/// D6: the tags among a message's keywords, in the order of `tags` (by name).
fn tags_on(keywords: &[String], tags: &[types::Tag]) -> Vec<types::Tag> {
    tags.iter().filter(|tag| keywords.contains(&tag.keyword)).cloned().collect()
}

pub(crate) fn list_item(
    row: &store::MessageRow,
    zone: ReaderZone,
    now: &DateTime<FixedOffset>,
    lang: Lang,
    tags: &[types::Tag],
) -> MessageListItem {
    let date = zone.at(row.sent_date.unwrap_or(row.internal_date));
    let sender = if row.from_name.trim().is_empty() { row.from_addr.clone() } else { row.from_name.clone() };
    MessageListItem {
        id: row.id.0,
        sender,
        sender_address: row.from_addr.clone(),
        subject: row.subject.clone(),
        short_date: short_date(&date, now, lang),
        full_date: full_date(&date, lang),
        iso_date: date.to_rfc3339(),
        size: human_size(u64::from(row.size), lang),
        unread: !row.flags.contains(store::Flags::SEEN),
        has_attachments: row.has_attachments,
        priority_high: row.priority_high,
        flagged: row.flags.contains(store::Flags::FLAGGED),
        answered: row.flags.contains(store::Flags::ANSWERED),
        forwarded: row.keywords.iter().any(|k| k.eq_ignore_ascii_case("$Forwarded")),
        deleted: row.flags.contains(store::Flags::DELETED),
        tags: tags_on(&row.keywords, tags),
        has_comment: row.comment.is_some(),
        thread_count: 0,
        subject_marks: Vec::new(),
        sender_marks: Vec::new(),
    }
}

/// One correspondent, when something of it is known.
fn known(correspondent: Correspondent) -> Vec<Correspondent> {
    [correspondent].into_iter().filter(|c| !c.name.is_empty() || !c.address.is_empty()).collect()
}

fn correspondents(people: Vec<render::Correspondent>) -> Vec<Correspondent> {
    people.into_iter().map(|c| Correspondent { name: c.name, address: c.address }).collect()
}

/// The reading pane's view of a message; `show_images` lets its remote images load (C3).
pub(crate) fn message_view(
    row: &store::MessageRow,
    raw: &[u8],
    zone: ReaderZone,
    lang: Lang,
    show_images: bool,
    tags: &[types::Tag],
) -> MessageView {
    let remote_images = if show_images { RemoteImages::Show } else { RemoteImages::Block };
    let date = full_date(&zone.at(row.sent_date.unwrap_or(row.internal_date)), lang);
    let Some(message) = render::render(raw, remote_images) else {
        return MessageView {
            id: row.id.0,
            // What the list knows of it: the sender, and the recipients as one line.
            from: known(Correspondent { name: row.from_name.clone(), address: row.from_addr.clone() }),
            to: known(Correspondent { name: row.to_addrs.clone(), address: String::new() }),
            cc: Vec::new(),
            date,
            subject: row.subject.clone(),
            body: MessageBody::Empty,
            attachments: Vec::new(),
            receipt_requested: None,
            flagged: row.flags.contains(store::Flags::FLAGGED),
            folder_id: row.folder_id.0,
            tags: tags_on(&row.keywords, tags),
            comment: row.comment.clone(),
            conversation: Vec::new(),
        };
    };
    let body = match message.body {
        render::Body::Empty => MessageBody::Empty,
        render::Body::Text(text) => MessageBody::Text(text),
        render::Body::Html { srcdoc, remote_content_blocked } => MessageBody::Html { srcdoc, remote_content_blocked },
    };
    let attachments = message
        .attachments
        .into_iter()
        .enumerate()
        .map(|(index, attachment)| AttachmentView {
            index: index as u32,
            name: attachment.name,
            size: human_size(attachment.size, lang),
        })
        .collect();
    MessageView {
        id: row.id.0,
        from: correspondents(message.from),
        to: correspondents(message.to),
        cc: correspondents(message.cc),
        date,
        subject: message.subject,
        body,
        attachments,
        // Asked once: answered (sent or declined) is marked with $MDNSent.
        receipt_requested: message
            .receipt_to
            .filter(|_| !row.keywords.iter().any(|k| k.eq_ignore_ascii_case(super::receipt::MDN_SENT))),
        flagged: row.flags.contains(store::Flags::FLAGGED),
        folder_id: row.folder_id.0,
        tags: tags_on(&row.keywords, tags),
        comment: row.comment.clone(),
        conversation: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).expect("test dates are valid")
    }

    #[test]
    fn short_dates_depend_on_distance() {
        let now = at("2026-03-10T15:00:00+01:00");
        for (date, lang, want) in [
            ("2026-03-10T09:05:00+01:00", Lang::En, "09:05"),
            ("2026-03-09T23:59:00+01:00", Lang::En, "9 Mar"),
            ("2026-02-03T10:00:00+01:00", Lang::Fr, "3 févr."),
            ("2025-12-31T10:00:00+01:00", Lang::En, "31 Dec 2025"),
            ("2024-08-01T10:00:00+01:00", Lang::Fr, "1 août 2024"),
        ] {
            assert_eq!(short_date(&at(date), &now, lang), want, "{date}");
        }
    }

    #[test]
    fn full_dates_name_the_day() {
        assert_eq!(full_date(&at("2026-03-10T09:05:00+01:00"), Lang::En), "Tue 10 Mar 2026 09:05");
        assert_eq!(full_date(&at("2026-03-10T09:05:00+01:00"), Lang::Fr), "mar. 10 mars 2026 09:05");
    }

    #[test]
    fn dates_follow_the_reader_zone_with_its_summer_time() {
        let paris = ReaderZone(Some(chrono_tz::Europe::Paris));
        let auckland = ReaderZone(Some(chrono_tz::Pacific::Auckland));
        // 10 March 2026, 09:05 UTC: winter in Paris (+1), summer in Auckland (+13).
        let unix = at("2026-03-10T09:05:00Z").timestamp();
        assert_eq!(full_date(&paris.at(unix), Lang::En), "Tue 10 Mar 2026 10:05");
        assert_eq!(full_date(&auckland.at(unix), Lang::En), "Tue 10 Mar 2026 22:05");
        // July: summer in Paris (+2).
        assert_eq!(full_date(&paris.at(at("2026-07-01T09:05:00Z").timestamp()), Lang::En), "Wed 1 Jul 2026 11:05");
        let wall = chrono::NaiveDateTime::parse_from_str("2026-07-01T11:05", "%Y-%m-%dT%H:%M").unwrap();
        assert_eq!(paris.unix_of(&wall), Some(at("2026-07-01T09:05:00Z").timestamp()));
        // The hour skipped on 29 March 2026 in Paris does not exist.
        let skipped = chrono::NaiveDateTime::parse_from_str("2026-03-29T02:30", "%Y-%m-%dT%H:%M").unwrap();
        assert_eq!(paris.unix_of(&skipped), None);
    }

    #[test]
    fn the_gauge_says_how_full_the_mailbox_is() {
        let half = usage_view(50_000_000, Some(100_000_000), Lang::En);
        assert_eq!((half.used.as_str(), half.quota.as_deref(), half.percent), ("50 MB", Some("100 MB"), Some(50)));
        assert_eq!(usage_view(120, Some(100), Lang::En).percent, Some(100), "over quota stays at the top");
        assert_eq!(usage_view(1234, None, Lang::Fr), UsageView { used: "1,2 ko".into(), quota: None, percent: None });
    }

    #[test]
    fn sizes_are_human() {
        for (bytes, lang, want) in [
            (0, Lang::En, "0 B"),
            (999, Lang::En, "999 B"),
            (1000, Lang::En, "1.0 kB"),
            (1234, Lang::Fr, "1,2 ko"),
            (56_789, Lang::En, "57 kB"),
            (999_999, Lang::En, "1.0 MB"),
            (3_400_000, Lang::Fr, "3,4 Mo"),
            (7_000_000_000, Lang::En, "7.0 GB"),
        ] {
            assert_eq!(human_size(bytes, lang), want, "{bytes}");
        }
    }

    const MULTIPART: &str = "From: Bob Martin <bob@example.org>\r\nTo: ana@example.org\r\nCc: Carl <carl@example.org>\r\n\
Subject: Report\r\nDate: Tue, 10 Mar 2026 09:05:00 +0100\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p>Hello <b>Ana</b></p><script>alert(1)</script><img src=\"https://t.example/p.gif\">\r\n--b1\r\n\
Content-Type: application/pdf; name=\"report.pdf\"\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

    fn row() -> store::MessageRow {
        store::MessageRow {
            id: store::MessageId(7),
            folder_id: store::FolderId(1),
            uid: 1,
            modseq: 1,
            flags: store::Flags::empty(),
            keywords: Vec::new(),
            blob_hash: String::new(),
            size: MULTIPART.len() as u32,
            internal_date: 0,
            thread_id: 0,
            subject: "Report".into(),
            from_name: "Bob Martin".into(),
            from_addr: "bob@example.org".into(),
            to_addrs: "ana@example.org".into(),
            sent_date: None,
            has_attachments: true,
            priority_high: false,
            preview: String::new(),
            comment: None,
        }
    }

    #[test]
    fn html_messages_are_sanitised_and_attachments_listed() {
        let view = message_view(&row(), MULTIPART.as_bytes(), ReaderZone::default(), Lang::En, false, &[]);
        let person = |name: &str, address: &str| Correspondent { name: name.into(), address: address.into() };
        assert_eq!(view.from, [person("Bob Martin", "bob@example.org")]);
        assert_eq!(view.to, [person("", "ana@example.org")]);
        assert_eq!(view.cc, [person("Carl", "carl@example.org")]);
        assert_eq!(view.subject, "Report");
        let MessageBody::Html { srcdoc, remote_content_blocked } = &view.body else {
            panic!("expected an HTML body, got {:?}", view.body);
        };
        assert!(srcdoc.contains("<b>Ana</b>"), "{srcdoc}");
        assert!(!srcdoc.contains("<script"), "{srcdoc}");
        assert!(*remote_content_blocked);
        assert_eq!(view.attachments, vec![AttachmentView { index: 0, name: "report.pdf".into(), size: "9 B".into() }]);
    }

    #[test]
    fn plain_text_stays_text() {
        let raw = "From: a@example.org\r\nSubject: Hi\r\n\r\nline one\r\n<b>line two</b>\r\n";
        let view = message_view(&row(), raw.as_bytes(), ReaderZone::default(), Lang::En, false, &[]);
        assert_eq!(view.body, MessageBody::Text("line one\n<b>line two</b>".into()));
    }

    #[test]
    fn list_items_use_name_else_address() {
        let zone = ReaderZone::default();
        let now = zone.at(0);
        let mut message = row();
        assert_eq!(list_item(&message, zone, &now, Lang::En, &[]).sender, "Bob Martin");
        message.from_name = " ".into();
        message.flags = store::Flags::SEEN;
        let item = list_item(&message, zone, &now, Lang::En, &[]);
        assert_eq!(item.sender, "bob@example.org");
        assert!(!item.unread);
    }
}
