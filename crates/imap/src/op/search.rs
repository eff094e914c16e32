//! SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4): a plain scan of the selected
//! folder, correct for every key. The full-text index (the search issue) will answer TEXT and
//! BODY later with the same results.
//!
//! Each message is first judged on what the session already holds (flags, keywords, size,
//! dates, UIDs): most searches a client sends (UNSEEN, UID ranges, SINCE) end there. Only the
//! messages still undecided are read: their stored header block for header keys, the whole
//! message for BODY and TEXT, one batch at a time so memory stays bounded.
//!
//! Strings match as RFC 9051 says, case-insensitively as substrings, against the decoded text
//! (RFC 2047 words in headers, transfer encodings and charsets in bodies, HTML as its text).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate};
use facts::text::{Searchable, searchable};
use imap_codec::imap_types::core::{AString, Charset, Vec1};
use imap_codec::imap_types::search::SearchKey;
use search::Needle;
use store::{FactsWanted, Flags};

use crate::error::{Error, Result};
use crate::extended::SearchReturn;
use crate::response::Response;
use crate::selected::{Addressing, KnownMessage, set_contains};
use crate::session::Session;

/// Messages read at once while searching their contents.
const BATCH: usize = 200;

/// What a key needs to be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Needs {
    State,
    Header,
    Body,
}

/// A message's contents, as far as the search needs them (`facts::text`, the same text the
/// full-text index holds).
type Contents = Searchable;

impl Session {
    pub(crate) async fn handle_search(
        &mut self,
        tag: &str,
        charset: Option<Charset<'static>>,
        criteria: Vec1<SearchKey<'static>>,
        addressing: Addressing,
        returning: Option<Vec<SearchReturn>>,
    ) -> Result<Response> {
        let criteria = criteria.into_inner();
        // RFC 9051 §7.3.4: IMAP4rev2 answers every SEARCH with ESEARCH (ALL when not asked).
        let returning = if self.rev2 { Some(returning.unwrap_or_default()) } else { returning };
        let matched = self.search_indexes(charset.as_ref(), &criteria).await?;
        let uses_modseq = criteria.iter().any(names_modseq);
        let mut response = Response::default();
        if uses_modseq
            // RFC 7162 §3.1: a search by MODSEQ enables CONDSTORE.
            && let Some(line) = self.enable_condstore()
        {
            response.bytes.extend_from_slice(line.as_bytes());
        }
        let selected = self.selected_mut()?;
        let highest = matched.iter().map(|&index| selected.messages[index].modseq).max();
        let numbers = matched.iter().map(|&index| match addressing {
            Addressing::Uid => selected.messages[index].uid.0,
            Addressing::Sequence => index as u32 + 1,
        });
        let line = match returning {
            None => {
                let mut line = numbers_line("SEARCH", numbers);
                // RFC 7162 §3.1.5: with MODSEQ in the criteria, the highest modseq of the matches.
                if let (true, Some(highest)) = (uses_modseq, highest) {
                    line.push_str(&format!(" (MODSEQ {highest})"));
                }
                line
            }
            Some(options) => {
                // RFC 4731 §3.2: with only MIN and/or MAX, the modseq of the messages returned.
                let only_ends = !options.is_empty()
                    && options.iter().all(|option| matches!(option, SearchReturn::Min | SearchReturn::Max));
                let highest = if !uses_modseq {
                    None
                } else if only_ends {
                    let modseq = |index: Option<&usize>| index.map_or(0, |&index| selected.messages[index].modseq);
                    let min = if options.contains(&SearchReturn::Min) { modseq(matched.first()) } else { 0 };
                    let max = if options.contains(&SearchReturn::Max) { modseq(matched.last()) } else { 0 };
                    Some(min.max(max)).filter(|&modseq| modseq > 0)
                } else {
                    highest
                };
                esearch_line(tag, addressing, numbers.collect(), &options, highest)
            }
        };
        response.untagged(&line);
        response.status_line(tag, "OK", None, "SEARCH completed");
        Ok(response)
    }

    /// The snapshot indexes of the messages matching `criteria` (ANDed), ascending: SEARCH, and
    /// SORT and THREAD before they order them.
    pub(crate) async fn search_indexes(
        &mut self,
        charset: Option<&Charset<'_>>,
        criteria: &[SearchKey<'_>],
    ) -> Result<Vec<usize>> {
        if let Some(charset) = charset {
            let name = match charset {
                Charset::Atom(atom) => atom.inner(),
                Charset::Quoted(quoted) => quoted.inner(),
            };
            if !name.eq_ignore_ascii_case("UTF-8") && !name.eq_ignore_ascii_case("US-ASCII") {
                return Err(Error::no(Some(crate::error::Code::BadCharset), format!("Unsupported charset {name}")));
            }
        }
        let account = self.account()?.id;
        let index = self.services.search.clone();
        let selected = self.selected_mut()?;
        let folder = selected.folder.id;
        let last_uid = selected.messages.last().map_or(0, |m| m.uid.0);
        let n = selected.messages.len() as u32;
        let needs = criteria.iter().map(needs).max().unwrap_or(Needs::State);
        let mut matched = Vec::new();
        let mut undecided = Vec::new();
        for (index, message) in selected.messages.iter().enumerate() {
            let position = Position { seq: index as u32 + 1, n, last_uid, recent: selected.is_recent(message.uid) };
            match judge_all(criteria, message, position, None) {
                Some(true) => matched.push(index),
                Some(false) => {}
                // Kept with its position, judged again once its contents are read.
                None => undecided.push((index, position)),
            }
        }
        if undecided.len() > BATCH
            && let Some(index) = index
        {
            // More than one batch to read: the full-text index rules out the messages that
            // cannot hold the strings, so only the others are read (the results do not change).
            let mut wanted = Vec::new();
            needles(criteria, &mut wanted);
            if !wanted.is_empty() {
                let narrowed = tokio::task::spawn_blocking(move || index.narrow(account, folder, &wanted)).await;
                match narrowed {
                    Ok(Ok(Some(narrowed))) => {
                        undecided.retain(|&(i, _)| narrowed.may_match(selected.messages[i].uid.0));
                    }
                    Ok(Ok(None)) => {}
                    Ok(Err(error)) => tracing::warn!(%error, "search index: narrowing failed; reading every message"),
                    Err(_) => tracing::warn!("search index: the narrowing task failed; reading every message"),
                }
            }
        }
        let snapshot: Vec<KnownMessage> = undecided.iter().map(|&(i, _)| selected.messages[i].clone()).collect();
        for (chunk, indexes) in snapshot.chunks(BATCH).zip(undecided.chunks(BATCH)) {
            let uids: Vec<u32> = chunk.iter().map(|m| m.uid.0).collect();
            let contents = read_contents(self.services.store(), account, folder, &uids, needs).await?;
            for (message, &(index, position)) in chunk.iter().zip(indexes) {
                // A message expunged meanwhile has no contents and matches nothing more.
                let Some(contents) = contents.get(&message.uid.0) else { continue };
                if judge_all(criteria, message, position, Some(contents)) == Some(true) {
                    matched.push(index);
                }
            }
        }
        matched.sort_unstable();
        Ok(matched)
    }
}

/// The untagged `SEARCH` or `SORT` answer: the name, then each number.
pub(crate) fn numbers_line(name: &str, numbers: impl Iterator<Item = u32>) -> String {
    numbers.fold(name.to_string(), |mut line, number| {
        line.push(' ');
        line.push_str(&number.to_string());
        line
    })
}

/// RFC 4731 §3.1: `ESEARCH (TAG "t") [UID] MIN n MAX n COUNT n ALL set`, each asked item in that
/// order (ALL when no option was named); MIN, MAX and ALL are left out when nothing matched.
/// `numbers` in the order the answer is about: ascending for SEARCH, sorted for SORT (RFC 5267
/// §3.2: MIN and MAX are the first and last in that order, ALL keeps it).
pub(crate) fn esearch_line(
    tag: &str,
    addressing: Addressing,
    numbers: Vec<u32>,
    options: &[SearchReturn],
    highest_modseq: Option<u64>,
) -> String {
    let all = options.is_empty() || options.contains(&SearchReturn::All);
    let mut line = format!("ESEARCH (TAG {})", crate::response::string(tag));
    if addressing == Addressing::Uid {
        line.push_str(" UID");
    }
    if let (true, Some(min)) = (options.contains(&SearchReturn::Min), numbers.first()) {
        line.push_str(&format!(" MIN {min}"));
    }
    if let (true, Some(max)) = (options.contains(&SearchReturn::Max), numbers.last()) {
        line.push_str(&format!(" MAX {max}"));
    }
    if options.contains(&SearchReturn::Count) {
        line.push_str(&format!(" COUNT {}", numbers.len()));
    }
    if all && !numbers.is_empty() {
        line.push_str(" ALL ");
        line.push_str(&crate::op::copy::uid_set(numbers.into_iter()));
    }
    // RFC 7162 §3.1.5.
    if let Some(highest) = highest_modseq {
        line.push_str(&format!(" MODSEQ {highest}"));
    }
    line
}

/// The contents of these messages that `needs` asks for, by UID.
async fn read_contents(
    store: &store::Store,
    account: store::AccountId,
    folder: store::FolderId,
    uids: &[u32],
    needs: Needs,
) -> Result<HashMap<u32, Contents>> {
    let wanted = FactsWanted { header: true, ..FactsWanted::default() };
    let rows = store.fetch_rows(account, folder, uids, wanted).await?;
    let mut raws = Vec::with_capacity(rows.len());
    for row in rows {
        let raw = match (&row.header, needs) {
            (Some(header), Needs::Header | Needs::State) => Some(header.clone()),
            _ => store.read_fetched(&row).await?,
        };
        raws.extend(raw.map(|raw| (row.uid, raw)));
    }
    // Parsing is the work: on blocking threads, the batch shared between the cores.
    let with_body = needs == Needs::Body;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let share = raws.len().div_ceil(cores).max(1);
    let mut parsers = Vec::with_capacity(cores);
    while !raws.is_empty() {
        let part = raws.split_off(raws.len().saturating_sub(share));
        parsers.push(tokio::task::spawn_blocking(move || {
            part.into_iter().map(|(uid, raw)| (uid, searchable(&raw, with_body))).collect::<Vec<_>>()
        }));
    }
    let mut contents = HashMap::with_capacity(uids.len());
    for parser in parsers {
        contents.extend(parser.await.map_err(|e| Error::Internal(format!("search parser task: {e}")))?);
    }
    Ok(contents)
}

/// Where a message stands in the session's view, for sequence-set keys.
#[derive(Debug, Clone, Copy)]
struct Position {
    seq: u32,
    n: u32,
    last_uid: u32,
    /// \Recent in this session.
    recent: bool,
}

/// The criteria ANDed: `Some` when decided, `None` when the contents are needed and not given.
fn judge_all(
    criteria: &[SearchKey<'_>],
    message: &KnownMessage,
    position: Position,
    contents: Option<&Contents>,
) -> Option<bool> {
    let mut undecided = false;
    for key in criteria {
        match judge(key, message, position, contents) {
            Some(false) => return Some(false),
            Some(true) => {}
            None => undecided = true,
        }
    }
    if undecided { None } else { Some(true) }
}

/// One key, in three-valued logic (`None`: needs the contents).
fn judge(key: &SearchKey<'_>, message: &KnownMessage, position: Position, contents: Option<&Contents>) -> Option<bool> {
    let flag = |flag: Flags| Some(message.flags.contains(flag));
    let internal_day = || DateTime::from_timestamp(message.internal_date, 0).map(|d| d.date_naive());
    let text = |wanted: &AString<'_>, field: &str| {
        contents.map(|contents| header_contains(contents, field, &lowercase(wanted)))
    };
    match key {
        SearchKey::All => Some(true),
        // RFC 3501 §6.4.4: NEW is RECENT UNSEEN, OLD is NOT RECENT.
        SearchKey::Recent => Some(position.recent),
        SearchKey::New => Some(position.recent && !message.flags.contains(Flags::SEEN)),
        SearchKey::Old => Some(!position.recent),
        SearchKey::Answered => flag(Flags::ANSWERED),
        SearchKey::Deleted => flag(Flags::DELETED),
        SearchKey::Draft => flag(Flags::DRAFT),
        SearchKey::Flagged => flag(Flags::FLAGGED),
        SearchKey::Seen => flag(Flags::SEEN),
        SearchKey::Unanswered => flag(Flags::ANSWERED).map(|b| !b),
        SearchKey::Undeleted => flag(Flags::DELETED).map(|b| !b),
        SearchKey::Undraft => flag(Flags::DRAFT).map(|b| !b),
        SearchKey::Unflagged => flag(Flags::FLAGGED).map(|b| !b),
        SearchKey::Unseen => flag(Flags::SEEN).map(|b| !b),
        SearchKey::Keyword(atom) => Some(message.keywords.iter().any(|k| k.eq_ignore_ascii_case(atom.inner()))),
        SearchKey::Unkeyword(atom) => Some(!message.keywords.iter().any(|k| k.eq_ignore_ascii_case(atom.inner()))),
        SearchKey::Larger(size) => Some(message.size > *size),
        SearchKey::Smaller(size) => Some(message.size < *size),
        SearchKey::Before(date) => internal_day().map(|day| day < *date.as_ref()),
        SearchKey::On(date) => internal_day().map(|day| day == *date.as_ref()),
        SearchKey::Since(date) => internal_day().map(|day| day >= *date.as_ref()),
        SearchKey::SentBefore(date) => contents.map(|c| sent_day(c).is_some_and(|day| day < *date.as_ref())),
        SearchKey::SentOn(date) => contents.map(|c| sent_day(c).is_some_and(|day| day == *date.as_ref())),
        SearchKey::SentSince(date) => contents.map(|c| sent_day(c).is_some_and(|day| day >= *date.as_ref())),
        SearchKey::SequenceSet(set) => Some(set_contains(set, position.seq, position.n)),
        SearchKey::Uid(set) => Some(set_contains(set, message.uid.0, position.last_uid)),
        SearchKey::From(wanted) => text(wanted, "from"),
        SearchKey::To(wanted) => text(wanted, "to"),
        SearchKey::Cc(wanted) => text(wanted, "cc"),
        SearchKey::Bcc(wanted) => text(wanted, "bcc"),
        SearchKey::Subject(wanted) => text(wanted, "subject"),
        SearchKey::Header(field, wanted) => {
            let field = lowercase(field);
            text(wanted, &field)
        }
        SearchKey::Body(wanted) => contents.map(|c| c.body.contains(&lowercase(wanted))),
        SearchKey::Text(wanted) => contents.map(|c| {
            let wanted = lowercase(wanted);
            c.body.contains(&wanted) || c.headers.iter().any(|(_, value)| value.contains(&wanted))
        }),
        SearchKey::Not(inner) => judge(inner, message, position, contents).map(|b| !b),
        SearchKey::Or(left, right) => {
            match (judge(left, message, position, contents), judge(right, message, position, contents)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            }
        }
        SearchKey::And(keys) => judge_all(keys.as_ref(), message, position, contents),
        // RFC 7162 §3.1.5: per-flag modseqs are not kept, so the entry is the message's.
        SearchKey::ModSequence { modseq, .. } => Some(message.modseq >= *modseq),
        // Keys of extensions not offered (WITHIN) cannot be parsed without them.
        #[allow(unreachable_patterns)]
        _ => Some(false),
    }
}

/// The strings of the text keys every match must satisfy (those ANDed at the top, parentheses
/// included), as the full-text index's needles. Keys under NOT or OR narrow nothing.
fn needles(criteria: &[SearchKey<'_>], out: &mut Vec<Needle>) {
    for key in criteria {
        match key {
            SearchKey::Body(wanted) => out.push(Needle::Body(lowercase(wanted))),
            SearchKey::Text(wanted) => out.push(Needle::Text(lowercase(wanted))),
            SearchKey::From(wanted) => out.push(Needle::From(lowercase(wanted))),
            SearchKey::To(wanted) | SearchKey::Cc(wanted) => out.push(Needle::ToOrCc(lowercase(wanted))),
            SearchKey::Subject(wanted) => out.push(Needle::Subject(lowercase(wanted))),
            SearchKey::Bcc(wanted) | SearchKey::Header(_, wanted) => out.push(Needle::Header(lowercase(wanted))),
            SearchKey::And(keys) => needles(keys.as_ref(), out),
            _ => {}
        }
    }
}

/// What the most demanding part of a key needs.
fn needs(key: &SearchKey<'_>) -> Needs {
    match key {
        SearchKey::Body(_) | SearchKey::Text(_) => Needs::Body,
        SearchKey::From(_)
        | SearchKey::To(_)
        | SearchKey::Cc(_)
        | SearchKey::Bcc(_)
        | SearchKey::Subject(_)
        | SearchKey::Header(..)
        | SearchKey::SentBefore(_)
        | SearchKey::SentOn(_)
        | SearchKey::SentSince(_) => Needs::Header,
        SearchKey::Not(inner) => needs(inner),
        SearchKey::Or(left, right) => needs(left).max(needs(right)),
        SearchKey::And(keys) => keys.as_ref().iter().map(needs).max().unwrap_or(Needs::State),
        _ => Needs::State,
    }
}

/// Whether a key names MODSEQ anywhere.
fn names_modseq(key: &SearchKey<'_>) -> bool {
    match key {
        SearchKey::ModSequence { .. } => true,
        SearchKey::Not(inner) => names_modseq(inner),
        SearchKey::Or(left, right) => names_modseq(left) || names_modseq(right),
        SearchKey::And(keys) => keys.as_ref().iter().any(names_modseq),
        _ => false,
    }
}

/// RFC 9051 §6.4.4: HEADER with an empty string matches every message that has the field.
fn header_contains(contents: &Contents, field: &str, wanted: &str) -> bool {
    contents.headers.iter().any(|(name, value)| name == field && value.contains(wanted))
}

fn lowercase(text: &AString<'_>) -> String {
    String::from_utf8_lossy(text.as_ref()).to_lowercase()
}

/// The Date: field's calendar day, when it is a real one.
fn sent_day(contents: &Contents) -> Option<NaiveDate> {
    contents.sent_on.and_then(|(year, month, day)| NaiveDate::from_ymd_opt(year, month, day))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> SearchKey<'static> {
        use imap_codec::decode::Decoder;
        // Clients send strings outside ASCII as literals (RFC 9051 §4.3): so do these tests.
        let words: Vec<String> = text
            .split(' ')
            .map(|word| if word.is_ascii() { word.to_string() } else { format!("{{{}}}\r\n{word}", word.len()) })
            .collect();
        let command = format!("a SEARCH CHARSET UTF-8 {}\r\n", words.join(" "));
        let (_, parsed) = imap_codec::CommandCodec::default().decode(command.as_bytes()).expect("search parses");
        match parsed.body {
            imap_codec::imap_types::command::CommandBody::Search { criteria, .. } => {
                let mut keys = criteria.into_inner();
                let first = keys.remove(0);
                use imap_codec::imap_types::IntoStatic;
                first.into_static()
            }
            other => panic!("{other:?}"),
        }
    }

    const MAIL: &[u8] = b"From: =?UTF-8?Q?Jos=C3=A9?= <jose@example.org>\r\nTo: Ana <ana@example.org>\r\nSubject: =?UTF-8?B?w4l0w6k=?= plans\r\nDate: Mon, 2 Mar 2026 23:30:00 -0500\r\nX-Mailer: Test 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOn se voit =E0 la plage\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>Rendez-<b>vous</b> &agrave; midi</p>\r\n--b--\r\n";

    fn message() -> KnownMessage {
        KnownMessage {
            uid: crate::selected::Uid(7),
            flags: Flags::SEEN,
            keywords: vec!["$Work".into()],
            modseq: 5,
            size: MAIL.len() as u32,
            // 2026-03-03 04:30 UTC.
            internal_date: 1_772_512_200,
            blob: None,
        }
    }

    fn judged(text: &str) -> Option<bool> {
        let contents = searchable(MAIL, true);
        judge(&key(text), &message(), Position { seq: 3, n: 5, last_uid: 9, recent: false }, Some(&contents))
    }

    #[test]
    fn every_kind_of_key_matches_as_rfc_9051_says() {
        for (text, want) in [
            ("ALL", true),
            ("SEEN", true),
            ("UNSEEN", false),
            ("NEW", false),
            ("KEYWORD $work", true),
            ("UNKEYWORD $Work", false),
            ("LARGER 100", true),
            ("SMALLER 100", false),
            ("SINCE 3-Mar-2026", true),
            ("ON 3-Mar-2026", true),
            ("BEFORE 3-Mar-2026", false),
            // The Date: field's own day, not UTC's.
            ("SENTON 2-Mar-2026", true),
            ("SENTSINCE 3-Mar-2026", false),
            ("SENTBEFORE 3-Mar-2026", true),
            ("3", true),
            ("4:*", false),
            ("*", false),
            ("UID 7", true),
            ("UID 8:*", false),
            ("UID *", false),
            ("FROM josé", true),
            ("FROM JOSE@EXAMPLE", true),
            ("FROM ana", false),
            ("TO ana@example.org", true),
            ("SUBJECT été", true),
            ("SUBJECT PLANS", true),
            ("SUBJECT etc", false),
            ("HEADER X-Mailer \"test 1\"", true),
            ("HEADER X-Mailer \"\"", true),
            ("HEADER X-Other \"\"", false),
            ("BODY plage", true),
            ("BODY à", true),
            ("BODY \"rendez-vous\"", true),
            ("BODY agrave", false),
            ("BODY plans", false),
            ("TEXT plans", true),
            ("NOT SEEN", false),
            ("OR UNSEEN FROM jose", true),
            ("(SEEN FROM nobody)", false),
            ("MODSEQ 5", true),
            ("MODSEQ 6", false),
        ] {
            assert_eq!(judged(text), Some(want), "{text}");
        }
    }

    #[test]
    fn state_keys_decide_without_the_contents() {
        let message = message();
        let position = Position { seq: 1, n: 1, last_uid: 7, recent: false };
        assert_eq!(judge(&key("UNSEEN"), &message, position, None), Some(false));
        assert_eq!(judge(&key("FROM x"), &message, position, None), None);
        assert_eq!(judge(&key("OR SEEN FROM x"), &message, position, None), Some(true));
        assert_eq!(judge(&key("NOT FROM x"), &message, position, None), None);
        assert_eq!(needs(&key("OR SEEN BODY x")), Needs::Body);
        assert_eq!(needs(&key("NOT SUBJECT x")), Needs::Header);
    }
}
