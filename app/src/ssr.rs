//! The web client's server side: the axum router the `server` binary mounts, and the helpers
//! server functions share (session cookie, language, settings).
//!
//! Invariant: every request that changes state passes [`csrf_guard`] first, and every page or
//! server function that shows mail resolves the account from the session cookie through
//! [`current_account`]; the account id then scopes every store call.

pub(crate) mod administration;
pub(crate) mod compose;
pub(crate) mod conversations;
mod import;
mod live;
mod message_actions;
mod print;
pub(crate) mod receipt;
pub(crate) mod search;
pub mod send_later;
mod views;

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::attachments::{UPLOAD_BUSY, UPLOAD_PATH, UPLOAD_TOO_LARGE, UPLOAD_TOO_MANY};
use crate::error::AppError;
use crate::i18n::Lang;

pub(crate) use conversations::ListContext;
pub(crate) use views::{
    ReaderZone, folder_view, full_date, human_size, list_item, local_time, message_view, short_date, usage_view,
};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "facteur_session";

/// Settings the server passes to the web client, provided as context to pages and server fns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    /// Set `Secure` on cookies (the site is served over HTTPS).
    pub secure_cookies: bool,
    /// The server's name, in the `Message-ID` of messages written here.
    pub hostname: String,
    /// B15: the seconds a message sent waits, with "undo" offered, for an account that did not
    /// choose (0 to 30).
    pub undo_send_seconds: u32,
}

/// The web client's routes: pages, server functions (under `/api`), attachment downloads, all
/// behind the CSRF guard. Static files, security headers and the fallback are the caller's.
/// The full-text index (issue 15), when the server could open it: server functions find it as
/// context.
#[derive(Clone)]
pub struct Search(pub Option<std::sync::Arc<::search::SearchIndex>>);

/// The resolver the server looks DNS records up with (the administration's DNS checks), when
/// it could set one up.
#[derive(Clone)]
pub struct Dns(pub Option<outbound::route::TokioResolver>);

pub fn router(
    mail: mail::Mail,
    auth: auth::Auth,
    options: LeptosOptions,
    settings: WebSettings,
    send_later: send_later::SendLater,
    search: Search,
    dns: Dns,
) -> axum::Router {
    let store = auth.store().clone();
    let mut routes = generate_route_list(crate::App);
    // The router's `/mail/*selection` matches `/mail` too, axum's `/mail/{*selection}` does not.
    routes.push(leptos_axum::AxumRouteListing::new(
        "/mail".to_string(),
        leptos_router::SsrMode::Async,
        [leptos_router::Method::Get],
        vec![],
    ));
    let context_store = store.clone();
    let context_auth = auth.clone();
    let context_mail = mail.clone();
    let provide_web_context = move || {
        provide_context(context_store.clone());
        provide_context(context_auth.clone());
        provide_context(context_mail.clone());
        provide_context(settings.clone());
        provide_context(send_later.clone());
        provide_context(search.clone());
        provide_context(dns.clone());
    };
    // leptos_routes_with_context also registers every server function, handled by
    // handle_server_fns_with_context with this same context.
    let shell_options = options.clone();
    let login_auth = auth.clone();
    let upload_auth = auth.clone();
    let actions_auth = auth.clone();
    let events_auth = auth.clone();
    let events_mail = mail.clone();
    axum::Router::<LeptosOptions>::new()
        .leptos_routes_with_context(&options, routes, provide_web_context, move || crate::shell(shell_options.clone()))
        .route(
            UPLOAD_PATH,
            axum::routing::post(move |query: axum::extract::Query<UploadQuery>, headers: HeaderMap, body: Body| {
                upload(upload_auth.clone(), query, headers, body)
            }),
        )
        .route(
            live::EVENTS_PATH,
            get(move |headers: HeaderMap| live::events(events_mail.clone(), events_auth.clone(), headers)),
        )
        .route(
            import::IMPORT_UPLOAD,
            axum::routing::post({
                let (mail, auth) = (mail.clone(), auth.clone());
                move |headers: HeaderMap, form: axum::extract::Multipart| {
                    import::import(mail.clone(), auth.clone(), headers, form)
                }
            })
            // Multipart reads through axum's own body limit (2 MB unless told): the form's
            // room besides the archive, which the handler caps itself.
            .layer(axum::extract::DefaultBodyLimit::max(import::MAX_IMPORT_BYTES + 64 * 1024)),
        )
        .route(
            message_actions::ACTIONS_PATH,
            axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
                message_actions::act(mail.clone(), actions_auth.clone(), headers, body)
            }),
        )
        .route(
            &format!("{}/{{message_id}}", crate::pages::mail::PRINT_PATH),
            get({
                let auth = auth.clone();
                move |path: Path<i64>, headers: HeaderMap| print::print(auth.clone(), path, headers)
            }),
        )
        .route(
            "/download/{message_id}/{part_index}",
            get(move |path: Path<(i64, u32)>, headers: HeaderMap| download(auth.clone(), path, headers)),
        )
        .layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            page_redirects(login_auth.clone(), request, next)
        }))
        .layer(axum::middleware::from_fn(csrf_guard))
        .with_state(options)
}

/// Where a page request goes before anything is rendered, with a real `303 See Other` (the
/// pages' own redirects come too late for a status: the browser got a blank 200 until the WASM
/// loaded, a client without JavaScript nothing): `/` to the mail or the sign-in page, a page
/// that needs a session to `/login` without one, and `/login` with one to the mail (a bookmark
/// or the back button should not ask someone signed in to sign in again).
async fn page_redirects(auth: auth::Auth, request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return next.run(request).await;
    }
    let path = request.uri().path();
    let needs_session = path == "/mail"
        || path.starts_with("/mail/")
        || path.starts_with("/settings/")
        || path == "/compose"
        || path == "/scheduled";
    if path != "/" && path != "/login" && !needs_session {
        return next.run(request).await;
    }
    let signed_in = match cookie_value(request.headers(), SESSION_COOKIE) {
        Some(token) => matches!(auth.web_session_account(token).await, Ok(Some(_))),
        None => false,
    };
    let to = match (path, signed_in) {
        ("/", true) | ("/login", true) => "/mail",
        ("/", false) => "/login",
        (_, false) if needs_session => "/login",
        _ => return next.run(request).await,
    };
    axum::response::Redirect::to(to).into_response()
}

/// The page for an address that is nothing here: a whole HTML page (a title, a language, the
/// way back), not a bare text, in the reader's language (issue 16: axe's `document-title` and
/// `html-has-lang`).
pub fn not_found_page(headers: &HeaderMap) -> Response {
    let lang = lang_of(headers);
    let page = plain_page(lang, crate::i18n::t(lang, crate::i18n::Key::PageNotFound));
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
}

/// The reader's language, from the request's `Accept-Language`.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    Lang::of_request(headers)
}

/// A small whole page that says one thing (`title`, from our dictionary, never from the request)
/// and offers the way back to the mail.
pub(crate) fn plain_page(lang: Lang, title: &str) -> String {
    let back = crate::i18n::t(lang, crate::i18n::Key::BackHome);
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Facteur</title><link rel=\"stylesheet\" href=\"/facteur.css\"></head>\
         <body><main class=\"centered-page\"><div class=\"card\"><h1>{title}</h1>\
         <p><a href=\"/mail\">{back}</a></p></div></main></body></html>\n",
        code = lang.code(),
    )
}

// ----- CSRF (F-series: no cross-site state changes) -----

/// Refuses (403) a request that may change state unless it comes from our own pages.
async fn csrf_guard(request: Request, next: Next) -> Response {
    if csrf_allows(request.method(), request.headers()) {
        next.run(request).await
    } else {
        (StatusCode::FORBIDDEN, "cross-site request refused").into_response()
    }
}

/// GET and HEAD pass. Other methods need `Sec-Fetch-Site: same-origin` or `none` (typed URL,
/// bookmark); browsers that do not send it must send an Origin (else Referer) whose host and
/// port equal the Host header.
fn csrf_allows(method: &Method, headers: &HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return true;
    }
    let header_text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site.trim(), "same-origin" | "none");
    }
    let Some(host) = header_text(header::HOST) else { return false };
    let source = header_text(header::ORIGIN).filter(|o| *o != "null").or_else(|| header_text(header::REFERER));
    source.and_then(url_authority).is_some_and(|authority| authority.eq_ignore_ascii_case(host.trim()))
}

/// The `host[:port]` of an absolute URL.
fn url_authority(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    // Userinfo has no business in an Origin; refuse rather than guess.
    if authority.is_empty() || authority.contains('@') { None } else { Some(authority) }
}

// ----- Sessions -----

/// The value of cookie `name` in a `Cookie` header (RFC 6265 §5.4: `name=value; name=value`).
pub(crate) fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The `Set-Cookie` value that opens (`Some(token)`) or clears (`None`) the session.
pub(crate) fn session_cookie(token: Option<&str>, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(token) => format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/{secure}"),
        None => format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0{secure}"),
    }
}

/// The request being served (page or server function).
fn request_headers() -> Option<HeaderMap> {
    use_context::<axum::http::request::Parts>().map(|parts| parts.headers)
}

/// Whether the request came from our own pages, a typed URL or a bookmark, or from a client
/// that does not say (`Sec-Fetch-Site`); not from a link on another site or inside a message.
pub(crate) fn request_is_first_party() -> bool {
    request_headers().is_none_or(|headers| {
        headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|site| matches!(site.trim(), "same-origin" | "none"))
    })
}

/// The session token sent by the browser, if any.
pub(crate) fn session_token() -> Option<String> {
    request_cookie(SESSION_COOKIE)
}

/// The value of the current request's cookie `name`, if it has one.
pub(crate) fn request_cookie(name: &str) -> Option<String> {
    request_headers().and_then(|headers| cookie_value(&headers, name).map(str::to_string))
}

/// The store and the logged-in account, or [`AppError::NotLoggedIn`].
pub(crate) async fn current_account() -> Result<(store::Store, store::Account), AppError> {
    let store = expect_context::<store::Store>();
    let auth = expect_context::<auth::Auth>();
    let Some(token) = session_token() else { return Err(AppError::NotLoggedIn) };
    match auth.web_session_account(&token).await? {
        Some(account) => Ok((store, account)),
        None => Err(AppError::NotLoggedIn),
    }
}

pub(crate) fn web_settings() -> WebSettings {
    use_context::<WebSettings>().unwrap_or(WebSettings {
        secure_cookies: true,
        hostname: "localhost".into(),
        undo_send_seconds: 0,
    })
}

/// The account setting holding its undo delay (B15), in seconds.
pub(crate) const UNDO_DELAY_SETTING: &str = "undo_send_seconds";
/// The account setting saying new messages start in rich text (B3): "rich"; plain otherwise.
pub(crate) const COMPOSE_FORMAT_SETTING: &str = "compose_format";
/// The account setting saying a forward carries the message as a `.eml` file (B5):
/// "attachment"; in the text otherwise.
pub(crate) const FORWARD_MODE_SETTING: &str = "forward_mode";
/// The account setting holding the address it sends from unless a reply says otherwise (B6).
pub(crate) const DEFAULT_IDENTITY_SETTING: &str = "default_identity";

/// The account setting holding the name shown with one of its addresses (B6).
pub(crate) fn identity_name_setting(address: &str) -> String {
    format!("identity_name:{}", address.trim().to_ascii_lowercase())
}

/// The name shown with one of the account's addresses, if it has one.
pub(crate) async fn identity_name(
    store: &store::Store,
    account: &store::Account,
    address: &str,
) -> Result<Option<String>, AppError> {
    let name = store.account_setting(account.id, &identity_name_setting(address)).await?;
    Ok(name.filter(|name| !name.trim().is_empty()))
}

/// A display name as typed: one line, no control characters, at most 100 characters.
pub(crate) fn clean_display_name(name: &str) -> String {
    let one_line: String = name.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    one_line.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(100).collect()
}

/// The account setting saying where the signature goes (B13): a [`crate::signature::Placement`].
pub(crate) const SIGNATURE_PLACE_SETTING: &str = "signature_place";

/// How the account writes (B3, B5, B13).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ComposePreferences {
    /// New messages start in rich text.
    pub(crate) rich: bool,
    /// A forward carries the message as a `.eml` file.
    pub(crate) forward_attached: bool,
    pub(crate) signature: crate::signature::Placement,
}

pub(crate) async fn compose_preferences(
    store: &store::Store,
    account: &store::Account,
) -> Result<ComposePreferences, AppError> {
    let setting = |name| store.account_setting(account.id, name);
    Ok(ComposePreferences {
        rich: setting(COMPOSE_FORMAT_SETTING).await?.as_deref() == Some("rich"),
        forward_attached: setting(FORWARD_MODE_SETTING).await?.as_deref() == Some("attachment"),
        signature: crate::signature::Placement::from_code(&setting(SIGNATURE_PLACE_SETTING).await?.unwrap_or_default()),
    })
}

/// The seconds a message the account sends waits with "undo" offered: its own choice, else the
/// server's default.
pub(crate) async fn undo_delay(store: &store::Store, account: &store::Account) -> Result<u32, AppError> {
    let chosen = store.account_setting(account.id, UNDO_DELAY_SETTING).await?.and_then(|v| v.parse::<u32>().ok());
    Ok(chosen.unwrap_or(web_settings().undo_send_seconds).min(30))
}

/// The language of the current request.
pub(crate) fn request_lang() -> Lang {
    crate::i18n::current_lang()
}

/// The client's IP address, when the server was started with connection info.
pub(crate) async fn client_ip() -> Option<std::net::IpAddr> {
    leptos_axum::extract::<axum::extract::ConnectInfo<SocketAddr>>().await.ok().map(|info| info.0.ip())
}

/// Adds a `Set-Cookie` header to the response being built.
pub(crate) fn set_cookie(value: &str) -> Result<(), AppError> {
    let value = HeaderValue::from_str(value).map_err(|_| AppError::Internal)?;
    expect_context::<leptos_axum::ResponseOptions>().append_header(header::SET_COOKIE, value);
    Ok(())
}

// ----- Uploads (B1) -----

/// How long an upload may take: 25 MB over a slow line.
pub const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

#[derive(Debug, serde::Deserialize)]
struct UploadQuery {
    name: String,
}

/// Uploads read at once, across all accounts: each holds up to 25 MB in memory.
const CONCURRENT_UPLOADS: usize = 8;

/// The account of the request's web session cookie, if the cookie is there and live.
async fn session_of(auth: &auth::Auth, headers: &HeaderMap) -> Result<Option<store::Account>, auth::Error> {
    match cookie_value(headers, SESSION_COOKIE) {
        Some(token) => auth.web_session_account(token).await,
        None => Ok(None),
    }
}

/// Whether the request carries the cookie of a live web session (checked before a large body
/// is read).
pub async fn has_web_session(auth: &auth::Auth, headers: &HeaderMap) -> bool {
    matches!(session_of(auth, headers).await, Ok(Some(_)))
}

/// POST [`UPLOAD_PATH`]: keeps a file for the composer, answers its key. The body is read only
/// once the session is known (the server's request limits let this path through unread), and
/// only [`CONCURRENT_UPLOADS`] at a time: strangers cannot make the server hold 25 MB per
/// connection.
async fn upload(
    auth: auth::Auth,
    axum::extract::Query(query): axum::extract::Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_UPLOADS);
    let account = match session_of(&auth, &headers).await {
        Ok(Some(account)) => account,
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(error) => {
            tracing::error!(%error, "web client: upload failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Ok(_slot) = SLOTS.try_acquire() else {
        return (StatusCode::SERVICE_UNAVAILABLE, UPLOAD_BUSY).into_response();
    };
    let body = match axum::body::to_bytes(body, store::MAX_ATTACHMENTS_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, UPLOAD_TOO_LARGE).into_response(),
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .filter(|v| is_simple_media_type(v))
        .unwrap_or_else(|| "application/octet-stream".to_string());
    let name = upload_name(&query.name);
    match auth.store().add_upload(account.id, &name, &content_type, &body).await {
        Ok(id) => crate::attachments::AttachmentKey::Upload(id).to_string().into_response(),
        Err(store::Error::Refused(_)) => (StatusCode::PAYLOAD_TOO_LARGE, UPLOAD_TOO_MANY).into_response(),
        Err(error) => {
            tracing::error!(%error, login = %account.login, "web client: upload not kept");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// A file name as a message may carry it: no path, no control characters, at most 200
/// characters (the extension kept), never empty.
pub(crate) fn upload_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        return "attachment".to_string();
    }
    if cleaned.chars().count() <= 200 {
        return cleaned.to_string();
    }
    let extension = cleaned.rsplit_once('.').map(|(_, ext)| ext).filter(|ext| ext.chars().count() <= 10);
    let keep = 200 - extension.map_or(0, |ext| ext.chars().count() + 1);
    let stem: String = cleaned.chars().take(keep).collect();
    match extension {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem,
    }
}

// ----- Attachments (C7) -----

/// GET /download/{message_id}/{part_index}: an attachment of one of the account's messages.
async fn download(auth: auth::Auth, Path((message_id, part_index)): Path<(i64, u32)>, headers: HeaderMap) -> Response {
    let Some(token) = cookie_value(&headers, SESSION_COOKIE) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let result = async {
        let Some(account) = auth.web_session_account(token).await? else { return Ok(None) };
        let store = auth.store();
        // The account id scopes the lookup: another account's message is simply not found.
        let Some(row) = store.message(account.id, store::MessageId(message_id)).await? else {
            return Ok(Some(None));
        };
        let Some(raw) = store.read_raw_if_present(account.id, row.id, &row.blob_hash).await? else {
            return Ok(Some(None));
        };
        let attachment =
            tokio::task::spawn_blocking(move || render::attachment(&raw, part_index)).await.map_err(|error| {
                store::Error::Io { context: "rendering an attachment", source: std::io::Error::other(error) }
            })?;
        Ok::<_, store::Error>(Some(attachment))
    }
    .await;
    match result {
        Ok(None) => StatusCode::UNAUTHORIZED.into_response(),
        Ok(Some(None)) => StatusCode::NOT_FOUND.into_response(),
        Ok(Some(Some(attachment))) => attachment_response(attachment),
        Err(error) => {
            tracing::error!(%error, "web client: download failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn attachment_response(attachment: render::Attachment) -> Response {
    let content_type = if is_simple_media_type(&attachment.content_type) {
        attachment.content_type.clone()
    } else {
        "application/octet-stream".to_string()
    };
    let disposition = content_disposition(&attachment.file_name);
    let mut response = Response::new(Body::from(attachment.bytes));
    let response_headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        // Should a browser render it anyway, the document gets no rights at all.
        (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'".to_string()),
        (header::CACHE_CONTROL, "private, no-store".to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response_headers.insert(name, value);
        }
    }
    response
}

/// `type/subtype` made of token characters only, so it cannot smuggle parameters or headers.
pub(crate) fn is_simple_media_type(text: &str) -> bool {
    let token = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b));
    matches!(text.split_once('/'), Some((kind, subtype)) if token(kind) && token(subtype))
}

/// `attachment` with an ASCII fallback name and the exact name in RFC 8187 form (RFC 6266 §4.3).
fn content_disposition(file_name: &str) -> String {
    // Path separators and control characters never reach the user's file system.
    let cleaned: String =
        file_name.chars().map(|c| if c.is_control() || matches!(c, '/' | '\\') { '_' } else { c }).collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    let cleaned = if cleaned.is_empty() { "attachment" } else { cleaned };
    let ascii: String =
        cleaned.chars().map(|c| if c.is_ascii_alphanumeric() || " .-_()[]+,".contains(c) { c } else { '_' }).collect();
    let mut encoded = String::new();
    for byte in cleaned.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("test header values are valid"));
        }
        map
    }

    #[test]
    fn csrf_guard_decisions() {
        let post = Method::POST;
        for (method, pairs, want) in [
            (Method::GET, vec![("sec-fetch-site", "cross-site")], true),
            (Method::HEAD, vec![], true),
            (post.clone(), vec![("sec-fetch-site", "same-origin")], true),
            (post.clone(), vec![("sec-fetch-site", "none")], true),
            (
                post.clone(),
                vec![("sec-fetch-site", "cross-site"), ("host", "a.test"), ("origin", "https://a.test")],
                false,
            ),
            (post.clone(), vec![("sec-fetch-site", "same-site")], false),
            (post.clone(), vec![("host", "a.test:8080"), ("origin", "http://a.test:8080")], true),
            (post.clone(), vec![("host", "a.test:8080"), ("origin", "http://a.test:8081")], false),
            (post.clone(), vec![("host", "a.test"), ("origin", "https://evil.test")], false),
            (post.clone(), vec![("host", "a.test"), ("origin", "https://a.test.evil.test")], false),
            (post.clone(), vec![("host", "a.test"), ("referer", "https://a.test/login?x=1")], true),
            (post.clone(), vec![("host", "a.test"), ("referer", "https://evil.test/a.test")], false),
            (post.clone(), vec![("host", "a.test"), ("origin", "null"), ("referer", "https://evil.test/")], false),
            (post.clone(), vec![("host", "a.test"), ("origin", "https://user@a.test")], false),
            (post.clone(), vec![("host", "a.test")], false),
            (post.clone(), vec![], false),
            (Method::DELETE, vec![("host", "a.test"), ("origin", "https://a.test")], true),
        ] {
            assert_eq!(csrf_allows(&method, &headers(&pairs)), want, "{method} {pairs:?}");
        }
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let map = headers(&[("cookie", "other=1; facteur_session_old=x; facteur_session=abc123"), ("cookie", "z=2")]);
        assert_eq!(cookie_value(&map, SESSION_COOKIE), Some("abc123"));
        assert_eq!(cookie_value(&map, "z"), Some("2"));
        assert_eq!(cookie_value(&headers(&[("cookie", "facteur_session=")]), SESSION_COOKIE), None);
        assert_eq!(cookie_value(&HeaderMap::new(), SESSION_COOKIE), None);
    }

    #[test]
    fn session_cookie_attributes() {
        assert_eq!(session_cookie(Some("t"), false), "facteur_session=t; HttpOnly; SameSite=Lax; Path=/");
        assert_eq!(session_cookie(Some("t"), true), "facteur_session=t; HttpOnly; SameSite=Lax; Path=/; Secure");
        assert!(session_cookie(None, false).contains("Max-Age=0"));
    }

    #[test]
    fn upload_names_lose_paths_and_controls() {
        assert_eq!(upload_name("C:\\Users\\ana\\Rapport été.pdf"), "Rapport été.pdf");
        assert_eq!(upload_name("../../etc/passwd"), "passwd");
        assert_eq!(upload_name("a\r\nb.txt"), "ab.txt");
        assert_eq!(upload_name("  "), "attachment");
        let long = format!("{}.docx", "x".repeat(300));
        assert_eq!(upload_name(&long).chars().count(), 200);
        assert!(upload_name(&long).ends_with("x.docx"));
    }

    #[test]
    fn download_names_are_safe() {
        for (name, want) in [
            ("report.pdf", "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"),
            ("../../etc/passwd", "attachment; filename=\"_.._etc_passwd\"; filename*=UTF-8''_.._etc_passwd"),
            ("a\"b\r\n.txt", "attachment; filename=\"a_b__.txt\"; filename*=UTF-8''a%22b__.txt"),
            ("été.txt", "attachment; filename=\"_t_.txt\"; filename*=UTF-8''%C3%A9t%C3%A9.txt"),
            ("", "attachment; filename=\"attachment\"; filename*=UTF-8''attachment"),
        ] {
            assert_eq!(content_disposition(name), want, "{name:?}");
        }
    }

    #[test]
    fn only_plain_media_types_pass() {
        assert!(is_simple_media_type("application/pdf"));
        assert!(is_simple_media_type("image/svg+xml"));
        assert!(!is_simple_media_type("text/html; charset=utf-8"));
        assert!(!is_simple_media_type("text/html\r\nX-Evil: 1"));
        assert!(!is_simple_media_type("application"));
        assert!(!is_simple_media_type(""));
    }
}
