//! Facteur's web client: Leptos pages, components and server functions.
//!
//! The same code renders on the server (feature `ssr`) and hydrates in the browser (feature
//! `hydrate`, built to wasm32 by the `frontend` crate). Server-only code lives in [`ssr`]: the
//! axum router the `server` binary mounts, sessions, the HTML sanitiser and message rendering.
//!
//! Invariant: built without `ssr`, this crate depends only on Leptos and serde (no store, no
//! mail parser, no sanitiser), so it builds for wasm32.

// Leptos view types nest deeply; the hydrate build needs more than the default 128 levels.
#![recursion_limit = "256"]

pub mod attachments;
pub mod dto;
pub mod error;
pub mod i18n;
pub mod pages;
pub mod recipients;
pub mod rich_text;
pub mod search_form;
pub mod signature;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod time_zone;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::i18n::{Key, current_lang, t, use_lang};

/// The HTML document around [`App`], rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let lang = current_lang();
    #[cfg(feature = "ssr")]
    set_page_security_headers();
    view! {
        <!DOCTYPE html>
        <html lang=lang.code()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href="/facteur.css"/>
                <HydrationAfterPaint options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Starts the WASM that hydrates the page once the page has painted (issue 16). Every page is
/// rendered on the server and works without it (links, plain forms), so the first paint needs
/// only the HTML and the CSS: unlike Leptos' `HydrationScripts`, there are no preload hints, and
/// the module is fetched in the task after the first frame, so the WASM never shares the
/// network with what the reader sees first. A page in a background tab, where frames wait,
/// starts after 250 ms all the same.
#[component]
fn HydrationAfterPaint(options: LeptosOptions) -> impl IntoView {
    let nonce = leptos::nonce::use_nonce();
    let pkg = format!("/{}/{}", options.site_pkg_dir, options.output_name);
    // `scripts/build-site.sh` names the files so (wasm-bindgen's `_bg` suffix).
    let script = format!(
        "let started=false;const start=()=>{{if(started)return;started=true;\
         import('{pkg}.js').then(m=>m.default({{module_or_path:'{pkg}_bg.wasm'}}).then(()=>m.hydrate()))}};\
         requestAnimationFrame(()=>setTimeout(start,0));setTimeout(start,250);"
    );
    view! { <script type="module" nonce=nonce>{script}</script> }
}

/// Pages carry their own CSP: the inline hydration scripts are allowed by the per-response
/// nonce Leptos generates, so the server cannot write this header statically.
#[cfg(feature = "ssr")]
fn set_page_security_headers() {
    use axum::http::header::{CONTENT_SECURITY_POLICY, HeaderValue};
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else { return };
    let nonce = leptos::nonce::use_nonce().map(|nonce| format!(" 'nonce-{nonce}'")).unwrap_or_default();
    // A message's srcdoc frame inherits this policy, so remote images the reader asked to see
    // (C3) must be allowed here too; the frame's own policy still allows nothing else.
    // So must a reader's choice to always see them (M1, its cookie: see `pages::preferences`).
    let shows_images = use_context::<axum::http::request::Parts>().is_some_and(|parts| {
        parts.uri.query().is_some_and(|query| {
            query.split('&').any(|pair| pair == format!("images={}", pages::mail::SHOW_IMAGES_VALUE))
        }) || ssr::cookie_value(&parts.headers, pages::preferences::IMAGES_COOKIE)
            == Some(pages::preferences::IMAGES_ALWAYS)
    });
    let img_src = if shows_images { "'self' data: https: http:" } else { "'self' data:" };
    let policy = format!(
        "default-src 'none'; script-src 'self'{nonce} 'wasm-unsafe-eval'; connect-src 'self'; \
         style-src 'self' 'unsafe-inline'; img-src {img_src}; font-src 'self'; frame-src 'self'; \
         form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// The root component: language, routes and the hydration marker.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let lang = current_lang();
    provide_context(lang);
    // Runs only in the browser, once hydration is done: end-to-end tests wait for this marker
    // to tell a live page from server-rendered HTML.
    Effect::new(move |_| {
        // Every page but the sign-in page shows dates.
        #[cfg(feature = "hydrate")]
        time_zone::keep_browser_time_zone(window().location().pathname().is_ok_and(|path| path != "/login"));
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title text=t(lang, Key::AppName)/>
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path="/mail"/> }/>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/compose") view=pages::compose::ComposePage ssr=SsrMode::Async/>
                <Route path=path!("/scheduled") view=pages::scheduled::ScheduledPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/settings/app-passwords")
                    view=pages::settings::AppPasswordsPage
                    ssr=SsrMode::Async
                />
                <Route path=path!("/settings/folders") view=pages::folders::FoldersPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/tags") view=pages::tags::TagsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=pages::admin::AdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/list") view=pages::list_admin::ListAdminPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/group") view=pages::group_admin::GroupAdminPage ssr=SsrMode::Async/>
                <Route path=path!("/settings/import") view=pages::import::ImportPage ssr=SsrMode::Async/>
                <Route
                    path=path!("/settings/preferences")
                    view=pages::preferences::PreferencesPage
                    ssr=SsrMode::Async
                />
                <Route
                    path=path!("/settings/signatures")
                    view=pages::signatures::SignaturesPage
                    ssr=SsrMode::Async
                />
                // Async: the page waits for its data, so an expired session can still answer
                // with a real 302 to /login. One wildcard route, which `/mail` matches too (an
                // empty selection: the Inbox), keeps the page alive while the reader moves
                // between folders and messages, with the ticks kept.
                <Route path=path!("/mail/*selection") view=pages::mail::MailPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let lang = use_lang();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="centered-page">
            <div class="card">
                <h1>{t(lang, Key::PageNotFound)}</h1>
                <p><a href="/mail">{t(lang, Key::BackHome)}</a></p>
            </div>
        </main>
    }
}
