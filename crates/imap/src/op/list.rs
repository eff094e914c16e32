//! LIST and LSUB (RFC 9051 §6.3.9, RFC 3501 §6.3.9, RFC 6154 SPECIAL-USE attributes).
//!
//! Folder names are '/'-separated paths, stored in UTF-8 and sent in modified UTF-7
//! (RFC 3501 §5.1.3, `mutf7`).

use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};

use crate::error::{Code, Error, Result};
use crate::extended::ListOptions;
use crate::op::status::status_item;
use crate::response::{Response, string, utf8_string};
use crate::session::Session;
use mail::mutf7;

/// The hierarchy delimiter.
pub(crate) const DELIMITER: char = '/';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListKind {
    List,
    Lsub,
}

impl Session {
    /// LIST and LSUB; an extended LIST (RFC 5258) comes with `options` set.
    pub(crate) async fn handle_list(
        &mut self,
        tag: &str,
        reference: Mailbox<'static>,
        pattern: ListMailbox<'static>,
        kind: ListKind,
        options: ListOptions,
    ) -> Result<Response> {
        let verb = match kind {
            ListKind::List => "LIST",
            ListKind::Lsub => "LSUB",
        };
        let reference = mailbox_name(&reference, self.names)?;
        let written = match &pattern {
            ListMailbox::Token(token) => vec![token.as_ref().to_vec()],
            ListMailbox::String(text) => vec![text.as_ref().to_vec()],
        };
        let patterns = if options.patterns.is_empty() { written } else { options.patterns.clone() };
        let patterns = patterns
            .iter()
            // A pattern that is not modified UTF-7 names no folder: it matches nothing.
            .filter_map(|pattern| wire_to_name(&String::from_utf8_lossy(pattern), self.names).ok())
            .collect::<Vec<_>>();
        let status_items = match &options.return_status {
            Some(names) => names.iter().map(|name| status_item(name)).collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        let mut response = Response::default();
        if patterns.len() == 1 && patterns[0].is_empty() {
            // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root.
            if kind == ListKind::List {
                response.untagged(&format!("LIST (\\Noselect) {} \"\"", string(&DELIMITER.to_string())));
            }
            response.status_line(tag, "OK", None, &format!("{verb} completed"));
            return Ok(response);
        }
        let full_patterns: Vec<String> = patterns.iter().map(|pattern| format!("{reference}{pattern}")).collect();
        let account = self.account()?.id;
        let folders = self.services.store().folders(account).await?;
        let only_subscribed = kind == ListKind::Lsub || options.select_subscribed;
        for folder in &folders {
            if !full_patterns.iter().any(|pattern| matches_pattern(pattern, &folder.name)) {
                continue;
            }
            let prefix = format!("{}{DELIMITER}", folder.name);
            let children = || folders.iter().filter(|other| other.name.starts_with(&prefix));
            // INBOX and Templates have a role in the store but no RFC 6154 attribute.
            let attribute_of = |folder: &store::Folder| folder.special_use.and_then(store::SpecialUse::imap_attribute);
            let selected = |folder: &store::Folder| {
                (!only_subscribed || folder.subscribed)
                    && (!options.select_special_use || attribute_of(folder).is_some())
            };
            // A folder that is not selected itself is listed for a selected descendant that no
            // pattern matches (so the client would not see it otherwise): LSUB's `%` case with
            // \Noselect (RFC 3501 §6.3.9), RECURSIVEMATCH's CHILDINFO (RFC 5258 §3.5).
            let for_descendants = !selected(folder)
                && (kind == ListKind::Lsub || options.recursive_match)
                && children().any(|child| {
                    selected(child) && !full_patterns.iter().any(|pattern| matches_pattern(pattern, &child.name))
                });
            if !selected(folder) && !for_descendants {
                continue;
            }
            let child_info = for_descendants && kind == ListKind::List;
            let mut attributes = vec![if children().next().is_some() { "\\HasChildren" } else { "\\HasNoChildren" }];
            if for_descendants && kind == ListKind::Lsub {
                attributes.push("\\Noselect");
            }
            if (options.select_subscribed || options.return_subscribed) && folder.subscribed {
                attributes.push("\\Subscribed");
            }
            if kind == ListKind::List
                && let Some(attribute) = attribute_of(folder)
            {
                attributes.push(attribute);
            }
            let mut line = format!(
                "{verb} ({}) {} {}",
                attributes.join(" "),
                string(&DELIMITER.to_string()),
                wire_name(&folder.name, self.names)
            );
            if child_info {
                let why: Vec<&str> =
                    [(options.select_subscribed, "\"SUBSCRIBED\""), (options.select_special_use, "\"SPECIAL-USE\"")]
                        .into_iter()
                        .filter_map(|(on, name)| on.then_some(name))
                        .collect();
                line.push_str(&format!(" (\"CHILDINFO\" ({}))", why.join(" ")));
            }
            response.untagged(&line);
            // RFC 5819: a STATUS line right after each listed folder.
            if !status_items.is_empty() {
                let values = self.status_values(folder, &status_items).await?;
                response.untagged(&format!("STATUS {} ({values})", wire_name(&folder.name, self.names)));
            }
        }
        if only_subscribed && !options.select_special_use {
            // Subscribed names whose folder is gone (RFC 5258 §3.1, RFC 3501 §6.3.9).
            let attributes = if kind == ListKind::Lsub { "\\Noselect" } else { "\\NonExistent \\Subscribed" };
            for name in self.services.store().orphan_subscriptions(account).await? {
                if full_patterns.iter().any(|pattern| matches_pattern(pattern, &name)) {
                    let name = wire_name(&name, self.names);
                    response.untagged(&format!("{verb} ({attributes}) {} {name}", string(&DELIMITER.to_string())));
                }
            }
        }
        response.status_line(tag, "OK", None, &format!("{verb} completed"));
        Ok(response)
    }
}

/// A folder name from the command, in UTF-8 (decoded from modified UTF-7), with INBOX in its
/// canonical spelling.
pub(crate) fn mailbox_name(mailbox: &Mailbox<'_>, names: Names) -> Result<String> {
    match mailbox {
        Mailbox::Inbox => Ok("INBOX".to_string()),
        Mailbox::Other(other) => wire_to_name(&String::from_utf8_lossy(other.as_ref()), names),
    }
}

/// How folder names travel: modified UTF-7 (RFC 3501 §5.1.3), or UTF-8 once the client
/// enabled UTF8=ACCEPT (RFC 6855 §3) or IMAP4rev2 (RFC 9051 §5.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Names {
    #[default]
    ModifiedUtf7,
    Utf8,
}

/// A name or pattern as the client wrote it, in UTF-8.
fn wire_to_name(wire: &str, names: Names) -> Result<String> {
    match names {
        Names::Utf8 => Ok(wire.to_string()),
        // NO rather than BAD: the command is well formed, the name just cannot exist.
        Names::ModifiedUtf7 => mutf7::decode(wire)
            .ok_or_else(|| Error::no(Some(Code::Cannot), "Folder name is not valid modified UTF-7 (RFC 3501 §5.1.3)")),
    }
}

/// A folder name as it goes to the client.
pub(crate) fn wire_name(name: &str, names: Names) -> String {
    match names {
        Names::Utf8 => utf8_string(name),
        Names::ModifiedUtf7 => string(&mutf7::encode(name)),
    }
}

/// RFC 9051 §6.3.9: `*` matches anything, `%` anything but the delimiter. INBOX matches
/// case-insensitively. Dynamic programming, so hostile patterns cannot blow up.
pub(crate) fn matches_pattern(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> =
        if name == "INBOX" { pattern.to_uppercase().chars().collect() } else { pattern.chars().collect() };
    let name: Vec<char> = name.chars().collect();
    // matched[j]: the pattern prefix seen so far matches name[..j].
    let mut matched = vec![false; name.len() + 1];
    matched[0] = true;
    for &p in &pattern {
        let mut next = vec![false; name.len() + 1];
        match p {
            '*' | '%' => {
                for j in 0..=name.len() {
                    next[j] = matched[j] || (j > 0 && next[j - 1] && (p == '*' || name[j - 1] != DELIMITER));
                }
            }
            literal => {
                for j in 1..=name.len() {
                    next[j] = matched[j - 1] && name[j - 1] == literal;
                }
            }
        }
        matched = next;
    }
    matched[name.len()]
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn wildcards() {
        for (pattern, name, want) in [
            ("*", "INBOX", true),
            ("*", "Archive/2026/March", true),
            ("%", "Archive", true),
            ("%", "Archive/2026", false),
            ("Archive/%", "Archive/2026", true),
            ("Archive/%", "Archive/2026/March", false),
            ("Archive/*", "Archive/2026/March", true),
            ("inbox", "INBOX", true),
            ("InBoX", "INBOX", true),
            ("sent", "Sent", false),
            ("S%t", "Sent", true),
            ("*nt", "Sent", true),
            ("", "Sent", false),
            ("Sent", "Sent", true),
        ] {
            assert_eq!(matches_pattern(pattern, name), want, "{pattern} vs {name}");
        }
    }
}
