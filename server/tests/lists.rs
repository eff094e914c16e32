//! Mailing lists (issue 18, A7, A8) over real SMTP, IMAP and HTTP: a post's fan-out to members
//! here and elsewhere with the RFC 2369/2919 fields, the DMARC-safe `From:` and a VERP sender
//! per member; a member's bounce counted; one-click unsubscribe by POST and never by GET;
//! posts held for a moderator; distribution lists that take their owners' posts alone;
//! subscriptions confirmed from a mailed link, and approved on a moderated list.

mod common;

use common::imap::*;
use common::peer::*;
use common::*;

/// An HTTP request with urllib: prints the status, then the body.
const HTTP: &str = r#"
import sys, urllib.request, urllib.error
method, url, body = sys.argv[1:4]
data = body.encode() if method == "POST" else None
request = urllib.request.Request(url, data=data, method=method, headers={
    "Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "en"})
try:
    with urllib.request.urlopen(request, timeout=30) as response:
        print(response.status)
        print(response.read().decode())
except urllib.error.HTTPError as error:
    print(error.code)
    print(error.read().decode())
"#;

fn http(method: &str, url: &str, body: &str) -> (u16, String) {
    let out = python(HTTP, &[method.to_string(), url.to_string(), body.to_string()]);
    let (status, page) = out.split_once('\n').expect("a status line");
    (status.trim().parse().expect("a status"), page.to_string())
}

/// The link a field or a text gives after `marker`, up to its end (`>` or a line end).
fn link_after(text: &str, marker: &str) -> String {
    let start = text.find(marker).unwrap_or_else(|| panic!("no {marker} in {text}")) + marker.len();
    text[start..].split(['>', '\r', '\n']).next().expect("a link").to_string()
}

/// Every message of a mailbox's Inbox, whole.
fn inbox(srv: &TestServer, user: &str) -> Vec<String> {
    let n = inbox_count(srv, user);
    let mut imap = Imap::login(srv, user);
    imap.ok("EXAMINE INBOX");
    (1..=n)
        .map(|i| {
            let (_, untagged) = imap.cmd(&format!("FETCH {i} BODY.PEEK[]"));
            String::from_utf8_lossy(&first_literal(&untagged[0])).into_owned()
        })
        .collect()
}

fn show(srv: &TestServer, list: &str) -> String {
    srv.admin_ok(&["list", "show", list])
}

#[test]
fn a_post_reaches_every_member_with_the_lists_fields_and_one_click_unsubscribe() {
    let (srv, peer) = server_and_peer(&[]);
    srv.admin_ok(&["list", "create", "club@example.org", "--kind", "discussion", "--name", "Le Club"]);
    for member in ["ana@example.org", "zoe@example.net", "reject-x@example.net", "jo@sender.test"] {
        srv.admin_ok(&["list", "add", "club@example.org", member]);
    }
    // A member on another server writes to the list through the MX.
    send_to_mx(
        &srv,
        "jo@sender.test",
        &["club@example.org"],
        "From: Jo Martin <jo@sender.test>\r\nTo: club@example.org\r\nSubject: Sortie samedi\r\n\
         Message-ID: <1@sender.test>\r\n\r\nQui vient ?\r\n",
    );
    wait_for("the copies for zoe and jo", &srv, || peer.messages().len() >= 2);
    let messages = peer.messages();
    let copy_for = |to: &str| {
        let found = messages.iter().find(|m| m["rcpt_tos"] == serde_json::json!([to]));
        found.unwrap_or_else(|| panic!("no copy for {to}: {messages:?}")).clone()
    };
    let zoe = copy_for("zoe@example.net");
    // VERP: each copy leaves from a bounce address that names its member.
    let verp = zoe["mail_from"].as_str().expect("a sender");
    assert!(verp.starts_with("club-bounces+") && verp.ends_with("@example.org"), "{verp}");
    assert_ne!(copy_for("jo@sender.test")["mail_from"], zoe["mail_from"]);
    let data = zoe["data"].as_str().expect("data");
    assert!(data.contains("List-Id: \"Le Club\" <club.example.org>\r\n"), "{data}");
    assert!(data.contains("List-Post: <mailto:club@example.org>\r\n"), "{data}");
    assert!(data.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), "{data}");
    assert!(data.contains("Precedence: list\r\n"), "{data}");
    // DMARC: the author's domain is not ours, so the list writes in its own name.
    assert!(data.contains("From: \"Jo Martin via Le Club\" <club@example.org>\r\n"), "{data}");
    assert!(data.contains("X-Original-From: \"Jo Martin\" <jo@sender.test>\r\n"), "{data}");
    assert!(data.contains("Reply-To: club@example.org\r\n"), "{data}");
    assert!(data.starts_with("DKIM-Signature:") && data.contains("d=example.org;"), "signed as the list: {data}");
    assert!(data.contains("Subject: Sortie samedi\r\n") && data.ends_with("\r\n\r\nQui vient ?\r\n"), "{data}");
    let url = link_after(data, "List-Unsubscribe: <");
    assert!(url.starts_with(&format!("http://{}/lists/unsubscribe/", srv.http)), "{url}");
    let jo_url = link_after(copy_for("jo@sender.test")["data"].as_str().expect("data"), "List-Unsubscribe: <");
    assert_ne!(url, jo_url, "each member's own link");

    // The member here has it in the Inbox, with the same fields.
    wait_for("ana's copy", &srv, || inbox_count(&srv, "ana@example.org") == 1);
    let ana = &inbox(&srv, "ana@example.org")[0];
    assert!(ana.contains("List-Id: \"Le Club\" <club.example.org>\r\n"), "{ana}");
    assert!(ana.contains("From: \"Jo Martin via Le Club\" <club@example.org>\r\n"), "{ana}");

    // reject-x's server refused its copy: the report came back to its VERP address and counts.
    wait_for("the bounce to be counted", &srv, || {
        show(&srv, "club@example.org").contains("reject-x@example.net\tmember\t1 bounce(s)")
    });

    // A copy sent back to the list (a member forwarding to it) is a loop.
    let looped = send_to_mx_reply(&srv, "zoe@example.net", &["club@example.org"], data);
    assert!(looped.contains("data refused: 554"), "{looped}");

    // Following the link shows a button and changes nothing; POST (RFC 8058) unsubscribes.
    let (status, page) = http("GET", &url, "");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<html lang=\"en\">") && page.contains("<title>"), "{page}");
    assert!(page.contains("<form method=\"post\">") && page.contains("zoe@example.net"), "{page}");
    assert!(show(&srv, "club@example.org").contains("zoe@example.net\tmember"));
    let forged = format!("{}0", &url[..url.len() - 1]);
    let forged = if forged == url { format!("{}1", &url[..url.len() - 1]) } else { forged };
    assert_eq!(http("POST", &forged, "List-Unsubscribe=One-Click").0, 404);
    let (status, page) = http("POST", &url, "List-Unsubscribe=One-Click");
    assert_eq!(status, 200, "{page}");
    assert!(!show(&srv, "club@example.org").contains("zoe@example.net"));
}

#[test]
fn non_members_posts_wait_for_a_moderator_and_distribution_lists_take_their_owners_posts() {
    let srv = TestServer::start();
    srv.admin_ok(&["list", "create", "club@example.org", "--kind", "discussion"]);
    srv.admin_ok(&["list", "add", "club@example.org", "ana@example.org", "--owner", "--no-receive"]);
    srv.admin_ok(&["list", "add", "club@example.org", "bob@example.org"]);
    send_to_mx(
        &srv,
        "stranger@sender.test",
        &["club@example.org"],
        "From: stranger@sender.test\r\nSubject: Offre spéciale\r\n\r\nAchetez.\r\n",
    );
    // Held: the owner is told, the members get nothing yet.
    wait_for("the owner's notice", &srv, || inbox_count(&srv, "ana@example.org") == 1);
    let notice = &inbox(&srv, "ana@example.org")[0];
    assert!(notice.contains("waits for your approval") && notice.contains("stranger@sender.test"), "{notice}");
    assert!(notice.contains("/admin/list?id="), "{notice}");
    // Its notices come from club-owner@, which reaches the list's owners.
    assert!(notice.contains("From: <club-owner@example.org>"), "{notice}");
    send_to_mx(&srv, "stranger@sender.test", &["club-owner@example.org"], "Subject: About the list\r\n\r\nHi\r\n");
    wait_for("the owners' mail", &srv, || inbox_count(&srv, "ana@example.org") == 2);
    let listed = show(&srv, "club@example.org");
    let post = link_after(&listed, "held post ").split('\t').next().expect("an id").to_string();
    assert_eq!(inbox_count(&srv, "bob@example.org"), 0);
    srv.admin_ok(&["list", "approve", "club@example.org", &post]);
    wait_for("bob's copy of the approved post", &srv, || inbox_count(&srv, "bob@example.org") == 1);
    assert!(!show(&srv, "club@example.org").contains("held post"));

    // A member's post goes at once; an author of ours keeps their From:.
    submit(&srv, "bob@example.org", &["club@example.org"], "From: bob@example.org\r\nSubject: Hello all\r\n\r\nHi\r\n");
    wait_for("bob's own post", &srv, || inbox_count(&srv, "bob@example.org") == 2);
    let own = &inbox(&srv, "bob@example.org")[1];
    assert!(own.contains("\r\nFrom: bob@example.org\r\n") && own.contains("Subject: Hello all"), "{own}");

    // A distribution list: its owners post, members receive and cannot answer the list.
    srv.admin_ok(&["list", "create", "news@example.org", "--kind", "distribution", "--name", "News"]);
    srv.admin_ok(&["list", "add", "news@example.org", "ana@example.org", "--owner", "--no-receive"]);
    srv.admin_ok(&["list", "add", "news@example.org", "bob@example.org"]);
    let refused = submit_reply(&srv, "bob@example.org", &["news@example.org"], "From: bob@example.org\r\n\r\nx\r\n");
    assert!(refused.contains("all refused") && refused.contains("550"), "{refused}");
    let refused =
        send_to_mx_reply(&srv, "ana@example.org", &["news@example.org"], "From: ana@example.org\r\n\r\nx\r\n");
    assert!(refused.contains("all refused"), "our owner's address from outside is not the owner: {refused}");
    submit(
        &srv,
        "ana@example.org",
        &["news@example.org"],
        "From: ana@example.org\r\nSubject: Lettre n°1\r\n\r\nNews\r\n",
    );
    wait_for("bob's newsletter", &srv, || inbox_count(&srv, "bob@example.org") == 3);
    let news = &inbox(&srv, "bob@example.org")[2];
    assert!(news.contains("List-Post: NO\r\n") && news.contains("List-Id: \"News\" <news.example.org>"), "{news}");
}

#[test]
fn a_subscription_is_confirmed_by_a_post_from_the_mailed_link_and_approved_when_moderated() {
    let srv = TestServer::start();
    srv.admin_ok(&["list", "create", "club@example.org", "--kind", "discussion", "--name", "Le Club"]);
    let page = link_after(&show(&srv, "club@example.org"), "\tpage ");
    let list_url = format!("http://{}{page}", srv.http);
    let (status, form) = http("GET", &list_url, "");
    assert!(status == 200 && form.contains("name=\"address\""), "{form}");

    let (status, answer) = http("POST", &list_url, "address=bob%40example.org");
    assert!(status == 200 && answer.contains("We sent a link"), "{answer}");
    wait_for("the confirmation mail", &srv, || inbox_count(&srv, "bob@example.org") == 1);
    let mail = &inbox(&srv, "bob@example.org")[0];
    let link = format!("http://{}/lists/confirm/{}", srv.http, link_after(mail, "/lists/confirm/"));
    // Opening the link (a link scanner, a preview) confirms nothing.
    let (status, page) = http("GET", &link, "");
    assert!(status == 200 && page.contains("<form method=\"post\""), "{page}");
    assert!(!show(&srv, "club@example.org").contains("bob@example.org"));
    let (status, page) = http("POST", &link, "");
    assert!(status == 200 && page.contains("you are a member"), "{page}");
    assert!(show(&srv, "club@example.org").contains("bob@example.org\tmember"));
    assert_eq!(http("POST", &link, "").0, 404, "a link works once");

    // Moderated: confirmed, then a moderator lets the address in.
    srv.admin_ok(&["list", "set", "club@example.org", "--subscription", "moderated"]);
    http("POST", &list_url, "address=ana%40example.org");
    wait_for("ana's confirmation mail", &srv, || inbox_count(&srv, "ana@example.org") == 1);
    let mail = &inbox(&srv, "ana@example.org")[0];
    let link = format!("http://{}/lists/confirm/{}", srv.http, link_after(mail, "/lists/confirm/"));
    let (_, page) = http("POST", &link, "");
    assert!(page.contains("A moderator will approve"), "{page}");
    assert!(show(&srv, "club@example.org").contains("subscription waiting for a moderator\tana@example.org"));
    srv.admin_ok(&["list", "accept", "club@example.org", "ana@example.org"]);
    assert!(show(&srv, "club@example.org").contains("ana@example.org\tmember"));

    // A distribution list has no subscription form.
    srv.admin_ok(&["list", "create", "news@example.org", "--kind", "distribution"]);
    let page = link_after(&show(&srv, "news@example.org"), "\tpage ");
    let url = format!("http://{}{page}", srv.http);
    assert_eq!(http("POST", &url, "address=bob%40example.org").0, 404);
}

/// Once the MX said `250`, a post reaches each member exactly once, even when the server is
/// killed (SIGKILL) while it stores the copies: each copy is recorded in the transaction that
/// stores it, so the restarted server goes on where it stopped. (The kill comes right after the
/// `250`, while 301 copies are being written; wherever it lands, the count must be exact.)
#[test]
fn a_post_killed_mid_fan_out_reaches_each_member_exactly_once() {
    let mut srv = TestServer::start();
    srv.admin_ok(&["list", "create", "big@example.org", "--kind", "discussion"]);
    let members: Vec<String> = (0..300).map(|n| format!("m{n:03}@elsewhere.test")).collect();
    let mut add = vec!["list", "add", "big@example.org", "jo@sender.test"];
    add.extend(members.iter().map(String::as_str));
    srv.admin_ok(&add);
    send_to_mx(&srv, "jo@sender.test", &["big@example.org"], "From: jo@sender.test\r\nSubject: Big\r\n\r\nHi\r\n");
    srv.kill();
    // The relay is a closed port: every copy stays in the queue, where it can be counted.
    let queued = |srv: &TestServer| -> Vec<String> {
        srv.admin_ok(&["queue", "list"])
            .lines()
            .filter_map(|line| line.strip_prefix("\tto "))
            .map(|line| line.split('\t').next().unwrap_or_default().to_string())
            .collect()
    };
    eprintln!("copies stored when the server was killed: {}", queued(&srv).len());
    srv.restart();
    wait_for("every copy to be queued", &srv, || queued(&srv).len() >= 301);
    std::thread::sleep(std::time::Duration::from_secs(6));
    let mut copies = queued(&srv);
    assert_eq!(copies.len(), 301, "one copy per member, none twice");
    copies.sort();
    copies.dedup();
    assert_eq!(copies.len(), 301);
}
