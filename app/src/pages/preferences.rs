//! /settings/preferences: how the mail reads (M1): the language, external images always shown
//! (C3), the compact list (C6), conversations (C11). The composer's preferences (format, forward as attachment,
//! signature, default sender) are on the signatures page.
//!
//! The account's settings are the truth. The language and the images choice are also kept in
//! cookies, because both must be known before any data is read: the language for every word of
//! the page, the images for the page's Content-Security-Policy (a message's frame inherits it).
//! The cookies are written on saving, at sign-in and whenever the mail view finds them out of
//! date, and cleared at sign-out. They only ever relax what the account's setting allows: the
//! server shows a message's images from the setting, not from the cookie.
//!
//! The form is a plain post (not an `ActionForm`): the page loads again in its new language,
//! under its new policy.

use leptos::prelude::*;

use crate::dto::PreferencesView;
use crate::error::AppError;
use crate::i18n::{Key, Lang, t, use_lang};
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const PREFERENCES_PATH: &str = "/settings/preferences";

/// The cookie naming the language chosen (`en`, `fr`); without it, the browser's.
pub const LANGUAGE_COOKIE: &str = "facteur_lang";
/// The cookie saying remote images are always shown (`always`).
pub const IMAGES_COOKIE: &str = "facteur_images";
pub const IMAGES_ALWAYS: &str = "always";

/// The account settings' names.
#[cfg(feature = "ssr")]
mod setting {
    pub(super) const LANGUAGE: &str = "language";
    pub(super) const IMAGES: &str = "images";
    pub(super) const COMPACT: &str = "compact";
    pub(super) const THREADS: &str = "threads";
}

/// The account's preferences, as stored.
#[cfg(feature = "ssr")]
pub(crate) async fn stored_preferences(
    store: &store::Store,
    account: store::AccountId,
) -> Result<PreferencesView, AppError> {
    let read = |name| store.account_setting(account, name);
    Ok(PreferencesView {
        language: read(setting::LANGUAGE).await?.filter(|code| code == "en" || code == "fr"),
        always_images: read(setting::IMAGES).await?.as_deref() == Some(IMAGES_ALWAYS),
        compact: read(setting::COMPACT).await?.as_deref() == Some("1"),
        threads: read(setting::THREADS).await?.as_deref() == Some("1"),
    })
}

/// Writes the cookies that mirror `preferences` (see the module's comment).
#[cfg(feature = "ssr")]
pub(crate) fn set_preference_cookies(preferences: &PreferencesView) -> Result<(), AppError> {
    use crate::ssr;
    let secure = if ssr::web_settings().secure_cookies { "; Secure" } else { "" };
    let cookie = |name: &str, value: Option<&str>| match value {
        Some(value) => format!("{name}={value}; Path=/; Max-Age=31536000; SameSite=Lax{secure}"),
        None => format!("{name}=; Path=/; Max-Age=0; SameSite=Lax{secure}"),
    };
    ssr::set_cookie(&cookie(LANGUAGE_COOKIE, preferences.language.as_deref()))?;
    ssr::set_cookie(&cookie(IMAGES_COOKIE, preferences.always_images.then_some(IMAGES_ALWAYS)))
}

/// Writes the cookies again when this browser's differ from the account's choices (made on
/// another device since it signed in).
#[cfg(feature = "ssr")]
pub(crate) fn keep_preference_cookies(preferences: &PreferencesView) -> Result<(), AppError> {
    use crate::ssr;
    let language = ssr::request_cookie(LANGUAGE_COOKIE);
    let images = ssr::request_cookie(IMAGES_COOKIE).as_deref() == Some(IMAGES_ALWAYS);
    if language != preferences.language || images != preferences.always_images {
        set_preference_cookies(preferences)?;
    }
    Ok(())
}

#[server(endpoint = "load_preferences")]
pub async fn load_preferences() -> Result<(String, PreferencesView), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    Ok((account.login.clone(), stored_preferences(&store, account.id).await?))
}

/// Saves the form: `language` is `auto`, `en` or `fr`; a checkbox is there when ticked.
#[server(endpoint = "save_preferences")]
pub async fn save_preferences(
    language: String,
    always_images: Option<String>,
    compact: Option<String>,
    threads: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let language = match language.as_str() {
        "auto" => None,
        "en" | "fr" => Some(language),
        _ => return Err(AppError::InvalidName),
    };
    let preferences = PreferencesView {
        language,
        always_images: always_images.is_some(),
        compact: compact.is_some(),
        threads: threads.is_some(),
    };
    store.set_account_setting(account.id, setting::LANGUAGE, preferences.language.as_deref()).await?;
    store.set_account_setting(account.id, setting::IMAGES, preferences.always_images.then_some(IMAGES_ALWAYS)).await?;
    store.set_account_setting(account.id, setting::COMPACT, preferences.compact.then_some("1")).await?;
    store.set_account_setting(account.id, setting::THREADS, preferences.threads.then_some("1")).await?;
    set_preference_cookies(&preferences)?;
    leptos_axum::redirect(&format!("{PREFERENCES_PATH}?saved=1"));
    Ok(())
}

#[component]
pub fn PreferencesPage() -> impl IntoView {
    let lang = use_lang();
    let saved = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("saved").is_some());
    let data = Resource::new(|| (), |_| load_preferences());
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |(login, preferences)| {
                    view! {
                        <div class="app">
                            <AppHeader login/>
                            <main class="settings-page">
                                <p><a href="/mail" rel="external">"‹ "{t(lang, Key::BackHome)}</a></p>
                                <h1>{t(lang, Key::Preferences)}</h1>
                                {saved.then(|| view! { <p class="banner" role="status">{t(lang, Key::PreferencesSaved)}</p> })}
                                <PreferencesForm preferences/>
                            </main>
                        </div>
                    }
                        .into_any()
                })
            })}
        </Transition>
    }
}

#[component]
fn PreferencesForm(preferences: PreferencesView) -> impl IntoView {
    let lang = use_lang();
    let chosen = preferences.language.clone().unwrap_or_else(|| "auto".into());
    let save_path = <SavePreferences as leptos::server_fn::ServerFn>::PATH;
    let option = move |value: &'static str, label: &'static str| {
        view! { <option value=value selected=chosen == value>{label}</option> }
    };
    view! {
        <form class="card settings-card" method="post" action=save_path>
            <div class="field">
                <label for="pref-language">{t(lang, Key::Language)}</label>
                <select id="pref-language" name="language">
                    {option("auto", t(lang, Key::LanguageAuto))}
                    {option("en", t(Lang::En, Key::LanguageName))}
                    {option("fr", t(Lang::Fr, Key::LanguageName))}
                </select>
            </div>
            <div class="field checkbox-field">
                <input id="pref-images" type="checkbox" name="always_images" value="1" checked=preferences.always_images/>
                <label for="pref-images">{t(lang, Key::AlwaysShowImages)}</label>
                <p class="note">{t(lang, Key::AlwaysShowImagesNote)}</p>
            </div>
            <div class="field checkbox-field">
                <input id="pref-compact" type="checkbox" name="compact" value="1" checked=preferences.compact/>
                <label for="pref-compact">{t(lang, Key::CompactList)}</label>
            </div>
            <div class="field checkbox-field">
                <input id="pref-threads" type="checkbox" name="threads" value="1" checked=preferences.threads/>
                <label for="pref-threads">{t(lang, Key::ThreadsPreference)}</label>
            </div>
            <button type="submit" class="button primary">{t(lang, Key::Save)}</button>
        </form>
    }
}
