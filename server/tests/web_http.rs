//! The web client over plain HTTP on a real socket: what a page does beyond what a browser
//! test shows (headers, what a request from another site may do).

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// One HTTP/1.1 request on its own connection; returns the status line, headers and body.
fn request(srv: &TestServer, head: &str, body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(srv.http).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let text =
        format!("{head}\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}", srv.http, body.len());
    stream.write_all(text.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    (head.to_string(), body.to_string())
}

fn log_in(srv: &TestServer) -> String {
    let origin = format!("http://{}", srv.http);
    let form = format!("email=ana%40example.org&password={}", PASSWORD.replace(' ', "+"));
    let (head, _) = request(
        srv,
        &format!("POST /api/login HTTP/1.1\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded"),
        &form,
    );
    let cookie = head
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: ").or_else(|| line.strip_prefix("Set-Cookie: ")))
        .expect("a session cookie");
    cookie.split(';').next().expect("cookie pair").to_string()
}

/// Whether the Inbox's list shows its first message as unread.
fn shown_unread(srv: &TestServer, cookie: &str) -> bool {
    let (head, body) =
        request(srv, &format!("GET /mail/1 HTTP/1.1\r\nCookie: {cookie}\r\nSec-Fetch-Site: same-origin"), "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("message-row"), "the list shows the message: {body}");
    body.contains("message-row unread")
}

/// Issue 12, defect 9: a cross-site GET (a link on another site, with the session cookie)
/// marked the message read, and mail pages could be cached. Only a first-party navigation
/// marks it read now, and pages are `no-store`.
#[test]
fn issue_12_only_a_first_party_navigation_marks_a_message_read_and_pages_are_not_cached() {
    let srv = TestServer::start();
    srv.deliver("ana@example.org", b"From: bob@example.org\r\nSubject: tracked\r\n\r\nhello\r\n");
    let cookie = log_in(&srv);
    let (head, body) =
        request(&srv, &format!("GET /mail/1/1 HTTP/1.1\r\nCookie: {cookie}\r\nSec-Fetch-Site: cross-site"), "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("tracked"), "the message is shown");
    assert!(head.to_ascii_lowercase().contains("cache-control: no-store"), "{head}");
    assert!(shown_unread(&srv, &cookie), "a cross-site request does not mark it read");
    let (head, _) =
        request(&srv, &format!("GET /mail/1/1 HTTP/1.1\r\nCookie: {cookie}\r\nSec-Fetch-Site: same-origin"), "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(!shown_unread(&srv, &cookie), "opening it from our own pages does");
}

/// Issue 12, defect 2: a silent connection stayed open for more than 10 minutes, and 1,100 of
/// them used up the process's file descriptors. Connections that send nothing, or stay idle
/// after a response, are now closed after the header timeout (20 s).
#[test]
fn issue_12_silent_and_idle_web_connections_are_closed() {
    let srv = TestServer::start();
    let read_to_close = |mut stream: TcpStream| {
        // Far above the server's timeout: only a guard against waiting for ever.
        stream.set_read_timeout(Some(Duration::from_secs(90))).expect("timeout");
        let mut seen = Vec::new();
        match stream.read_to_end(&mut seen) {
            Ok(_) => seen,
            Err(error) => panic!("the server kept the connection open ({error}); read {} bytes", seen.len()),
        }
    };
    let silent = TcpStream::connect(srv.http).expect("connect");
    let mut idle = TcpStream::connect(srv.http).expect("connect");
    idle.write_all(format!("GET /login HTTP/1.1\r\nHost: {}\r\n\r\n", srv.http).as_bytes()).expect("send");
    let silent = std::thread::spawn(move || read_to_close(silent));
    let answered = read_to_close(idle);
    assert!(answered.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answered[..answered.len().min(200)]));
    assert!(silent.join().expect("silent thread").is_empty());
}

/// Issue 12, defect 11: an oversized body got 500; it is 413, declared or not.
#[test]
fn issue_12_an_oversized_body_is_413() {
    let srv = TestServer::start();
    let origin = format!("Origin: http://{}", srv.http);
    let big = "a".repeat(2 * 1024 * 1024);
    let (head, _) = request(
        &srv,
        &format!("POST /api/login HTTP/1.1\r\n{origin}\r\nContent-Type: application/x-www-form-urlencoded"),
        &big,
    );
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    // Chunked, with no length announced.
    let mut stream = TcpStream::connect(srv.http).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
    let chunk = "b".repeat(64 * 1024);
    let mut body = String::new();
    for _ in 0..32 {
        body.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    body.push_str("0\r\n\r\n");
    let text = format!(
        "POST /api/login HTTP/1.1\r\nHost: {}\r\n{origin}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body}",
        srv.http
    );
    let _ = stream.write_all(text.as_bytes());
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert!(answer.starts_with(b"HTTP/1.1 413"), "{}", String::from_utf8_lossy(&answer[..answer.len().min(200)]));
}

/// Issue 12, defect 2: the web listener has a per-client cap like the others (100): one
/// client's connections do not keep others out.
#[test]
fn issue_12_one_client_cannot_take_every_web_connection() {
    let srv = TestServer::start();
    let mut held = Vec::new();
    for _ in 0..100 {
        held.push(LineConn::connect_from(srv.http, "127.0.0.3"));
    }
    let mut refused = LineConn::connect_from(srv.http, "127.0.0.3");
    assert_eq!(refused.read_line(), "HTTP/1.1 503 Service Unavailable");
    let (head, _) = request(&srv, "GET /login HTTP/1.1", "");
    assert!(head.starts_with("HTTP/1.1 200"), "another client is served: {head}");
    drop(held);
}

/// Issue 16: `/` and the pages that need a session answered `200` with a `Location` header and
/// an empty body (a blank page until the WASM redirected, nothing for a client without
/// JavaScript). They are real `303 See Other` redirects now, decided before rendering.
#[test]
fn pages_redirect_with_a_real_status() {
    let srv = TestServer::start();
    let location = |head: &str| {
        head.lines()
            .find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")))
            .map(str::to_string)
    };
    for (path, cookie, to) in [
        ("/", None, "/login"),
        ("/mail", None, "/login"),
        ("/mail/1/2", None, "/login"),
        ("/settings/app-passwords", None, "/login"),
        ("/mail", Some("facteur_session=forged"), "/login"),
    ] {
        let cookie = cookie.map(|c| format!("\r\nCookie: {c}")).unwrap_or_default();
        let (head, body) = request(&srv, &format!("GET {path} HTTP/1.1{cookie}"), "");
        assert!(head.starts_with("HTTP/1.1 303"), "{path}: {head}");
        assert_eq!(location(&head).as_deref(), Some(to), "{path}: {head}");
        assert!(body.is_empty(), "{path}: {body}");
    }
    let cookie = log_in(&srv);
    for (path, to) in [("/", "/mail"), ("/login", "/mail")] {
        let (head, _) = request(&srv, &format!("GET {path} HTTP/1.1\r\nCookie: {cookie}"), "");
        assert!(head.starts_with("HTTP/1.1 303"), "{path}: {head}");
        assert_eq!(location(&head).as_deref(), Some(to), "{path}: {head}");
    }
    let (head, body) = request(&srv, &format!("GET /mail HTTP/1.1\r\nCookie: {cookie}"), "");
    assert!(head.starts_with("HTTP/1.1 200") && location(&head).is_none(), "{head}");
    assert!(body.contains("<html"), "rendered on the server: {body}");
    let (head, _) = request(&srv, "GET /login HTTP/1.1", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

/// Issue 16: an unknown address was a bare "not found" text, a page without title or
/// language for a browser (axe: `document-title`, `html-has-lang`).
#[test]
fn an_unknown_address_is_a_whole_page_in_the_readers_language() {
    let srv = TestServer::start();
    let (head, body) = request(&srv, "GET /nowhere HTTP/1.1\r\nAccept-Language: fr-FR,fr;q=0.9", "");
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: text/html"), "{head}");
    assert!(
        body.contains("<html lang=\"fr\">") && body.contains("<title>Page introuvable · Facteur</title>"),
        "{body}"
    );
    let (_, body) = request(&srv, "GET /nowhere.js HTTP/1.1", "");
    assert!(body.contains("<html lang=\"en\">") && body.contains("<title>Page not found · Facteur</title>"), "{body}");
}
