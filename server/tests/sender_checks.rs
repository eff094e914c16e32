//! Sender checks on the MX (issue 14, F7): SPF, DKIM and DMARC answered by a stub name server
//! on loopback (`peers/dns_stub.py`, never the internet), messages signed by an independent
//! signer (dkimpy) and sent by Python's smtplib as another server would.

mod common;

use common::dns::Dns;
use common::imap::*;
use common::*;

/// A DKIM key of the test domain good.test (made for these tests with `openssl genrsa`; it
/// signs nothing else).
const GOOD_TEST_KEY: &str = r"-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEAvUNISeAaeMgPkjdriHE4RmrLRZtuVkbMSyrKsNZwqZXaNCWF
gfkHPGgLhBe2d+YVNWdIWI4CNBmNfAiIIfkxS0T0fMG3TgaKEGrR2rSyKH1Q+c4Y
nBM5BbYfHJeDXOc508rvBloe7aMESwLZmM7ZRcTha+Mt+S+gkJ0OL/i2SnVoQty2
P/3uxrfEool12CG5MTylM0i+aAWMrMesN1+kbgwR9NFsM+tZH+f7iPhAkwJ43V1b
jy+FyFJu6lcJBnMsAanKUoSr6Lxynr8m50ybLLIF4uiXfcsW9WMConH7dF4P4d7N
yey2wS2TyFnjUyn29t3Qlis9e3LDu7XDeH6hzQIDAQABAoIBAA2heuNXMJDiV7zA
IQ6CmPr5Vgp9V0T/dFc1jcOOri6IjF6VFTh3Jv5CwBGTY6DfAUgHWD6Ie8Ak1vvH
4YYQ3Gv/W1xg10LXVbo490Q5H1urKtnS7hLPj5vJshPtFZjrTk7inrRmaTPUOcrt
OZ63xw4vT8zlX7pCo93Gce8iin5yNjhc7FP6ddQaVwFllnXEDbwd9zN1BPFLKYfa
mgJI4lz0Di40ZS/tKR5/Y32jVt+rF6yI10XZxig5UmHmGPUi2Kc6FaZysdvUvgAW
tU3UfV0ajdj++m/WUO0RfG7j1BKEsNJfxgN0Mez3Jyj5PBH/4Ww2yV7bR8dK1OEJ
onc/cgECgYEA/en/VG2SY1u8O0dNKqAxiGw31gqtNJIU7eG50hOQyVslgg+bCOMx
rjOaqK72RKSarzuNJbmvlx4uI7MMm4fOdnowmFrhVoPuSVcbYx8zLyPWkiSGDY2S
jvGFUyd2HfK4l0hv/s0xS/o9r34JzNoe0YZ0YC/hB+9y5rtiiJ3vd9UCgYEAvtFR
aZVOYBsi2kruokALxSdQIKeCyNerei6gaKCdI6byG3zv6Zbjsvf9YOXJVSa0n5Bt
8VlZGRQKjW2AgpSQ3qMYK90mycIrWZ1L0yfkv0Gzzqt3LgQjqaz0mcPdVOsK0neO
dkwEBS6UjKLOgzS1DHwdo0sizGdpEwdZHU0BNhkCgYEA84rZyJVAb+Sxavo83cHB
QOTruXWMJHxpbrGvlfwGR9wQ4est/RxNrpT4pwsKU1S+uY0ZGTI9ZWkhQESgtx1P
vvv8WGXy9RSeHeJa9nwakACD8rDtk1pTVJ/8DYIwHRGOVCy6n18ZBZMET6tIoyAj
pzybqxbBdOcLApyBKiCya/ECgYAlpCTrLwjG7JNzfFSWrQulWJv11RV3iRPKhmge
O5DD96rKwVqSObGxHDpfYvTUV05KK7OEaJuq1sk+HNu85pGtWX7rKDT+l871XpIW
lUgKcmuF2U0pRqfCUNvveTOwDK2V1v/DVjt0yjuDgpo6R6tvSwyNqcSzjbKsjkaG
ASq8AQKBgQDCA7/ofnUCSPDhas7lbbCFley5EHPlaRkysrinbpsoP2uBFjuu4DGU
T9CxGCdQuOWhX02c2J4hPfy8iYCjHouDamrK5FT7ldIGqj1TEx9SmwIrblzUS1TA
qBocgpfJEPNIxLkRI8K/AQCOI08o8OclaH3+cwMmboayiOXOuQ2bNQ==
-----END RSA PRIVATE KEY-----";

/// The zone the stub serves: good.test authenticates everything, strict.test and lax.test
/// nothing, with DMARC policies reject, reject and none.
const ZONE: &str = r#"
good.test. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.good.test. 300 IN TXT "v=DMARC1; p=reject"
sel._domainkey.good.test. 300 IN TXT "v=DKIM1; k=rsa; p=" "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAvUNISeAaeMgPkjdriHE4RmrLRZtuVkbMSyrKsNZwqZXaNCWFgfkHPGgLhBe2d+YVNWdIWI4CNBmNfAiIIfkxS0T0fMG3TgaKEGrR2rSyKH1Q+c4YnBM5BbYfHJeDXOc508rvBloe7aMESwLZmM7ZRcTha+Mt" "+S+gkJ0OL/i2SnVoQty2P/3uxrfEool12CG5MTylM0i+aAWMrMesN1+kbgwR9NFsM+tZH+f7iPhAkwJ43V1bjy+FyFJu6lcJBnMsAanKUoSr6Lxynr8m50ybLLIF4uiXfcsW9WMConH7dF4P4d7Nyey2wS2TyFnjUyn29t3Qlis9e3LDu7XDeH6hzQIDAQAB"
strict.test. 300 IN TXT "v=spf1 -all"
_dmarc.strict.test. 300 IN TXT "v=DMARC1; p=reject"
lax.test. 300 IN TXT "v=spf1 -all"
_dmarc.lax.test. 300 IN TXT "v=DMARC1; p=none"
"#;

/// Sends a message to the MX as another server would, DKIM-signed by dkimpy when a key is
/// given: argv is the port, the envelope sender, the recipient, the message and the key
/// (PEM, or "-" for none). Prints the server's reply to the end of the data, 250 or not.
const SEND: &str = r#"
import dkim, smtplib, sys
port, sender, recipient, message, key = sys.argv[1:6]
message = message.encode()
if key != "-":
    signature = dkim.sign(message, b"sel", b"good.test", key.encode(),
                          include_headers=[b"From", b"To", b"Subject", b"Date"])
    message = signature + message
with smtplib.SMTP("127.0.0.1", int(port), timeout=60) as s:
    s.ehlo("mx.good.test")
    s.mail(sender)
    s.rcpt(recipient)
    print("reply:", s.data(message))
"#;

fn send(srv: &TestServer, sender: &str, message: &str, key: Option<&str>) -> String {
    let args = [
        srv.smtp.port().to_string(),
        sender.into(),
        "ana@example.org".into(),
        message.into(),
        key.unwrap_or("-").into(),
    ];
    python(SEND, &args)
}

fn server_with_checks(dns: &Dns) -> TestServer {
    TestServer::start_with_env(&[("FACTEUR_SENDER_CHECKS", "true"), ("FACTEUR_DNS_SERVER", &dns.address())])
}

/// The last message in ana's Inbox, whole.
fn last_message(srv: &TestServer) -> String {
    let mut imap = Imap::login(srv, "ana@example.org");
    imap.ok("SELECT INBOX");
    imap.ok("FETCH * BODY.PEEK[]").join("\n")
}

#[test]
fn authenticated_mail_is_marked_pass_and_forged_results_are_removed() {
    let dns = Dns::start(ZONE);
    let srv = server_with_checks(&dns);
    let arc = "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=relay.test; s=arc; t=1700000000;\r\n\tb=AAAA\r\n\
               ARC-Message-Signature: i=1; a=rsa-sha256; c=relaxed/relaxed; d=relay.test; s=arc;\r\n\th=from; bh=AAAA; b=AAAA\r\n\
               ARC-Authentication-Results: i=1; relay.test; spf=pass\r\n";
    let message = format!(
        "Authentication-Results: mx.example.org; dkim=pass header.d=bank.test\r\n\
         Authentication-Results: relay.test; spf=pass\r\n{arc}\
         From: Bob <bob@good.test>\r\nTo: ana@example.org\r\nSubject: Signed\r\n\
         Date: Sun, 6 Dec 2026 10:00:00 +0000\r\n\r\nHello, signed.\r\n"
    );
    let reply = send(&srv, "bob@good.test", &message, Some(GOOD_TEST_KEY));
    assert!(reply.contains("reply: (250"), "{reply}");
    let stored = last_message(&srv);
    let results = stored.split("Received:").next().expect("the fields before ours");
    assert!(results.contains("Authentication-Results: mx.example.org;"), "{stored}");
    for verdict in ["dkim=pass header.i=@good.test", "spf=pass", "dmarc=pass header.from=good.test"] {
        assert!(results.contains(verdict), "{verdict} in {results}");
    }
    // The forged field that claimed our name is gone; another server's stays, and so does
    // the ARC set, byte for byte.
    assert!(!stored.contains("header.d=bank.test"), "{stored}");
    assert!(stored.contains("Authentication-Results: relay.test; spf=pass\r\n"), "{stored}");
    assert!(stored.contains(arc), "{stored}");
    assert!(
        stored.contains("arc=fail") || stored.contains("arc=permerror") || stored.contains("arc=neutral"),
        "{stored}"
    );
}

#[test]
fn dmarc_reject_is_honoured_and_p_none_only_marks() {
    let dns = Dns::start(ZONE);
    let srv = server_with_checks(&dns);
    // strict.test says p=reject and nothing authenticates this message.
    let forged = "From: CEO <ceo@strict.test>\r\nTo: ana@example.org\r\nSubject: Wire the money\r\n\r\nNow.\r\n";
    let reply = python(
        SEND,
        &[srv.smtp.port().to_string(), "ceo@strict.test".into(), "ana@example.org".into(), forged.into(), "-".into()],
    )
    .replace('\n', " ");
    assert!(
        reply.contains("550") && reply.contains("5.7.1") && reply.contains("DMARC policy of strict.test"),
        "{reply}"
    );
    // A good envelope does not launder a forged From: (DMARC looks at the author's domain).
    let laundered = send(&srv, "bob@good.test", forged, None).replace('\n', " ");
    assert!(laundered.contains("550") && laundered.contains("strict.test"), "{laundered}");
    // lax.test says p=none: delivered, marked.
    let reply = send(&srv, "x@lax.test", "From: x@lax.test\r\nSubject: Lax\r\n\r\nHi\r\n", None);
    assert!(reply.contains("reply: (250"), "{reply}");
    let stored = last_message(&srv);
    assert!(stored.contains("Subject: Lax"), "{stored}");
    assert!(stored.contains("spf=fail") && stored.contains("dmarc=fail") && stored.contains("dkim=none"), "{stored}");
    // Two From: fields, or one naming two domains, cannot be judged: refused.
    for from in ["From: x@lax.test\r\nFrom: ceo@strict.test", "From: x@lax.test, ceo@strict.test"] {
        let message = format!("{from}\r\nSubject: Which one?\r\n\r\nHi\r\n");
        let reply = send(&srv, "x@lax.test", &message, None).replace('\n', " ");
        assert!(reply.contains("550") && reply.contains("one From: field naming one domain"), "{reply}");
    }
    let mut imap = Imap::login(&srv, "ana@example.org");
    let status = imap.ok("STATUS INBOX (MESSAGES)").join("");
    assert!(status.contains("MESSAGES 1"), "only the lax message arrived: {status}");
}
