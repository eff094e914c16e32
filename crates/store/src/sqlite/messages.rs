//! Folders and messages: delivery, append, listing, flags and expunge (D1, K1, A10).
//!
//! Every method takes the acting account and filters on it, so a folder or message id taken
//! from a request can never reach another account's data.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use crate::{
    AccountId, Error, FlagOp, Flags, FolderId, FolderVersion, ListSort, ListWindow, MAX_MESSAGE_BYTES, MessageId,
    MessageRow, MessageState, Result, SortKey, Store, now_unix,
};
use facts::Facts;

use crate::facts_cache::{BlobKey, CachedFacts, blob_key};

/// The result of delivering one message to several mailboxes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    pub delivered: Vec<(AccountId, MessageId)>,
    /// A10: mailboxes that had no room. When there is any, nothing was stored for anyone.
    pub over_quota: Vec<AccountId>,
    /// The message's place in the outbound queue, when it also leaves for other servers.
    pub queued: Option<crate::OutboundId>,
    /// The posts the mailing lists it was sent to accepted (A7, A8).
    pub list_posts: Vec<i64>,
}

impl Delivery {
    /// Whether the message is kept: in a mailbox, in the outbound queue, as a list's post.
    pub fn stored(&self) -> bool {
        self.over_quota.is_empty()
            && (!self.delivered.is_empty() || self.queued.is_some() || !self.list_posts.is_empty())
    }
}

/// Where one delivery's copies go, stored all or nothing in one transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Copies {
    /// The mailboxes whose Inbox gets it.
    pub accounts: Vec<AccountId>,
    /// Its recipients on other servers.
    pub outbound: Option<crate::Outbound>,
    /// The mailing lists that take it as a post.
    pub list_posts: Vec<crate::NewListPost>,
    /// The list post and member this is the copy of (a list's fan-out).
    pub list_copy: Option<crate::ListCopy>,
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "m.id, m.folder_id, m.uid, m.modseq, m.flags, m.blob_hash, m.size, m.internal_date,
    m.thread_id, m.subject, m.from_name, m.from_addr, m.to_addrs, m.sent_date, m.has_attachments,
    m.priority_high, m.preview, m.keywords, m.comment";

/// The date the list shows for a message (of `messages m`): its `Date:` field, else its arrival.
pub(crate) const SHOWN_DATE: &str = "COALESCE(m.sent_date, m.internal_date)";
/// The sender the list shows: the name, else the address. Word for word the expression of the
/// sender index (migration 0018), which SQLite uses only for that same expression.
pub(crate) const SHOWN_SENDER: &str = "(CASE WHEN trim(m.from_name) = '' THEN m.from_addr ELSE m.from_name END)";

/// The `ORDER BY` of a list in order `sort`, ties broken by `tie` in the same direction.
pub(crate) fn order_by(sort: ListSort, tie: &str) -> String {
    let direction = if sort.descending { "DESC" } else { "ASC" };
    // Each expression is the one its index is built on, word for word.
    let key = match sort.key {
        SortKey::Date => SHOWN_DATE.to_string(),
        SortKey::Subject => "m.subject COLLATE NOCASE".to_string(),
        SortKey::Sender => format!("{SHOWN_SENDER} COLLATE NOCASE"),
        SortKey::Size => "m.size".to_string(),
    };
    format!("{key} {direction}, {tie} {direction}")
}

/// `(key, uid)` rows sorted by key, as each key with its UIDs.
pub(crate) fn uids_by<K: PartialEq>(rows: impl IntoIterator<Item = (K, u32)>) -> Vec<(K, Vec<u32>)> {
    let mut grouped: Vec<(K, Vec<u32>)> = Vec::new();
    for (key, uid) in rows {
        match grouped.last_mut() {
            Some((last, uids)) if *last == key => uids.push(uid),
            _ => grouped.push((key, vec![uid])),
        }
    }
    grouped
}

pub(crate) fn split_keywords(text: Option<String>) -> Vec<String> {
    let mut keywords: Vec<String> =
        text.unwrap_or_default().split(' ').filter(|k| !k.is_empty()).map(str::to_string).collect();
    keywords.sort();
    keywords
}

pub(crate) fn message_from_row(row: &SqliteRow) -> MessageRow {
    MessageRow {
        id: MessageId(row.get("id")),
        folder_id: FolderId(row.get("folder_id")),
        uid: row.get::<i64, _>("uid") as u32,
        modseq: row.get::<i64, _>("modseq") as u64,
        flags: Flags(row.get::<i64, _>("flags") as u32),
        keywords: split_keywords(row.get("keywords")),
        blob_hash: row.get("blob_hash"),
        size: row.get::<i64, _>("size") as u32,
        internal_date: row.get("internal_date"),
        thread_id: row.get("thread_id"),
        subject: row.get("subject"),
        from_name: row.get("from_name"),
        from_addr: row.get("from_addr"),
        to_addrs: row.get("to_addrs"),
        sent_date: row.get("sent_date"),
        has_attachments: row.get::<i64, _>("has_attachments") != 0,
        priority_high: row.get::<i64, _>("priority_high") != 0,
        preview: row.get("preview"),
        comment: row.get("comment"),
    }
}

/// One message row for IMAP FETCH: its state, and those of its stored facts that were asked
/// for (`None` when not asked for, or when the message predates the facts and the backfill has
/// not reached it yet: the caller then computes them from the bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRow {
    pub id: MessageId,
    pub uid: u32,
    pub flags: Flags,
    /// Sorted.
    pub keywords: Vec<String>,
    /// The folder's modseq when the message last changed (RFC 7162 MODSEQ).
    pub modseq: u64,
    pub size: u32,
    pub internal_date: i64,
    pub blob_hash: String,
    pub header: Option<Vec<u8>>,
    pub imap_envelope: Option<Vec<u8>>,
    pub imap_body: Option<Vec<u8>>,
    pub imap_bodystructure: Option<Vec<u8>>,
    /// The account it was read for. Private, so a `FetchRow` can only come from
    /// [`Store::fetch_rows`], which filtered on it: [`Store::read_fetched`] trusts that.
    account: AccountId,
}

/// Which stored facts a FETCH needs, so only those are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactsWanted {
    pub header: bool,
    pub imap_envelope: bool,
    pub imap_body: bool,
    pub imap_bodystructure: bool,
}

/// A message's blob as a session's snapshot holds it. Only the store makes one, from a read
/// filtered on the account (its fields are private), so [`Store::cached_facts`] can trust it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    key: BlobKey,
    account: AccountId,
}

/// What one new message row needs besides its folder.
pub(crate) struct NewMessage<'a> {
    pub(crate) blob_hash: &'a str,
    pub(crate) size: i64,
    pub(crate) facts: &'a Facts,
    pub(crate) flags: Flags,
    pub(crate) keywords: &'a [String],
    pub(crate) internal_date: i64,
}

impl Store {
    /// Bytes used by all of an account's messages (A10).
    pub async fn used_bytes(&self, account: AccountId) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT used_bytes FROM accounts WHERE id = ?")
            .bind(account.0)
            .fetch_one(&self.reader)
            .await?)
    }

    /// A10: whether a message of `size` bytes fits in the account's quota now. SMTP asks at
    /// RCPT so a full mailbox is refused per recipient; delivery checks again atomically.
    pub async fn quota_allows(&self, account: AccountId, size: u64) -> Result<bool> {
        let mut conn = self.reader.acquire().await?;
        has_room(&mut conn, account, size as i64).await
    }

    // ----- Messages: reading -----

    /// The messages of a folder in UID order.
    pub async fn messages(&self, account: AccountId, folder: FolderId) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.account_id = ? AND m.folder_id = ? ORDER BY m.uid"
        ))
        .bind(account.0)
        .bind(folder.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(message_from_row).collect())
    }

    /// The newest `limit` messages of a folder (C1's default order): by the date the list
    /// shows (the Date header, else the arrival), newest first.
    pub async fn newest_messages(&self, account: AccountId, folder: FolderId, limit: usize) -> Result<Vec<MessageRow>> {
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let window = ListWindow { sort: ListSort::default(), unread_only: false, offset: 0, limit };
        self.list_messages(account, folder, &window).await
    }

    /// One page of a folder's list (C1, C2): in the window's order, unread messages only when
    /// it says so. Each order has its index (migration 0018), so SQLite reads the page in index
    /// order instead of sorting the folder; the UID breaks ties, so pages never overlap.
    pub async fn list_messages(
        &self,
        account: AccountId,
        folder: FolderId,
        window: &ListWindow,
    ) -> Result<Vec<MessageRow>> {
        let unread = if window.unread_only { "AND (m.flags & 1) = 0" } else { "" };
        let order = order_by(window.sort, "m.uid");
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.account_id = ? AND m.folder_id = ? {unread}
             ORDER BY {order} LIMIT ? OFFSET ?"
        ))
        .bind(account.0)
        .bind(folder.0)
        .bind(i64::from(window.limit))
        .bind(i64::from(window.offset))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(message_from_row).collect())
    }

    /// D5: the messages that have been in an account's Trash, or in a folder deleted into it,
    /// since before `before` (Unix seconds), as (account, folder, UIDs), at most `limit` in all.
    pub async fn old_trash(&self, before: i64, limit: u32) -> Result<Vec<(AccountId, FolderId, Vec<u32>)>> {
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            // Folders first (CROSS JOIN keeps SQLite to that order): each Trash, its folders,
            // then their messages by the (folder, uid) index, not every message.
            "SELECT m.account_id, m.folder_id, m.uid
             FROM folders t CROSS JOIN folders f CROSS JOIN messages m
             WHERE t.special_use = 'trash' AND f.account_id = t.account_id
               AND (f.id = t.id OR substr(f.name, 1, length(t.name) + 1) = t.name || '/')
               AND m.folder_id = f.id AND COALESCE(m.filed_at, m.internal_date) < ?
             ORDER BY m.account_id, m.folder_id, m.uid LIMIT ?",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        let grouped = uids_by(rows.into_iter().map(|(account, folder, uid)| ((account, folder), uid as u32)));
        Ok(grouped.into_iter().map(|((account, folder), uids)| (AccountId(account), FolderId(folder), uids)).collect())
    }

    /// The account's messages with these ids, wherever they are; ids of other accounts' or of
    /// gone messages are skipped.
    pub async fn messages_by_ids(&self, account: AccountId, ids: &[MessageId]) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.account_id = ? AND m.id IN (SELECT value FROM json_each(?)) ORDER BY m.id"
        ))
        .bind(account.0)
        .bind(json_array(ids.iter().map(|id| id.0)))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(message_from_row).collect())
    }

    /// The messages of a folder with these UIDs, in UID order; UIDs not there are skipped.
    pub async fn messages_by_uids(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
    ) -> Result<Vec<MessageRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m
             WHERE m.account_id = ? AND m.folder_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid"
        ))
        .bind(account.0)
        .bind(folder.0)
        .bind(json_array(uids.iter()))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(message_from_row).collect())
    }

    /// UID, flags, keywords and modseq of every message of a folder, in UID order: the light
    /// read an IMAP session keeps its view of the folder with.
    pub async fn message_states(&self, account: AccountId, folder: FolderId) -> Result<Vec<MessageState>> {
        Ok(self.read_states(account, folder, false).await?.into_iter().map(|(state, _)| state).collect())
    }

    /// [`Store::message_states`] with each message's blob, for [`Store::cached_facts`].
    pub async fn message_states_and_blobs(
        &self,
        account: AccountId,
        folder: FolderId,
    ) -> Result<(Vec<MessageState>, Vec<BlobRef>)> {
        let rows = self.read_states(account, folder, true).await?;
        let mut states = Vec::with_capacity(rows.len());
        let mut blobs = Vec::with_capacity(rows.len());
        for (state, hash) in rows {
            let key = hash
                .as_deref()
                .and_then(blob_key)
                .ok_or_else(|| Error::Db(crate::DbError(format!("UID {} has no valid blob name", state.uid).into())))?;
            states.push(state);
            blobs.push(BlobRef { key, account });
        }
        Ok((states, blobs))
    }

    async fn read_states(
        &self,
        account: AccountId,
        folder: FolderId,
        with_blobs: bool,
    ) -> Result<Vec<(MessageState, Option<String>)>> {
        let blob_column = if with_blobs { "m.blob_hash" } else { "NULL" };
        type Columns = (i64, i64, i64, Option<String>, i64, i64, Option<String>);
        let rows: Vec<Columns> = sqlx::query_as(&format!(
            "SELECT m.uid, m.flags, m.modseq, m.keywords, m.size, m.internal_date, {blob_column} FROM messages m
             WHERE m.account_id = ? AND m.folder_id = ? ORDER BY m.uid"
        ))
        .bind(account.0)
        .bind(folder.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(uid, flags, modseq, keywords, size, internal_date, blob)| {
                let state = MessageState {
                    uid: uid as u32,
                    flags: Flags(flags as u32),
                    keywords: split_keywords(keywords),
                    modseq: modseq as u64,
                    size: size as u32,
                    internal_date,
                };
                (state, blob)
            })
            .collect())
    }

    /// The facts `wanted` of messages of `folder` whose blobs the caller's snapshot holds,
    /// from the process-wide cache ([`crate::facts_cache`]), reading the database only for
    /// the messages it lacks, in one query. In the order of `known`. A hit is trusted as the
    /// snapshot is (the caller has checked the folder's version); for a miss, `None` when the
    /// message is gone or its facts are not stored yet (backfill pending).
    pub async fn cached_facts(
        &self,
        account: AccountId,
        folder: FolderId,
        known: &[(u32, &BlobRef)],
        wanted: FactsWanted,
    ) -> Result<Vec<Option<Arc<CachedFacts>>>> {
        // A BlobRef comes from a read filtered on its account: one of another account's is a
        // caller's mistake, refused like any other account's data.
        if known.iter().any(|(_, blob)| blob.account != account) {
            return Err(Error::NotFound("message".into()));
        }
        let keys: Vec<BlobKey> = known.iter().map(|(_, blob)| blob.key).collect();
        let mut facts = self.facts_cache.get_many(&keys, wanted);
        let missing: Vec<u32> =
            known.iter().zip(&facts).filter(|(_, f)| f.is_none()).map(|((uid, _), _)| *uid).collect();
        if missing.is_empty() {
            return Ok(facts);
        }
        let selection = UidSelection::of(&missing);
        let sql = format!(
            "SELECT m.uid, m.blob_hash, {} FROM messages m {}
             WHERE m.account_id = ? AND m.folder_id = ? AND {}",
            fact_columns(wanted),
            facts_join(wanted),
            selection.sql,
        );
        type Columns = (i64, String, Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);
        let query = sqlx::query_as::<_, Columns>(&sql).bind(account.0).bind(folder.0);
        let query = match selection.range {
            Some((first, last)) => query.bind(i64::from(first)).bind(i64::from(last)),
            None => query.bind(json_array(missing.iter())),
        };
        let mut found: HashMap<u32, (BlobKey, Arc<CachedFacts>)> = HashMap::new();
        for (uid, hash, header, imap_envelope, imap_body, imap_bodystructure) in query.fetch_all(&self.reader).await? {
            let uid = uid as u32;
            let Some(key) = blob_key(&hash) else { continue };
            if !selection.names(uid) {
                continue;
            }
            let read = CachedFacts {
                header: header.map(Vec::into_boxed_slice),
                imap_envelope: imap_envelope.map(Vec::into_boxed_slice),
                imap_body: imap_body.map(Vec::into_boxed_slice),
                imap_bodystructure: imap_bodystructure.map(Vec::into_boxed_slice),
            };
            if read.has(wanted) {
                found.insert(uid, (key, self.facts_cache.insert(key, read)));
            }
        }
        for ((uid, blob), slot) in known.iter().zip(facts.iter_mut()) {
            if slot.is_none() {
                *slot = found.get(uid).filter(|(key, _)| *key == blob.key).map(|(_, f)| Arc::clone(f));
            }
        }
        Ok(facts)
    }

    /// The folder's [`FolderVersion`], one indexed row: cheap enough to ask on every NOOP.
    pub async fn folder_version(&self, account: AccountId, folder: FolderId) -> Result<FolderVersion> {
        let (highest_modseq, uidnext): (i64, i64) =
            sqlx::query_as("SELECT highest_modseq, uidnext FROM folders WHERE id = ? AND account_id = ?")
                .bind(folder.0)
                .bind(account.0)
                .fetch_optional(&self.reader)
                .await?
                .ok_or_else(|| Error::NotFound("folder".into()))?;
        Ok(FolderVersion { highest_modseq: highest_modseq as u64, uidnext: uidnext as u32 })
    }

    pub async fn message(&self, account: AccountId, id: MessageId) -> Result<Option<MessageRow>> {
        let row = sqlx::query(&format!("SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.account_id = ? AND m.id = ?"))
            .bind(account.0)
            .bind(id.0)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(message_from_row))
    }

    /// The raw bytes of a message, exactly as received.
    pub async fn read_raw(&self, message: &MessageRow) -> Result<Vec<u8>> {
        self.blobs.get(&message.blob_hash).await
    }

    /// The raw bytes of a message read a moment ago (its id and blob), or `None` when it has
    /// been expunged since (and its file cleaned up): a reader racing an expunge skips the
    /// message instead of failing.
    pub async fn read_raw_if_present(
        &self,
        account: AccountId,
        message: MessageId,
        blob_hash: &str,
    ) -> Result<Option<Vec<u8>>> {
        // The blob is the account's only through one of its messages: asked first, so a hash
        // from anywhere else reads nothing.
        let is_theirs = || async {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM messages WHERE id = ? AND account_id = ? AND blob_hash = ?")
                    .bind(message.0)
                    .bind(account.0)
                    .bind(blob_hash)
                    .fetch_optional(&self.reader)
                    .await?;
            Ok::<bool, Error>(found.is_some())
        };
        if !is_theirs().await? {
            return Ok(None);
        }
        match self.blobs.get(blob_hash).await {
            Ok(raw) => Ok(Some(raw)),
            Err(_) if !is_theirs().await? => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The raw bytes of the message with this UID, by the blob the caller's snapshot holds
    /// for it (checked against the account, as in [`Store::cached_facts`]); `None` when the
    /// message has been expunged (and its file cleaned up) since.
    pub async fn read_blob(
        &self,
        account: AccountId,
        folder: FolderId,
        uid: u32,
        blob: &BlobRef,
    ) -> Result<Option<Vec<u8>>> {
        if blob.account != account {
            return Err(Error::NotFound("message".into()));
        }
        match self.blobs.get(&hex::encode(blob.key)).await {
            Ok(raw) => Ok(Some(raw)),
            Err(error) => {
                let present: Option<i64> =
                    sqlx::query_scalar("SELECT 1 FROM messages WHERE account_id = ? AND folder_id = ? AND uid = ?")
                        .bind(account.0)
                        .bind(folder.0)
                        .bind(i64::from(uid))
                        .fetch_optional(&self.reader)
                        .await?;
                if present.is_some() { Err(error) } else { Ok(None) }
            }
        }
    }

    /// The raw bytes of a message read with [`Store::fetch_rows`], or `None` when it has been
    /// expunged since: as [`Store::read_raw_if_present`], without asking again whose it is (the
    /// row was read for its account).
    pub async fn read_fetched(&self, row: &FetchRow) -> Result<Option<Vec<u8>>> {
        match self.blobs.get(&row.blob_hash).await {
            Ok(raw) => Ok(Some(raw)),
            Err(_) if self.message(row.account, row.id).await?.is_none() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The FETCH rows of the messages of a folder with these UIDs, in UID order, with the
    /// stored facts `wanted`; UIDs not there are skipped. Only what FETCH uses is read: no
    /// list fields.
    pub async fn fetch_rows(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
        wanted: FactsWanted,
    ) -> Result<Vec<FetchRow>> {
        let join = facts_join(wanted);
        let selection = UidSelection::of(uids);
        let sql = format!(
            "SELECT m.id, m.uid, m.flags, m.size, m.internal_date, m.blob_hash, m.keywords, m.modseq, {}
             FROM messages m {join}
             WHERE m.account_id = ? AND m.folder_id = ? AND {} ORDER BY m.uid",
            fact_columns(wanted),
            selection.sql,
        );
        type Columns = (
            i64,
            i64,
            i64,
            i64,
            i64,
            String,
            String,
            i64,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
            Option<Vec<u8>>,
        );
        let query = sqlx::query_as::<_, Columns>(&sql).bind(account.0).bind(folder.0);
        let query = match selection.range {
            Some((first, last)) => query.bind(i64::from(first)).bind(i64::from(last)),
            None => query.bind(json_array(uids.iter())),
        };
        let rows = query.fetch_all(&self.reader).await?;
        Ok(rows
            .into_iter()
            .filter(|row| selection.names(row.1 as u32))
            .map(
                |(
                    id,
                    uid,
                    flags,
                    size,
                    internal_date,
                    blob_hash,
                    keywords,
                    modseq,
                    header,
                    envelope,
                    body,
                    structure,
                )| {
                    FetchRow {
                        id: MessageId(id),
                        uid: uid as u32,
                        flags: Flags(flags as u32),
                        keywords: split_keywords(Some(keywords)),
                        modseq: modseq as u64,
                        size: size as u32,
                        internal_date,
                        blob_hash,
                        header,
                        imap_envelope: envelope,
                        imap_body: body,
                        imap_bodystructure: structure,
                        account,
                    }
                },
            )
            .collect())
    }

    /// Computes and stores the facts of messages stored before facts existed (migration 2), a
    /// batch at a time so deliveries wait at most for one batch. Returns how many blobs it did.
    pub async fn backfill_facts(&self) -> Result<usize> {
        const BATCH: i64 = 50;
        let mut done = 0;
        loop {
            let hashes: Vec<String> = sqlx::query_scalar(
                "SELECT DISTINCT m.blob_hash FROM messages m
                 WHERE NOT EXISTS (SELECT 1 FROM message_facts f WHERE f.blob_hash = m.blob_hash)
                    OR NOT EXISTS (SELECT 1 FROM message_headers h WHERE h.blob_hash = m.blob_hash) LIMIT ?",
            )
            .bind(BATCH)
            .fetch_all(&self.reader)
            .await?;
            if hashes.is_empty() {
                return Ok(done);
            }
            let mut computed = Vec::with_capacity(hashes.len());
            for hash in hashes {
                // A file a crash lost cannot be described; the row keeps no facts and readers
                // fail on it as they did before.
                let Ok(raw) = self.blobs.get(&hash).await else {
                    tracing::warn!(%hash, "a message file is missing; its facts cannot be computed");
                    continue;
                };
                computed.push((hash, compute_facts(raw).await?.1));
            }
            if computed.is_empty() {
                return Ok(done);
            }
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            for (hash, facts) in &computed {
                insert_facts(&mut tx, hash, facts).await?;
            }
            tx.commit().await?;
            done += computed.len();
        }
    }

    // ----- Messages: writing -----

    /// Delivers one message to the Inbox of each account, all in one transaction. Returns once
    /// the blob is fsynced and the rows committed. All or nothing: when a mailbox has no room,
    /// nothing is stored for anyone and the full ones are in [`Delivery::over_quota`], so SMTP
    /// can defer the message whole instead of losing one copy after its `250`.
    pub async fn deliver(&self, accounts: &[AccountId], raw: Vec<u8>) -> Result<Delivery> {
        self.deliver_and_queue(accounts, None, raw).await
    }

    /// [`Store::deliver`], and in the same transaction the message queued for the recipients
    /// of `outbound` on other servers: once this returns `Ok` with [`Delivery::stored`], every
    /// copy is on disk, local or leaving, and none is if it is not.
    pub async fn deliver_and_queue(
        &self,
        accounts: &[AccountId],
        outbound: Option<crate::Outbound>,
        raw: Vec<u8>,
    ) -> Result<Delivery> {
        self.ingest(Copies { accounts: accounts.to_vec(), outbound, ..Copies::default() }, raw).await
    }

    /// Stores one message's copies (mailboxes, the outbound queue, lists' posts) in one
    /// transaction, as [`Store::deliver_and_queue`] says.
    pub async fn ingest(&self, copies: Copies, raw: Vec<u8>) -> Result<Delivery> {
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(Error::Refused(format!("message larger than {MAX_MESSAGE_BYTES} bytes")));
        }
        let size = raw.len() as u64;
        // A cheap look first, so a message that cannot go in never touches the disk.
        let mut over_quota = Vec::new();
        for &account in &copies.accounts {
            if !self.quota_allows(account, size).await? {
                over_quota.push(account);
            }
        }
        if !over_quota.is_empty() {
            return Ok(Delivery { over_quota, ..Delivery::default() });
        }
        let (raw, facts) = compute_facts(raw).await?;
        let blob_hash = self.blobs.put(Arc::clone(&raw)).await?;
        // Committed with whatever other deliveries queue meanwhile: see `ingest`.
        let (reply, answer) = tokio::sync::oneshot::channel();
        let pending = crate::sqlite::ingest::Pending {
            copies,
            blob_hash: blob_hash.clone(),
            raw,
            facts,
            internal_date: now_unix(),
            reply,
        };
        let committer_gone = || Error::io("delivery committer", std::io::Error::other("the committer stopped"));
        let result = match self.committer.send(pending).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err(committer_gone())),
            Err(_) => Err(committer_gone()),
        };
        if !result.as_ref().is_ok_and(Delivery::stored) {
            // Nothing refers to the file: do not leave it behind.
            self.remove_unreferenced_blobs_logged(vec![blob_hash]).await;
        }
        result
    }

    /// Adds a message to a folder (IMAP APPEND, saving to Sent or Drafts). Returns its UID.
    pub async fn append(
        &self,
        account: AccountId,
        folder: FolderId,
        raw: Vec<u8>,
        flags: Flags,
        keywords: &[String],
        internal_date: Option<i64>,
    ) -> Result<(u32, MessageId)> {
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(Error::Refused(format!("message larger than {MAX_MESSAGE_BYTES} bytes")));
        }
        let size = raw.len() as i64;
        if !self.quota_allows(account, size as u64).await? {
            return Err(Error::QuotaExceeded);
        }
        let internal_date = internal_date.unwrap_or_else(now_unix);
        // The file first (fsynced, outside any lock), then the rows. Blob clean-up deletes files
        // only inside a write transaction too, possibly from another process (`facteur admin`
        // beside the server), so SQLite's write lock orders the two: a file removed between
        // `put` and our transaction is written again, and a file present once we hold the lock
        // stays, since our row is committed before the lock is freed. Deliveries do the same
        // in their batches (`ingest`).
        let (raw, facts) = compute_facts(raw).await?;
        let blob_hash = self.blobs.put(Arc::clone(&raw)).await?;
        self.blobs.sync_folders(vec![blob_hash.clone()]).await?;
        let new = NewMessage { blob_hash: &blob_hash, size, facts: &facts, flags, keywords, internal_date };
        let result = async {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            self.blobs.put_if_missing(&blob_hash, raw).await?;
            insert_facts(&mut tx, &blob_hash, &facts).await?;
            if !has_room(&mut tx, account, size).await? {
                return Err(Error::QuotaExceeded);
            }
            let inserted = insert_message(&mut tx, account, folder, &new).await?;
            tx.commit().await?;
            Ok(inserted)
        }
        .await;
        if result.is_err() {
            // Nothing refers to the file: do not leave it behind.
            self.remove_unreferenced_blobs_logged(vec![blob_hash]).await;
        }
        result
    }

    /// C7: puts `raw` in the place of the message with `uid` (the same message with an
    /// attachment taken out). The new one gets the next UID of the folder with the old one's
    /// flags, keywords, arrival, thread, comment and time filed; the old one is expunged. One
    /// transaction does both, so a crash leaves one or the other, and the quota counts only
    /// the difference: a full mailbox can still be made smaller. Returns the new UID and id.
    pub async fn replace_message(
        &self,
        account: AccountId,
        folder: FolderId,
        uid: u32,
        raw: Vec<u8>,
    ) -> Result<(u32, MessageId)> {
        if raw.len() > MAX_MESSAGE_BYTES {
            return Err(Error::Refused(format!("message larger than {MAX_MESSAGE_BYTES} bytes")));
        }
        let size = raw.len() as i64;
        // As `append`: the file first, fsynced, then the rows under the write lock.
        let (raw, facts) = compute_facts(raw).await?;
        let blob_hash = self.blobs.put(Arc::clone(&raw)).await?;
        self.blobs.sync_folders(vec![blob_hash.clone()]).await?;
        let result = async {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            self.blobs.put_if_missing(&blob_hash, raw).await?;
            insert_facts(&mut tx, &blob_hash, &facts).await?;
            bump_modseq(&mut tx, account, folder).await?;
            type Old = (i64, String, String, i64, i64, Option<String>, Option<i64>);
            let old: Option<Old> = sqlx::query_as(
                "DELETE FROM messages WHERE account_id = ? AND folder_id = ? AND uid = ?
                 RETURNING flags, keywords, blob_hash, internal_date, thread_id, comment, filed_at",
            )
            .bind(account.0)
            .bind(folder.0)
            .bind(i64::from(uid))
            .fetch_optional(&mut *tx)
            .await?;
            let (flags, keywords, old_blob, internal_date, thread_id, comment, filed_at) =
                old.ok_or_else(|| Error::NotFound("message".into()))?;
            if !has_room(&mut tx, account, size).await? {
                return Err(Error::QuotaExceeded);
            }
            let keywords: Vec<String> = keywords.split_whitespace().map(str::to_string).collect();
            let new = NewMessage {
                blob_hash: &blob_hash,
                size,
                facts: &facts,
                flags: Flags(flags as u32),
                keywords: &keywords,
                internal_date,
            };
            let inserted = insert_message(&mut tx, account, folder, &new).await?;
            sqlx::query("UPDATE messages SET thread_id = ?, comment = ?, filed_at = ? WHERE id = ?")
                .bind(thread_id)
                .bind(comment)
                .bind(filed_at)
                .bind(inserted.1.0)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok((inserted, old_blob))
        }
        .await;
        match result {
            Ok((inserted, old_blob)) => {
                self.remove_unreferenced_blobs_logged(vec![old_blob]).await;
                Ok(inserted)
            }
            Err(error) => {
                self.remove_unreferenced_blobs_logged(vec![blob_hash]).await;
                Err(error)
            }
        }
    }

    /// Changes flags and keywords of the messages with these UIDs (RFC 9051 §6.4.6) and returns
    /// the resulting state of each message found, in the order of `uids`.
    ///
    /// Set-wise, so a STORE 1:* on a big folder holds the writer briefly: system flags added or
    /// removed are one UPDATE of the rows that change, returning their new state; keywords and
    /// replacements are one read of the rows, the new states computed here, one UPDATE of the
    /// rows that change. The unread count moves once by how many flipped `\Seen`, and a trigger
    /// logs each change. The folder takes a new modseq
    /// only when something changed. Keywords are capped ([`MAX_KEYWORDS_PER_MESSAGE`],
    /// [`MAX_KEYWORDS_PER_ACCOUNT`], [`MAX_KEYWORD_BYTES`]): over a cap nothing changes and the
    /// error is [`Error::Limit`].
    pub async fn store_flags(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
        op: FlagOp,
        flags: Flags,
        keywords: &[String],
    ) -> Result<Vec<MessageState>> {
        check_keywords(keywords)?;
        // A STORE that changes nothing, or is over a cap, never takes the only writer (a client
        // looping such STOREs once slowed every delivery): without keywords one query tells;
        // with keywords the change is planned on a reader first.
        let mut reader = self.reader.acquire().await?;
        let unchanged = if keywords.is_empty() {
            match system_flags_would_change(&mut reader, account, folder, uids, op, flags).await? {
                true => None,
                false => Some(plan_flags(&mut reader, account, folder, uids, op, flags, keywords, None).await?),
            }
        } else {
            Some(plan_flags(&mut reader, account, folder, uids, op, flags, keywords, None).await?)
                .filter(|plan| plan.changed.is_empty())
        };
        if let Some(Plan { by_uid, .. }) = unchanged {
            // Nothing to write; still, another account's folder is not found, as for a change.
            let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM folders WHERE id = ? AND account_id = ?")
                .bind(folder.0)
                .bind(account.0)
                .fetch_optional(&mut *reader)
                .await?;
            owned.ok_or_else(|| Error::NotFound("folder".into()))?;
            return Ok(in_request_order(uids, by_uid));
        }
        drop(reader);
        let mut writer = self.relaxed_writer().await?;
        let mut tx = sqlx::Connection::begin_with(&mut *writer, "BEGIN IMMEDIATE").await?;
        if keywords.is_empty() && op != FlagOp::Replace {
            let changed = update_system_flags(&mut tx, account, folder, uids, op, flags).await?;
            let changed_none = changed.is_empty();
            // When some named message did not change (or is gone), all are read back in the
            // transaction, changed ones included; `STORE 1:* +FLAGS (\Seen)` on an unread
            // folder reads no row.
            let by_uid = if changed.len() < uids.len() {
                plan_flags(&mut tx, account, folder, uids, op, flags, keywords, None).await?.by_uid
            } else {
                changed.into_iter().map(|state| (state.uid, state)).collect()
            };
            if changed_none {
                // The folder's modseq taken for nothing is given back.
                tx.rollback().await?;
            } else {
                tx.commit().await?;
            }
            return Ok(in_request_order(uids, by_uid));
        }
        // Planned under the write lock: the rows may have changed since.
        let (by_uid, _, changed_any) = write_planned(&mut tx, account, folder, uids, op, flags, keywords, None).await?;
        if changed_any {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(in_request_order(uids, by_uid))
    }

    /// [`Store::store_flags`] with RFC 7162's UNCHANGEDSINCE: only messages whose modseq is at
    /// most `since` change, decided under the write lock; the UIDs of the others (modified
    /// since) come back second, and their states are not in the first.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_flags_unchanged_since(
        &self,
        account: AccountId,
        folder: FolderId,
        uids: &[u32],
        op: FlagOp,
        flags: Flags,
        keywords: &[String],
        since: u64,
    ) -> Result<(Vec<MessageState>, Vec<u32>)> {
        check_keywords(keywords)?;
        let mut writer = self.relaxed_writer().await?;
        let mut tx = sqlx::Connection::begin_with(&mut *writer, "BEGIN IMMEDIATE").await?;
        let owned: Option<i64> = sqlx::query_scalar("SELECT id FROM folders WHERE id = ? AND account_id = ?")
            .bind(folder.0)
            .bind(account.0)
            .fetch_optional(&mut *tx)
            .await?;
        owned.ok_or_else(|| Error::NotFound("folder".into()))?;
        let (by_uid, modified, changed_any) =
            write_planned(&mut tx, account, folder, uids, op, flags, keywords, Some(since)).await?;
        if changed_any {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok((in_request_order(uids, by_uid), modified))
    }

    /// Removes the messages flagged `\Deleted` (only those in `uids`, when given) and returns
    /// the UIDs removed, in ascending order. Blob files no longer referenced are deleted.
    pub async fn expunge(&self, account: AccountId, folder: FolderId, uids: Option<&[u32]>) -> Result<Vec<u32>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        bump_modseq(&mut tx, account, folder).await?;
        let only = uids.map(|uids| json_array(uids.iter()));
        let mut removed: Vec<(i64, String)> = sqlx::query_as(
            "DELETE FROM messages WHERE account_id = ? AND folder_id = ? AND (flags & 8) != 0
                AND (? IS NULL OR uid IN (SELECT value FROM json_each(?)))
             RETURNING uid, blob_hash",
        )
        .bind(account.0)
        .bind(folder.0)
        .bind(only.as_deref())
        .bind(only.as_deref())
        .fetch_all(&mut *tx)
        .await?;
        if removed.is_empty() {
            // Nothing changed: the folder keeps its modseq.
            tx.rollback().await?;
            return Ok(Vec::new());
        }
        tx.commit().await?;
        removed.sort_unstable();
        let (uids, hashes): (Vec<i64>, Vec<String>) = removed.into_iter().unzip();
        self.remove_unreferenced_blobs_logged(hashes).await;
        Ok(uids.into_iter().map(|uid| uid as u32).collect())
    }

    /// Clean-up after a commit: a failure here loses nothing (a file is left behind), so it
    /// is logged rather than reported as a failure of what was committed.
    pub(crate) async fn remove_unreferenced_blobs_logged(&self, hashes: Vec<String>) {
        if let Err(error) = self.remove_unreferenced_blobs(hashes).await {
            tracing::warn!(%error, "could not clean up message files");
        }
    }

    /// Removes blob files no row refers to: those a crash left between writing a message's
    /// file and committing its row (nothing else makes them). One prefix folder per write
    /// transaction, so deliveries wait at most for one folder's worth. Files younger than ten
    /// minutes are left for a later sweep: a delivery in progress (in this process or
    /// `facteur admin`) commits its row within the database's 30 s busy timeout of writing
    /// its file. Returns how many files were removed.
    pub async fn sweep_orphan_blobs(&self) -> Result<usize> {
        const MIN_AGE: std::time::Duration = std::time::Duration::from_secs(10 * 60);
        let mut removed = 0;
        for prefix in 0..=u8::MAX {
            let candidates = self.blobs.old_blobs_in(prefix, MIN_AGE).await;
            if !candidates.is_empty() {
                removed += self.remove_unreferenced_blobs(candidates).await?;
            }
        }
        Ok(removed)
    }

    /// Removes the files of these blobs that no row refers to, and says how many it removed.
    pub(crate) async fn remove_unreferenced_blobs(&self, mut hashes: Vec<String>) -> Result<usize> {
        hashes.sort();
        hashes.dedup();
        // Inside a write transaction, so no delivery (of this process or another) is between
        // checking its blob and committing its row: see `Store::append`.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let mut removed = 0;
        for hash in hashes {
            let referenced: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE blob_hash = ?1)
                     OR EXISTS (SELECT 1 FROM outbound_messages WHERE blob_hash = ?1)
                     OR EXISTS (SELECT 1 FROM list_posts WHERE blob_hash = ?1)",
            )
            .bind(&hash)
            .fetch_one(&mut *tx)
            .await?;
            if !referenced {
                sqlx::query("DELETE FROM message_facts WHERE blob_hash = ?").bind(&hash).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM message_headers WHERE blob_hash = ?").bind(&hash).execute(&mut *tx).await?;
                self.blobs.remove(&hash).await;
                removed += 1;
            }
        }
        tx.commit().await?;
        Ok(removed)
    }
}

/// Parses a message for its facts off the async runtime: mail-parser on 50 MB takes a while.
async fn compute_facts(raw: Vec<u8>) -> Result<(Arc<Vec<u8>>, Facts)> {
    tokio::task::spawn_blocking(move || {
        let facts = Facts::of(&raw);
        (Arc::new(raw), facts)
    })
    .await
    .map_err(|e| Error::io("message parser task", std::io::Error::other(e)))
}

/// Stores the facts of a blob, once: every row of the blob shares them.
pub(crate) async fn insert_facts(tx: &mut SqliteConnection, blob_hash: &str, facts: &Facts) -> Result<()> {
    sqlx::query("INSERT INTO message_headers (blob_hash, header) VALUES (?, ?) ON CONFLICT (blob_hash) DO NOTHING")
        .bind(blob_hash)
        .bind(&facts.header)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO message_facts (blob_hash, imap_envelope, imap_body, imap_bodystructure)
         VALUES (?, ?, ?, ?) ON CONFLICT (blob_hash) DO NOTHING",
    )
    .bind(blob_hash)
    .bind(&facts.imap_envelope)
    .bind(&facts.imap_body)
    .bind(&facts.imap_bodystructure)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// What a STORE does to the messages it names.
struct Plan {
    /// Every message named, with its flags after the STORE.
    by_uid: HashMap<u32, MessageState>,
    /// Those that change: row id, UID, new flags, new keywords.
    changed: Vec<(i64, u32, Flags, String)>,
    /// How the folder's unread count moves.
    unseen_delta: i64,
    /// UIDs left alone because they changed after the UNCHANGEDSINCE modseq.
    modified: Vec<u32>,
}

/// Whether a STORE of system flags only would change any message, asked in one query that
/// hands no row over.
async fn system_flags_would_change(
    conn: &mut SqliteConnection,
    account: AccountId,
    folder: FolderId,
    uids: &[u32],
    op: FlagOp,
    flags: Flags,
) -> Result<bool> {
    // A message changes when: Add, some of `flags` is missing; Remove, some is there; Replace,
    // its flags differ or it has keywords (Replace with none clears them). Each `?` is `flags`.
    let (condition, flag_binds) = match op {
        FlagOp::Add => ("(flags & ?) != ?", 2),
        FlagOp::Remove => ("(flags & ?) != 0", 1),
        FlagOp::Replace => ("(flags != ? OR keywords != '')", 1),
    };
    // For many UIDs, their range: a message in it the STORE does not name can only make the
    // answer a wrong "yes", which costs a look under the write lock, never a missed change.
    let selection = UidSelection::of(uids);
    let sql = format!(
        "SELECT 1 FROM messages m WHERE account_id = ? AND folder_id = ? AND {} AND {condition} LIMIT 1",
        selection.sql
    );
    let query = sqlx::query_scalar::<_, i64>(&sql).bind(account.0).bind(folder.0);
    let mut query = match selection.range {
        Some((first, last)) => query.bind(i64::from(first)).bind(i64::from(last)),
        None => query.bind(json_array(uids.iter())),
    };
    for _ in 0..flag_binds {
        query = query.bind(i64::from(flags.0));
    }
    let found = query.fetch_optional(&mut *conn).await?;
    Ok(found.is_some())
}

/// The states of the messages found, in the order a STORE named them.
fn in_request_order(uids: &[u32], mut by_uid: HashMap<u32, MessageState>) -> Vec<MessageState> {
    uids.iter().filter_map(|uid| by_uid.remove(uid)).collect()
}

/// A STORE planned row by row and written in one UPDATE, inside the caller's transaction:
/// returns each named message's state (those `unchanged_since` refuses left out), the UIDs it
/// refused, and whether anything changed (the caller commits, or rolls back the modseq taken).
#[allow(clippy::too_many_arguments)]
async fn write_planned(
    tx: &mut SqliteConnection,
    account: AccountId,
    folder: FolderId,
    uids: &[u32],
    op: FlagOp,
    flags: Flags,
    keywords: &[String],
    unchanged_since: Option<u64>,
) -> Result<(HashMap<u32, MessageState>, Vec<u32>, bool)> {
    let Plan { mut by_uid, changed, unseen_delta, modified } =
        plan_flags(tx, account, folder, uids, op, flags, keywords, unchanged_since).await?;
    if changed.is_empty() {
        return Ok((by_uid, modified, false));
    }
    if op != FlagOp::Remove && !keywords.is_empty() {
        remember_keywords(tx, account, keywords).await?;
    }
    let modseq = bump_modseq(tx, account, folder).await?;
    let updates: Vec<String> = changed
        .iter()
        .map(|(id, _, flags, keywords)| format!("[{id},{},{}]", flags.0, json_string(keywords)))
        .collect();
    sqlx::query(
        "UPDATE messages SET flags = u.flags, keywords = u.keywords, modseq = ?
         FROM (SELECT value ->> 0 AS id, value ->> 1 AS flags, value ->> 2 AS keywords FROM json_each(?)) AS u
         WHERE messages.id = u.id",
    )
    .bind(modseq as i64)
    .bind(format!("[{}]", updates.join(",")))
    .execute(&mut *tx)
    .await?;
    if unseen_delta != 0 {
        sqlx::query("UPDATE folders SET n_unseen = n_unseen + ? WHERE id = ?")
            .bind(unseen_delta)
            .bind(folder.0)
            .execute(&mut *tx)
            .await?;
    }
    // The changed rows took the new modseq; the others kept theirs.
    for (_, uid, _, _) in &changed {
        if let Some(state) = by_uid.get_mut(uid) {
            state.modseq = modseq;
        }
    }
    Ok((by_uid, modified, true))
}

/// A STORE adding or removing system flags only, set-wise: one UPDATE of the rows that change,
/// which hands back their new state (no row is read first), then the unread count moved by how
/// many of them flipped `\Seen`. Returns the changed states, with the modseq they took; none
/// when nothing changed (the caller then rolls the transaction back, and with it that modseq).
async fn update_system_flags(
    tx: &mut SqliteConnection,
    account: AccountId,
    folder: FolderId,
    uids: &[u32],
    op: FlagOp,
    flags: Flags,
) -> Result<Vec<MessageState>> {
    // Each `?` of these is `flags`; `flags` on the right of SET is the row's old value.
    let (new_flags, changes, flag_binds) = match op {
        FlagOp::Add => ("flags | ?", "(flags & ?) != ?", 3),
        FlagOp::Remove => ("flags & ~?", "(flags & ?) != 0", 2),
        FlagOp::Replace => unreachable!("Replace may clear keywords: planned row by row"),
    };
    // The range lets SQLite walk the (folder, uid) index; the list keeps out the UIDs between
    // that were not named.
    let range = UidSelection::of(uids).range;
    let named = format!(
        "m.account_id = ? AND m.folder_id = ? AND {} m.uid IN (SELECT value FROM json_each(?))",
        if range.is_some() { "m.uid BETWEEN ? AND ? AND" } else { "" }
    );
    let list = json_array(uids.iter());
    macro_rules! bind_named {
        ($query:expr) => {{
            let query = $query.bind(account.0).bind(folder.0);
            let query = match range {
                Some((first, last)) => query.bind(i64::from(first)).bind(i64::from(last)),
                None => query,
            };
            query.bind(list.as_str())
        }};
    }
    // Every row that changes flips `\Seen` when it is the only flag; with others, those that
    // flip are counted before.
    let seen = flags.contains(Flags::SEEN);
    let flipping = if seen && flags != Flags::SEEN {
        let had = if op == FlagOp::Add { 0 } else { 1 };
        let sql = format!("SELECT count(*) FROM messages m WHERE {named} AND (flags & 1) = {had}");
        Some(bind_named!(sqlx::query_scalar::<_, i64>(&sql)).fetch_one(&mut *tx).await?)
    } else {
        None
    };
    let modseq = bump_modseq(tx, account, folder).await?;
    let sql = format!(
        "UPDATE messages AS m SET flags = {new_flags}, modseq = ? WHERE {named} AND {changes}
         RETURNING uid, flags, keywords, size, internal_date"
    );
    let mut query = bind_named!(
        sqlx::query_as::<_, (i64, i64, String, i64, i64)>(&sql).bind(i64::from(flags.0)).bind(modseq as i64)
    );
    for _ in 1..flag_binds {
        query = query.bind(i64::from(flags.0));
    }
    let rows = query.fetch_all(&mut *tx).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    if seen {
        let flipped = flipping.unwrap_or(rows.len() as i64);
        let unseen_delta = if op == FlagOp::Add { -flipped } else { flipped };
        sqlx::query("UPDATE folders SET n_unseen = n_unseen + ? WHERE id = ?")
            .bind(unseen_delta)
            .bind(folder.0)
            .execute(&mut *tx)
            .await?;
    }
    Ok(rows
        .into_iter()
        .map(|(uid, flags, keywords, size, internal_date)| MessageState {
            uid: uid as u32,
            flags: Flags(flags as u32),
            keywords: split_keywords(Some(keywords)),
            modseq,
            size: size as u32,
            internal_date,
        })
        .collect())
}

/// The new state of each message a STORE names (by UID), and the id, UID, flags and keywords
/// of the rows that change. Over the per-message keyword cap, nothing is planned.
#[allow(clippy::too_many_arguments)]
async fn plan_flags(
    conn: &mut SqliteConnection,
    account: AccountId,
    folder: FolderId,
    uids: &[u32],
    op: FlagOp,
    flags: Flags,
    keywords: &[String],
    unchanged_since: Option<u64>,
) -> Result<Plan> {
    let selection = UidSelection::of(uids);
    let sql = format!(
        "SELECT id, uid, flags, keywords, modseq, size, internal_date FROM messages m
         WHERE account_id = ? AND folder_id = ? AND {}",
        selection.sql
    );
    let query = sqlx::query_as::<_, (i64, i64, i64, String, i64, i64, i64)>(&sql).bind(account.0).bind(folder.0);
    let query = match selection.range {
        Some((first, last)) => query.bind(i64::from(first)).bind(i64::from(last)),
        None => query.bind(json_array(uids.iter())),
    };
    let mut rows = query.fetch_all(&mut *conn).await?;
    rows.retain(|row| selection.names(row.1 as u32));
    let mut by_uid = HashMap::with_capacity(rows.len());
    let mut changed = Vec::new();
    let mut unseen_delta = 0;
    let mut modified = Vec::new();
    for (id, uid, old_flags, old_keywords, old_modseq, size, internal_date) in rows {
        if unchanged_since.is_some_and(|since| old_modseq as u64 > since) {
            modified.push(uid as u32);
            continue;
        }
        let old_flags = Flags(old_flags as u32);
        let old = split_keywords(Some(old_keywords));
        let (new_flags, new_keywords) = apply_flag_op(op, old_flags, &old, flags, keywords);
        if new_keywords.len() > MAX_KEYWORDS_PER_MESSAGE {
            return Err(Error::Limit(format!("a message may have at most {MAX_KEYWORDS_PER_MESSAGE} keywords")));
        }
        let uid = uid as u32;
        if new_flags != old_flags || new_keywords != old {
            changed.push((id, uid, new_flags, new_keywords.join(" ")));
            unseen_delta += i64::from(!new_flags.contains(Flags::SEEN)) - i64::from(!old_flags.contains(Flags::SEEN));
        }
        let state = MessageState {
            uid,
            flags: new_flags,
            keywords: new_keywords,
            modseq: old_modseq as u64,
            size: size as u32,
            internal_date,
        };
        by_uid.insert(uid, state);
    }
    modified.sort_unstable();
    Ok(Plan { by_uid, changed, unseen_delta, modified })
}

/// RFC 9051 §2.3.2 leaves limits to servers; these keep one STORE from making rows (and the
/// writer's time) grow without bound: `STORE 1:100 +FLAGS (...5,000 keywords)` once held the
/// only writer for 21 s.
pub const MAX_KEYWORDS_PER_MESSAGE: usize = 64;
/// Different keywords one account may use, over all its messages.
pub const MAX_KEYWORDS_PER_ACCOUNT: i64 = 1000;
/// The longest keyword.
pub const MAX_KEYWORD_BYTES: usize = 100;

fn check_keywords(keywords: &[String]) -> Result<()> {
    if keywords.len() > MAX_KEYWORDS_PER_MESSAGE {
        return Err(Error::Limit(format!("a message may have at most {MAX_KEYWORDS_PER_MESSAGE} keywords")));
    }
    if keywords.iter().any(|k| k.len() > MAX_KEYWORD_BYTES || k.is_empty() || k.contains(' ')) {
        return Err(Error::Limit(format!("keywords are 1 to {MAX_KEYWORD_BYTES} bytes, without spaces")));
    }
    Ok(())
}

/// Adds keywords to the account's list of used ones, refusing to go past the account's cap.
pub(crate) async fn remember_keywords(
    tx: &mut SqliteConnection,
    account: AccountId,
    keywords: &[String],
) -> Result<()> {
    let mut added = 0u64;
    for keyword in keywords {
        added += sqlx::query("INSERT INTO account_keywords (account_id, keyword) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(account.0)
            .bind(keyword)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    if added > 0 {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM account_keywords WHERE account_id = ?")
            .bind(account.0)
            .fetch_one(&mut *tx)
            .await?;
        if n > MAX_KEYWORDS_PER_ACCOUNT {
            return Err(Error::Limit(format!(
                "an account may use at most {MAX_KEYWORDS_PER_ACCOUNT} different keywords"
            )));
        }
    }
    Ok(())
}

/// `text` as a JSON string.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How a query on `messages m` picks the messages of `uids`: many close together (a `1:*`) as
/// the range of the (folder, uid) index from the lowest to the highest, which
/// [`UidSelection::names`] then filters; a few, or scattered ones, as a list. The query binds
/// the range's ends, or else a JSON array of the UIDs.
struct UidSelection {
    sql: &'static str,
    range: Option<(u32, u32)>,
    /// The UIDs, sorted, when a range is read.
    sorted: Vec<u32>,
}

impl UidSelection {
    fn of(uids: &[u32]) -> UidSelection {
        match (uids.len() > 64, uids.iter().min(), uids.iter().max()) {
            // A range only when the UIDs fill much of it: sparse ones (IMAP SEARCH's candidates
            // across a big folder) would read every row between them.
            (true, Some(&first), Some(&last)) if u64::from(last - first) < 4 * uids.len() as u64 => {
                let mut sorted = uids.to_vec();
                sorted.sort_unstable();
                UidSelection { sql: "m.uid BETWEEN ? AND ?", range: Some((first, last)), sorted }
            }
            _ => UidSelection { sql: "m.uid IN (SELECT value FROM json_each(?))", range: None, sorted: Vec::new() },
        }
    }

    /// Whether a row the query read is one of the UIDs (a range reads the others between).
    fn names(&self, uid: u32) -> bool {
        self.range.is_none() || self.sorted.binary_search(&uid).is_ok()
    }
}

/// The JOINs that bring the facts `wanted` next to `messages m`.
fn facts_join(wanted: FactsWanted) -> String {
    let mut join = String::new();
    if wanted.imap_envelope || wanted.imap_body || wanted.imap_bodystructure {
        join.push_str(" LEFT JOIN message_facts f ON f.blob_hash = m.blob_hash");
    }
    if wanted.header {
        join.push_str(" LEFT JOIN message_headers h ON h.blob_hash = m.blob_hash");
    }
    join
}

/// The four fact columns, in the order header, ENVELOPE, BODY, BODYSTRUCTURE; NULL for those
/// not wanted, so that their tables are not read.
fn fact_columns(wanted: FactsWanted) -> String {
    let column = |want: bool, column: &'static str| if want { column } else { "NULL" };
    [
        column(wanted.header, "h.header"),
        column(wanted.imap_envelope, "f.imap_envelope"),
        column(wanted.imap_body, "f.imap_body"),
        column(wanted.imap_bodystructure, "f.imap_bodystructure"),
    ]
    .join(", ")
}

/// A JSON array of numbers, for `IN (SELECT value FROM json_each(?))`.
pub(crate) fn json_array<T: std::fmt::Display>(values: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = values.map(|v| v.to_string()).collect();
    format!("[{}]", items.join(","))
}

/// RFC 9051 §6.4.6: the flags and keywords a message has after a STORE.
fn apply_flag_op(
    op: FlagOp,
    old_flags: Flags,
    old: &[String],
    flags: Flags,
    keywords: &[String],
) -> (Flags, Vec<String>) {
    let (new_flags, mut new_keywords) = match op {
        FlagOp::Add => (old_flags.union(flags), old.iter().chain(keywords).cloned().collect::<Vec<_>>()),
        FlagOp::Remove => {
            (old_flags.difference(flags), old.iter().filter(|w| !keywords.contains(w)).cloned().collect())
        }
        FlagOp::Replace => (flags, keywords.to_vec()),
    };
    new_keywords.sort();
    new_keywords.dedup();
    (new_flags, new_keywords)
}

/// Takes the next modseq of a folder; as the first statement of a transaction it also takes
/// SQLite's write lock, so the transaction cannot fail later on a lock upgrade.
pub(crate) async fn bump_modseq(tx: &mut SqliteConnection, account: AccountId, folder: FolderId) -> Result<u64> {
    let modseq: Option<i64> = sqlx::query_scalar(
        "UPDATE folders SET highest_modseq = highest_modseq + 1 WHERE id = ? AND account_id = ? RETURNING highest_modseq",
    )
    .bind(folder.0)
    .bind(account.0)
    .fetch_optional(&mut *tx)
    .await?;
    modseq.map(|m| m as u64).ok_or_else(|| Error::NotFound("folder".into()))
}

pub(crate) async fn has_room(tx: &mut SqliteConnection, account: AccountId, size: i64) -> Result<bool> {
    let (quota, used): (Option<i64>, i64) = sqlx::query_as("SELECT quota_bytes, used_bytes FROM accounts WHERE id = ?")
        .bind(account.0)
        .fetch_one(&mut *tx)
        .await?;
    Ok(quota.is_none_or(|q| used + size <= q))
}

/// One row per account in its Inbox, or none at all when a mailbox has no room (the caller
/// then rolls back).
pub(crate) async fn insert_into_inboxes(
    tx: &mut SqliteConnection,
    accounts: &[AccountId],
    new: &NewMessage<'_>,
) -> Result<Delivery> {
    let mut delivery = Delivery::default();
    for &account in accounts {
        if !has_room(tx, account, new.size).await? {
            delivery.over_quota.push(account);
        }
    }
    if !delivery.over_quota.is_empty() {
        return Ok(delivery);
    }
    for &account in accounts {
        let inbox: i64 = sqlx::query_scalar("SELECT id FROM folders WHERE account_id = ? AND special_use = 'inbox'")
            .bind(account.0)
            .fetch_one(&mut *tx)
            .await?;
        let (_uid, id) = insert_message(tx, account, FolderId(inbox), new).await?;
        delivery.delivered.push((account, id));
    }
    Ok(delivery)
}

/// Inserts one message row: takes the folder's next UID and modseq, finds the thread.
async fn insert_message(
    tx: &mut SqliteConnection,
    account: AccountId,
    folder: FolderId,
    new: &NewMessage<'_>,
) -> Result<(u32, MessageId)> {
    let (uid, modseq): (i64, i64) = sqlx::query_as(
        "UPDATE folders SET uidnext = uidnext + 1, highest_modseq = highest_modseq + 1
         WHERE id = ? AND account_id = ? RETURNING uidnext - 1, highest_modseq",
    )
    .bind(folder.0)
    .bind(account.0)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| Error::NotFound("folder".into()))?;
    let summary = &new.facts.summary;
    // C11: join the thread of a message this one answers, if the account has it.
    let mut thread_id: Option<i64> = None;
    for parent in &summary.parent_ids {
        thread_id =
            sqlx::query_scalar("SELECT thread_id FROM messages WHERE account_id = ? AND message_id = ? LIMIT 1")
                .bind(account.0)
                .bind(parent)
                .fetch_optional(&mut *tx)
                .await?;
        if thread_id.is_some() {
            break;
        }
    }
    let mut keywords = new.keywords.to_vec();
    keywords.sort();
    keywords.dedup();
    if !keywords.is_empty() {
        check_keywords(&keywords)?;
        remember_keywords(tx, account, &keywords).await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (account_id, folder_id, uid, modseq, flags, blob_hash, size, internal_date, thread_id,
            message_id, in_reply_to, subject, from_name, from_addr, to_addrs, sent_date, has_attachments,
            priority_high, preview, keywords, filed_at, refs)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(account.0)
    .bind(folder.0)
    .bind(uid)
    .bind(modseq)
    .bind(new.flags.0 as i64)
    .bind(new.blob_hash)
    .bind(new.size)
    .bind(new.internal_date)
    .bind(thread_id)
    .bind(&summary.message_id)
    .bind(&summary.in_reply_to)
    .bind(&summary.subject)
    .bind(&summary.from_name)
    .bind(&summary.from_addr)
    .bind(&summary.to_addrs)
    .bind(summary.sent_date)
    .bind(summary.has_attachments)
    .bind(summary.priority_high)
    .bind(&summary.preview)
    .bind(keywords.join(" "))
    .bind(now_unix())
    .bind(summary.references.join(" "))
    .fetch_one(&mut *tx)
    .await?;
    if thread_id.is_none() {
        sqlx::query("UPDATE messages SET thread_id = id WHERE id = ?").bind(id).execute(&mut *tx).await?;
    }
    Ok((uid as u32, MessageId(id)))
}
