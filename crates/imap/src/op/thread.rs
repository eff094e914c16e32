//! THREAD and UID THREAD (RFC 5256 §4): ORDEREDSUBJECT and REFERENCES. The messages SEARCH
//! finds are read for their threading fields here; the algorithms are `mail::threads`, which
//! the web client's conversations (C11) use too.

use std::collections::HashMap;

use imap_codec::imap_types::core::{Charset, Vec1};
use imap_codec::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{HeaderValue, MessageParser};
use store::FactsWanted;

use crate::error::{Error, Result};
use crate::response::Response;
use crate::selected::Addressing;
use crate::session::Session;
use mail::threads::{ThreadFields, ordered_subject, references, to_imap};

/// Messages whose header blocks are read at once.
const BATCH: usize = 200;

impl Session {
    pub(crate) async fn handle_thread(
        &mut self,
        tag: &str,
        algorithm: ThreadingAlgorithm<'static>,
        charset: Charset<'static>,
        search_criteria: Vec1<SearchKey<'static>>,
        addressing: Addressing,
    ) -> Result<Response> {
        if !matches!(algorithm, ThreadingAlgorithm::OrderedSubject | ThreadingAlgorithm::References) {
            return Err(Error::bad(format!("Unknown threading algorithm {algorithm}")));
        }
        let matched = self.search_indexes(Some(&charset), search_criteria.as_ref()).await?;
        let fields = self.thread_fields(&matched, addressing).await?;
        let threads = match algorithm {
            ThreadingAlgorithm::OrderedSubject => ordered_subject(&fields),
            _ => references(&fields),
        };
        let threads = to_imap(&threads, &fields);
        let mut response = Response::default();
        response.untagged(format!("THREAD {threads}").trim_end());
        response.status_line(tag, "OK", None, "THREAD completed");
        Ok(response)
    }

    async fn thread_fields(&mut self, indexes: &[usize], addressing: Addressing) -> Result<Vec<ThreadFields>> {
        let account = self.account()?.id;
        let selected = self.selected_mut()?;
        let folder = selected.folder.id;
        let known: Vec<(usize, _)> = indexes.iter().map(|&i| (i, selected.messages[i].clone())).collect();
        let store = self.services.store().clone();
        let mut fields = Vec::with_capacity(known.len());
        for chunk in known.chunks(BATCH) {
            let uids: Vec<u32> = chunk.iter().map(|(_, m)| m.uid.0).collect();
            let wanted = FactsWanted { header: true, ..FactsWanted::default() };
            let mut headers = HashMap::new();
            for row in store.fetch_rows(account, folder, &uids, wanted).await? {
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
                    .map(|(index, message)| {
                        let header = headers.get(&message.uid.0).map(Vec::as_slice).unwrap_or_default();
                        let number = match addressing {
                            Addressing::Uid => message.uid.0,
                            Addressing::Sequence => *index as u32 + 1,
                        };
                        fields_of(header, number, *index as u32 + 1, message.internal_date)
                    })
                    .collect::<Vec<_>>()
            })
            .await
            .map_err(|e| Error::Internal(format!("thread parser task: {e}")))?;
            fields.extend(parsed);
        }
        Ok(fields)
    }
}

/// A message's threading fields from its header block.
pub(crate) fn fields_of(header: &[u8], number: u32, seq: u32, arrival: i64) -> ThreadFields {
    let mut fields = ThreadFields { number, seq, date: arrival, ..ThreadFields::default() };
    let Some(message) = MessageParser::default().parse_headers(header) else { return fields };
    if let Some(date) = message.date()
        && date.is_valid()
    {
        fields.date = date.to_timestamp();
    }
    fields.set_subject(message.subject().unwrap_or_default());
    fields.message_id = message.message_id().map(str::to_string);
    let ids = |value: Option<&HeaderValue<'_>>| -> Vec<String> {
        match value {
            Some(HeaderValue::Text(id)) => vec![id.to_string()],
            Some(HeaderValue::TextList(ids)) => ids.iter().map(|id| id.to_string()).collect(),
            _ => Vec::new(),
        }
    };
    fields.references = ids(message.header("References"));
    if fields.references.is_empty() {
        fields.references = ids(message.header("In-Reply-To")).into_iter().take(1).collect();
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(number: u32, subject: &str) -> ThreadFields {
        let mut fields = ThreadFields { number, seq: number, ..Default::default() };
        fields.set_subject(subject);
        fields
    }

    #[test]
    fn subjects_with_reply_markers_and_not() {
        let reply = |subject: &str| fields_of(format!("Subject: {subject}\r\n\r\n").as_bytes(), 1, 1, 0).is_reply;
        assert!(reply("Re: [FWD: c]"));
        assert!(!reply("Café"));
        assert!(!reply("c"));
        // imaptest thread-orderedsubject: "Re: [FWD: c]" joins "C"'s thread.
        let both = [message(1, "C"), message(2, "Re: [FWD: c]"), message(3, "b")];
        assert_eq!(to_imap(&ordered_subject(&both), &both), "(1 2)(3)");
    }
}
