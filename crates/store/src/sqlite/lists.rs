//! Mailing lists (issue 18, A7, A8): the lists of a domain, who is on them, the posts they
//! accepted until every member has a copy, the posts held for a moderator, the subscriptions
//! waiting for a confirmation or an approval, and the bounces counted against an address.
//!
//! A post is stored in the transaction that accepts it (`ingest`, with the other recipients'
//! copies), so a `250` covers it. Its fan-out writes one delivery per member, each recording
//! in the same transaction that this member has its copy (`list_post_copies`): a restart goes
//! on where it stopped and no member gets a post twice.

use sqlx::{Row, SqliteConnection};

use super::accounts::{domain_id, ensure_address_free};
use crate::{
    Address, BOUNCES_TO_DISABLE, Error, HeldPost, ListId, ListKind, ListMember, MailingList, PendingSubscription,
    Posting, ReplyTo, Result, Store, Subscription, now_unix, parse_domain,
};

/// A post accepted for a list, as the ingest stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewListPost {
    pub list: ListId,
    /// The envelope sender.
    pub sender: String,
    /// The `From:` address.
    pub author: String,
    pub subject: String,
    /// Submitted by one of our accounts, whose `From:` the submission checked.
    pub submitted: bool,
    /// Waits for a moderator rather than going out.
    pub held: bool,
}

/// One member's copy of a post, recorded in the transaction that stores or queues it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListCopy {
    pub post: i64,
    pub member: i64,
}

/// A post the list accepted, as the fan-out reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPost {
    pub id: i64,
    pub list: ListId,
    pub(crate) blob_hash: String,
    pub sender: String,
    pub author: String,
    pub subject: String,
    pub submitted: bool,
}

/// What a confirmation link did ([`Store::confirm_list_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmed {
    /// The address is on the list now.
    Joined(ListId, String),
    /// The address is confirmed; a moderator approves it next.
    AwaitsModerator(ListId, String),
}

/// Seconds before a subscription asked for can be asked for (and mailed) again.
pub(crate) const REQUEST_PAUSE: i64 = 15 * 60;

const LIST_COLUMNS: &str = "l.id, l.local_part || '@' || d.name AS address, l.kind, l.name, l.subscription,
    l.posting, l.reply_to,
    (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id AND m.member AND NOT m.disabled) AS members";

fn list_of(row: &sqlx::sqlite::SqliteRow) -> MailingList {
    let word = |column: &str| row.get::<String, _>(column);
    MailingList {
        id: ListId(row.get("id")),
        address: row.get("address"),
        kind: ListKind::parse(&word("kind")).unwrap_or(ListKind::Discussion),
        name: row.get("name"),
        subscription: Subscription::parse(&word("subscription")).unwrap_or(Subscription::Confirm),
        posting: Posting::parse(&word("posting")).unwrap_or(Posting::Members),
        reply_to: ReplyTo::parse(&word("reply_to")).unwrap_or(ReplyTo::List),
        members: row.get::<i64, _>("members") as u32,
    }
}

const MEMBER_COLUMNS: &str = "id, address, member, owner, moderator, bounce_score, disabled";

fn member_of(row: &sqlx::sqlite::SqliteRow) -> ListMember {
    ListMember {
        id: row.get("id"),
        address: row.get("address"),
        member: row.get("member"),
        owner: row.get("owner"),
        moderator: row.get("moderator"),
        bounce_score: row.get::<i64, _>("bounce_score") as u32,
        disabled: row.get("disabled"),
    }
}

/// A list's display name: one line, at most 100 characters.
fn clean_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid("list name", "one line of at most 100 characters"));
    }
    Ok(name.to_string())
}

impl Store {
    /// Makes a list at a free address of one of our domains.
    pub async fn create_list(&self, address: &Address, kind: ListKind, name: &str) -> Result<MailingList> {
        let name = clean_name(name)?;
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let domain_id = domain_id(&mut tx, &address.domain).await?;
        ensure_address_free(&mut tx, domain_id, address).await?;
        if address.local.ends_with("-bounces") {
            // Its VERP addresses would be read as another list's.
            return Err(Error::Refused(format!("{address} ends in -bounces, which lists keep for their bounces")));
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO lists (domain_id, local_part, kind, name, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(domain_id)
        .bind(&address.local)
        .bind(kind.as_str())
        .bind(&name)
        .bind(now_unix())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        self.mailing_list(ListId(id)).await?.ok_or_else(|| Error::NotFound(format!("list {address}")))
    }

    pub async fn mailing_list(&self, id: ListId) -> Result<Option<MailingList>> {
        let row = sqlx::query(&format!(
            "SELECT {LIST_COLUMNS} FROM lists l JOIN domains d ON d.id = l.domain_id WHERE l.id = ?"
        ))
        .bind(id.0)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(list_of))
    }

    /// The list at this address, if there is one.
    pub async fn mailing_list_at(&self, address: &Address) -> Result<Option<MailingList>> {
        let row = sqlx::query(&format!(
            "SELECT {LIST_COLUMNS} FROM lists l JOIN domains d ON d.id = l.domain_id
             WHERE d.name = ? AND l.local_part = ?"
        ))
        .bind(&address.domain)
        .bind(&address.local)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(list_of))
    }

    /// A domain's lists by address.
    pub async fn domain_lists(&self, domain: &str) -> Result<Vec<MailingList>> {
        let domain = parse_domain(domain)?;
        let rows = sqlx::query(&format!(
            "SELECT {LIST_COLUMNS} FROM lists l JOIN domains d ON d.id = l.domain_id
             WHERE d.name = ? ORDER BY l.local_part"
        ))
        .bind(&domain)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows.iter().map(list_of).collect())
    }

    /// Changes a list's name and how it behaves.
    pub async fn update_list(
        &self,
        list: ListId,
        name: &str,
        subscription: Subscription,
        posting: Posting,
        reply_to: ReplyTo,
    ) -> Result<()> {
        let name = clean_name(name)?;
        let done = sqlx::query("UPDATE lists SET name = ?, subscription = ?, posting = ?, reply_to = ? WHERE id = ?")
            .bind(&name)
            .bind(subscription.as_str())
            .bind(posting.as_str())
            .bind(reply_to.as_str())
            .bind(list.0)
            .execute(&self.writer)
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("list".into()));
        }
        Ok(())
    }

    /// Deletes a list, its members, its requests and the posts it still held or was sending.
    pub async fn delete_list(&self, list: ListId) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let hashes: Vec<String> = sqlx::query_scalar("DELETE FROM list_posts WHERE list_id = ? RETURNING blob_hash")
            .bind(list.0)
            .fetch_all(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM lists WHERE id = ?").bind(list.0).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound("list".into()));
        }
        tx.commit().await?;
        self.remove_unreferenced_blobs_logged(hashes).await;
        Ok(())
    }

    /// Everyone on a list, by address.
    pub async fn list_members(&self, list: ListId) -> Result<Vec<ListMember>> {
        let rows =
            sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM list_members WHERE list_id = ? ORDER BY address"))
                .bind(list.0)
                .fetch_all(&self.reader)
                .await?;
        Ok(rows.iter().map(member_of).collect())
    }

    /// One entry of a list, by its id (an unsubscribe link's).
    pub async fn list_member(&self, list: ListId, member: i64) -> Result<Option<ListMember>> {
        let row = sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM list_members WHERE list_id = ? AND id = ?"))
            .bind(list.0)
            .bind(member)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(member_of))
    }

    /// One entry of a list, by its address.
    pub async fn list_member_at(&self, list: ListId, address: &str) -> Result<Option<ListMember>> {
        let row = sqlx::query(&format!("SELECT {MEMBER_COLUMNS} FROM list_members WHERE list_id = ? AND address = ?"))
            .bind(list.0)
            .bind(address.to_lowercase())
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(member_of))
    }

    /// Puts an address on a list as a member, an owner and/or a moderator (what it was is
    /// replaced); with none of the three, takes it off. Its bounces are forgotten.
    pub async fn set_list_member(
        &self,
        list: ListId,
        address: &Address,
        member: bool,
        owner: bool,
        moderator: bool,
    ) -> Result<()> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        set_member(&mut tx, list, &address.to_string(), member, owner, moderator).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stops an address receiving a list's posts (an unsubscribe link, a member leaving); an
    /// owner or a moderator stays one. Says whether it was receiving them.
    pub async fn unsubscribe(&self, list: ListId, member: i64) -> Result<bool> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let was: Option<bool> = sqlx::query_scalar("SELECT member FROM list_members WHERE list_id = ? AND id = ?")
            .bind(list.0)
            .bind(member)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(was) = was else { return Ok(false) };
        sqlx::query("UPDATE list_members SET member = 0 WHERE id = ?").bind(member).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM list_members WHERE id = ? AND NOT member AND NOT owner AND NOT moderator")
            .bind(member)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(was)
    }

    /// Lets an address disabled by its bounces receive again.
    pub async fn enable_list_member(&self, list: ListId, address: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE list_members SET disabled = 0, bounce_score = 0, last_bounce_day = NULL
             WHERE list_id = ? AND address = ?",
        )
        .bind(list.0)
        .bind(address.to_lowercase())
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Counts a bounce of a list's post to this address: one a day at most (a post bounced by
    /// several servers, or several posts on a bad day, are one bad day), and at
    /// [`BOUNCES_TO_DISABLE`] the address stops receiving. Returns the entry after it.
    pub async fn record_list_bounce(&self, list: ListId, address: &str, day: i64) -> Result<Option<ListMember>> {
        let row = sqlx::query(&format!(
            "UPDATE list_members SET
                 bounce_score = bounce_score + (last_bounce_day IS NULL OR last_bounce_day < ?1),
                 disabled = disabled OR bounce_score + (last_bounce_day IS NULL OR last_bounce_day < ?1) >= ?2,
                 last_bounce_day = MAX(COALESCE(last_bounce_day, ?1), ?1)
             WHERE list_id = ?3 AND address = ?4 RETURNING {MEMBER_COLUMNS}"
        ))
        .bind(day)
        .bind(BOUNCES_TO_DISABLE)
        .bind(list.0)
        .bind(address.to_lowercase())
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.as_ref().map(member_of))
    }

    // ----- Posts -----

    /// The posts going out (accepted, or approved by a moderator), oldest first.
    pub async fn posts_to_send(&self) -> Result<Vec<ListPost>> {
        let rows = sqlx::query(
            "SELECT id, list_id, blob_hash, sender, author, subject, submitted FROM list_posts
             WHERE state = 'sending' ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|row| ListPost {
                id: row.get("id"),
                list: ListId(row.get("list_id")),
                blob_hash: row.get("blob_hash"),
                sender: row.get("sender"),
                author: row.get("author"),
                subject: row.get("subject"),
                submitted: row.get("submitted"),
            })
            .collect())
    }

    /// The bytes of a post as the list received it.
    pub async fn list_post_raw(&self, post: &ListPost) -> Result<Vec<u8>> {
        self.blobs.get(&post.blob_hash).await
    }

    /// The members that already have their copy of a post.
    pub async fn post_copies(&self, post: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT member_id FROM list_post_copies WHERE post_id = ?")
            .bind(post)
            .fetch_all(&self.reader)
            .await?)
    }

    /// Records that a member is done with a post without a copy (its mailbox was full, its
    /// copy could not be made).
    pub async fn skip_post_copy(&self, copy: ListCopy) -> Result<()> {
        sqlx::query("INSERT OR IGNORE INTO list_post_copies (post_id, member_id) VALUES (?, ?)")
            .bind(copy.post)
            .bind(copy.member)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Forgets a post every member has: its row, its copies' marks, its file unless a copy
    /// shares it.
    pub async fn finish_post(&self, post: i64) -> Result<()> {
        let hash: Option<String> = sqlx::query_scalar("DELETE FROM list_posts WHERE id = ? RETURNING blob_hash")
            .bind(post)
            .fetch_optional(&self.writer)
            .await?;
        self.remove_unreferenced_blobs_logged(hash.into_iter().collect()).await;
        Ok(())
    }

    /// A list's posts waiting for a moderator, oldest first.
    pub async fn held_posts(&self, list: ListId) -> Result<Vec<HeldPost>> {
        let rows = sqlx::query(
            "SELECT id, author, subject, size, received_at FROM list_posts WHERE list_id = ? AND state = 'held' ORDER BY id",
        )
        .bind(list.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|row| HeldPost {
                id: row.get("id"),
                author: row.get("author"),
                subject: row.get("subject"),
                size: row.get::<i64, _>("size") as u64,
                received_at: row.get("received_at"),
            })
            .collect())
    }

    /// The bytes of a held post, for a moderator to read.
    pub async fn held_post_raw(&self, list: ListId, post: i64) -> Result<Option<Vec<u8>>> {
        let hash: Option<String> =
            sqlx::query_scalar("SELECT blob_hash FROM list_posts WHERE id = ? AND list_id = ? AND state = 'held'")
                .bind(post)
                .bind(list.0)
                .fetch_optional(&self.reader)
                .await?;
        match hash {
            Some(hash) => Ok(Some(self.blobs.get(&hash).await?)),
            None => Ok(None),
        }
    }

    /// A moderator lets a held post go out. Says whether it was held.
    pub async fn approve_post(&self, list: ListId, post: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE list_posts SET state = 'sending' WHERE id = ? AND list_id = ? AND state = 'held'")
                .bind(post)
                .bind(list.0)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// A moderator refuses a held post: it is deleted. Says whether it was held.
    pub async fn reject_post(&self, list: ListId, post: i64) -> Result<bool> {
        let hash: Option<String> = sqlx::query_scalar(
            "DELETE FROM list_posts WHERE id = ? AND list_id = ? AND state = 'held' RETURNING blob_hash",
        )
        .bind(post)
        .bind(list.0)
        .fetch_optional(&self.writer)
        .await?;
        let held = hash.is_some();
        self.remove_unreferenced_blobs_logged(hash.into_iter().collect()).await;
        Ok(held)
    }

    // ----- Subscriptions (A8) -----

    /// Records a subscription asked for, to be confirmed with the token whose SHA-256 is
    /// `token_hash` before `expires_at`. Asking again replaces the previous token, unless it
    /// was asked for less than [`REQUEST_PAUSE`] seconds ago: then nothing changes and the
    /// answer is `false` (the form cannot make the server mail an address again and again).
    pub async fn add_list_request(
        &self,
        list: ListId,
        address: &str,
        token_hash: &str,
        expires_at: i64,
    ) -> Result<bool> {
        let recent: Option<i64> = sqlx::query_scalar(
            "SELECT requested_at FROM list_requests WHERE list_id = ? AND address = ? AND token_hash IS NOT NULL",
        )
        .bind(list.0)
        .bind(address.to_lowercase())
        .fetch_optional(&self.reader)
        .await?;
        if recent.is_some_and(|at| at > now_unix() - REQUEST_PAUSE) {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO list_requests (list_id, address, token_hash, expires_at, requested_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (list_id, address) DO UPDATE SET token_hash = excluded.token_hash,
                 expires_at = excluded.expires_at, requested_at = excluded.requested_at",
        )
        .bind(list.0)
        .bind(address.to_lowercase())
        .bind(token_hash)
        .bind(expires_at)
        .bind(now_unix())
        .execute(&self.writer)
        .await?;
        Ok(true)
    }

    /// Follows a confirmation link: the address joins the list, or waits for a moderator when
    /// the list's subscriptions are moderated. `None` for a token unknown, used or expired.
    pub async fn confirm_list_request(&self, token_hash: &str, now: i64) -> Result<Option<Confirmed>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(
            "SELECT r.id, r.list_id, r.address, l.subscription FROM list_requests r JOIN lists l ON l.id = r.list_id
             WHERE r.token_hash = ? AND r.expires_at > ?",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (id, list, address) =
            (row.get::<i64, _>("id"), ListId(row.get("list_id")), row.get::<String, _>("address"));
        let confirmed = if row.get::<String, _>("subscription") == Subscription::Moderated.as_str() {
            sqlx::query("UPDATE list_requests SET token_hash = NULL WHERE id = ?").bind(id).execute(&mut *tx).await?;
            Confirmed::AwaitsModerator(list, address)
        } else {
            join(&mut tx, list, &address).await?;
            sqlx::query("DELETE FROM list_requests WHERE id = ?").bind(id).execute(&mut *tx).await?;
            Confirmed::Joined(list, address)
        };
        tx.commit().await?;
        Ok(Some(confirmed))
    }

    /// Subscriptions confirmed by their address and waiting for a moderator.
    pub async fn pending_subscriptions(&self, list: ListId) -> Result<Vec<PendingSubscription>> {
        let rows = sqlx::query(
            "SELECT id, address, requested_at FROM list_requests WHERE list_id = ? AND token_hash IS NULL ORDER BY id",
        )
        .bind(list.0)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(|row| PendingSubscription {
                id: row.get("id"),
                address: row.get("address"),
                requested_at: row.get("requested_at"),
            })
            .collect())
    }

    /// A moderator answers a pending subscription: the address joins, or not. Returns it.
    pub async fn decide_subscription(&self, list: ListId, request: i64, approve: bool) -> Result<Option<String>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let address: Option<String> = sqlx::query_scalar(
            "DELETE FROM list_requests WHERE id = ? AND list_id = ? AND token_hash IS NULL RETURNING address",
        )
        .bind(request)
        .bind(list.0)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(address) = address.as_deref().filter(|_| approve) {
            join(&mut tx, list, address).await?;
        }
        tx.commit().await?;
        Ok(address)
    }

    /// Forgets the confirmation links past their time.
    pub async fn prune_list_requests(&self, now: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM list_requests WHERE token_hash IS NOT NULL AND expires_at <= ?")
            .bind(now)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Makes an address a receiving member, keeping the rest of what it is on the list.
async fn join(tx: &mut SqliteConnection, list: ListId, address: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO list_members (list_id, address, member) VALUES (?, ?, 1)
         ON CONFLICT (list_id, address) DO UPDATE SET member = 1",
    )
    .bind(list.0)
    .bind(address.to_lowercase())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn set_member(
    tx: &mut SqliteConnection,
    list: ListId,
    address: &str,
    member: bool,
    owner: bool,
    moderator: bool,
) -> Result<()> {
    let address = address.to_lowercase();
    if !(member || owner || moderator) {
        sqlx::query("DELETE FROM list_members WHERE list_id = ? AND address = ?")
            .bind(list.0)
            .bind(&address)
            .execute(&mut *tx)
            .await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO list_members (list_id, address, member, owner, moderator) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (list_id, address) DO UPDATE SET member = excluded.member, owner = excluded.owner,
             moderator = excluded.moderator, bounce_score = 0, last_bounce_day = NULL, disabled = 0",
    )
    .bind(list.0)
    .bind(&address)
    .bind(member)
    .bind(owner)
    .bind(moderator)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Stores a post accepted for a list, in the delivery's transaction (`ingest`).
pub(crate) async fn insert_list_post(
    tx: &mut SqliteConnection,
    blob_hash: &str,
    size: i64,
    post: &NewListPost,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO list_posts (list_id, blob_hash, size, sender, author, subject, submitted, state, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(post.list.0)
    .bind(blob_hash)
    .bind(size)
    .bind(&post.sender)
    .bind(&post.author)
    .bind(&post.subject)
    .bind(post.submitted)
    .bind(if post.held { "held" } else { "sending" })
    .bind(now_unix())
    .fetch_one(&mut *tx)
    .await?)
}

/// Records a member's copy in the transaction that stores or queues it (`ingest`).
pub(crate) async fn insert_list_copy(tx: &mut SqliteConnection, copy: ListCopy) -> Result<()> {
    sqlx::query("INSERT OR IGNORE INTO list_post_copies (post_id, member_id) VALUES (?, ?)")
        .bind(copy.post)
        .bind(copy.member)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{Confirmed, Copies, ListKind, NewListPost, Route, Store, parse_address};

    #[tokio::test]
    async fn lists_route_hold_count_bounces_and_confirm_subscriptions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        store.add_domain("example.org").await.unwrap();
        let ana = parse_address("ana@example.org").unwrap();
        store.add_user(&ana, "hash", None).await.unwrap();
        let club = parse_address("club@example.org").unwrap();
        let list = store.create_list(&club, ListKind::Discussion, "Le Club").await.unwrap();

        // One address space: a list's address is nobody else's, and the other way round.
        assert!(store.add_alias(&club, std::slice::from_ref(&ana)).await.is_err());
        assert!(store.create_list(&ana, ListKind::Discussion, "").await.is_err());
        let bounces = parse_address("x-bounces@example.org").unwrap();
        assert!(store.create_list(&bounces, ListKind::Discussion, "").await.is_err());
        assert_eq!(store.route(&club).await.unwrap(), Route::List(list.id));
        let verp = parse_address("club-bounces+3-abc@example.org").unwrap();
        assert_eq!(store.route(&verp).await.unwrap(), Route::ListBounce { list: list.id, token: "3-abc".into() });

        // A post is stored with the message's other copies; a held one waits.
        let post = |held| NewListPost {
            list: list.id,
            sender: "jo@elsewhere.test".into(),
            author: "jo@elsewhere.test".into(),
            subject: "Hi".into(),
            submitted: false,
            held,
        };
        let copies = Copies { list_posts: vec![post(true)], ..Copies::default() };
        let delivery = store.ingest(copies, b"Subject: Hi\r\n\r\nbody\r\n".to_vec()).await.unwrap();
        assert!(delivery.stored() && delivery.list_posts.len() == 1);
        let held = store.held_posts(list.id).await.unwrap();
        assert_eq!(held.len(), 1);
        assert!(store.posts_to_send().await.unwrap().is_empty());
        assert!(store.approve_post(list.id, held[0].id).await.unwrap());
        let sending = store.posts_to_send().await.unwrap();
        assert_eq!(sending.len(), 1);
        let removed = store.remove_unreferenced_blobs(vec![sending[0].blob_hash.clone()]).await.unwrap();
        assert_eq!(removed, 0, "a post keeps its file");
        assert_eq!(store.list_post_raw(&sending[0]).await.unwrap(), b"Subject: Hi\r\n\r\nbody\r\n");
        store.finish_post(sending[0].id).await.unwrap();
        assert!(store.posts_to_send().await.unwrap().is_empty());

        // Bounces count once a day; the fifth day disables the address.
        let zoe = parse_address("zoe@elsewhere.test").unwrap();
        store.set_list_member(list.id, &zoe, true, false, false).await.unwrap();
        for day in [100, 100, 101, 102, 103] {
            let after = store.record_list_bounce(list.id, "ZOE@elsewhere.test", day).await.unwrap().unwrap();
            assert!(!after.disabled, "day {day}: {after:?}");
        }
        let after = store.record_list_bounce(list.id, "zoe@elsewhere.test", 104).await.unwrap().unwrap();
        assert!(after.disabled && after.bounce_score == 5, "{after:?}");
        assert_eq!(store.mailing_list(list.id).await.unwrap().unwrap().members, 0);
        assert!(store.enable_list_member(list.id, "zoe@elsewhere.test").await.unwrap());
        assert_eq!(store.mailing_list(list.id).await.unwrap().unwrap().members, 1);

        // A confirmation link works once, before it expires.
        assert!(store.add_list_request(list.id, "Bob@elsewhere.test", "h1", 1_000).await.unwrap());
        assert_eq!(store.confirm_list_request("h1", 1_000).await.unwrap(), None, "expired");
        assert!(!store.add_list_request(list.id, "bob@elsewhere.test", "h2", 2_000).await.unwrap(), "too soon");
        sqlx::query("UPDATE list_requests SET requested_at = requested_at - 3600")
            .execute(&store.writer)
            .await
            .unwrap();
        assert!(store.add_list_request(list.id, "bob@elsewhere.test", "h2", 2_000).await.unwrap());
        assert_eq!(store.confirm_list_request("h1", 1_500).await.unwrap(), None, "replaced");
        let joined = store.confirm_list_request("h2", 1_500).await.unwrap();
        assert_eq!(joined, Some(Confirmed::Joined(list.id, "bob@elsewhere.test".into())));
        assert_eq!(store.confirm_list_request("h2", 1_500).await.unwrap(), None, "used");
        let bob = store.list_member_at(list.id, "bob@elsewhere.test").await.unwrap().unwrap();
        assert!(bob.member && !bob.owner);

        // Unsubscribing keeps an owner an owner; its id cannot reach another list's entry.
        store.set_list_member(list.id, &ana, true, true, false).await.unwrap();
        let entry = store.list_member_at(list.id, "ana@example.org").await.unwrap().unwrap();
        let other = store.create_list(&parse_address("other@example.org").unwrap(), ListKind::Distribution, "").await;
        assert!(!store.unsubscribe(other.unwrap().id, entry.id).await.unwrap());
        assert!(store.unsubscribe(list.id, entry.id).await.unwrap());
        let entry = store.list_member_at(list.id, "ana@example.org").await.unwrap().unwrap();
        assert!(!entry.member && entry.owner);

        store.delete_list(list.id).await.unwrap();
        assert_eq!(store.route(&club).await.unwrap(), Route::UnknownUser);
    }
}
