//! Facteur's mail domain: the one place that decides what happens to a message. Inbound SMTP,
//! IMAP, the web client and `facteur admin` change mail only through [`Mail`]; they may read
//! through the store directly.
//!
//! - Ingest: [`Mail::deliver`] stores a message once for all its mailboxes (parsed once, with
//!   its facts: `facts::Facts`), all or nothing; [`Mail::append`] adds one to a folder. Filters
//!   will plug in before the store is called; indexing and notifications follow the feed.
//! - Sending: [`Mail::submit`] is the one pipeline for every way of sending (`outgoing`
//!   prepares the message: Bcc removed, Message-ID and Date added): local recipients get it
//!   through ingest, remote ones through the outbound queue, the sender's Sent folder a copy.
//!   [`Mail::send_from_server`] sends what the server itself writes (bounces).
//! - Flags and expunge: [`Mail::set_flags`], [`Mail::expunge`].
//! - Folders and moves: [`Mail::create_folder`], [`Mail::rename_folder`], [`Mail::delete_folder`],
//!   [`Mail::set_subscribed`], [`Mail::copy`] and [`Mail::move_messages`], with the folder rules
//!   of D1/D2 (the store enforces them, so no caller can skip them).
//! - The read policy, [`Reading`]: what marks a message `\Seen`, decided here for every
//!   protocol rather than in each.
//! - The change feed: [`Mail::subscribe`] (see `feed`).
//!
//! Invariant: every change a method makes is in the store's change log when it returns (the
//! store's triggers write it in the same transaction), and the feed is woken for it.

pub mod dns_records;
mod feed;
pub mod header;
pub mod import;
pub mod list_copy;
pub mod lists;
pub mod mutf7;
pub mod outgoing;
mod sending;
mod srs;
pub mod tags;
pub mod threads;

use std::sync::Arc;

use store::{
    AccountId, Address, Delivery, FlagOp, Flags, Folder, FolderDeletion, FolderId, MessageId, MessageState, Outbound,
    OutboundId, Route, Store, UidMapping,
};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

pub use feed::POLL_INTERVAL;
pub use sending::SendingSlot;
pub use srs::SrsError;
pub use store::{Error, Result};
pub use types::{Change, ChangeKind};

/// Messages an account may send per hour unless configured otherwise: generous for a
/// person, a brake on a stolen password used for spam.
pub const DEFAULT_HOURLY_LIMIT: u32 = 200;

/// How a message is being read; [`Reading::marks_seen`] says whether that marks it `\Seen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// IMAP FETCH of a body section without `.PEEK` (or RFC822, RFC822.TEXT): RFC 9051 §6.4.5
    /// sets `\Seen`, except in a folder opened with EXAMINE (§6.3.3).
    ImapBody { read_only: bool },
    /// IMAP FETCH of `.PEEK` sections, headers, structure: nothing changes.
    ImapPeek,
    /// The web client opening a message in its reading pane. Only a first-party navigation
    /// (our own pages, a typed URL, a bookmark) counts: a link on another site or inside a
    /// message must not mark mail read behind the reader's back.
    WebOpen { first_party: bool },
}

impl Reading {
    pub fn marks_seen(self) -> bool {
        match self {
            Reading::ImapBody { read_only } => !read_only,
            Reading::ImapPeek => false,
            Reading::WebOpen { first_party } => first_party,
        }
    }
}

/// What delivering to one address did (`facteur admin deliver`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressDelivery {
    Delivered(Delivery),
    /// The address is not one of ours, or nobody has it.
    NotLocal,
}

/// What sending a message did ([`Mail::submit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The local mailboxes it was delivered to.
    pub delivered: Vec<AccountId>,
    /// Its place in the outbound queue, when it has recipients on other servers.
    pub queued: Option<OutboundId>,
    /// The UID of the sender's copy in Sent, when one was kept.
    pub sent_copy: Option<u32>,
}

/// What became of a message the server wrote itself ([`Mail::send_from_server`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMessage {
    /// Stored in the mailboxes or queued.
    Sent,
    /// The address is malformed, or ours and nobody's (any more).
    NoSuchAddress,
    /// A mailbox it goes to is full.
    MailboxFull,
}

/// Who a message is sent to, as the SMTP envelope says ([`Mail::submit`]).
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// RFC 5321 MAIL FROM: one of the account's addresses.
    pub sender: &'a str,
    /// The local mailboxes its recipients route to.
    pub local: &'a [AccountId],
    /// The recipients on other servers, full addresses.
    pub remote: &'a [String],
    /// The mailing lists it is a post to ([`Mail::list_post`] decided each).
    pub lists: &'a [store::NewListPost],
}

/// The mail domain over one store. Cheap to clone; clones share the feed.
#[derive(Clone)]
pub struct Mail {
    store: Store,
    feed: Arc<feed::Feed>,
    /// Woken when a message is queued for other servers.
    outbound: Arc<tokio::sync::Notify>,
    /// The SRS key, read (or made) on first use.
    srs: Arc<tokio::sync::OnceCell<srs::Srs>>,
    /// Woken when a list accepted a post or a moderator approved one (`lists::run`).
    lists: Arc<tokio::sync::Notify>,
    /// Posts held since `lists::run` last told their moderators.
    held_notices: Arc<std::sync::Mutex<Vec<store::NewListPost>>>,
    /// The web client's address, which starts the links lists write (set once it listens).
    web_url: Arc<std::sync::OnceLock<String>>,
    /// The key of lists' links and bounce addresses, read (or made) on first use.
    list_keys: Arc<tokio::sync::OnceCell<lists::ListKeys>>,
    /// The messages each account sent in the last hour, and how many it may.
    sending: Arc<sending::SendingLog>,
    hourly_limit: u32,
    _follower: Option<Arc<Follower>>,
}

/// Stops following the log when the last clone of a [`Mail`] that started it is dropped.
struct Follower(JoinHandle<()>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Mail {
    /// A mail domain whose feed is not followed: for one-shot commands (`facteur admin`),
    /// which change mail but have no subscribers. Their changes reach a running server's
    /// subscribers through the log.
    pub fn new(store: Store) -> Mail {
        Mail {
            store,
            feed: feed::Feed::new(),
            outbound: Arc::default(),
            srs: Arc::default(),
            lists: Arc::default(),
            web_url: Arc::default(),
            held_notices: Arc::default(),
            list_keys: Arc::default(),
            sending: Arc::default(),
            hourly_limit: DEFAULT_HOURLY_LIMIT,
            _follower: None,
        }
    }

    /// A mail domain that follows the change log and broadcasts it to [`Mail::subscribe`]rs.
    /// Needs a Tokio runtime.
    pub fn start(store: Store) -> Mail {
        let feed = feed::Feed::new();
        let follower = tokio::spawn(Arc::clone(&feed).follow(store.clone()));
        Mail {
            store,
            feed,
            outbound: Arc::default(),
            srs: Arc::default(),
            lists: Arc::default(),
            web_url: Arc::default(),
            held_notices: Arc::default(),
            list_keys: Arc::default(),
            sending: Arc::default(),
            hourly_limit: DEFAULT_HOURLY_LIMIT,
            _follower: Some(Arc::new(Follower(follower))),
        }
    }

    /// This mail domain with `per_hour` messages an account may send (every way of sending).
    pub fn with_hourly_limit(mut self, per_hour: u32) -> Mail {
        self.hourly_limit = per_hour;
        self
    }

    /// How many messages an account may send per hour.
    pub fn hourly_limit(&self) -> u32 {
        self.hourly_limit
    }

    /// A place for one more message of `account` in its hourly count, if it has one left:
    /// taken before the message is sent, kept with [`SendingSlot::keep`] once it is, given
    /// back when dropped otherwise.
    pub fn reserve_sending(&self, account: AccountId) -> Option<SendingSlot> {
        self.sending.reserve(account, self.hourly_limit, std::time::Instant::now())
    }

    /// The store, for reading.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Every change from now on, in commit order, whoever made it.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.feed.subscribe()
    }

    /// Where mail for an address goes (aliases, plus addressing, postmaster@).
    /// An address nobody has may be one our forwarding wrote ([`Mail::forwarding_sender`]): a
    /// bounce of forwarded mail, which goes on to the original sender (one of ours, or on
    /// another server).
    pub async fn route(&self, recipient: &Address) -> Result<Route> {
        let mut address = recipient.clone();
        // A sender already rewritten by us and forwarded again is rewritten again: a few layers.
        for _ in 0..4 {
            let route = self.store.route(&address).await?;
            if route != Route::UnknownUser || !srs::is_srs(&address.local) {
                return Ok(route);
            }
            let original = match self.srs().await?.reverse(&address.local, today()) {
                Ok(original) => original,
                Err(why) => {
                    tracing::info!(%recipient, ?why, "SRS address refused");
                    return Ok(Route::UnknownUser);
                }
            };
            let Ok(next) = store::parse_address(&original) else { return Ok(Route::UnknownUser) };
            if !self.store.is_local_domain(&next.domain).await? {
                return Ok(Route::Local { accounts: Vec::new(), external: vec![original] });
            }
            address = next;
        }
        Ok(Route::UnknownUser)
    }

    /// Whether `address` is the account's own, to send from (RFC 6409 §8.1) or to leave out of
    /// a reply to all: one that leads to its mailbox alone (its login, a plus address of it, an
    /// alias for it only). Shared addresses and identities come with shared boxes.
    pub async fn owns(&self, account: AccountId, address: &Address) -> Result<bool> {
        Ok(matches!(
            self.route(address).await?,
            Route::Local { accounts, external } if accounts == [account] && external.is_empty()
        ))
    }

    /// The envelope sender of a message from `sender` that `our_domain` forwards from the MX to
    /// another server (A3): rewritten with SRS so SPF passes there and bounces come back to us.
    /// Senders claiming our own domains too: a message from outside is never sent on under a
    /// sender of ours. The null sender (a bounce is forwarded as a bounce) stays, and so does
    /// a sender SRS cannot carry (a quoted local part, an address literal), which becomes the
    /// null sender: the forward goes, its bounce could not.
    pub async fn forwarding_sender(&self, sender: &str, our_domain: &str) -> Result<String> {
        let Some((local, domain)) = sender.rsplit_once('@') else { return Ok(String::new()) };
        if local.starts_with('"') || domain.starts_with('[') {
            return Ok(String::new());
        }
        Ok(self.srs().await?.forward(sender, our_domain, today()))
    }

    async fn srs(&self) -> Result<&srs::Srs> {
        self.srs.get_or_try_init(|| async { Ok(srs::Srs::new(self.server_key("srs").await?)) }).await
    }

    /// A 256-bit key of this server's, made on first use and kept in the store.
    async fn server_key(&self, name: &str) -> Result<Vec<u8>> {
        self.store
            .server_secret(name, || {
                let mut key = vec![0; 32];
                getrandom::fill(&mut key).expect("the system's random source works");
                key
            })
            .await
    }

    /// Ingest: stores one message in the Inbox of each account, all or nothing (a full
    /// mailbox keeps it from everyone: see `store::Store::deliver`).
    pub async fn deliver(&self, accounts: &[AccountId], raw: Vec<u8>) -> Result<Delivery> {
        self.deliver_and_queue(accounts, None, raw).await
    }

    /// [`Mail::deliver`], and the message queued in the same transaction for the recipients of
    /// `outbound` on other servers (submission, forwards, bounces): all or nothing.
    pub async fn deliver_and_queue(
        &self,
        accounts: &[AccountId],
        outbound: Option<Outbound>,
        raw: Vec<u8>,
    ) -> Result<Delivery> {
        self.ingest(store::Copies { accounts: accounts.to_vec(), outbound, ..Default::default() }, raw).await
    }

    /// Sends a message this server writes itself (a bounce, a delay notice) to one address:
    /// into its mailboxes when it is ours (and on to where it forwards), through the outbound
    /// queue otherwise, always from the null sender, which nothing answers (RFC 5321 §4.5.5).
    pub async fn send_from_server(&self, to: &str, raw: Vec<u8>) -> Result<ServerMessage> {
        let Ok(address) = store::parse_address(to) else { return Ok(ServerMessage::NoSuchAddress) };
        let (accounts, remote) = match self.route(&address).await? {
            Route::Local { accounts, external } => (accounts, external),
            Route::NotLocal => (Vec::new(), vec![to.to_string()]),
            // A bounce of a list's copy (our own queue gave up on a member): counted, not kept.
            Route::ListBounce { list, token } => {
                self.list_bounced(list, &token, true, &raw).await?;
                return Ok(ServerMessage::Sent);
            }
            // The server writes nothing to a list.
            Route::List(_) | Route::UnknownUser => return Ok(ServerMessage::NoSuchAddress),
        };
        let outbound =
            (!remote.is_empty()).then(|| Outbound { sender: String::new(), account: None, recipients: remote });
        let delivery = self.deliver_and_queue(&accounts, outbound, raw).await?;
        Ok(if delivery.stored() { ServerMessage::Sent } else { ServerMessage::MailboxFull })
    }

    /// Returns when a message was queued for other servers since the last call (by this
    /// process): the outbound sender waits on it between its rounds.
    pub async fn outbound_queued(&self) {
        self.outbound.notified().await;
    }

    /// Sends a message an account submitted (SMTP submission, the web composer): prepared
    /// once (`outgoing::prepare`), delivered without its `Bcc:` to the `local` mailboxes and
    /// queued for the `remote` addresses in one transaction (all or nothing, as
    /// [`Mail::deliver_and_queue`]), then copied, read and with its `Bcc:`, to the sender's Sent
    /// folder unless the account keeps its own copies (clients that save them over IMAP). Once
    /// delivered and queued the message is sent: a Sent copy that cannot be kept is logged,
    /// never a reason to have it sent again.
    pub async fn submit(
        &self,
        account: AccountId,
        envelope: Envelope<'_>,
        raw: Vec<u8>,
        hostname: &str,
    ) -> Result<Submitted> {
        let prepared = outgoing::prepare(raw, hostname, chrono::Utc::now());
        let outbound = (!envelope.remote.is_empty()).then(|| Outbound {
            sender: envelope.sender.to_string(),
            account: Some(account),
            recipients: envelope.remote.to_vec(),
        });
        let copies = store::Copies {
            accounts: envelope.local.to_vec(),
            outbound,
            list_posts: envelope.lists.to_vec(),
            list_copy: None,
        };
        let delivery = self.ingest(copies, prepared.without_bcc()).await?;
        if !delivery.stored() {
            return Err(Error::QuotaExceeded);
        }
        let delivered = delivery.delivered.into_iter().map(|(account, _)| account).collect();
        let sent_copy = match self.keep_sent_copy(account, prepared.into_sender_copy()).await {
            Ok(uid) => uid,
            Err(error) => {
                tracing::warn!(?account, %error, "no copy of a sent message kept in Sent");
                None
            }
        };
        Ok(Submitted { delivered, queued: delivery.queued, sent_copy })
    }

    /// The sender's copy in Sent, read, unless the account keeps its own.
    async fn keep_sent_copy(&self, account: AccountId, raw: Vec<u8>) -> Result<Option<u32>> {
        if !self.store.keeps_sent_copies(account).await? {
            return Ok(None);
        }
        let sent = self.store.special_folder(account, store::SpecialUse::Sent).await?;
        Ok(Some(self.append(account, sent.id, raw, Flags::SEEN, &[], None).await?.0))
    }

    /// Ingest to one address, routed as the MX routes it (`facteur admin deliver`).
    pub async fn deliver_to_address(&self, recipient: &Address, raw: Vec<u8>) -> Result<AddressDelivery> {
        let Route::Local { accounts, .. } = self.route(recipient).await? else { return Ok(AddressDelivery::NotLocal) };
        Ok(AddressDelivery::Delivered(self.deliver(&accounts, raw).await?))
    }

    /// Adds a message to a folder (IMAP APPEND, saving to Sent or Drafts). Returns its UID and id.
    pub async fn append(
        &self,
        account: AccountId,
        folder: FolderId,
        raw: Vec<u8>,
        flags: Flags,
        keywords: &[String],
        internal_date: Option<i64>,
    ) -> Result<(u32, MessageId)> {
        let appended = self.store.append(account, folder, raw, flags, keywords, internal_date).await?;
        self.feed.committed();
        Ok(appended)
    }

    /// C7: puts `raw` in the place of the message with `uid` (an attachment taken out): a new
    /// UID with the old one's flags, and the old one expunged, in one step
    /// ([`Store::replace_message`]). Returns the new UID and id.
    pub async fn replace_message(
        &self,
        account: AccountId,
        folder: FolderId,
        uid: u32,
        raw: Vec<u8>,
    ) -> Result<(u32, MessageId)> {
        let replaced = self.store.replace_message(account, folder, uid, raw).await?;
        self.feed.committed();
        Ok(replaced)
    }

    /// Changes flags and keywords (RFC 9051 §6.4.6); returns each found message's state.
    pub async fn set_flags(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
        op: FlagOp,
        flags: Flags,
        keywords: &[String],
    ) -> Result<Vec<MessageState>> {
        let states = self.store.store_flags(account, folder, uids, op, flags, keywords).await?;
        self.feed.committed();
        Ok(states)
    }

    /// [`Mail::set_flags`] with RFC 7162's UNCHANGEDSINCE: messages changed after `since` are
    /// left alone and their UIDs returned second.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_flags_unchanged_since(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
        op: FlagOp,
        flags: Flags,
        keywords: &[String],
        since: u64,
    ) -> Result<(Vec<MessageState>, Vec<u32>)> {
        let done = self.store.store_flags_unchanged_since(account, folder, uids, op, flags, keywords, since).await?;
        self.feed.committed();
        Ok(done)
    }

    /// The read policy at work: marks these messages `\Seen` if `reading` does, and returns
    /// the state of those it changed.
    pub async fn mark_read(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
        reading: Reading,
    ) -> Result<Vec<MessageState>> {
        if !reading.marks_seen() || uids.is_empty() {
            return Ok(Vec::new());
        }
        self.set_flags(account, folder, uids, FlagOp::Add, Flags::SEEN, &[]).await
    }

    /// Removes the messages flagged `\Deleted` (only those in `uids`, when given); returns the
    /// UIDs removed, ascending.
    pub async fn expunge(&self, account: AccountId, folder: FolderId, uids: Option<&[u32]>) -> Result<Vec<u32>> {
        let removed = self.store.expunge(account, folder, uids).await?;
        if !removed.is_empty() {
            self.feed.committed();
        }
        Ok(removed)
    }

    /// D5: removes these messages for good, as an IMAP client would (`\Deleted`, then EXPUNGE
    /// of just those); returns the UIDs removed.
    pub async fn delete_for_good(&self, account: AccountId, folder: FolderId, uids: &[u32]) -> Result<Vec<u32>> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        self.set_flags(account, folder, uids, FlagOp::Add, Flags::DELETED, &[]).await?;
        self.expunge(account, folder, Some(uids)).await
    }

    /// D5: removes for good the messages that have been in Trash for `days` or more
    /// ([`Mail::delete_for_good`]), a batch at a time; returns how many went.
    /// Folders deleted into Trash count from when they were deleted.
    pub async fn purge_trash(&self, days: u32) -> Result<usize> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        self.purge_trash_filed_before(now - i64::from(days) * 24 * 60 * 60).await
    }

    /// [`Mail::purge_trash`] for what was filed in Trash before `before` (Unix seconds).
    pub(crate) async fn purge_trash_filed_before(&self, before: i64) -> Result<usize> {
        const BATCH: u32 = 1000;
        let mut removed = 0;
        loop {
            let found = self.store.old_trash(before, BATCH).await?;
            let n: usize = found.iter().map(|(_, _, uids)| uids.len()).sum();
            let mut batch_removed = 0;
            for (account, folder, uids) in found {
                batch_removed += self.delete_for_good(account, folder, &uids).await?.len();
            }
            removed += batch_removed;
            // A batch that removed nothing would come back the same: stop rather than spin.
            if n < BATCH as usize || batch_removed == 0 {
                return Ok(removed);
            }
        }
    }

    /// Creates a folder and the parents it needs (D2), subscribed or not (`Store::create_folder`).
    pub async fn create_folder(&self, account: AccountId, name: &str, subscribed: bool) -> Result<Folder> {
        self.store.create_folder(account, name, subscribed).await
    }

    /// Renames a folder with its subfolders; system folders cannot be (D1).
    pub async fn rename_folder(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        self.store.rename_folder(account, from, to).await
    }

    /// Deletes a folder with its subfolders: into Trash, or for good when already there (D2).
    pub async fn delete_folder(&self, account: AccountId, name: &str) -> Result<FolderDeletion> {
        let deletion = self.store.delete_folder(account, name).await?;
        if matches!(deletion, FolderDeletion::Removed { messages } if messages > 0) {
            self.feed.committed();
        }
        Ok(deletion)
    }

    pub async fn set_subscribed(&self, account: AccountId, name: &str, subscribed: bool) -> Result<()> {
        self.store.set_subscribed(account, name, subscribed).await
    }

    /// Copies messages to another folder (IMAP COPY); returns the target's UIDVALIDITY and the
    /// UID mapping (RFC 4315).
    pub async fn copy(
        &self,
        account: AccountId,
        from: FolderId,
        uids: &[u32],
        to: FolderId,
    ) -> Result<(u32, UidMapping)> {
        self.transfer(account, from, uids, to, false).await
    }

    /// Moves messages to another folder (IMAP MOVE, the web client's moves, D4), atomically.
    pub async fn move_messages(
        &self,
        account: AccountId,
        from: FolderId,
        uids: &[u32],
        to: FolderId,
    ) -> Result<(u32, UidMapping)> {
        self.transfer(account, from, uids, to, true).await
    }

    async fn transfer(
        &self,
        account: AccountId,
        from: FolderId,
        uids: &[u32],
        to: FolderId,
        remove_source: bool,
    ) -> Result<(u32, UidMapping)> {
        let done = self.store.copy_messages(account, from, uids, to, remove_source).await?;
        if !done.1.is_empty() {
            self.feed.committed();
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests;

/// Days since the Unix epoch, the clock of SRS addresses.
fn today() -> i64 {
    chrono::Utc::now().timestamp().div_euclid(86_400)
}
