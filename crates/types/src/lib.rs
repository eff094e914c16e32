//! Facteur's shared vocabulary: the plain data every layer speaks (ids, IMAP flags, folder
//! roles, folders and message rows, validated addresses, how clients are counted).
//!
//! Invariant: no I/O and no dependency beyond serde, so the web client's WASM build uses these
//! types directly instead of keeping mirrors of them.

mod address;
mod client;
mod group;
mod list;
mod log;
mod mailing_list;
mod model;
mod tag;

pub use address::{Address, InvalidAddress, parse_address, parse_domain};
pub use client::client_of;
pub use group::{GroupId, GroupInfo, GroupMember};
pub use list::{ListSort, ListWindow, SortKey};
pub use log::loggable;
pub use mailing_list::{
    BOUNCES_TO_DISABLE, HeldPost, ListId, ListKind, ListMember, MailingList, PendingSubscription, Posting, ReplyTo,
    Subscription,
};
pub use model::*;
pub use tag::{MAX_TAG_NAME_CHARS, Tag, TagColour};
