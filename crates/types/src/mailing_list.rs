//! Mailing lists (A7, A8): what a list is and how it behaves, shared by the store, the mail
//! core and the administration's pages.

use serde::{Deserialize, Serialize};

/// A list's id: carried by unsubscribe links and VERP addresses, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListId(pub i64);

/// Generates `as_str`/`parse` for a setting stored and posted as a word.
macro_rules! words {
    ($name:ident { $($variant:ident = $word:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            pub fn parse(word: &str) -> Option<$name> {
                match word { $($word => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

/// A7 or A8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListKind {
    /// A7: its owners post, its members receive and cannot answer the list (`List-Post: NO`).
    Distribution,
    /// A8: its members write to each other.
    Discussion,
}
words!(ListKind { Distribution = "distribution", Discussion = "discussion" });

/// How an address joins a discussion list (A8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subscription {
    /// Subscribed at once, and told so (with the way out).
    Open,
    /// Subscribed once the address answers a confirmation link (it expires).
    Confirm,
    /// Confirmed, then approved by an owner or a moderator.
    Moderated,
}
words!(Subscription { Open = "open", Confirm = "confirm", Moderated = "moderated" });

/// Who may post to a discussion list without a moderator's approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Posting {
    /// Members, owners and moderators; anyone else's post is held.
    Members,
    /// Owners and moderators; every other post is held.
    Moderated,
    /// Anyone.
    Anyone,
}
words!(Posting { Members = "members", Moderated = "moderated", Anyone = "anyone" });

/// Where answers to a discussion list's posts go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplyTo {
    /// To the list (`Reply-To:` the list).
    List,
    /// To the author only.
    Author,
}
words!(ReplyTo { List = "list", Author = "author" });

/// A list and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailingList {
    pub id: ListId,
    /// Its full address, `local@domain`.
    pub address: String,
    pub kind: ListKind,
    /// Its display name ("Name via List", List-Id's phrase); may be empty.
    pub name: String,
    pub subscription: Subscription,
    pub posting: Posting,
    pub reply_to: ReplyTo,
    /// How many addresses receive its posts.
    pub members: u32,
}

impl MailingList {
    /// The list's name as shown: its display name, else its address.
    pub fn title(&self) -> &str {
        if self.name.is_empty() { &self.address } else { &self.name }
    }
}

/// Bounces (VERP) past which an address stops receiving a list's posts.
pub const BOUNCES_TO_DISABLE: u32 = 5;

/// An address on a list, and what it is there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMember {
    pub id: i64,
    pub address: String,
    /// Receives the posts.
    pub member: bool,
    pub owner: bool,
    pub moderator: bool,
    /// Bounce days counted since it last received well.
    pub bounce_score: u32,
    /// Stopped receiving after [`BOUNCES_TO_DISABLE`] bounces, until an owner enables it again.
    pub disabled: bool,
}

/// A post waiting for a moderator, as the hold queue lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPost {
    pub id: i64,
    pub author: String,
    pub subject: String,
    pub size: u64,
    /// Unix seconds.
    pub received_at: i64,
}

/// A subscription waiting for a moderator's approval (moderated subscription).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingSubscription {
    pub id: i64,
    pub address: String,
    pub requested_at: i64,
}
