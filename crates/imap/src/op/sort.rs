//! SORT and UID SORT (RFC 5256), with DISPLAYFROM/DISPLAYTO (RFC 5957, SORT=DISPLAY) and ESORT's
//! RETURN options (RFC 5267): the messages SEARCH finds, ordered by the criteria in turn, ties by
//! sequence number.
//!
//! The keys come from the stored header block (`store::FetchRow::header`), read 200 messages
//! at a time; ARRIVAL and SIZE from the session's view.

use std::cmp::Ordering;

use facts::envelope::split_addr_spec;
use imap_codec::imap_types::core::{Charset, Vec1};
use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::search::SearchKey;
use mail::threads::base_subject;
use mail_parser::{Addr, Address, HeaderValue, MessageParser};
use store::FactsWanted;

use crate::error::{Error, Result};
use crate::extended::SearchReturn;
use crate::op::search::{esearch_line, numbers_line};
use crate::response::Response;
use crate::selected::Addressing;
use crate::session::Session;

/// Messages whose header blocks are read at once.
const BATCH: usize = 200;

/// What a message is sorted by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SortFields {
    pub(crate) arrival: i64,
    /// The Date: field in UTC, else the arrival (RFC 5256 §3: "sent date").
    pub(crate) date: i64,
    pub(crate) size: u32,
    /// The first address's mailbox (local part), a group's name for a group (its ENVELOPE start
    /// marker), ASCII upper-cased (i;ascii-casemap).
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) cc: String,
    /// RFC 5957 §3: the first address's display name, else its address, upper-cased.
    pub(crate) display_from: String,
    pub(crate) display_to: String,
    /// RFC 5256 §2.1's base subject, upper-cased.
    pub(crate) subject: String,
}

impl Session {
    pub(crate) async fn handle_sort(
        &mut self,
        tag: &str,
        sort_criteria: Vec1<SortCriterion>,
        charset: Charset<'static>,
        search_criteria: Vec1<SearchKey<'static>>,
        addressing: Addressing,
        returning: Option<Vec<SearchReturn>>,
    ) -> Result<Response> {
        let matched = self.search_indexes(Some(&charset), search_criteria.as_ref()).await?;
        let fields = self.sort_fields(&matched).await?;
        let mut order: Vec<(usize, SortFields)> = matched.into_iter().zip(fields).collect();
        let criteria = sort_criteria.into_inner();
        // Stable: equal messages keep their mailbox order (RFC 5256 §3).
        order.sort_by(|(_, a), (_, b)| compare(&criteria, a, b));
        let selected = self.selected_mut()?;
        let numbers = order.into_iter().map(|(index, _)| match addressing {
            Addressing::Uid => selected.messages[index].uid.0,
            Addressing::Sequence => index as u32 + 1,
        });
        // RFC 5267 §3.2 (ESORT): `SORT RETURN (...)` answers with ESEARCH, in sort order.
        let line = match returning {
            Some(options) => esearch_line(tag, addressing, numbers.collect(), &options, None),
            None => numbers_line("SORT", numbers),
        };
        let mut response = Response::default();
        response.untagged(&line);
        response.status_line(tag, "OK", None, "SORT completed");
        Ok(response)
    }

    /// The sort fields of these snapshot indexes, in the same order. A message expunged
    /// meanwhile sorts with empty fields (its number is still valid for the client).
    pub(crate) async fn sort_fields(&mut self, indexes: &[usize]) -> Result<Vec<SortFields>> {
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        let folder = selected.folder.id;
        let known: Vec<_> = indexes.iter().map(|&i| selected.messages[i].clone()).collect();
        let store = self.services.store().clone();
        let mut fields = Vec::with_capacity(known.len());
        for chunk in known.chunks(BATCH) {
            let uids: Vec<u32> = chunk.iter().map(|m| m.uid.0).collect();
            let wanted = FactsWanted { header: true, ..FactsWanted::default() };
            let rows = store.fetch_rows(account, folder, &uids, wanted).await?;
            let mut headers = std::collections::HashMap::with_capacity(rows.len());
            for row in rows {
                let header = match row.header.clone() {
                    Some(header) => Some(header),
                    None => store.read_fetched(&row).await?,
                };
                if let Some(header) = header {
                    headers.insert(row.uid, header);
                }
            }
            let chunk = chunk.to_vec();
            let parsed = tokio::task::spawn_blocking(move || {
                chunk
                    .iter()
                    .map(|message| {
                        let header = headers.get(&message.uid.0).map(Vec::as_slice).unwrap_or_default();
                        fields_of(header, message.internal_date, message.size)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| Error::Internal(format!("sort parser task: {e}")))?;
            fields.extend(parsed);
        }
        Ok(fields)
    }
}

/// RFC 5256 §3: criteria in turn, REVERSE turning one round.
fn compare(criteria: &[SortCriterion], a: &SortFields, b: &SortFields) -> Ordering {
    for criterion in criteria {
        let ordering = match criterion.key {
            SortKey::Arrival => a.arrival.cmp(&b.arrival),
            SortKey::Date => a.date.cmp(&b.date),
            SortKey::Size => a.size.cmp(&b.size),
            SortKey::From => a.from.cmp(&b.from),
            SortKey::To => a.to.cmp(&b.to),
            SortKey::Cc => a.cc.cmp(&b.cc),
            SortKey::DisplayFrom => a.display_from.cmp(&b.display_from),
            SortKey::DisplayTo => a.display_to.cmp(&b.display_to),
            SortKey::Subject => a.subject.cmp(&b.subject),
        };
        let ordering = if criterion.reverse { ordering.reverse() } else { ordering };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// A message's sort fields from its header block.
pub(crate) fn fields_of(header: &[u8], arrival: i64, size: u32) -> SortFields {
    let mut fields = SortFields { arrival, date: arrival, size, ..SortFields::default() };
    let Some(message) = MessageParser::default().parse_headers(header) else { return fields };
    if let Some(date) = message.date()
        && date.is_valid()
    {
        fields.date = date.to_timestamp();
    }
    (fields.from, fields.display_from) = first_address_keys(message.header("From"));
    (fields.to, fields.display_to) = first_address_keys(message.header("To"));
    fields.cc = first_address_keys(message.header("Cc")).0;
    fields.subject = base_subject(message.subject().unwrap_or_default()).to_uppercase();
    fields
}

/// The (mailbox, display) keys of a field's first address as ENVELOPE lists it (RFC 5256 §3
/// "addr-mailbox of the first address"; RFC 5957 §4 "derived-addr" from the ENVELOPE). A group
/// comes first as its start marker `(NIL NIL name NIL)` (RFC 9051 §7.5.2), so `Cc: user2:
/// blah@domain1.org;` sorts by "user2" and `To: empty:;` by "empty", as Dovecot does.
fn first_address_keys(value: Option<&HeaderValue<'_>>) -> (String, String) {
    let Some(HeaderValue::Address(address)) = value else { return Default::default() };
    let first = match address {
        Address::List(list) => list.first(),
        Address::Group(groups) => {
            let Some(group) = groups.first() else { return Default::default() };
            // mail-parser gives addresses before any group as a group without a name.
            if let Some(name) = group.name.as_deref() {
                let name = name.trim();
                return (name.to_ascii_uppercase(), name.to_uppercase());
            }
            group.addresses.first()
        }
    };
    first.map(address_keys).unwrap_or_default()
}

/// One address's keys: its addr-mailbox, and RFC 5957 §3's display value: the (decoded)
/// display name, else addr-mailbox@addr-host, else addr-mailbox. Both upper-cased.
fn address_keys(addr: &Addr<'_>) -> (String, String) {
    let (_, mailbox, host) = split_addr_spec(addr.address.as_deref().unwrap_or_default());
    let display = match addr.name.as_deref().map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => name.to_string(),
        None if host.is_empty() => mailbox.to_string(),
        None => format!("{mailbox}@{host}"),
    };
    (mailbox.to_ascii_uppercase(), display.to_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_from_a_header_block() {
        let header = b"From: \"Ana Lima\" <ana@example.org>\r\nTo: bob@example.org, carl@example.org\r\nCc: undisclosed:;\r\nSubject: Re: [team] Plans\r\nDate: Mon, 2 Mar 2026 10:00:00 +0100\r\n\r\n";
        let fields = fields_of(header, 5, 42);
        assert_eq!(fields.from, "ANA");
        assert_eq!(fields.display_from, "ANA LIMA");
        assert_eq!(fields.to, "BOB");
        assert_eq!(fields.display_to, "BOB@EXAMPLE.ORG");
        // An empty group still has its start marker in ENVELOPE, the first address.
        assert_eq!(fields.cc, "UNDISCLOSED");
        assert_eq!(fields.subject, "PLANS");
        assert_eq!(fields.date, 1_772_442_000);
        assert_eq!((fields.arrival, fields.size), (5, 42));
        // No Date: the arrival stands in.
        assert_eq!(fields_of(b"Subject: x\r\n\r\n", 7, 1).date, 7);
    }

    #[test]
    fn address_keys_are_those_of_the_envelope() {
        let keys = |header: &str| fields_of(format!("{header}\r\n\r\n").as_bytes(), 0, 0);
        // imaptest sort-addresses: a group sorts by its name, the start marker's addr-mailbox.
        assert_eq!(keys("Cc: user2: blah@domain1.org;").cc, "USER2");
        assert_eq!(keys("Cc: user2@domain2.org (foo bar)").cc, "USER2");
        assert_eq!(keys("Cc: user1@domain1.org").cc, "USER1");
        // imaptest sort-display-to: display name, else mailbox@host, else mailbox; groups by name.
        for (to, display) in [
            ("To: foo bar <a@b.c>", "FOO BAR"),
            ("To: b@c.d", "B@C.D"),
            ("To: d", "D"),
            ("To: =?iso-8859-1?q?foo_aar?= <e@f.g>", "FOO AAR"),
            ("To: a: xx@xx.org, yy@yy.org;", "A"),
            ("To: z: aa@aa.org, bb@bb.org;", "Z"),
            ("To: empty:;", "EMPTY"),
        ] {
            assert_eq!(keys(to).display_to, display, "{to:?}");
        }
        // Addresses before a group come first; a source route is not part of the mailbox.
        let fields = keys("To: x@y.org, g: a@b.org;\r\nFrom: <@route:user@domain>");
        assert_eq!((fields.to.as_str(), fields.display_to.as_str()), ("X", "X@Y.ORG"));
        assert_eq!((fields.from.as_str(), fields.display_from.as_str()), ("USER", "USER@DOMAIN"));
    }
}
