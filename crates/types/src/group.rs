//! Groups (A11): a domain's mailboxes gathered under a name, with their administrators.

use serde::{Deserialize, Serialize};

/// A group's id, never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub id: GroupId,
    pub name: String,
    pub description: String,
    /// The domain it belongs to; its members are mailboxes of it.
    pub domain: String,
    pub members: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    pub login: String,
    pub name: String,
    /// Administers the group: changes who is in it.
    pub admin: bool,
}
