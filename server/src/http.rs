//! The HTTP side: the web client's router from `app`, the static site (WASM, JS glue, CSS,
//! icons) embedded in the binary, and security headers on every response.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use leptos::config::LeptosOptions;
use rust_embed::RustEmbed;

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

pub(crate) fn router(store: store::Store, addr: SocketAddr, secure_cookies: bool) -> Router {
    let options =
        LeptosOptions::builder().output_name("facteur").site_root("site").site_pkg_dir("pkg").site_addr(addr).build();
    app::ssr::router(store, options, secure_cookies).fallback(static_file).layer(middleware::from_fn(security_headers))
}

async fn static_file(method: Method, uri: axum::http::Uri) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let Some(file) = Site::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = file.metadata.mimetype().to_string();
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Asset names do not change with their content yet, so caches must revalidate.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let etag = format!("\"{}\"", hex_prefix(&file.metadata.sha256_hash()));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

fn hex_prefix(hash: &[u8; 32]) -> String {
    hash.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

async fn security_headers(request: Request<Body>, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(FALLBACK_CSP));
    response
}
