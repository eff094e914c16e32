//! THREAD and UID THREAD (RFC 5256 §4): ORDEREDSUBJECT and REFERENCES, the threading the web
//! client will show too (C11). The messages SEARCH finds are linked by their Message-ID,
//! References and In-Reply-To fields, then threads are merged by base subject, as the RFC's
//! algorithm says step by step (the step letters below are its own).

use std::cmp::Ordering;
use std::collections::HashMap;

use imap_codec::imap_types::core::{Charset, Vec1};
use imap_codec::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::{HeaderValue, MessageParser};
use store::FactsWanted;

use crate::error::{Error, Result};
use crate::op::sort::base_subject;
use crate::response::Response;
use crate::selected::Addressing;
use crate::session::Session;

/// Messages whose header blocks are read at once.
const BATCH: usize = 200;

/// What threading needs of one message.
#[derive(Debug, Clone, Default)]
pub(crate) struct ThreadFields {
    /// The number the response uses (sequence number or UID).
    pub(crate) number: u32,
    /// Its place in the mailbox, for ties.
    pub(crate) seq: u32,
    /// The Date: field in UTC, else the arrival.
    pub(crate) date: i64,
    pub(crate) base_subject: String,
    /// The subject had a reply or forward marker (RFC 5256 §2.1's "subj-refwd").
    pub(crate) is_reply: bool,
    pub(crate) message_id: Option<String>,
    /// References, or else the first of In-Reply-To.
    pub(crate) references: Vec<String>,
}

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
    let subject = message.subject().unwrap_or_default();
    let base = base_subject(subject);
    let plain = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    // Compared before upper-casing: "Café" against "CAFÉ" is not an ASCII case difference.
    fields.is_reply = base != plain;
    fields.base_subject = base.to_uppercase();
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

/// RFC 5256 §4 ORDEREDSUBJECT: by base subject, then date; each group's first message is
/// the parent of the others; groups by their first message's date.
pub(crate) fn ordered_subject(messages: &[ThreadFields]) -> String {
    let mut sorted: Vec<&ThreadFields> = messages.iter().collect();
    sorted.sort_by(|a, b| a.base_subject.cmp(&b.base_subject).then(by_date(a, b)));
    let mut groups: Vec<Vec<&ThreadFields>> = Vec::new();
    for message in sorted {
        match groups.last_mut() {
            Some(group) if group[0].base_subject == message.base_subject => group.push(message),
            _ => groups.push(vec![message]),
        }
    }
    groups.sort_by(|a, b| by_date(a[0], b[0]));
    let mut out = String::new();
    for group in groups {
        out.push('(');
        out.push_str(&group[0].number.to_string());
        match &group[1..] {
            [] => {}
            [only] => out.push_str(&format!(" {}", only.number)),
            children => {
                out.push(' ');
                for child in children {
                    out.push_str(&format!("({})", child.number));
                }
            }
        }
        out.push(')');
    }
    out
}

fn by_date(a: &ThreadFields, b: &ThreadFields) -> Ordering {
    a.date.cmp(&b.date).then(a.seq.cmp(&b.seq))
}

/// One container of the REFERENCES algorithm: a message, or a dummy standing for one that is
/// referred to but not here.
#[derive(Debug, Default)]
struct Container {
    message: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Tree<'a> {
    messages: &'a [ThreadFields],
    nodes: Vec<Container>,
}

impl Tree<'_> {
    fn add(&mut self) -> usize {
        self.nodes.push(Container::default());
        self.nodes.len() - 1
    }

    fn is_ancestor(&self, ancestor: usize, mut node: usize) -> bool {
        while let Some(parent) = self.nodes[node].parent {
            if parent == ancestor {
                return true;
            }
            node = parent;
        }
        false
    }

    fn unlink(&mut self, child: usize) {
        if let Some(parent) = self.nodes[child].parent.take() {
            self.nodes[parent].children.retain(|&c| c != child);
        }
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.unlink(child);
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    /// The message a container stands for in sorting and subject grouping: its own, or its
    /// first child's (the children are sorted first).
    fn representative(&self, node: usize) -> Option<&ThreadFields> {
        match self.nodes[node].message {
            Some(message) => Some(&self.messages[message]),
            None => self.nodes[node].children.first().and_then(|&child| self.representative(child)),
        }
    }

    fn compare(&self, a: usize, b: usize) -> Ordering {
        match (self.representative(a), self.representative(b)) {
            (Some(a), Some(b)) => by_date(a, b),
            (a, b) => a.is_some().cmp(&b.is_some()),
        }
    }

    /// Sorts every set of siblings under `node` by date, deepest first.
    fn sort_children(&mut self, node: usize) {
        let children = self.nodes[node].children.clone();
        for &child in &children {
            self.sort_children(child);
        }
        let mut children = children;
        children.sort_by(|&a, &b| self.compare(a, b));
        self.nodes[node].children = children;
    }

    /// (C): drops dummies without children and splices the children of the others into
    /// their place, except at the top where a dummy keeps two or more children.
    fn prune(&mut self, list: Vec<usize>, at_root: bool, parent: Option<usize>) -> Vec<usize> {
        let mut kept = Vec::new();
        for node in list {
            let children = std::mem::take(&mut self.nodes[node].children);
            let children = self.prune(children, false, Some(node));
            self.nodes[node].children = children;
            if self.nodes[node].message.is_some() {
                kept.push(node);
                continue;
            }
            let children = self.nodes[node].children.clone();
            if children.is_empty() {
                continue;
            }
            if !at_root || children.len() == 1 {
                for &child in &children {
                    self.nodes[child].parent = parent;
                }
                self.nodes[node].children.clear();
                kept.extend(children);
            } else {
                kept.push(node);
            }
        }
        kept
    }

    fn write(&self, node: usize, out: &mut String) {
        let children = &self.nodes[node].children;
        match self.nodes[node].message {
            Some(message) => {
                out.push_str(&self.messages[message].number.to_string());
                match children.as_slice() {
                    [] => {}
                    [only] => {
                        out.push(' ');
                        self.write(*only, out);
                    }
                    several => {
                        out.push(' ');
                        for &child in several {
                            out.push('(');
                            self.write(child, out);
                            out.push(')');
                        }
                    }
                }
            }
            None => match children.as_slice() {
                [only] => self.write(*only, out),
                several => {
                    for &child in several {
                        out.push('(');
                        self.write(child, out);
                        out.push(')');
                    }
                }
            },
        }
    }
}

/// RFC 5256 §4 REFERENCES, steps (A) to (F).
pub(crate) fn references(messages: &[ThreadFields]) -> String {
    let mut tree = Tree { messages, nodes: Vec::new() };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (index, message) in messages.iter().enumerate() {
        // (A) A message's own container, a new one when its id is missing or taken.
        let own = match message.message_id.as_ref().and_then(|id| by_id.get(id).copied()) {
            Some(node) if tree.nodes[node].message.is_none() => node,
            _ => {
                let node = tree.add();
                if let Some(id) = &message.message_id {
                    by_id.entry(id.clone()).or_insert(node);
                }
                node
            }
        };
        tree.nodes[own].message = Some(index);
        // The references chain, each a child of the one before, unless already linked or a loop.
        let mut previous: Option<usize> = None;
        for id in &message.references {
            let node = match by_id.get(id) {
                Some(&node) => node,
                None => {
                    let node = tree.add();
                    by_id.insert(id.clone(), node);
                    node
                }
            };
            if let Some(parent) = previous
                && parent != node
                && tree.nodes[node].parent.is_none()
                && !tree.is_ancestor(node, parent)
            {
                tree.link(parent, node);
            }
            previous = Some(node);
        }
        // (B) The message under the last reference. A parent it had from other messages'
        // references is broken first, even when the new link is not made for making a loop:
        // <c> referencing <b> while <a> -> <c> -> <b> leaves <c> a root (as Dovecot does).
        if tree.nodes[own].parent != previous {
            tree.unlink(own);
        }
        if let Some(parent) = previous
            && parent != own
            && !tree.is_ancestor(own, parent)
        {
            tree.link(parent, own);
        }
    }
    // (B, C) The root set, pruned.
    let roots: Vec<usize> = (0..tree.nodes.len()).filter(|&n| tree.nodes[n].parent.is_none()).collect();
    let mut roots = tree.prune(roots, true, None);
    for &root in &roots {
        tree.nodes[root].parent = None;
    }
    // (D) Sorted by date (a dummy by its first child's).
    for &root in &roots {
        tree.sort_children(root);
    }
    roots.sort_by(|&a, &b| tree.compare(a, b));
    // (E) Threads with the same base subject merged.
    let subject_of = |tree: &Tree<'_>, node: usize| {
        tree.representative(node).map(|m| (m.base_subject.clone(), m.is_reply)).filter(|(s, _)| !s.is_empty())
    };
    let mut table: HashMap<String, usize> = HashMap::new();
    for &root in &roots {
        let Some((subject, _)) = subject_of(&tree, root) else { continue };
        let is_dummy = tree.nodes[root].message.is_none();
        let is_reply = tree.nodes[root].message.map(|m| messages[m].is_reply).unwrap_or(false);
        match table.get(&subject).copied() {
            None => {
                table.insert(subject, root);
            }
            Some(old) => {
                let old_dummy = tree.nodes[old].message.is_none();
                let old_reply = tree.nodes[old].message.map(|m| messages[m].is_reply).unwrap_or(false);
                if (is_dummy && !old_dummy) || (old_reply && !is_reply && !old_dummy) {
                    table.insert(subject, root);
                }
            }
        }
    }
    let mut merged_away = vec![false; tree.nodes.len()];
    let mut new_roots: Vec<usize> = Vec::new();
    for &root in &roots {
        let Some((subject, _)) = subject_of(&tree, root) else {
            new_roots.push(root);
            continue;
        };
        let Some(&target) = table.get(&subject) else {
            new_roots.push(root);
            continue;
        };
        if target == root {
            new_roots.push(root);
            continue;
        }
        if merged_away[target] {
            new_roots.push(root);
            continue;
        }
        let root_dummy = tree.nodes[root].message.is_none();
        let target_dummy = tree.nodes[target].message.is_none();
        let root_reply = tree.nodes[root].message.map(|m| messages[m].is_reply).unwrap_or(false);
        let target_reply = tree.nodes[target].message.map(|m| messages[m].is_reply).unwrap_or(false);
        if root_dummy && target_dummy {
            for child in std::mem::take(&mut tree.nodes[root].children) {
                tree.nodes[child].parent = None;
                tree.link(target, child);
            }
        } else if target_dummy || (!target_reply && root_reply) {
            tree.link(target, root);
        } else if root_dummy {
            // The table points at a message; this dummy's children join it.
            for child in std::mem::take(&mut tree.nodes[root].children) {
                tree.nodes[child].parent = None;
                tree.link(target, child);
            }
        } else {
            // Both real and neither a reply of the other: a new dummy holds both.
            let dummy = tree.add();
            merged_away.push(false);
            tree.link(dummy, target);
            tree.link(dummy, root);
            table.insert(subject, dummy);
            if let Some(slot) = new_roots.iter_mut().find(|slot| **slot == target) {
                *slot = dummy;
            }
            merged_away[target] = true;
            continue;
        }
        merged_away[root] = true;
    }
    // Roots that took a dummy's place are replaced once more if merged later.
    let mut roots: Vec<usize> = new_roots.into_iter().filter(|&r| tree.nodes[r].parent.is_none()).collect();
    roots.dedup();
    // (F) Every set of siblings sorted by date, then the threads.
    for &root in &roots {
        tree.sort_children(root);
    }
    roots.sort_by(|&a, &b| tree.compare(a, b));
    let mut out = String::new();
    for root in roots {
        out.push('(');
        tree.write(root, &mut out);
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(number: u32, date: i64, subject: &str, id: &str, references: &[&str]) -> ThreadFields {
        let base = base_subject(subject).to_uppercase();
        ThreadFields {
            number,
            seq: number,
            date,
            is_reply: !subject.eq_ignore_ascii_case(&base),
            base_subject: base,
            message_id: (!id.is_empty()).then(|| id.to_string()),
            references: references.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn references_link_replies_and_merge_by_subject() {
        let messages = [
            message(1, 10, "Plans", "a@x", &[]),
            message(2, 20, "Re: Plans", "b@x", &["a@x"]),
            message(3, 30, "Lunch", "c@x", &[]),
            message(4, 40, "Re: Plans", "d@x", &["a@x", "b@x"]),
            message(5, 50, "Re: Plans", "e@x", &["a@x"]),
            // Its parent is not here: a dummy, pruned, and merged by subject into Lunch's.
            message(6, 60, "Re: Lunch", "f@x", &["missing@x"]),
            message(7, 70, "Other", "", &[]),
        ];
        assert_eq!(references(&messages), "(1 (2 4)(5))(3 6)(7)");
        assert_eq!(ordered_subject(&messages), "(1 (2)(4)(5))(3 6)(7)");
    }

    #[test]
    fn loops_and_duplicate_ids_do_not_break_threading() {
        let messages = [
            message(1, 10, "A", "a@x", &["b@x"]),
            message(2, 20, "B", "b@x", &["a@x"]),
            message(3, 30, "A", "a@x", &[]),
        ];
        // Whatever the links, every message appears exactly once.
        let threads = references(&messages);
        for n in ["1", "2", "3"] {
            assert_eq!(threads.matches(n).count(), 1, "{threads}");
        }
        assert_eq!(references(&[]), "");
    }

    #[test]
    fn a_parent_is_broken_even_when_the_new_link_would_loop() {
        // imaptest thread: <b> references <a> <c>, so <a> -> <c> -> <b>; then <c> references
        // <b>: (1B) breaks <a> -> <c>, and <b> -> <c> would be a loop, so <c> is a root.
        let messages = [
            message(1, 17, "", "a@b", &[]),
            message(2, 15, "", "b@b", &["a@b", "c@b"]),
            message(3, 16, "", "c@b", &["b@b"]),
        ];
        assert_eq!(references(&messages), "(3 2)(1)");
        // With <a> expunged, its dummy is left without children and pruned.
        let messages = [message(1, 15, "", "b@b", &["a@b", "c@b"]), message(2, 16, "", "c@b", &["b@b"])];
        assert_eq!(references(&messages), "(2 1)");
    }

    #[test]
    fn subjects_with_reply_markers_and_not() {
        let reply = |subject: &str| fields_of(format!("Subject: {subject}\r\n\r\n").as_bytes(), 1, 1, 0).is_reply;
        assert!(reply("Re: [FWD: c]"));
        assert!(!reply("Café"));
        assert!(!reply("c"));
        // imaptest thread-orderedsubject: "Re: [FWD: c]" joins "C"'s thread.
        let both = [message(1, 0, "C", "", &[]), message(2, 0, "Re: [FWD: c]", "", &[]), message(3, 0, "b", "", &[])];
        assert_eq!(ordered_subject(&both), "(1 2)(3)");
    }
}
