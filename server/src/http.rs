//! The HTTP side: the web client's router from `app`, the static site (WASM, JS glue, CSS,
//! icons) embedded in the binary, and security headers on every response.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use rust_embed::RustEmbed;
use tower_http::compression::CompressionLayer;

/// The site built by `scripts/build-site.sh`. Release builds embed it; debug builds read it from
/// disk, so a rebuilt site shows without rebuilding the server.
#[derive(RustEmbed)]
#[folder = "site/"]
#[allow_missing = true]
struct Site;

/// Content-Security-Policy for responses that do not set their own. Pages set theirs in
/// `app` (a per-response nonce lets Leptos' inline hydration script run and nothing else), and
/// downloads a sandbox; what is left (static files, errors) needs no script, style or frame.
const FALLBACK_CSP: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What the web client's router needs besides the mail domain and authentication.
pub(crate) struct WebServices {
    pub settings: app::ssr::WebSettings,
    pub send_later: app::ssr::send_later::SendLater,
    pub search: Option<std::sync::Arc<search::SearchIndex>>,
    /// The administration's DNS checks' resolver, when one could be set up.
    pub dns: Option<outbound::route::TokioResolver>,
    /// Where mail programs reach the server, for their automatic set-up (K6).
    pub endpoints: crate::autoconfig::Endpoints,
}

pub(crate) fn router(mail: mail::Mail, auth: auth::Auth, addr: SocketAddr, services: WebServices) -> Router {
    let options =
        LeptosOptions::builder().output_name("facteur").site_root("site").site_pkg_dir("pkg").site_addr(addr).build();
    let WebServices { settings, send_later, search, dns, endpoints } = services;
    let store = auth.store().clone();
    let list_pages = crate::list_pages::routes(mail.clone());
    app::ssr::router(mail, auth.clone(), options, settings, send_later, app::ssr::Search(search), app::ssr::Dns(dns))
        .merge(crate::autoconfig::routes(store, endpoints))
        .merge(list_pages)
        .fallback(static_file)
        .layer(middleware::from_fn_with_state(auth, limit_requests))
        .layer(middleware::from_fn(security_headers))
        .layer(middleware::from_fn(mark_compressible))
        .layer(CompressionLayer::new().br(true).gzip(true).compress_when(compressible))
}

/// Set on a response that may be compressed ([`mark_compressible`]).
#[derive(Debug, Clone, Copy)]
struct Compressible;

/// Which responses are compressed: pages that hold no mail (sign-in, settings), asked for by
/// the reader's own pages.
///
/// BREACH: a response holding a secret beside text an attacker chose leaks the secret through
/// its compressed size to whoever watches the encrypted traffic. Anything showing mail holds
/// both, since anyone can send mail: a subject with a one-time code beside the attacker's own,
/// and each message the attacker sends makes the open page ask for its view again (live
/// updates), one size sample per message with no click. So pages and server-function answers
/// that carry mail (the mail view, the composer, print) are sent uncompressed; the sign-in and
/// settings pages hold none and are compressed, and only for requests our own pages made
/// (`Sec-Fetch-Site` same-origin or none), never ones another site had the browser send.
/// Server-Sent Events and downloads are not text pages and stay as they are.
async fn mark_compressible(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path();
    let holds_no_mail = path == "/login" || path.starts_with("/settings/");
    let first_party = request
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| matches!(site.trim(), "same-origin" | "none"));
    let mut response = next.run(request).await;
    if first_party && holds_no_mail {
        response.extensions_mut().insert(Compressible);
    }
    response
}

/// [`CompressionLayer`]'s predicate: see [`mark_compressible`]; only HTML, and not when tiny.
fn compressible(
    _: StatusCode,
    _: axum::http::Version,
    headers: &HeaderMap,
    extensions: &axum::http::Extensions,
) -> bool {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    // Below this, the coding's own bytes outweigh what it saves.
    let tiny = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|length| length < 256);
    extensions.get::<Compressible>().is_some() && !tiny && content_type.starts_with("text/html")
}

/// The largest request body taken: sign-in and server-function forms are small. The
/// composer's uploads have their own bound ([`app::attachments::UPLOAD_PATH`]).
pub(crate) const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long a request may take to arrive whole and be answered (a body sent a byte at a time
/// must not hold a connection for ever).
pub(crate) const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long an import (D10) may take, upload and all.
const IMPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The largest message the composer posts (B3: its pictures travel in the text, as `data:`
/// URLs), taken only from a signed-in reader and a few at a time.
pub(crate) const MAX_COMPOSE_BODY_BYTES: usize = 16 * 1024 * 1024;
/// How many such large posts are read at once.
const CONCURRENT_LARGE_POSTS: usize = 8;

/// Bounds each request: a body over [`MAX_BODY_BYTES`] is `413` (it used to be a `500` from
/// deep inside), and a request not read and answered within [`REQUEST_TIMEOUT`] is `408`.
async fn limit_requests(
    axum::extract::State(auth): axum::extract::State<auth::Auth>,
    request: Request<Body>,
    next: Next,
) -> Response {
    use leptos::server_fn::ServerFn as _;
    static LARGE_POSTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_LARGE_POSTS);
    let declared =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    // The composer's uploads are read by their handler, once it knows who sends them.
    if request.uri().path() == app::attachments::UPLOAD_PATH {
        if declared.is_some_and(|length| length > store::MAX_ATTACHMENTS_BYTES as u64) {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        return tokio::time::timeout(app::ssr::UPLOAD_TIMEOUT, next.run(request))
            .await
            .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response());
    }
    // An archive to import (D10) is read by its handler too, after the session check.
    if request.uri().path() == app::pages::import::IMPORT_UPLOAD {
        if declared.is_some_and(|length| length > app::pages::import::MAX_IMPORT_BYTES as u64 + 64 * 1024) {
            return StatusCode::PAYLOAD_TOO_LARGE.into_response();
        }
        return tokio::time::timeout(IMPORT_TIMEOUT, next.run(request))
            .await
            .unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response());
    }
    // The composer's message may be larger, once its sender is known (a stranger's body is
    // never read past the usual bound).
    let large = request.uri().path() == app::pages::compose::ComposeSubmit::PATH
        && declared.is_none_or(|length| length > MAX_BODY_BYTES as u64)
        && app::ssr::has_web_session(&auth, request.headers()).await;
    let _slot = if large {
        match LARGE_POSTS.try_acquire() {
            Ok(slot) => Some(slot),
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    } else {
        None
    };
    let (max_bytes, timeout) = (if large { MAX_COMPOSE_BODY_BYTES } else { MAX_BODY_BYTES }, REQUEST_TIMEOUT);
    if declared.is_some_and(|length| length > max_bytes as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let answer = async {
        let (parts, body) = request.into_parts();
        // Read whole, within the cap, so the pages never see a body larger than it.
        let bytes = match axum::body::to_bytes(body, max_bytes).await {
            Ok(bytes) => bytes,
            Err(error) => {
                let too_large = std::error::Error::source(&error)
                    .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
                return if too_large { StatusCode::PAYLOAD_TOO_LARGE } else { StatusCode::BAD_REQUEST }.into_response();
            }
        };
        next.run(Request::from_parts(parts, Body::from(bytes))).await
    };
    tokio::time::timeout(timeout, answer).await.unwrap_or_else(|_| StatusCode::REQUEST_TIMEOUT.into_response())
}

async fn static_file(method: Method, uri: axum::http::Uri, request_headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let Some(file) = Site::get(path) else {
        return app::ssr::not_found_page(&request_headers);
    };
    // The type is the original file's; the bytes may be its precompressed twin.
    let mime = file.metadata.mimetype().to_string();
    // Each twin is looked up once (a debug build reads it from disk).
    let variants: Vec<(&'static str, _)> = PRECOMPRESSED
        .iter()
        .filter_map(|(coding, ext)| Site::get(&format!("{path}.{ext}")).map(|variant| (*coding, variant)))
        .collect();
    let has_variants = !variants.is_empty();
    let (file, encoding) = variants
        .into_iter()
        .find(|(coding, _)| accepts(&request_headers, coding))
        .map_or((file, None), |(coding, variant)| (variant, Some(coding)));

    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    let unchanged = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(file.data.into_owned()))
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Some(coding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if has_variants {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    // Asset names do not change with their content yet, so caches must revalidate (and get a
    // 304 without the body when nothing changed).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// Content codings `scripts/build-site.sh` precompresses assets into, best first, with the
/// file extension of each. Compressing once at build time costs no CPU per request and, unlike
/// compressing pages, cannot leak secrets through compressed sizes (BREACH): assets hold none.
const PRECOMPRESSED: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// Whether `Accept-Encoding` allows `coding`: named, or else covered by `*`, without `q=0`.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    let items: Vec<(String, bool)> = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next().unwrap_or("").to_ascii_lowercase();
            let refused = parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)));
            (name, !refused)
        })
        .collect();
    let named = items.iter().find(|(name, _)| name == coding);
    let star = items.iter().find(|(name, _)| name == "*");
    named.or(star).is_some_and(|(_, allowed)| *allowed)
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

async fn security_headers(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The full Referer for Facteur's own requests, none for any other site: a form posted
    // before the WASM runs is sent back (by Leptos) to the page it came from, with its query,
    // while no URL of the reader's (a folder, a search) ever leaves for another site.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(FALLBACK_CSP));
    // Pages and server-function answers hold mail (or a sign-in form): no cache, shared or
    // the browser's own, may keep them (issue 12, defect 9). Static assets set their own policy.
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(accept).unwrap());
        headers
    }

    #[test]
    fn accept_encoding_is_negotiated() {
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("gzip;q=0.5"), "gzip"));
        assert!(!accepts(&with("gzip"), "br"));
        assert!(!accepts(&with("br;q=0, gzip"), "br"));
        assert!(accepts(&with("*"), "br"));
        assert!(!accepts(&with("br;q=0, *"), "br"));
        assert!(!accepts(&with("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
