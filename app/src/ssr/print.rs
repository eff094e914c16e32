//! GET /print/{message_id} (`pages::mail::PRINT_PATH`): one of the account's messages alone on
//! a page, to print (C10).
//!
//! Printed from the reading pane, a message's HTML would be cut to its frame's height: the
//! frame is sandboxed without same-origin rights, so the page cannot size it to its content.
//! This page shows the sanitised HTML in the page itself instead, which is safe here because
//! the page holds nothing but this message, and its policy lets no script run but the one line
//! that opens the print dialog (by nonce), loads no image but `data:` ones, and sends nothing.
//! The message is painted inside its own box (`contain: paint`), so its styles cannot draw
//! over the headers the page writes above it (a forged From on the printout).

use axum::body::Body;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::i18n::{Key, Lang, t};

pub(super) async fn print(auth: auth::Auth, Path(message_id): Path<i64>, headers: HeaderMap) -> Response {
    let lang = super::lang_of(&headers);
    let Some(token) = super::cookie_value(&headers, super::SESSION_COOKIE) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let zone = super::ReaderZone::of_headers(&headers);
    let page = async {
        let Some(account) = auth.web_session_account(token).await? else { return Ok(None) };
        let store = auth.store();
        // The account scopes the lookup: another account's message is not found.
        let Some(row) = store.message(account.id, store::MessageId(message_id)).await? else { return Ok(Some(None)) };
        let Some(raw) = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await? else {
            return Ok(Some(None));
        };
        let date = super::full_date(&zone.at(row.sent_date.unwrap_or(row.internal_date)), lang);
        let page = tokio::task::spawn_blocking(move || print_page(&raw, &date, lang)).await.map_err(|error| {
            store::Error::Io { context: "rendering a message to print", source: std::io::Error::other(error) }
        })?;
        Ok::<_, store::Error>(Some(Some(page)))
    }
    .await;
    match page {
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Ok(Some(None)) => StatusCode::NOT_FOUND.into_response(),
        Ok(Some(Some((nonce, html)))) => {
            let mut response = Response::new(Body::from(html));
            let policy = format!(
                "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data:; \
                 base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            );
            for (name, value) in [
                (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                (header::CONTENT_SECURITY_POLICY, policy),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ] {
                if let Ok(value) = HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, value);
                }
            }
            response
        }
        Err(error) => {
            tracing::error!(%error, "web client: print page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The page and its script's nonce.
fn print_page(raw: &[u8], date: &str, lang: Lang) -> (String, String) {
    let mut nonce_bytes = [0u8; 16];
    // A nonce that cannot be had is no reason to fail the page: the button then does nothing,
    // and the browser's own Print still works.
    let _ = getrandom::fill(&mut nonce_bytes);
    let nonce: String = nonce_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let rendered = render::render(raw, render::RemoteImages::Block);
    let (subject, from, to, cc, body) = match &rendered {
        Some(message) => {
            let body = match &message.body {
                render::Body::Empty => String::new(),
                render::Body::Text(text) => format!("<div class=\"text\">{}</div>", escape(text)),
                render::Body::Html { .. } => render::printable_html(raw),
            };
            let shown = |people: &[render::Correspondent]| render::display_correspondents(people);
            (message.subject.as_str(), shown(&message.from), shown(&message.to), shown(&message.cc), body)
        }
        None => ("", String::new(), String::new(), String::new(), String::new()),
    };
    let subject = if subject.trim().is_empty() { t(lang, Key::NoSubject) } else { subject };
    let row = |key: Key, value: &str| {
        if value.is_empty() {
            String::new()
        } else {
            format!("<div><dt>{}</dt><dd>{}</dd></div>", t(lang, key), escape(value))
        }
    };
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font:15px/1.5 system-ui,sans-serif;color:#111;background:#fff;max-width:48rem;margin:1.5rem auto;padding:0 1rem}}\
         h1{{font-size:1.4rem;margin:0 0 .5rem}}dl{{margin:0 0 1rem;padding-bottom:.5rem;border-bottom:1px solid #ccc}}\
         dl div{{display:flex;gap:.5rem}}dt{{font-weight:600;min-width:4rem}}dd{{margin:0}}\
         main{{contain:paint;overflow:hidden;position:relative}}.text{{white-space:pre-wrap}}.print{{float:right}}@media print{{.print{{display:none}}}}</style></head>\
         <body><button class=\"print\" id=\"print\" type=\"button\">{print}</button><h1>{title}</h1><dl>{from}{to}{cc}{date}</dl>\
         <main>{body}</main><script nonce=\"{nonce}\">document.getElementById('print').onclick=function(){{window.print()}}</script>\
         </body></html>",
        code = lang.code(),
        title = escape(subject),
        print = t(lang, Key::Print),
        from = row(Key::From, &from),
        to = row(Key::To, &to),
        cc = row(Key::Cc, &cc),
        date = row(Key::Date, date),
    );
    (nonce, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_print_page_escapes_headers_and_keeps_html_sanitised() {
        let raw = b"From: Eve <eve@example.net>\r\nTo: ana@example.org\r\nSubject: <script>x</script> Plan\r\n\
MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<p onclick=\"steal()\">Hello <b>Ana</b></p><script>alert(1)</script><img src=\"https://t.example/p.gif\">\r\n";
        let (nonce, page) = print_page(raw, "Tue 10 Mar 2026 09:05", Lang::En);
        assert_eq!(nonce.len(), 32);
        assert!(page.contains("<title>&lt;script&gt;x&lt;/script&gt; Plan</title>"), "{page}");
        assert!(page.contains("<b>Ana</b>"), "{page}");
        assert!(!page.contains("alert(1)") && !page.contains("steal()") && !page.contains("t.example"), "{page}");
        assert_eq!(page.matches("<script").count(), 1, "only the page's own script");
        let (_, text) = print_page(b"Subject: Hi\r\n\r\nline <one>\r\n", "d", Lang::Fr);
        assert!(text.contains("<div class=\"text\">line &lt;one&gt;</div>"), "{text}");
        assert!(text.contains("lang=\"fr\""));
    }
}
