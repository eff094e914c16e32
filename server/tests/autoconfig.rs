//! K6: mail programs' automatic set-up, fetched with curl from the real server and parsed by
//! Python's XML and plist readers: Thunderbird's config at both of its addresses, Outlook's
//! Autodiscover (POX), the Apple profile. Each names the server's host and the ports it really
//! listens on; an address of another domain gets 404.

mod common;

use std::process::Command;

use common::*;

/// curl's output (status line then body) for `args`.
fn curl(args: &[&str]) -> (u16, String) {
    let output = Command::new("curl").args(["-s", "-w", "\n%{http_code}"]).args(args).output().expect("curl");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').expect("a status");
    (status.trim().parse().expect("a status code"), body.to_string())
}

/// What a Python snippet prints about `document` (read from standard input).
fn python(document: &str, code: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args([
            "-c",
            &format!("import sys, json, plistlib, xml.etree.ElementTree as ET\ndata = sys.stdin.buffer.read()\n{code}"),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().expect("stdin").write_all(document.as_bytes()).expect("write");
    let output = child.wait_with_output().expect("python3 output");
    assert!(output.status.success(), "python failed on:\n{document}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[test]
fn mail_programs_find_their_settings() {
    let srv = TestServer::start();
    let base = format!("http://{}", srv.http);
    let (imaps, imap, submissions, submission) =
        (srv.imaps.port(), srv.imap.port(), srv.submissions.port(), srv.submission.port());

    // Thunderbird: by the address asked, and by the Host it asks (autoconfig.DOMAIN).
    let (status, config) = curl(&[&format!("{base}/mail/config-v1.1.xml?emailaddress=ana%40example.org")]);
    assert_eq!(status, 200, "{config}");
    let servers = python(
        &config,
        "root = ET.fromstring(data)\nprint(json.dumps([(s.get('type'), s.findtext('hostname'), int(s.findtext('port')), s.findtext('socketType')) for s in root.iter() if s.tag in ('incomingServer', 'outgoingServer')]))",
    );
    let expected = format!(
        r#"[["imap", "mx.example.org", {imaps}, "SSL"], ["imap", "mx.example.org", {imap}, "STARTTLS"], ["smtp", "mx.example.org", {submissions}, "SSL"], ["smtp", "mx.example.org", {submission}, "STARTTLS"]]"#
    );
    assert_eq!(servers, expected);
    let (status, by_host) =
        curl(&["-H", "Host: autoconfig.example.org", &format!("{base}/.well-known/autoconfig/mail/config-v1.1.xml")]);
    assert_eq!((status, by_host), (200, config));
    assert_eq!(curl(&[&format!("{base}/mail/config-v1.1.xml?emailaddress=x%40other.test")]).0, 404);

    // Outlook: the POX request names the address; the answer names IMAP and SMTP over TLS.
    let request = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>bob@example.org</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;
    let (status, answer) = curl(&[
        "-H",
        "Content-Type: text/xml",
        "--data-binary",
        request,
        &format!("{base}/autodiscover/autodiscover.xml"),
    ]);
    assert_eq!(status, 200, "{answer}");
    let protocols = python(
        &answer,
        "ns = '{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}'\nroot = ET.fromstring(data)\nprint(json.dumps([(p.findtext(ns + 'Type'), int(p.findtext(ns + 'Port')), p.findtext(ns + 'LoginName')) for p in root.iter(ns + 'Protocol')]))",
    );
    assert_eq!(
        protocols,
        format!(r#"[["IMAP", {imaps}, "bob@example.org"], ["SMTP", {submissions}, "bob@example.org"]]"#)
    );
    let other = request.replace("bob@example.org", "bob@other.test");
    assert_eq!(curl(&["--data-binary", &other, &format!("{base}/autodiscover/autodiscover.xml")]).0, 404);
    assert_eq!(curl(&["--data-binary", "<nothing/>", &format!("{base}/autodiscover/autodiscover.xml")]).0, 400);

    // Apple: a profile whose mail account is the address's, on the real ports.
    let (status, profile) = curl(&[&format!("{base}/autoconfig/apple.mobileconfig?emailaddress=ana%40example.org")]);
    assert_eq!(status, 200, "{profile}");
    let account = python(
        &profile,
        "p = plistlib.loads(data)\na = p['PayloadContent'][0]\nprint(json.dumps([p['PayloadType'], a['PayloadType'], a['EmailAddress'], a['IncomingMailServerHostName'], a['IncomingMailServerPortNumber'], a['IncomingMailServerUseSSL'], a['OutgoingMailServerPortNumber']]))",
    );
    assert_eq!(
        account,
        format!(
            r#"["Configuration", "com.apple.mail.managed", "ana@example.org", "mx.example.org", {imaps}, true, {submissions}]"#
        )
    );
    assert_eq!(curl(&[&format!("{base}/autoconfig/apple.mobileconfig?emailaddress=ana%40other.test")]).0, 404);
}
