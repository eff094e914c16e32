//! Ids, flags, folder roles, and the folder and message rows the store hands out.

use serde::{Deserialize, Serialize};

/// Row id of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountId(pub i64);

/// Row id of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FolderId(pub i64);

/// Row id of a message (one copy of a message in one folder). Unlike a UID it is global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageId(pub i64);

/// A logged-in user's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub login: String,
    pub display_name: String,
    pub is_admin: bool,
    pub quota_bytes: Option<i64>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    pub name: String,
    pub postmaster_target: Option<String>,
    pub n_accounts: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub login: String,
    pub display_name: String,
    pub is_admin: bool,
    pub quota_bytes: Option<i64>,
    pub used_bytes: i64,
    /// Nobody signs in to it; it keeps its mail and still receives.
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasInfo {
    pub address: String,
    pub targets: Vec<String>,
}

/// `postmaster@` or `abuse@` of a domain (A5): they always exist and can only be redirected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequiredAddress {
    pub address: String,
    /// Where its mail goes now.
    pub targets: Vec<String>,
    /// Whether it has targets of its own; otherwise it follows the domain's default (the
    /// postmaster target set by `facteur admin domain postmaster`, else a mailbox).
    pub redirected: bool,
}

/// D1: the role of a system folder (RFC 6154 SPECIAL-USE, plus Templates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SpecialUse {
    Inbox,
    Sent,
    Drafts,
    Templates,
    Trash,
    Junk,
}

impl SpecialUse {
    /// Every system folder, in the order the folder tree shows them.
    pub const ALL: [SpecialUse; 6] = [
        SpecialUse::Inbox,
        SpecialUse::Drafts,
        SpecialUse::Sent,
        SpecialUse::Templates,
        SpecialUse::Junk,
        SpecialUse::Trash,
    ];

    pub fn as_db(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "inbox",
            SpecialUse::Sent => "sent",
            SpecialUse::Drafts => "drafts",
            SpecialUse::Templates => "templates",
            SpecialUse::Trash => "trash",
            SpecialUse::Junk => "junk",
        }
    }

    pub fn from_db(text: &str) -> Option<SpecialUse> {
        SpecialUse::ALL.into_iter().find(|u| u.as_db() == text)
    }

    /// The folder's IMAP name when an account is created.
    pub fn default_name(self) -> &'static str {
        match self {
            SpecialUse::Inbox => "INBOX",
            SpecialUse::Sent => "Sent",
            SpecialUse::Drafts => "Drafts",
            SpecialUse::Templates => "Templates",
            SpecialUse::Trash => "Trash",
            SpecialUse::Junk => "Spam",
        }
    }

    /// The RFC 6154 attribute, if the role has one (Templates and Inbox have none).
    pub fn imap_attribute(self) -> Option<&'static str> {
        match self {
            SpecialUse::Inbox | SpecialUse::Templates => None,
            SpecialUse::Sent => Some("\\Sent"),
            SpecialUse::Drafts => Some("\\Drafts"),
            SpecialUse::Trash => Some("\\Trash"),
            SpecialUse::Junk => Some("\\Junk"),
        }
    }
}

/// A folder with its IMAP counters and message counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub id: FolderId,
    pub account_id: AccountId,
    /// Full IMAP path, '/' separated; the inbox is "INBOX".
    pub name: String,
    pub parent_id: Option<FolderId>,
    pub special_use: Option<SpecialUse>,
    pub uidvalidity: u32,
    pub uidnext: u32,
    pub highest_modseq: u64,
    pub subscribed: bool,
    pub n_messages: u32,
    pub n_unseen: u32,
    pub size_bytes: i64,
}

/// IMAP system flags as a bit set (RFC 9051 §2.3.2). Keywords travel separately as strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u32);

impl Flags {
    pub const SEEN: Flags = Flags(1);
    pub const ANSWERED: Flags = Flags(2);
    pub const FLAGGED: Flags = Flags(4);
    pub const DELETED: Flags = Flags(8);
    pub const DRAFT: Flags = Flags(16);
    /// Every system flag with its IMAP spelling.
    pub const NAMES: [(Flags, &'static str); 5] = [
        (Flags::SEEN, "\\Seen"),
        (Flags::ANSWERED, "\\Answered"),
        (Flags::FLAGGED, "\\Flagged"),
        (Flags::DELETED, "\\Deleted"),
        (Flags::DRAFT, "\\Draft"),
    ];

    pub fn empty() -> Flags {
        Flags(0)
    }
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }
    pub fn difference(self, other: Flags) -> Flags {
        Flags(self.0 & !other.0)
    }
    /// Parses an IMAP system flag name, case-insensitively.
    pub fn from_imap_name(name: &str) -> Option<Flags> {
        Flags::NAMES.iter().find(|(_, n)| n.eq_ignore_ascii_case(name)).map(|(f, _)| *f)
    }
    /// The IMAP names of the flags set, in a stable order.
    pub fn imap_names(self) -> impl Iterator<Item = &'static str> {
        Flags::NAMES.into_iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| n)
    }
}

/// How a STORE changes flags (RFC 9051 §6.4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

/// One message in a folder: what the lists, IMAP and the reader need, short of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRow {
    pub id: MessageId,
    pub folder_id: FolderId,
    pub uid: u32,
    pub modseq: u64,
    pub flags: Flags,
    /// IMAP keywords ($Forwarded, tags...), sorted.
    pub keywords: Vec<String>,
    pub blob_hash: String,
    pub size: u32,
    /// Unix seconds.
    pub internal_date: i64,
    pub thread_id: i64,
    pub subject: String,
    pub from_name: String,
    pub from_addr: String,
    pub to_addrs: String,
    pub sent_date: Option<i64>,
    pub has_attachments: bool,
    pub priority_high: bool,
    pub preview: String,
    /// D7: the owner's private note on it.
    pub comment: Option<String>,
}

/// The state of one message that IMAP sessions track, and what a flag change returns: what
/// changes (flags, keywords, modseq), with the two facts that never do (size, arrival), so a
/// session can answer `FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)` from what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageState {
    pub uid: u32,
    pub flags: Flags,
    /// Sorted.
    pub keywords: Vec<String>,
    pub modseq: u64,
    pub size: u32,
    /// Unix seconds.
    pub internal_date: i64,
}

/// What changes whenever a folder's messages change: every insert, flag change and expunge
/// takes the next modseq, and new messages also take a UID. Equal versions mean nothing
/// happened in between, so a session can skip reading the folder again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FolderVersion {
    pub highest_modseq: u64,
    pub uidnext: u32,
}

/// What happened to a message, as the change log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChangeKind {
    /// Delivered, appended, copied or moved in.
    New,
    /// Its flags or keywords changed.
    Flags,
    /// Expunged (or moved out).
    Expunged,
}

/// One entry of the change log: a message of a folder changed, taking the folder's `modseq`.
/// `id` orders all changes of the server as they were committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub id: i64,
    pub account: AccountId,
    pub folder: FolderId,
    pub modseq: u64,
    pub uid: u32,
    pub kind: ChangeKind,
}

/// The most a message written in the web client may carry in attachments (B1). Base64 makes
/// them a third larger, so the message stays well within the 50 MB a message may weigh. Here,
/// so the composer's page checks a file before uploading it.
pub const MAX_ATTACHMENTS_BYTES: usize = 25 * 1000 * 1000;

/// The largest picture shown in a message's text (a larger one stays a file to download), and
/// so the largest one the composer puts in its text.
pub const MAX_INLINE_IMAGE_BYTES: usize = 2 * 1024 * 1024;
