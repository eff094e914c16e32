//! Threads of messages (C11, RFC 5256): the REFERENCES and ORDEREDSUBJECT algorithms, shared
//! by IMAP THREAD and the web client's conversations, so both group mail the same way. Pure:
//! the callers read each message's fields (IMAP from its header block, the web client from the
//! stored columns) and get the threads back as trees of their indexes.

use std::cmp::Ordering;
use std::collections::HashMap;

/// What threading needs of one message.
#[derive(Debug, Clone, Default)]
pub struct ThreadFields {
    /// The number the response uses (sequence number or UID).
    pub number: u32,
    /// Its place in the mailbox, for ties.
    pub seq: u32,
    /// The Date: field in UTC, else the arrival.
    pub date: i64,
    pub base_subject: String,
    /// The subject had a reply or forward marker (RFC 5256 §2.1's "subj-refwd").
    pub is_reply: bool,
    pub message_id: Option<String>,
    /// References, or else the first of In-Reply-To.
    pub references: Vec<String>,
}

impl ThreadFields {
    /// Sets the base subject (upper-cased, for comparing) and whether the subject was a reply
    /// or a forward, from a decoded subject.
    pub fn set_subject(&mut self, subject: &str) {
        let base = base_subject(subject);
        let plain = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        // Compared before upper-casing: "Café" against "CAFÉ" is not an ASCII case difference.
        self.is_reply = base != plain;
        self.base_subject = base.to_uppercase();
    }
}

/// RFC 5256 §2.1: the subject without its reply and forward markers, so a thread's messages
/// sort together. `subject` is already decoded (RFC 2047).
pub fn base_subject(subject: &str) -> String {
    // (1) Runs of whitespace are one space.
    let mut text = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        // (2) Trailing "(fwd)" and spaces.
        loop {
            let trimmed = text.trim_end();
            match strip_suffix_ignore_case(trimmed, "(fwd)") {
                Some(rest) => text = rest.to_string(),
                None => {
                    text = trimmed.to_string();
                    break;
                }
            }
        }
        // (3) and (4): leading "re:", "fw:", "fwd:" with their blobs, and blobs, until none.
        loop {
            // A lone WSP is a subj-leader too (§5 ABNF): " c", what (6) leaves of "[fwd: c]".
            text = text.trim_start().to_string();
            let before = text.clone();
            if let Some(rest) = strip_leader(&text) {
                text = rest;
            }
            if let Some(rest) = strip_blob(&text)
                && !rest.is_empty()
            {
                text = rest;
            }
            if text == before {
                break;
            }
        }
        // (6) "[fwd: ...]" around everything.
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("[fwd:") && text.ends_with(']') {
            text = text[5..text.len() - 1].to_string();
            continue;
        }
        return text;
    }
}

fn strip_suffix_ignore_case<'a>(text: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = text.len().checked_sub(suffix.len())?;
    (text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case(suffix)).then(|| &text[..cut])
}

/// `*WSP subj-blob` at the start: `[...]` without brackets inside.
fn strip_blob(text: &str) -> Option<String> {
    let rest = text.trim_start();
    let inner = rest.strip_prefix('[')?;
    let end = inner.find(']')?;
    if inner[..end].contains('[') {
        return None;
    }
    Some(inner[end + 1..].trim_start().to_string())
}

/// `subj-refwd`, with the blobs before it: `*subj-blob ("re" / "fw" / "fwd") *WSP [subj-blob] ":"`.
fn strip_leader(text: &str) -> Option<String> {
    let mut rest = text.trim_start().to_string();
    while let Some(after) = strip_blob(&rest) {
        rest = after;
    }
    let lower = rest.to_ascii_lowercase();
    let word = ["fwd", "fw", "re"].into_iter().find(|word| lower.starts_with(word))?;
    let mut after = rest[word.len()..].trim_start().to_string();
    if let Some(without_blob) = strip_blob(&after) {
        after = without_blob;
    }
    let after = after.strip_prefix(':')?;
    Some(after.trim_start().to_string())
}

/// A folder's conversations as the web client shows them (C11): REFERENCES threads over its
/// stored rows, each as the indexes of its messages in `rows`. A message's References are
/// those kept with it (the first and the last 19), else its In-Reply-To, as IMAP reads them
/// from the header.
pub fn conversations(rows: &[store::ThreadRow]) -> Vec<Vec<usize>> {
    let fields: Vec<ThreadFields> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| {
            // Subjects are threaded by their start: stripping markers costs more than linear
            // time on subjects made of them, and a sender chooses the subject.
            let subject: String = row.subject.chars().take(MAX_SUBJECT_CHARS).collect();
            let mut fields = ThreadFields {
                number: index as u32 + 1,
                seq: index as u32 + 1,
                date: row.date,
                message_id: row.message_id.clone(),
                references: if row.references.is_empty() {
                    row.in_reply_to.iter().cloned().collect()
                } else {
                    row.references.clone()
                },
                ..ThreadFields::default()
            };
            fields.set_subject(&subject);
            fields
        })
        .collect();
    references(&fields).iter().map(Node::messages).collect()
}

/// The part of a stored subject the web client's threading reads.
const MAX_SUBJECT_CHARS: usize = 300;

/// Levels a thread keeps (RFC 5256 sets none): what is deeper hangs at this depth, so the
/// walks of a tree, which recurse once per level, stay within a thread's stack whatever the
/// messages' references say.
pub const MAX_DEPTH: usize = 200;

/// One thread, or a part of one: a message (its index in the slice threaded), or a dummy
/// standing for messages that are not there, with its replies by date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub message: Option<usize>,
    pub children: Vec<Node>,
}

impl Node {
    /// The indexes of every message in this thread, parents before their replies.
    pub fn messages(&self) -> Vec<usize> {
        let mut found = Vec::new();
        self.collect(&mut found);
        found
    }

    fn collect(&self, found: &mut Vec<usize>) {
        found.extend(self.message);
        for child in &self.children {
            child.collect(found);
        }
    }
}

/// RFC 5256 §4 ORDEREDSUBJECT: by base subject, then date; each group's first message is
/// the parent of the others; groups by their first message's date.
pub fn ordered_subject(messages: &[ThreadFields]) -> Vec<Node> {
    let mut sorted: Vec<usize> = (0..messages.len()).collect();
    sorted.sort_by(|&a, &b| {
        messages[a].base_subject.cmp(&messages[b].base_subject).then(by_date(&messages[a], &messages[b]))
    });
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for index in sorted {
        match groups.last_mut() {
            Some(group) if messages[group[0]].base_subject == messages[index].base_subject => group.push(index),
            _ => groups.push(vec![index]),
        }
    }
    groups.sort_by(|a, b| by_date(&messages[a[0]], &messages[b[0]]));
    groups
        .into_iter()
        .map(|group| Node {
            message: Some(group[0]),
            children: group[1..].iter().map(|&child| Node { message: Some(child), children: Vec::new() }).collect(),
        })
        .collect()
}

/// Threads in the syntax of an IMAP THREAD response (RFC 5256 §4): `(1 (2 4)(5))(3 6)`, each
/// message by its `number`.
pub fn to_imap(threads: &[Node], messages: &[ThreadFields]) -> String {
    let mut out = String::new();
    for thread in threads {
        out.push('(');
        write_imap(thread, messages, &mut out);
        out.push(')');
    }
    out
}

fn write_imap(node: &Node, messages: &[ThreadFields], out: &mut String) {
    match node.message {
        Some(message) => {
            out.push_str(&messages[message].number.to_string());
            match node.children.as_slice() {
                [] => {}
                [only] => {
                    out.push(' ');
                    write_imap(only, messages, out);
                }
                several => {
                    out.push(' ');
                    for child in several {
                        out.push('(');
                        write_imap(child, messages, out);
                        out.push(')');
                    }
                }
            }
        }
        None => match node.children.as_slice() {
            [only] => write_imap(only, messages, out),
            several => {
                for child in several {
                    out.push('(');
                    write_imap(child, messages, out);
                    out.push(')');
                }
            }
        },
    }
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

    /// Whether `ancestor` is above `node`; also true when `node` is deeper than
    /// [`MAX_DEPTH`], so no link is made below it (a sender's chain of references cannot make
    /// each link cost its whole depth).
    fn is_ancestor(&self, ancestor: usize, mut node: usize) -> bool {
        let mut steps = 0;
        while let Some(parent) = self.nodes[node].parent {
            steps += 1;
            if parent == ancestor || steps > MAX_DEPTH {
                return true;
            }
            node = parent;
        }
        false
    }

    /// Hangs whatever is deeper than [`MAX_DEPTH`] directly under its ancestor at that depth,
    /// without recursion: the steps after this one recurse once per level, and a thread as deep
    /// as its sender made it (messages arriving newest first each add a level on top) would
    /// overflow the stack.
    fn flatten(&mut self, roots: &[usize]) {
        let mut stack: Vec<(usize, usize)> = roots.iter().map(|&root| (root, 0)).collect();
        while let Some((node, depth)) = stack.pop() {
            if depth + 1 < MAX_DEPTH {
                stack.extend(self.nodes[node].children.iter().map(|&child| (child, depth + 1)));
                continue;
            }
            let mut below = Vec::new();
            let mut work = std::mem::take(&mut self.nodes[node].children);
            while let Some(child) = work.pop() {
                work.append(&mut self.nodes[child].children);
                self.nodes[child].parent = Some(node);
                below.push(child);
            }
            self.nodes[node].children = below;
        }
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

    fn to_node(&self, node: usize) -> Node {
        Node {
            message: self.nodes[node].message,
            children: self.nodes[node].children.iter().map(|&child| self.to_node(child)).collect(),
        }
    }
}

/// RFC 5256 §4 REFERENCES, steps (A) to (F).
pub fn references(messages: &[ThreadFields]) -> Vec<Node> {
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
    tree.flatten(&roots);
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
    roots.into_iter().map(|root| tree.to_node(root)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(number: u32, date: i64, subject: &str, id: &str, references: &[&str]) -> ThreadFields {
        let mut fields = ThreadFields {
            number,
            seq: number,
            date,
            message_id: (!id.is_empty()).then(|| id.to_string()),
            references: references.iter().map(|r| r.to_string()).collect(),
            ..ThreadFields::default()
        };
        fields.set_subject(subject);
        fields
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
        assert_eq!(to_imap(&references(&messages), &messages), "(1 (2 4)(5))(3 6)(7)");
        assert_eq!(to_imap(&ordered_subject(&messages), &messages), "(1 (2)(4)(5))(3 6)(7)");
        let threads = references(&messages);
        assert_eq!(threads[0].messages(), [0, 1, 3, 4], "a thread's messages, parents first");
    }

    #[test]
    fn loops_and_duplicate_ids_do_not_break_threading() {
        let messages = [
            message(1, 10, "A", "a@x", &["b@x"]),
            message(2, 20, "B", "b@x", &["a@x"]),
            message(3, 30, "A", "a@x", &[]),
        ];
        // Whatever the links, every message appears exactly once.
        let threads = to_imap(&references(&messages), &messages);
        for n in ["1", "2", "3"] {
            assert_eq!(threads.matches(n).count(), 1, "{threads}");
        }
        assert!(references(&[]).is_empty());
    }

    #[test]
    fn threads_as_deep_as_a_sender_makes_them_stay_within_the_stack() {
        // Each message answers the one before, and they arrive newest first, each adding a
        // level on top: 20,000 levels would overflow a 2 MiB stack in the recursive steps.
        let n = 20_000u32;
        let messages: Vec<ThreadFields> = (0..n)
            .map(|i| {
                let k = n - i;
                message(i + 1, i64::from(k), "", &format!("m{k}@x"), &[&format!("m{}@x", k - 1)])
            })
            .collect();
        let run = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(move || {
            let threads = references(&messages);
            assert_eq!(threads.len(), 1);
            assert_eq!(threads[0].messages().len(), n as usize);
        });
        run.expect("thread").join().expect("threaded within a 2 MiB stack");
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
        assert_eq!(to_imap(&references(&messages), &messages), "(3 2)(1)");
        // With <a> expunged, its dummy is left without children and pruned.
        let messages = [message(1, 15, "", "b@b", &["a@b", "c@b"]), message(2, 16, "", "c@b", &["b@b"])];
        assert_eq!(to_imap(&references(&messages), &messages), "(2 1)");
    }

    #[test]
    fn conversations_of_stored_rows_follow_references_then_in_reply_to() {
        let row = |id: i64, subject: &str, message_id: &str, in_reply_to: Option<&str>, references: &[&str]| {
            store::ThreadRow {
                id: store::MessageId(id),
                date: id * 10,
                subject: subject.into(),
                sender: String::new(),
                size: 0,
                message_id: Some(message_id.into()),
                in_reply_to: in_reply_to.map(str::to_string),
                references: references.iter().map(|r| r.to_string()).collect(),
                unread: false,
            }
        };
        let rows = [
            row(1, "Plans", "a@x", None, &[]),
            row(2, "Lunch", "l@x", None, &[]),
            // Stored before References were kept: its In-Reply-To threads it.
            row(3, "Re: Plans", "b@x", Some("a@x"), &[]),
            row(4, "Re: Plans", "c@x", Some("b@x"), &["a@x", "b@x"]),
            // Its parent is elsewhere; the subject joins it to Lunch.
            row(5, "Re: Lunch", "m@x", Some("gone@x"), &["gone@x"]),
        ];
        assert_eq!(conversations(&rows), [vec![0, 2, 3], vec![1, 4]]);
        assert!(conversations(&[]).is_empty());
    }

    #[test]
    fn base_subjects_of_rfc_5256() {
        for (subject, base) in [
            ("Hello", "Hello"),
            ("Re: Hello", "Hello"),
            ("RE: re: Fwd: Hello", "Hello"),
            ("Re[2]: Hello", "Hello"),
            ("[list] Re: Hello", "Hello"),
            ("Re: [list] Re: Hello (fwd)", "Hello"),
            ("[Fwd: Re: Hello]", "Hello"),
            // imaptest sort-subject: (6) leaves " c", whose space (3) removes before (6) again.
            ("Re: [FWD: c]", "c"),
            ("re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon"),
            ("[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b"),
            ("Hello   world  (fwd) (FWD)", "Hello world"),
            ("[only a blob]", "[only a blob]"),
            ("Réponse: été", "Réponse: été"),
            ("", ""),
        ] {
            assert_eq!(base_subject(subject), base, "{subject:?}");
        }
    }
}
