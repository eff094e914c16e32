//! What the server functions send to the page: plain, serialisable view data.
//!
//! Text that depends on the reader's language or clock (dates, sizes) is formatted on the server,
//! so the server render and the hydrated page agree byte for byte. Folder names of system folders
//! travel as their [`SpecialUse`] and are translated by the page.

use serde::{Deserialize, Serialize};
use types::{ListSort, SpecialUse, Tag};

use crate::i18n::{Key, Lang, t};

/// The name of a system folder in the reader's language (D1).
pub fn role_label(role: SpecialUse, lang: Lang) -> &'static str {
    let key = match role {
        SpecialUse::Inbox => Key::FolderInbox,
        SpecialUse::Drafts => Key::FolderDrafts,
        SpecialUse::Sent => Key::FolderSent,
        SpecialUse::Templates => Key::FolderTemplates,
        SpecialUse::Junk => Key::FolderSpam,
        SpecialUse::Trash => Key::FolderTrash,
    };
    t(lang, key)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderView {
    pub id: i64,
    /// The whole IMAP path (`Work/2026`).
    pub path: String,
    /// The last segment of the IMAP path (user folders); system folders show their role instead.
    pub name: String,
    pub role: Option<SpecialUse>,
    /// Nesting level, 0 for top-level folders.
    pub depth: u32,
    pub n_unseen: u32,
    pub n_messages: u32,
    /// The folder's state as shown (its highest modseq): live updates newer than this change
    /// what the page shows.
    pub modseq: u64,
    /// The UID its next message will get: what the page shows is below it (D5: emptying Trash
    /// takes only that).
    pub uidnext: u32,
}

impl FolderView {
    pub fn label(&self, lang: Lang) -> String {
        match self.role {
            Some(role) => role_label(role, lang).to_string(),
            None => self.name.clone(),
        }
    }

    /// The label indented by depth, for menus of folders.
    pub fn indented_label(&self, lang: Lang) -> String {
        format!("{}{}", "\u{a0}\u{a0}".repeat(self.depth as usize), self.label(lang))
    }
}

/// One row of the message list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageListItem {
    pub id: i64,
    /// The sender's name, else their address; empty when the message has no From.
    pub sender: String,
    pub sender_address: String,
    pub subject: String,
    /// C5: time today, day and month this year, else with the year.
    pub short_date: String,
    pub full_date: String,
    /// `datetime` attribute of `<time>` (RFC 3339).
    pub iso_date: String,
    pub size: String,
    pub unread: bool,
    pub has_attachments: bool,
    pub priority_high: bool,
    pub flagged: bool,
    pub answered: bool,
    /// `$Forwarded`, as IMAP clients mark a message forwarded.
    pub forwarded: bool,
    /// `\Deleted`, set by an IMAP client and not yet expunged: shown struck through.
    pub deleted: bool,
    /// D6: its tags, by name.
    pub tags: Vec<Tag>,
    /// D7: it has a comment.
    pub has_comment: bool,
    /// C11: the messages of its conversation in this folder, when the list shows conversations
    /// (then `unread` says whether any of them is); 0 otherwise.
    pub thread_count: u32,
    /// In search results: where the subject has the words searched for (byte ranges).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_marks: Vec<(u32, u32)>,
    /// The same in the sender's name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender_marks: Vec<(u32, u32)>,
}

/// One correspondent of the reading pane's headers (C12): its name, blank when it has none, and
/// its address, blank for a group's name alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correspondent {
    pub name: String,
    pub address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    /// Position among the message's attachments, as `/download/{message}/{index}` expects it.
    pub index: u32,
    pub name: String,
    pub size: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageBody {
    /// Plain text, shown escaped with its line breaks.
    Text(String),
    /// A complete `srcdoc` document: sanitised HTML behind its own restrictive CSP.
    Html {
        srcdoc: String,
        remote_content_blocked: bool,
    },
    Empty,
}

/// The message in the reading pane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    pub from: Vec<Correspondent>,
    pub to: Vec<Correspondent>,
    pub cc: Vec<Correspondent>,
    pub date: String,
    pub subject: String,
    pub body: MessageBody,
    pub attachments: Vec<AttachmentView>,
    /// C8: the address the message asks a read receipt to go to, while not yet answered.
    pub receipt_requested: Option<String>,
    pub flagged: bool,
    /// The folder it is in (a tag's list shows messages of every folder).
    pub folder_id: i64,
    /// D6: its tags, by name.
    pub tags: Vec<Tag>,
    /// D7: the reader's private note on it.
    pub comment: Option<String>,
    /// C11: its conversation in the folder, oldest first, when the list shows conversations
    /// and it has others.
    pub conversation: Vec<ConversationEntry>,
}

/// One message of the conversation the reading pane lists (C11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationEntry {
    pub id: i64,
    pub sender: String,
    pub short_date: String,
    pub full_date: String,
    pub unread: bool,
    /// The one open.
    pub current: bool,
}

/// Everything the three panes of /mail show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxView {
    /// The logged-in account's address, for the header.
    pub login: String,
    pub folders: Vec<FolderView>,
    pub current_folder_id: i64,
    /// The list's rows as markup, written on the server (`pages::mail_rows`); empty in the
    /// page's hydration data, which would otherwise repeat the rows the page already shows.
    pub rows: String,
    /// How many rows `rows` holds.
    pub row_count: u32,
    pub list: ListView,
    pub message: Option<MessageView>,
    pub usage: UsageView,
    /// D6: the account's tags, by name.
    pub tags: Vec<Tag>,
    /// The list is this tag's messages (in every folder), not a folder's.
    pub listed_tag: Option<Tag>,
    /// C6: one line per message.
    pub compact: bool,
    /// C11: the list shows conversations.
    pub threads: bool,
    /// The list is a search's results (issue 15).
    pub search: Option<SearchView>,
    /// The account's last search, offered again (E4).
    pub last_search: Option<String>,
    /// Whether the reader administers a domain (issue 18): the header offers the way there.
    #[serde(default)]
    pub administers: bool,
}

impl MailboxView {
    /// What the list shows: a search's results, else a tag's messages, else the folder's.
    pub fn place(&self) -> ListPlace {
        match (&self.search, &self.listed_tag) {
            (Some(search), _) => ListPlace::Search(search.query.clone(), search.folder_id),
            (None, Some(tag)) => ListPlace::Tag(tag.keyword.clone()),
            (None, None) => ListPlace::Folder(self.current_folder_id),
        }
    }
}

/// A search the list shows the results of: what was typed, where, and why it could not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchView {
    pub query: String,
    /// Within this folder only; all folders otherwise.
    pub folder_id: Option<i64>,
    /// Why it did not run, in the reader's words.
    pub error: Option<String>,
}

/// A10: the space the mailbox uses, against its quota when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub used: String,
    /// The quota, when the mailbox has one.
    pub quota: Option<String>,
    /// Used, in per cent of the quota (at most 100).
    pub percent: Option<u32>,
}

/// C1, C2: the list's order, filter and page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListView {
    pub sort: ListSort,
    /// The order is the one kept for the folder, which its address need not repeat.
    pub sort_is_kept: bool,
    pub unread_only: bool,
    /// From 1.
    pub page: u32,
    pub pages: u32,
    /// Messages on all the pages together.
    pub total: u32,
}

impl ListView {
    /// The query string of a list in order `sort` (none: the folder's kept order), filter and
    /// page: empty for the first page of the whole folder in its kept order.
    pub fn query_for(sort: Option<ListSort>, unread_only: bool, page: u32) -> String {
        let mut pairs = Vec::new();
        if let Some(sort) = sort {
            pairs.push(format!("sort={}", sort.as_string()));
        }
        if unread_only {
            pairs.push("unread=1".to_string());
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        if pairs.is_empty() { String::new() } else { format!("?{}", pairs.join("&")) }
    }

    /// The query string of page `page` of this list.
    pub fn page_query(&self, page: u32) -> String {
        ListView::query_for((!self.sort_is_kept).then_some(self.sort), self.unread_only, page)
    }

    /// The query string that shows this very list again.
    pub fn query(&self) -> String {
        self.page_query(self.page)
    }
}

/// The list's order, filter and page as the address asks for them (C1, C2): `?sort=`,
/// `?page=`, `?unread=1`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ListAsk {
    pub sort: Option<String>,
    pub page: Option<u32>,
    pub unread_only: bool,
}

/// A search the address asks for (`/mail/search?q=...&in=FOLDER`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchAsk {
    pub query: String,
    pub folder_id: Option<i64>,
}

/// What the list shows: a folder, or the messages with a tag (D6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListPlace {
    Folder(i64),
    /// By keyword.
    Tag(String),
    /// A search's results: the query, and the folder it is limited to.
    Search(String, Option<i64>),
}

impl ListPlace {
    /// The address of this list, or of one of its messages, with the list's query string
    /// (`?sort=...`, or empty).
    pub fn path(&self, message_id: Option<i64>, query: &str) -> String {
        let message = message_id.map(|id| format!("/{id}")).unwrap_or_default();
        match self {
            ListPlace::Folder(folder_id) => format!("/mail/{folder_id}{message}{query}"),
            ListPlace::Tag(keyword) => {
                let tag: String = form_urlencoded_value(keyword);
                let rest = query.strip_prefix('?').map(|rest| format!("&{rest}")).unwrap_or_default();
                format!("/mail/tag{message}?tag={tag}{rest}")
            }
            ListPlace::Search(text, folder) => {
                let text = form_urlencoded_value(text);
                let within = folder.map(|folder| format!("&in={folder}")).unwrap_or_default();
                let rest = query.strip_prefix('?').map(|rest| format!("&{rest}")).unwrap_or_default();
                format!("/mail/search{message}?q={text}{within}{rest}")
            }
        }
    }
}

/// `text` percent-encoded for a query value (a keyword holds `&`, `+`, `#`...).
pub(crate) fn form_urlencoded_value(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// `url` with `pair` (`name=value`) added to its query.
pub fn with_query_pair(url: &str, pair: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{pair}")
}

/// One app password on the settings page (F8); the token itself is never sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPasswordView {
    pub name: String,
    pub created: String,
    /// None when never used.
    pub last_used: Option<String>,
}

/// What /settings/folders shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldersView {
    pub login: String,
    pub folders: Vec<FolderView>,
}

/// The reader's preferences (M1), as /settings/preferences shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PreferencesView {
    /// `en` or `fr`; none: the browser's.
    pub language: Option<String>,
    /// C3: remote images always shown.
    pub always_images: bool,
    /// C6: one line per message in the list.
    pub compact: bool,
    /// C11: the list shows conversations.
    pub threads: bool,
}

/// What the last import did (D10), as /settings/import shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportSummaryView {
    /// When it ran, in the reader's words.
    pub when: String,
    /// Messages imported, by folder path.
    pub imported: Vec<(String, u32)>,
    pub total: u32,
    /// Files left out (the first ones): name, and why (`not_eml`, `too_large`...).
    pub rejected: Vec<(String, String)>,
    /// Files left out beyond those listed.
    pub more_rejected: u32,
    /// What was sent was not a zip archive.
    pub not_a_zip: bool,
}

/// What /settings/tags shows (D6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagsView {
    pub login: String,
    pub tags: Vec<Tag>,
}

/// What /settings/app-passwords shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppPasswordsView {
    pub login: String,
    pub passwords: Vec<AppPasswordView>,
}

/// What the composer starts from (B1, B2, B4, B5): empty for a new message, filled for a reply,
/// a forward or a draft taken up again.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ComposeForm {
    pub login: String,
    /// The address the message goes out from, one of `identities`.
    pub from: String,
    /// The addresses the account may send from (B6): its own, then its aliases.
    pub identities: Vec<String>,
    /// The names shown with them, for those that have one (address, name).
    pub identity_names: Vec<(String, String)>,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    /// The text; of a rich message, its text version (what the page shows without WASM).
    pub body: String,
    /// B3: the message in rich text, as the editor starts from it (cleaned HTML); `None` for
    /// plain text.
    pub html: Option<String>,
    /// The message this answers (its `\Answered` flag is set once sent).
    pub reply_to: Option<i64>,
    /// The message this forwards (its attachments go along; `$Forwarded` once sent).
    pub forward_of: Option<i64>,
    /// The draft this continues (removed once sent, replaced when saved again; its thread and
    /// attachments go along).
    pub draft_id: Option<i64>,
    /// The files the message carries (B1): uploaded, a forward's, a draft's, a template's
    /// (B12: the template stays as it is).
    pub attachments: Vec<AttachedFile>,
    /// B13: the signature of each address to send from that has one; the page swaps them
    /// when another address is chosen.
    pub signatures: Vec<(String, SignatureText)>,
    /// B13: the organisation's footer, added below every message sent.
    pub footer: Option<String>,
    /// B14: marked urgent, and asking for a read receipt.
    pub high_priority: bool,
    pub receipt: bool,
    /// B15: a draft scheduled to be sent, when (saved again, it stays scheduled).
    pub scheduled_for: Option<String>,
    /// B12: the account's templates (id, subject), offered to a reply.
    pub templates: Vec<(i64, String)>,
}

/// What /scheduled shows (B15): the undo delay, and the drafts waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScheduledView {
    pub login: String,
    /// Seconds.
    pub undo_delay: u32,
    pub messages: Vec<ScheduledMessage>,
}

/// A draft waiting to be sent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScheduledMessage {
    pub id: i64,
    pub subject: String,
    pub to: String,
    pub when: String,
}

/// A file the composer's message carries (B1).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AttachedFile {
    /// Its key in the form ([`crate::attachments::AttachmentKey`]).
    pub key: String,
    pub name: String,
    /// Bytes.
    pub size: u64,
}

/// A signature (B13): its text, and its rich text when written so.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SignatureText {
    pub text: String,
    /// Cleaned HTML, its pictures as `data:` URLs.
    pub html: Option<String>,
}

/// One address's signature on /settings/signatures (B13), and its name (B6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureView {
    pub address: String,
    /// The name shown with it; empty when none.
    pub display_name: String,
    /// Messages leave from it unless a reply says otherwise.
    pub is_default: bool,
    /// Its rich text, when written so.
    pub html: Option<String>,
    /// Empty when the address has none.
    pub body: String,
}

/// What /settings/signatures shows: how messages are written, and a signature for each
/// address the account sends from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignaturesView {
    pub login: String,
    /// B3: new messages start in rich text.
    pub rich: bool,
    /// B5: a forward carries the message as a `.eml` file.
    pub forward_attached: bool,
    /// B13: where the signature goes.
    pub placement: crate::signature::Placement,
    pub signatures: Vec<SignatureView>,
}

/// What /admin shows (issue 18): the domains the reader administers, and one domain's
/// mailboxes, found and paged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminView {
    pub login: String,
    /// A server administrator (every domain), or a domain administrator (those listed).
    pub server_admin: bool,
    pub domains: Vec<AdminDomain>,
    /// The domain whose mailboxes are listed.
    pub domain: Option<String>,
    /// That domain's administrators.
    pub domain_admins: Vec<String>,
    /// What the mailboxes were filtered by.
    pub filter: String,
    pub mailboxes: Vec<MailboxRow>,
    /// Mailboxes matching the filter, over every page.
    pub total: u32,
    pub page: u32,
    pub pages: u32,
    /// What the domain's part of the page shows.
    pub section: AdminSection,
    /// The aliases' page (section `Aliases`), filtered like the mailboxes.
    pub aliases: Vec<AliasRow>,
    /// `postmaster@` and `abuse@` (section `Aliases`).
    pub required: Vec<RequiredRow>,
    /// A6: the common role addresses the domain does not have yet (section `Aliases`).
    pub missing_roles: Vec<String>,
    /// One mailbox (section `Mailbox`).
    pub mailbox: Option<MailboxDetail>,
    /// The records to publish and what the DNS says of each (section `Dns`).
    pub dns: Vec<DnsRow>,
    /// The same records as zone-file lines.
    pub zone: String,
    /// Whether the records were checked (the server has a resolver).
    pub dns_checked: bool,
    /// The domain's mailing lists (section `Lists`).
    pub lists: Vec<types::MailingList>,
    /// The domain's groups (section `Groups`).
    pub groups: Vec<types::GroupInfo>,
}

/// One group as its page shows it (A11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupPageData {
    pub login: String,
    pub group: types::GroupInfo,
    pub members: Vec<types::GroupMember>,
    /// The reader administers the group's domain (else only the group).
    pub domain_admin: bool,
}

/// One mailing list as its page shows it (A7, A8), to whoever may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListPageData {
    pub login: String,
    pub list: types::MailingList,
    /// The reader changes its settings and members (a domain administrator, an owner).
    pub can_edit: bool,
    /// The reader deletes it (a domain administrator).
    pub can_delete: bool,
    pub members: Vec<types::ListMember>,
    pub held: Vec<HeldRow>,
    pub pending: Vec<types::PendingSubscription>,
}

/// A post waiting for a moderator, with its size and arrival as the reader reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRow {
    pub id: i64,
    pub author: String,
    pub subject: String,
    pub size: String,
    pub received: String,
}

/// One DNS record the domain should publish, and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsRow {
    pub name: String,
    pub kind: String,
    pub value: String,
    pub purpose: DnsPurpose,
    pub verdict: DnsVerdict,
}

/// What a record is for (`mail::dns_records::Purpose`, which the browser does not have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsPurpose {
    Mx,
    Spf,
    Dkim,
    Dmarc,
    Submissions,
    Submission,
    Imaps,
    Imap,
    NoPop3,
    Autoconfig,
    Autodiscover,
}

/// What the DNS says of a record (`outbound::dns_check::Verdict`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DnsVerdict {
    Published,
    Missing,
    NotNeeded,
    /// What was found instead.
    Different(Vec<String>),
    /// Why it could not be checked.
    Unknown(String),
    /// Not checked: the server has no resolver.
    NotChecked,
}

/// The part of a domain the administration shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminSection {
    Mailboxes,
    Aliases,
    /// One mailbox: its state, deleting it, turning it into an alias.
    Mailbox,
    /// The DNS records to publish, checked.
    Dns,
    /// Its mailing lists (A7, A8).
    Lists,
    /// Its groups (A11).
    Groups,
}

impl AdminSection {
    /// Its `view=` value in the page's address.
    pub fn as_query(self) -> &'static str {
        match self {
            AdminSection::Mailboxes => "mailboxes",
            AdminSection::Aliases => "aliases",
            AdminSection::Mailbox => "mailbox",
            AdminSection::Dns => "dns",
            AdminSection::Lists => "lists",
            AdminSection::Groups => "groups",
        }
    }

    pub fn from_query(value: &str) -> AdminSection {
        match value {
            "aliases" => AdminSection::Aliases,
            "mailbox" => AdminSection::Mailbox,
            "dns" => AdminSection::Dns,
            "lists" => AdminSection::Lists,
            "groups" => AdminSection::Groups,
            _ => AdminSection::Mailboxes,
        }
    }
}

/// One alias in the administration's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasRow {
    pub address: String,
    pub targets: Vec<String>,
}

/// `postmaster@` or `abuse@` and where its mail goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredRow {
    pub address: String,
    pub targets: Vec<String>,
    /// Whether it has targets of its own, not the domain's default.
    pub redirected: bool,
}

/// One mailbox shown alone, with what deleting it loses (A4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxDetail {
    pub row: MailboxRow,
    pub messages: u64,
    /// The messages' size, as the reader reads sizes.
    pub size: String,
    /// Whether it administers its domain.
    pub domain_admin: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminDomain {
    pub name: String,
    pub mailboxes: i64,
}

/// One mailbox in the administration's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxRow {
    pub login: String,
    pub name: String,
    /// Used space, as the reader reads sizes.
    pub used: String,
    /// The quota in MB, none when unlimited.
    pub quota_mb: Option<u64>,
    pub server_admin: bool,
    /// Nobody signs in to it; it still receives.
    pub disabled: bool,
}
