//! SMTP sessions over an in-memory duplex stream against a real store in a temp folder:
//! transcripts that check the replies and what ended up stored, without a network.

mod common;

use std::sync::Arc;

use common::*;
use store::{AccountId, parse_address};
use tokio_rustls::rustls;

#[tokio::test]
async fn ehlo_lists_extensions_without_starttls_when_no_tls() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    assert_eq!(
        c.cmd("EHLO mx.remote.test").await,
        "250-mx.example.org greets mx.remote.test\n250-PIPELINING\n250-8BITMIME\n250-SMTPUTF8\n250-SIZE 50000000\n250 ENHANCEDSTATUSCODES"
    );
    assert_code(&c.cmd("STARTTLS").await, "502 5.5.1");
    assert_eq!(c.cmd("HELO old.remote.test").await, "250 mx.example.org greets old.remote.test");
    assert_code(&c.cmd("VRFY ana").await, "252 2.5.0");
    assert_code(&c.cmd("HELP").await, "214 2.0.0");
    assert_code(&c.cmd("NOOP").await, "250 2.0.0");
    assert_code(&c.cmd("EXPN list").await, "502 5.5.1");
    assert_code(&c.cmd("QUIT").await, "221 2.0.0");
    assert!(c.is_closed().await);
}

#[tokio::test]
async fn delivers_once_per_mailbox_with_trace_fields() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    assert_code(&c.cmd("MAIL FROM:<x@remote.test> SIZE=100").await, "250 2.1.0");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
    // A9: plus addressing reaches the same mailbox; it must not get a second copy.
    assert_code(&c.cmd("RCPT TO:<Ana+News@Example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("RCPT TO:<nobody@example.org>").await, "550 5.1.1");
    assert_code(&c.cmd("RCPT TO:<someone@elsewhere.test>").await, "550 5.7.1");
    assert_code(&c.cmd("RCPT TO:<a b@example.org>").await, "501 5.1.3");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: hi\r\n\r\nline one\r\n..dot line\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    let stored = inbox(&world, world.ana).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(without_trace(&stored[0]), b"Subject: hi\r\n\r\nline one\r\n.dot line\r\n");
    let head = String::from_utf8_lossy(&stored[0]).into_owned();
    assert!(
        head.starts_with("Return-Path: <x@remote.test>\r\nReceived: from mx.remote.test ([192.0.2.7])\r\n\tby mx.example.org with ESMTP id "),
        "{head}"
    );
    assert!(inbox(&world, world.bob).await.is_empty());
}

#[tokio::test]
async fn commands_out_of_sequence_get_503() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "503 5.5.1");
    c.cmd("EHLO mx.remote.test").await;
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "503 5.5.1");
    assert_code(&c.cmd("DATA").await, "503 5.5.1");
    assert_code(&c.cmd("MAIL FROM:<>").await, "250 2.1.0");
    assert_code(&c.cmd("MAIL FROM:<>").await, "503 5.5.1");
    assert_code(&c.cmd("DATA").await, "554 5.5.1");
    assert_code(&c.cmd("RSET").await, "250 2.0.0");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "503 5.5.1");
    assert_code(&c.cmd("MAIL FROM:<x@remote.test> SIZE=50000001").await, "552 5.3.4");
    assert_code(&c.cmd("MAIL FROM:<élise@remote.test>").await, "553 5.6.7");
    assert_code(&c.cmd("MAIL FROM:<élise@remote.test> SMTPUTF8").await, "250 2.1.0");
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    // RFC 2920: one write holding a whole transaction up to DATA.
    c.send(b"EHLO mx.remote.test\r\nMAIL FROM:<x@remote.test>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n").await;
    assert_code(&c.reply().await, "250-mx.example.org");
    assert_code(&c.reply().await, "250 2.1.0");
    assert_code(&c.reply().await, "550 5.1.1");
    assert_code(&c.reply().await, "250 2.1.5");
    assert_code(&c.reply().await, "354");
    // The end of data and the next transaction in one write as well.
    c.send(
        b"Subject: pipelined\r\n\r\nbody\r\n.\r\nMAIL FROM:<y@remote.test>\r\nRCPT TO:<ana@example.org>\r\nQUIT\r\n",
    )
    .await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_code(&c.reply().await, "250 2.1.0");
    assert_code(&c.reply().await, "250 2.1.5");
    assert_code(&c.reply().await, "221 2.0.0");
    assert_eq!(inbox(&world, world.bob).await.len(), 1);
    assert!(inbox(&world, world.ana).await.is_empty(), "QUIT without DATA delivers nothing");
}

#[tokio::test]
async fn smuggled_commands_inside_data_are_never_executed() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    for shape in [&b"\n.\n"[..], b"\n.\r\n", b"\r\n.\n", b"\r.\r", b"\r.\r\n"] {
        assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "250");
        assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250");
        assert_code(&c.cmd("DATA").await, "354");
        let mut data = b"Subject: one\r\n\r\nfirst".to_vec();
        data.extend_from_slice(shape);
        data.extend_from_slice(b"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n");
        c.send(&data).await;
        // One reply only: the message (with everything smuggled in it) is refused as a whole.
        assert_code(&c.reply().await, "550 5.6.0");
        assert_code(&c.cmd("NOOP").await, "250 2.0.0");
    }
    assert!(inbox(&world, world.ana).await.is_empty());
    assert!(inbox(&world, world.bob).await.is_empty());
}

#[tokio::test]
async fn long_command_lines_are_refused_and_the_session_goes_on() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    let long = format!("MAIL FROM:<{}@remote.test>", "x".repeat(10_000));
    assert_eq!(c.cmd(&long).await, "500 5.5.6 Line too long");
    assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "250 2.1.0");
    c.send(b"NOOP\n").await;
    assert_code(&c.reply().await, "500 5.5.2");
}

#[tokio::test]
async fn too_many_bad_commands_close_the_connection() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    for _ in 0..19 {
        assert_code(&c.cmd("BOGUS").await, "500 5.5.2");
    }
    assert_code(&c.cmd("BOGUS").await, "500 5.5.2");
    assert_code(&c.reply().await, "421 4.7.0");
    assert!(c.is_closed().await);
}

#[tokio::test]
async fn the_101st_recipient_is_deferred() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    c.cmd("MAIL FROM:<x@remote.test>").await;
    let mut batch = String::new();
    for n in 0..101 {
        batch.push_str(&format!("RCPT TO:<ana+{n}@example.org>\r\n"));
    }
    c.send(batch.as_bytes()).await;
    for _ in 0..100 {
        assert_code(&c.reply().await, "250 2.1.5");
    }
    assert_code(&c.reply().await, "452 4.5.3");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: many\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.ana).await.len(), 1, "a hundred recipients, one mailbox, one copy");
}

#[tokio::test]
async fn aliases_reach_every_target_once_and_postmaster_reaches_the_admin() {
    let world = world().await;
    let team = parse_address("team@example.org").expect("address");
    let targets = [parse_address("ana@example.org").expect("a"), parse_address("bob@example.org").expect("b")];
    world.store.add_alias(&team, &targets).await.expect("alias");
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    c.cmd("MAIL FROM:<x@remote.test>").await;
    assert_code(&c.cmd("RCPT TO:<team@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("RCPT TO:<bob@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("RCPT TO:<postmaster>").await, "250 2.1.5");
    c.cmd("DATA").await;
    c.send(b"Subject: team\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.ana).await.len(), 1);
    assert_eq!(inbox(&world, world.bob).await.len(), 1);
}

/// A3: an alias's external targets get the message through the outbound queue, in the same
/// transaction as its local copies, under an SRS sender at the alias's domain (so SPF passes
/// at the next server); a bounce to that address goes back to the original sender, and a
/// forged one is refused.
#[tokio::test]
async fn an_alias_forwards_outside_through_the_queue_under_an_srs_sender() {
    let world = world().await;
    let mixed = parse_address("mixed@example.org").expect("address");
    let targets = [parse_address("ana@example.org").expect("a"), parse_address("Friend@Elsewhere.test").expect("f")];
    world.store.add_alias(&mixed, &targets).await.expect("alias");
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    c.cmd("MAIL FROM:<x@remote.test>").await;
    assert_code(&c.cmd("RCPT TO:<mixed@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("RCPT TO:<bob@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: mixed\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.ana).await.len(), 1);
    assert_eq!(inbox(&world, world.bob).await.len(), 1);
    let queued = world.store.list_outbound().await.expect("queue");
    assert_eq!(queued.len(), 1);
    let recipients: Vec<&str> = queued[0].recipients.iter().map(|r| r.address.as_str()).collect();
    assert_eq!(recipients, ["friend@elsewhere.test"]);
    let srs = &queued[0].sender;
    assert!(srs.starts_with("SRS0=") && srs.ends_with("=remote.test=x@example.org"), "{srs}");

    // The next server bounces it: the bounce is taken for the original sender, who is not
    // ours, so it is queued again, from the null sender, to x@remote.test.
    c.cmd("MAIL FROM:<>").await;
    assert_code(&c.cmd(&format!("RCPT TO:<{srs}>")).await, "250 2.1.5");
    let forged = srs.replacen("SRS0=", "SRS0=x", 1);
    assert_code(&c.cmd(&format!("RCPT TO:<{forged}>")).await, "550 5.1.1");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: Undelivered Mail\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    let queued = world.store.list_outbound().await.expect("queue");
    let bounce = queued.iter().find(|m| m.sender.is_empty()).expect("the bounce is queued");
    assert_eq!(bounce.recipients[0].address, "x@remote.test");

    // From outside, a sender claiming one of our domains is wrapped too (nothing from outside
    // leaves under a sender of ours), and a bounce to it comes home to the mailbox.
    c.cmd("MAIL FROM:<bob@example.org>").await;
    assert_code(&c.cmd("RCPT TO:<mixed@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: claims to be bob\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    let queued = world.store.list_outbound().await.expect("queue");
    let wrapped = queued.iter().map(|m| m.sender.clone()).find(|s| s.ends_with("=example.org=bob@example.org"));
    let wrapped = wrapped.expect("bob's address wrapped with SRS");
    c.cmd("MAIL FROM:<>").await;
    assert_code(&c.cmd(&format!("RCPT TO:<{wrapped}>")).await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: Undelivered, for bob\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.bob).await.len(), 2, "the bounce is in bob's Inbox");
}

/// One message to bob from x@remote.test with `header` before its Subject: the reply to its data.
async fn to_bob_with_header(c: &mut Client<tokio::io::DuplexStream>, header: &str) -> String {
    c.cmd("MAIL FROM:<x@remote.test>").await;
    assert_code(&c.cmd("RCPT TO:<bob@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(header.as_bytes()).await;
    c.send(b"Subject: test\r\n\r\n.\r\n").await;
    c.reply().await
}

/// RFC 5321 §6.3: a message that went through more than 100 servers is in a loop.
#[tokio::test]
async fn a_message_in_a_loop_is_refused() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    let hop = "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\r\n";
    // With ours, 101 Received: fields.
    let reply = to_bob_with_header(&mut c, &hop.repeat(100)).await;
    assert_eq!(reply, "554 5.4.6 Too many hops: mail loop detected");
    assert!(inbox(&world, world.bob).await.is_empty());
    assert_code(&to_bob_with_header(&mut c, &hop.repeat(99)).await, "250 2.0.0");
}

/// Every reader of a message (the sender checks, the store's parser) works on its header
/// section: more than 1,000 fields (or 1 MiB) is refused.
#[tokio::test]
async fn an_oversized_header_section_is_refused() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    let reply = to_bob_with_header(&mut c, &"X-Filler: y\r\n".repeat(1000)).await;
    assert_eq!(reply, "552 5.3.4 Header section too large");
    assert!(inbox(&world, world.bob).await.is_empty());
}

/// A mailbox with a 1 MB quota (A10) and only `room` bytes left in it.
async fn nearly_full_mailbox(world: &World, address: &str, room: usize) -> AccountId {
    let quota_bytes = 1024 * 1024;
    let account =
        world.store.add_user(&parse_address(address).expect("address"), "correct horse", Some(1)).await.expect("user");
    let mut filler = b"Subject: filler\r\n\r\n".to_vec();
    filler.resize(quota_bytes - room, b'f');
    let delivery = world.store.deliver(&[account.id], filler).await.expect("filler");
    assert!(delivery.over_quota.is_empty());
    account.id
}

/// Finding 1a: a full mailbox is refused at RCPT, for that recipient only, using the size the
/// client announced (RFC 1870), so no 250 is ever given for a copy that cannot be stored.
#[tokio::test]
async fn a_full_mailbox_is_deferred_at_rcpt_and_the_others_get_the_message() {
    let world = world().await;
    let carol = nearly_full_mailbox(&world, "carol@example.org", 5_000).await;
    let team = parse_address("team@example.org").expect("address");
    let targets = [parse_address("bob@example.org").expect("b"), parse_address("carol@example.org").expect("c")];
    world.store.add_alias(&team, &targets).await.expect("alias");
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    assert_code(&c.cmd("MAIL FROM:<x@remote.test> SIZE=20000").await, "250 2.1.0");
    assert_eq!(c.cmd("RCPT TO:<carol@example.org>").await, "452 4.2.2 Mailbox full");
    // An alias is refused when any mailbox it reaches is full.
    assert_code(&c.cmd("RCPT TO:<team@example.org>").await, "452 4.2.2");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: big\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.ana).await.len(), 1);
    assert!(inbox(&world, world.bob).await.is_empty());
    assert_eq!(inbox(&world, carol).await.len(), 1, "only the filler");
    // A message announced small enough still reaches carol.
    assert_code(&c.cmd("MAIL FROM:<x@remote.test> SIZE=1000").await, "250 2.1.0");
    assert_code(&c.cmd("RCPT TO:<carol@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: small\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, carol).await.len(), 2);
}

/// Finding 1a: without SIZE, RCPT can only see an already full mailbox; at DATA the real size
/// is checked before storing, and a mailbox without room defers the whole message (one reply
/// covers every recipient), so nothing is stored and the sender retries.
#[tokio::test]
async fn a_message_too_big_for_a_mailbox_is_deferred_whole_at_data() {
    let world = world().await;
    let carol = nearly_full_mailbox(&world, "carol@example.org", 5_000).await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "250 2.1.0");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("RCPT TO:<carol@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    let mut data = b"Subject: too big for carol\r\n\r\n".to_vec();
    for _ in 0..100 {
        data.extend_from_slice(&[b'x'; 98]);
        data.extend_from_slice(b"\r\n");
    }
    data.extend_from_slice(b".\r\n");
    c.send(&data).await;
    assert_eq!(c.reply().await, "452 4.2.2 Mailbox full");
    assert!(inbox(&world, world.ana).await.is_empty(), "nothing stored for anyone");
    assert_eq!(inbox(&world, carol).await.len(), 1, "only the filler");
    // The transaction is over; a message that fits goes through on the same connection.
    assert_code(&c.cmd("RCPT TO:<carol@example.org>").await, "503 5.5.1");
    assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "250 2.1.0");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("RCPT TO:<carol@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    c.send(b"Subject: fits\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    assert_eq!(inbox(&world, world.ana).await.len(), 1);
    assert_eq!(inbox(&world, carol).await.len(), 2);
}

#[tokio::test]
async fn oversized_data_is_refused_and_the_next_message_works() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    c.cmd("MAIL FROM:<x@remote.test>").await;
    c.cmd("RCPT TO:<ana@example.org>").await;
    assert_code(&c.cmd("DATA").await, "354");
    let line = [b'a'; 998];
    let mut chunk = Vec::new();
    for _ in 0..1000 {
        chunk.extend_from_slice(&line);
        chunk.extend_from_slice(b"\r\n");
    }
    // 51 MB in 1 MB writes: the server must keep reading (the duplex buffer is small).
    for _ in 0..51 {
        c.send(&chunk).await;
    }
    c.send(b".\r\n").await;
    assert_code(&c.reply().await, "552 5.3.4");
    c.cmd("MAIL FROM:<x@remote.test>").await;
    c.cmd("RCPT TO:<ana@example.org>").await;
    c.cmd("DATA").await;
    c.send(b"Subject: small\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    let stored = inbox(&world, world.ana).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(without_trace(&stored[0]), b"Subject: small\r\n\r\n");
}

#[tokio::test]
async fn starttls_drops_pipelined_plaintext_and_forgets_the_session() {
    let world = world().await;
    let certified = rcgen::generate_simple_self_signed(vec!["mx.example.org".to_string()]).expect("certificate");
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    let server_config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key.into())
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let mut c = connect(services(&world, Some(acceptor))).await;
    let ehlo = c.cmd("EHLO mx.remote.test").await;
    assert!(ehlo.ends_with("\n250 STARTTLS"), "{ehlo}");
    // CVE-2011-0411: commands injected after STARTTLS in the same packet.
    c.send(b"STARTTLS\r\nEHLO evil.test\r\nMAIL FROM:<evil@remote.test>\r\n").await;
    assert_code(&c.reply().await, "220 2.0.0");
    let Client { reader, writer } = c;
    let plain = reader.into_inner().unsplit(writer);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).expect("root");
    let client_config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let name = rustls::pki_types::ServerName::try_from("mx.example.org").expect("name");
    let tls = connector.connect(name, plain).await.expect("TLS handshake");
    let mut c = Client::new(tls);
    // RFC 3207 §4.2: no EHLO yet after TLS, so MAIL is out of sequence; had the injected
    // commands run, this would be "503 nested MAIL" after two extra replies.
    assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "503 5.5.1");
    let ehlo = c.cmd("EHLO mx.remote.test").await;
    assert!(ehlo.starts_with("250-mx.example.org greets mx.remote.test"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    c.cmd("MAIL FROM:<x@remote.test>").await;
    c.cmd("RCPT TO:<bob@example.org>").await;
    c.cmd("DATA").await;
    c.send(b"Subject: secret\r\n\r\n.\r\n").await;
    assert_code(&c.reply().await, "250 2.0.0");
    let stored = inbox(&world, world.bob).await;
    assert!(String::from_utf8_lossy(&stored[0]).contains(" with ESMTPS id "));
}

/// Issue 12: the command timer restarted at every read, so a line trickled a byte every four
/// minutes held its connection for ever. It now counts from the line's first byte.
#[tokio::test]
async fn a_command_line_trickling_past_the_command_timeout_is_cut_off() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    tokio::time::pause();
    let start = tokio::time::Instant::now();
    // A byte every 90 s, each well within the 5-minute timeout; the old timer would have
    // ended the session only at 180 + 300 s.
    c.send(b"N").await;
    for byte in b"OO" {
        tokio::time::sleep(std::time::Duration::from_secs(90)).await;
        c.send(&[*byte]).await;
    }
    assert_code(&c.reply().await, "421 4.4.2");
    assert_eq!(start.elapsed().as_secs(), 5 * 60);
    tokio::time::resume();
}

#[tokio::test]
async fn a_data_phase_trickling_past_the_total_deadline_is_cut_off() {
    let world = world().await;
    let mut c = connect(services(&world, None)).await;
    c.cmd("EHLO mx.remote.test").await;
    assert_code(&c.cmd("MAIL FROM:<x@remote.test>").await, "250 2.1.0");
    assert_code(&c.cmd("RCPT TO:<ana@example.org>").await, "250 2.1.5");
    assert_code(&c.cmd("DATA").await, "354");
    // From here on the session only reads: virtual time can jump without starving the store.
    tokio::time::pause();
    c.send(b"Subject: slow\r\n\r\n").await;
    // One line every two minutes, each read well within its own 3-minute timeout, for 14
    // minutes; the reply comes when the 15 minutes are up, before the next line is due.
    let start = tokio::time::Instant::now();
    for _ in 0..7 {
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
        c.send(b"x\r\n").await;
    }
    assert_code(&c.reply().await, "421 4.4.2");
    assert_eq!(start.elapsed().as_secs(), 15 * 60);
    tokio::time::resume();
    assert!(inbox(&world, world.ana).await.is_empty(), "nothing was stored");
}
