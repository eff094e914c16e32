//! Mailing lists in the mail core (A7, A8): who may post, the posts held for a moderator, the
//! fan-out of a post to its members (`list_copy` writes each copy), VERP bounces, one-click
//! unsubscribe links and subscriptions confirmed by mail.
//!
//! A post is stored when it arrives (with the message's other copies, so `250` covers it) and
//! sent on by [`run`], one delivery per member, each recording that member's copy in its own
//! transaction: a restart goes on where it stopped, and nobody gets a post twice.
//!
//! Links and bounce addresses carry an HMAC-SHA-256 under a key of this server
//! (`server_secrets`), so nobody unsubscribes someone else or counts bounces against them.

use std::collections::HashSet;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use store::{
    Address, Confirmed, Copies, ListCopy, ListId, ListKind, ListMember, ListPost, MailingList, NewListPost, Outbound,
    Posting, ReplyTo, Route, Subscription,
};

use crate::list_copy::{CopyFields, is_loop, member_copy};
use crate::{Error, Mail, Result, ServerMessage, today};

/// How long a confirmation link works.
pub const CONFIRMATION_HOURS: i64 = 72;
/// How often the fan-out looks for posts when nothing woke it (posts another process stored,
/// a round that failed).
const ROUND: Duration = Duration::from_secs(5);
/// Copies stored at once: they commit together (`ingest`'s group commit), one fsync for many.
const COPIES_AT_ONCE: usize = 16;

/// What happens to a message sent to a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostDecision {
    /// Stored as a post: going out, or held for a moderator.
    Post(NewListPost),
    /// Came back from the list itself (a member forwards to it): refused as a loop.
    Loop,
}

/// The list's keys: one HMAC key for its links and bounce addresses.
pub(crate) struct ListKeys {
    key: Vec<u8>,
}

impl ListKeys {
    pub(crate) fn new(key: Vec<u8>) -> ListKeys {
        ListKeys { key }
    }

    fn mac(&self, purpose: &str, list: ListId, member: &ListMember) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        for part in [purpose, &list.0.to_string(), &member.id.to_string(), &member.address.to_lowercase()] {
            mac.update(part.as_bytes());
            mac.update(b"\0");
        }
        hex(&mac.finalize().into_bytes())
    }

    /// The code of a member's unsubscribe link: 128 bits.
    fn unsubscribe_code(&self, list: ListId, member: &ListMember) -> String {
        self.mac("unsubscribe", list, member)[..32].to_string()
    }

    /// The tag of a member's bounce address, `ID-MAC`: 48 bits of HMAC are plenty for an
    /// address that only counts bounces (a guess is checked, never answered but by `550`).
    fn bounce_tag(&self, list: ListId, member: &ListMember) -> String {
        format!("{}-{}", member.id, &self.mac("bounce", list, member)[..12])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares two codes in a time that does not depend on where they differ.
fn same_code(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |diff, (x, y)| diff | (x ^ y.to_ascii_lowercase())) == 0
}

/// The `From:` of a message: its address (lower case) and display name, and its subject.
fn author_of(raw: &[u8]) -> (String, String, String) {
    let Some(headers) = mail_parser::MessageParser::new().parse_headers(raw) else {
        return Default::default();
    };
    let from = headers.from().and_then(|from| from.first());
    let address = from.and_then(|a| a.address()).unwrap_or_default().to_lowercase();
    let name = from.and_then(|a| a.name()).unwrap_or_default().to_string();
    let subject: String = headers.subject().unwrap_or_default().chars().take(200).collect();
    (address, name, subject)
}

impl Mail {
    async fn list_keys(&self) -> Result<&ListKeys> {
        self.list_keys.get_or_try_init(|| async { Ok(ListKeys::new(self.server_key("lists").await?)) }).await
    }

    /// Whether this poster is an owner of the list: with an account (submission, the web
    /// client), an owner's address must be the account's own; from the MX, the envelope sender
    /// or author must be an owner on another server (one of our addresses comes through
    /// submission, never unauthenticated).
    pub async fn is_list_owner(
        &self,
        list: &MailingList,
        address: &str,
        account: Option<store::AccountId>,
    ) -> Result<bool> {
        let members = self.store.list_members(list.id).await?;
        self.has_role(&members, address, account, |m| m.owner).await
    }

    async fn has_role(
        &self,
        members: &[ListMember],
        address: &str,
        account: Option<store::AccountId>,
        role: impl Fn(&ListMember) -> bool,
    ) -> Result<bool> {
        for entry in members.iter().filter(|m| role(m)) {
            match account {
                Some(account) => {
                    if let Ok(owned) = store::parse_address(&entry.address)
                        && self.owns(account, &owned).await?
                    {
                        return Ok(true);
                    }
                }
                None => {
                    let domain = entry.address.rsplit_once('@').map_or("", |(_, d)| d);
                    if entry.address.eq_ignore_ascii_case(address) && !self.store.is_local_domain(domain).await? {
                        return Ok(true);
                    }
                }
            }
        }
        Ok(false)
    }

    /// Decides what a message sent to a list becomes: a post going out, or held for a
    /// moderator when its author may not post freely (see [`Posting`]; a distribution list's
    /// posts are its owners', anyone else's is held), or a loop.
    pub async fn list_post(
        &self,
        list: &MailingList,
        sender: &str,
        raw: &[u8],
        account: Option<store::AccountId>,
    ) -> Result<PostDecision> {
        if is_loop(raw, &list.address) {
            return Ok(PostDecision::Loop);
        }
        let (author, _, subject) = author_of(raw);
        let members = self.store.list_members(list.id).await?;
        let may = |role: fn(&ListMember) -> bool| self.has_role(&members, &author, account, role);
        let free = match (list.kind, list.posting) {
            (ListKind::Distribution, _) => may(|m| m.owner).await?,
            (ListKind::Discussion, Posting::Anyone) => true,
            (ListKind::Discussion, Posting::Members) => may(|m| m.member || m.owner || m.moderator).await?,
            (ListKind::Discussion, Posting::Moderated) => may(|m| m.owner || m.moderator).await?,
        };
        Ok(PostDecision::Post(NewListPost {
            list: list.id,
            sender: sender.to_string(),
            author,
            subject,
            submitted: account.is_some(),
            held: !free,
        }))
    }

    /// Where the web client answers (ends with `/`), for the links lists write; set by the
    /// server once it listens.
    pub fn set_web_url(&self, url: &str) {
        let url = if url.ends_with('/') { url.to_string() } else { format!("{url}/") };
        let _ = self.web_url.set(url);
    }

    fn web_url(&self) -> &str {
        self.web_url.get().map_or("/", String::as_str)
    }

    /// Stores one message's copies (see [`store::Store::ingest`]), wakes who must know, and
    /// tells the moderators of the lists that held it.
    pub async fn ingest(&self, copies: Copies, raw: Vec<u8>) -> Result<store::Delivery> {
        let held: Vec<NewListPost> = copies.list_posts.iter().filter(|post| post.held).cloned().collect();
        let delivery = self.store.ingest(copies, raw).await?;
        if !delivery.delivered.is_empty() {
            self.feed.committed();
        }
        if delivery.queued.is_some() {
            self.outbound.notify_one();
        }
        if !delivery.list_posts.is_empty() {
            self.lists.notify_one();
            // Told by `run`: a notice is itself delivered through `ingest`.
            self.held_notices.lock().expect("no panic holds this lock").extend(held);
        }
        Ok(delivery)
    }

    /// Tells the owners and moderators that a post waits for them. A notice that cannot be
    /// sent is logged: the post waits all the same.
    async fn notify_held(&self, post: &NewListPost) {
        let web_url = self.web_url();
        let Ok(Some(list)) = self.store.mailing_list(post.list).await else { return };
        let Ok(members) = self.store.list_members(list.id).await else { return };
        let link = format!("{web_url}admin/list?id={}", list.id.0);
        for to in members.iter().filter(|m| m.owner || m.moderator) {
            let text = format!(
                "A message to {list} waits for your approval.\r\nUn message pour {list} attend votre accord.\r\n\r\n\
                 From / De : {author}\r\nSubject / Objet : {subject}\r\n\r\n{link}\r\n",
                list = list.address,
                author = post.author,
                subject = post.subject,
            );
            let subject = format!("Approval / Accord : {}", post.subject);
            let raw = notice(&list.address, &to.address, &subject, &text);
            if let Err(error) = self.send_from_server(&to.address, raw).await {
                tracing::warn!(%error, to = %to.address, "the notice of a held post was not sent");
            }
        }
    }

    /// Wakes [`run`] (a moderator approved a post).
    pub fn list_posts_waiting(&self) {
        self.lists.notify_one();
    }

    /// Sends every post waiting to go out to its members, then forgets it.
    pub async fn fan_out(&self) -> Result<()> {
        let web_url = self.web_url();
        for post in self.store.posts_to_send().await? {
            let Some(list) = self.store.mailing_list(post.list).await? else {
                self.store.finish_post(post.id).await?;
                continue;
            };
            let raw = self.store.list_post_raw(&post).await?;
            let done: HashSet<i64> = self.store.post_copies(post.id).await?.into_iter().collect();
            let members: Vec<ListMember> = self
                .store
                .list_members(list.id)
                .await?
                .into_iter()
                .filter(|m| m.member && !m.disabled && !done.contains(&m.id))
                .collect();
            let (author, name, _) = author_of(&raw);
            let author_domain = author.rsplit_once('@').map_or("", |(_, d)| d).to_string();
            // DMARC: we sign with our domains alone, so an author elsewhere writes via the list;
            // and a post from the MX never goes out signed under an author's address of ours
            // (anyone can write a `From:`), only under the list's.
            let rewrite =
                !author.is_empty() && (!post.submitted || !self.store.is_local_domain(&author_domain).await?);
            let author = rewrite.then_some((name.as_str(), author.as_str()));
            for chunk in members.chunks(COPIES_AT_ONCE) {
                let copies = chunk.iter().map(|member| self.send_copy(&list, &post, &raw, member, author, web_url));
                for outcome in futures_join(copies).await {
                    outcome?;
                }
            }
            self.store.finish_post(post.id).await?;
            tracing::info!(list = %list.address, post = post.id, n = members.len(), "list post sent to its members");
        }
        Ok(())
    }

    async fn send_copy(
        &self,
        list: &MailingList,
        post: &ListPost,
        raw: &[u8],
        member: &ListMember,
        author: Option<(&str, &str)>,
        web_url: &str,
    ) -> Result<()> {
        let keys = self.list_keys().await?;
        let unsubscribe_url = format!(
            "{web_url}lists/unsubscribe/{}/{}/{}",
            list.id.0,
            member.id,
            keys.unsubscribe_code(list.id, member)
        );
        let help_url = format!("{web_url}lists/{}", list.id.0);
        let fields = CopyFields {
            list_address: &list.address,
            list_name: &list.name,
            no_posting: list.kind == ListKind::Distribution,
            reply_to_list: list.reply_to == ReplyTo::List,
            unsubscribe_url: &unsubscribe_url,
            help_url: &help_url,
            rewritten_author: author,
        };
        let bytes = member_copy(raw, &fields);
        let (local, domain) = list.address.rsplit_once('@').unwrap_or((&list.address, ""));
        // VERP: a bounce names the member it is about.
        let sender = format!("{local}-bounces+{}@{domain}", keys.bounce_tag(list.id, member));
        let copy = ListCopy { post: post.id, member: member.id };
        let Ok(address) = store::parse_address(&member.address) else {
            return self.store.skip_post_copy(copy).await;
        };
        let (accounts, remote) = match self.route(&address).await? {
            Route::Local { accounts, external } => (accounts, external),
            Route::NotLocal => (Vec::new(), vec![member.address.clone()]),
            Route::UnknownUser | Route::List(_) | Route::ListBounce { .. } => {
                // A list on a list could loop; an address that left gets nothing.
                tracing::info!(list = %list.address, member = %member.address, "a member's address takes no list mail");
                return self.store.skip_post_copy(copy).await;
            }
        };
        let outbound = (!remote.is_empty()).then_some(Outbound { sender, account: None, recipients: remote });
        let copies = Copies { accounts, outbound, list_copy: Some(copy), ..Copies::default() };
        match self.ingest(copies, bytes).await {
            Ok(delivery) if delivery.stored() => Ok(()),
            Ok(_) | Err(Error::Refused(_)) => {
                // A full mailbox or a copy grown past the size cap: this member misses it, as a
                // bounce would say.
                tracing::warn!(list = %list.address, member = %member.address, "a member's copy could not be stored");
                self.store.record_list_bounce(list.id, &member.address, today()).await?;
                self.store.skip_post_copy(copy).await
            }
            Err(error) => Err(error),
        }
    }

    /// Whether an envelope sender is one a list's copy leaves from (VERP, [`ListKeys`]): the
    /// queue signs those copies with the list's domain, since the list wrote their `From:`.
    pub async fn is_list_copy_sender(&self, sender: &str) -> Result<bool> {
        let Ok(address) = store::parse_address(sender) else { return Ok(false) };
        match self.store.route(&address).await? {
            Route::ListBounce { list, token } => Ok(self.list_bounce_member(list, &token).await?.is_some()),
            _ => Ok(false),
        }
    }

    /// The member a list's bounce address names, if its tag is ours.
    pub async fn list_bounce_member(&self, list: ListId, tag: &str) -> Result<Option<ListMember>> {
        let Some(id) = tag.split_once('-').and_then(|(id, _)| id.parse::<i64>().ok()) else { return Ok(None) };
        let Some(member) = self.store.list_member(list, id).await? else { return Ok(None) };
        let expected = self.list_keys().await?.bounce_tag(list, &member);
        Ok(same_code(&expected, tag).then_some(member))
    }

    /// A message to a list's bounce address: a delivery report from the null sender that says
    /// a copy failed counts against the member (once a day); anything else (an auto-reply) is
    /// dropped.
    pub async fn list_bounced(&self, list: ListId, tag: &str, null_sender: bool, raw: &[u8]) -> Result<()> {
        let Some(member) = self.list_bounce_member(list, tag).await? else { return Ok(()) };
        if !null_sender || !is_failure_report(raw) {
            tracing::info!(member = %member.address, "a message to a list's bounce address that is no failure report; dropped");
            return Ok(());
        }
        if let Some(after) = self.store.record_list_bounce(list, &member.address, today()).await? {
            tracing::info!(member = %after.address, score = after.bounce_score, disabled = after.disabled, "list bounce counted");
        }
        Ok(())
    }

    /// The list and entry an unsubscribe link names, if its code is right.
    pub async fn unsubscribe_link(
        &self,
        list: ListId,
        member: i64,
        code: &str,
    ) -> Result<Option<(MailingList, ListMember)>> {
        let Some(entry) = self.store.list_member(list, member).await? else { return Ok(None) };
        let Some(found) = self.store.mailing_list(list).await? else { return Ok(None) };
        let expected = self.list_keys().await?.unsubscribe_code(list, &entry);
        Ok(same_code(&expected, code).then_some((found, entry)))
    }

    /// A member's one-click unsubscribe (RFC 8058): by POST alone, never by following a link.
    pub async fn unsubscribe(&self, list: ListId, member: i64, code: &str) -> Result<Option<MailingList>> {
        let Some((found, entry)) = self.unsubscribe_link(list, member, code).await? else { return Ok(None) };
        self.store.unsubscribe(list, entry.id).await?;
        tracing::info!(list = %found.address, member = %entry.address, "unsubscribed by its link");
        Ok(Some(found))
    }

    /// Someone asks to join a discussion list (A8): an open list takes them at once and tells
    /// them; otherwise they get a link to confirm (valid [`CONFIRMATION_HOURS`]), and on a
    /// moderated list a moderator approves them after that.
    pub async fn request_subscription(&self, list: &MailingList, address: &Address) -> Result<()> {
        let web_url = self.web_url();
        if list.kind == ListKind::Distribution {
            return Err(Error::Refused(format!("{} is a distribution list: its owners add its members", list.address)));
        }
        let to = address.to_string();
        if list.subscription == Subscription::Open {
            self.store.set_list_member(list.id, address, true, false, false).await?;
            let text = format!(
                "{to} is now a member of {list}.\r\n{to} est maintenant membre de {list}.\r\n\r\n{web_url}lists/{id}\r\n",
                list = list.address,
                id = list.id.0,
            );
            self.send_notice(list, &to, "Welcome / Bienvenue", &text).await;
            return Ok(());
        }
        let mut token = [0u8; 32];
        getrandom::fill(&mut token).expect("the system's random source works");
        let token = hex(&token);
        let expires = chrono::Utc::now().timestamp() + CONFIRMATION_HOURS * 3600;
        let hash = hex(&Sha256::digest(token.as_bytes()));
        if !self.store.add_list_request(list.id, &to, &hash, expires).await? {
            tracing::info!(list = %list.address, %to, "subscription asked for again too soon; not mailed again");
            return Ok(());
        }
        let text = format!(
            "Someone asked for {to} to join {list}. To confirm, open this link within {CONFIRMATION_HOURS} hours:\r\n\
             Quelqu'un a demandé l'inscription de {to} à {list}. Pour confirmer, ouvrez ce lien dans les {CONFIRMATION_HOURS} heures :\r\n\r\n\
             {web_url}lists/confirm/{token}\r\n\r\n\
             If it was not you, do nothing. / Si ce n'est pas vous, ne faites rien.\r\n",
            list = list.address,
        );
        self.send_notice(list, &to, "Confirm your subscription / Confirmez votre inscription", &text).await;
        Ok(())
    }

    /// Follows a confirmation link (by POST: see [`Mail::unsubscribe`]).
    pub async fn confirm_subscription(&self, token: &str) -> Result<Option<Confirmed>> {
        let hash = hex(&Sha256::digest(token.trim().as_bytes()));
        self.store.confirm_list_request(&hash, chrono::Utc::now().timestamp()).await
    }

    async fn send_notice(&self, list: &MailingList, to: &str, subject: &str, text: &str) {
        match self.send_from_server(to, notice(&list.address, to, subject, text)).await {
            Ok(ServerMessage::Sent) => {}
            Ok(other) => tracing::info!(%to, ?other, "a list's notice was not sent"),
            Err(error) => tracing::warn!(%to, %error, "a list's notice was not sent"),
        }
    }
}

/// Whether a message is a delivery report saying a copy failed (RFC 3464: a
/// `multipart/report` whose status part has `Action: failed`).
fn is_failure_report(raw: &[u8]) -> bool {
    let text = String::from_utf8_lossy(raw).to_ascii_lowercase();
    text.contains("multipart/report") && text.contains("delivery-status") && text.contains("action: failed")
}

/// A notice a list writes itself (a confirmation link, a welcome, a held post).
fn notice(list: &str, to: &str, subject: &str, text: &str) -> Vec<u8> {
    let (local, domain) = list.rsplit_once('@').unwrap_or((list, ""));
    let mut id = [0u8; 12];
    getrandom::fill(&mut id).expect("the system's random source works");
    format!(
        "From: <{local}-owner@{domain}>\r\nTo: <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\n\
         Message-ID: <{id}@{domain}>\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}",
        subject = crate::list_copy::header_text(subject),
        date = chrono::Utc::now().to_rfc2822(),
        id = hex(&id),
    )
    .into_bytes()
}

/// Runs futures side by side and gives their outcomes in order (`tokio::join!` for a slice).
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|output| output.expect("every future finished")).collect()
}

/// Sends lists' posts to their members for as long as the server runs: woken by a new post,
/// else every [`ROUND`].
pub async fn run(mail: Mail) {
    loop {
        let held = std::mem::take(&mut *mail.held_notices.lock().expect("no panic holds this lock"));
        for post in held {
            mail.notify_held(&post).await;
        }
        if let Err(error) = mail.fan_out().await {
            tracing::warn!(%error, "sending lists' posts failed; trying again");
        }
        let _ = mail.store.prune_list_requests(chrono::Utc::now().timestamp()).await;
        let _ = tokio::time::timeout(ROUND, mail.lists.notified()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_bound_to_the_list_the_member_and_its_address() {
        let keys = ListKeys::new(vec![7; 32]);
        let member = |id, address: &str| ListMember {
            id,
            address: address.into(),
            member: true,
            owner: false,
            moderator: false,
            bounce_score: 0,
            disabled: false,
        };
        let ana = member(3, "ana@example.org");
        let code = keys.unsubscribe_code(ListId(1), &ana);
        assert_eq!(code.len(), 32);
        assert_ne!(code, keys.unsubscribe_code(ListId(2), &ana));
        assert_ne!(code, keys.unsubscribe_code(ListId(1), &member(3, "bob@example.org")));
        assert_ne!(code, keys.unsubscribe_code(ListId(1), &member(4, "ana@example.org")));
        assert_ne!(code, ListKeys::new(vec![8; 32]).unsubscribe_code(ListId(1), &ana));
        let tag = keys.bounce_tag(ListId(1), &ana);
        assert!(tag.starts_with("3-") && tag.len() == 14, "{tag}");
        assert!(same_code(&tag, &tag.to_uppercase()));
        assert!(!same_code(&tag, &tag[..13]));
    }

    #[test]
    fn only_failure_reports_count_as_bounces() {
        let report = b"Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\
Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822; x@y\r\nAction: failed\r\n--b--\r\n";
        assert!(is_failure_report(report));
        assert!(!is_failure_report(b"Subject: Out of office\r\n\r\nI am away.\r\n"));
        let delayed = String::from_utf8_lossy(report).replace("Action: failed", "Action: delayed");
        assert!(!is_failure_report(delayed.as_bytes()));
    }
}
