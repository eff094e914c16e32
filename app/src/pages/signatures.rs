//! /settings/signatures: how messages are written (plain or rich text, B3; forwards in the
//! text or attached, B5), and a signature for each address the account sends from (B13), put
//! by the composer below new messages, replies and forwards. Saving works without the WASM too.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::dto::{SignatureView, SignaturesView};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::editor::MessageText;
use crate::pages::mail::{AppHeader, page_or_error};
use crate::signature::Placement;

/// Where this page lives, for links and redirects.
pub const SIGNATURES_PATH: &str = "/settings/signatures";

#[server(endpoint = "load_signatures")]
pub async fn load_signatures() -> Result<SignaturesView, AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    let saved = ssr::compose::signatures(&store, &account).await?;
    let default_from = store.account_setting(account.id, ssr::DEFAULT_IDENTITY_SETTING).await?;
    let mut signatures = Vec::new();
    for address in ssr::compose::identities(&mail, &account).await? {
        let saved = saved.iter().find(|(a, _)| a.eq_ignore_ascii_case(&address)).map(|(_, s)| s.clone());
        let crate::dto::SignatureText { text: body, html } = saved.unwrap_or_default();
        let display_name = ssr::identity_name(&store, &account, &address).await?.unwrap_or_default();
        let is_default = match &default_from {
            Some(chosen) => chosen.eq_ignore_ascii_case(&address),
            None => address == account.login,
        };
        signatures.push(SignatureView { address, display_name, is_default, html, body });
    }
    let preferences = ssr::compose_preferences(&store, &account).await?;
    Ok(SignaturesView {
        login: account.login.clone(),
        rich: preferences.rich,
        forward_attached: preferences.forward_attached,
        placement: preferences.signature,
        signatures,
    })
}

/// Keeps how the account writes: `format` "rich" or plain, `forward` "attachment" or inline,
/// `signature` where it goes ([`Placement`]).
#[server(endpoint = "save_compose_preferences")]
pub async fn save_compose_preferences(format: String, forward: String, signature: String) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    // The default is no row: only the other choice is kept.
    let rich = (format == "rich").then_some("rich");
    let attached = (forward == "attachment").then_some("attachment");
    store.set_account_setting(account.id, ssr::COMPOSE_FORMAT_SETTING, rich).await?;
    store.set_account_setting(account.id, ssr::FORWARD_MODE_SETTING, attached).await?;
    let placement = Some(Placement::from_code(&signature)).filter(|p| *p != Placement::default());
    store.set_account_setting(account.id, ssr::SIGNATURE_PLACE_SETTING, placement.map(Placement::code)).await?;
    leptos_axum::redirect(&format!("{SIGNATURES_PATH}?preferences=1"));
    Ok(())
}

/// Keeps the signature of one of the account's addresses (empty: none), the name shown with
/// it (B6), and whether messages leave from it by default.
#[server(endpoint = "save_signature")]
pub async fn save_signature(
    address: String,
    body: String,
    html: Option<String>,
    format: Option<String>,
    display_name: Option<String>,
    default_from: Option<String>,
) -> Result<(), AppError> {
    use crate::ssr;
    let (store, account) = ssr::current_account().await?;
    let mail = expect_context::<mail::Mail>();
    if !ssr::compose::is_own(&mail, &account, &address).await {
        return Err(AppError::NotYourAddress(address));
    }
    // B13: rich text is cleaned as the composer's is; its text version is the plain signature.
    // An emptied editor is no signature (not the text area's older text).
    let rich = format.as_deref() == Some(crate::pages::editor::RICH);
    let html = html
        .filter(|_| rich)
        .map(|html| render::composed::clean_composed_html(&html))
        .filter(|html| !html.trim().is_empty());
    let body = match &html {
        Some(html) => render::composed::composed_to_text(html),
        None if rich => String::new(),
        None => body.replace("\r\n", "\n"),
    };
    // Checked before anything is kept: a refusal changes nothing.
    if body.len() > store::MAX_SETTING_BYTES || html.as_ref().is_some_and(|h| h.len() > store::MAX_SIGNATURE_HTML_BYTES)
    {
        return Err(AppError::TooLong);
    }
    let name = ssr::clean_display_name(display_name.as_deref().unwrap_or(""));
    let name_setting = ssr::identity_name_setting(&address);
    store.set_account_setting(account.id, &name_setting, Some(name.as_str()).filter(|n| !n.is_empty())).await?;
    // A checkbox is sent only when ticked. The login is the default when no other is, so
    // unticking the default puts the login back.
    let is_login = address.eq_ignore_ascii_case(&account.login);
    let current = store.account_setting(account.id, ssr::DEFAULT_IDENTITY_SETTING).await?;
    let is_current = current.as_deref().map_or(is_login, |chosen| chosen.eq_ignore_ascii_case(&address));
    let lowercase = address.to_ascii_lowercase();
    let chosen = match (default_from.is_some(), is_current) {
        (true, false) => Some((!is_login).then_some(lowercase.as_str())),
        (false, true) => Some(None),
        _ => None,
    };
    if let Some(chosen) = chosen {
        store.set_account_setting(account.id, ssr::DEFAULT_IDENTITY_SETTING, chosen).await?;
    }
    let too_long = |error| match error {
        store::Error::Invalid { .. } => AppError::TooLong,
        other => other.into(),
    };
    store.set_signature(account.id, &address, body.trim_end()).await.map_err(too_long)?;
    store.set_signature_html(account.id, &address, html.as_deref()).await.map_err(too_long)?;
    leptos_axum::redirect(&format!("{SIGNATURES_PATH}?saved=1"));
    Ok(())
}

#[component]
pub fn SignaturesPage() -> impl IntoView {
    let lang = use_lang();
    let query = use_query_map();
    let save = ServerAction::<SaveSignature>::new();
    let save_preferences = ServerAction::<SaveComposePreferences>::new();
    // Read once: each form keeps its own text, so saving one does not redraw the others
    // (which would throw away what is being typed there).
    let data = Resource::new(|| (), |()| load_signatures());
    let saved = move || query.with(|q| q.get("saved").is_some()) || matches!(save.value().get(), Some(Ok(())));
    let preferences_saved = move || {
        query.with(|q| q.get("preferences").is_some()) || matches!(save_preferences.value().get(), Some(Ok(())))
    };
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |SignaturesView { login, rich, forward_attached, placement, signatures }| {
                        let place = move |value: Placement, label: Key| {
                            view! {
                                <option value=value.code() selected=placement == value>
                                    {t(lang, label)}
                                </option>
                            }
                        };
                        let cards = signatures
                            .into_iter()
                            .enumerate()
                            .map(|(index, SignatureView { address, display_name, is_default, html, body })| {
                                let id = format!("signature-{index}");
                                let name_id = format!("display-name-{index}");
                                view! {
                                    <section class="card settings-card">
                                        <ActionForm action=save>
                                            <input type="hidden" name="address" value=address.clone()/>
                                            <h3>{address.clone()}</h3>
                                            <div class="field">
                                                <label for=name_id.clone()>{t(lang, Key::DisplayName)}</label>
                                                <input id=name_id type="text" name="display_name" maxlength="100" value=display_name/>
                                            </div>
                                            <label class="checkbox">
                                                <input type="checkbox" name="default_from" value="on" checked=is_default/>
                                                " "{t(lang, Key::DefaultFrom)}
                                            </label>
                                            <MessageText
                                                body
                                                html
                                                text_id=id
                                                label=format!("{} {address}", t(lang, Key::SignatureOf))
                                                rows=4
                                                changed=Callback::new(|()| {})
                                            />
                                            <button type="submit" class="button primary">
                                                {t(lang, Key::Save)}
                                                <span class="visually-hidden">" "{address}</span>
                                            </button>
                                        </ActionForm>
                                    </section>
                                }
                            })
                            .collect_view();
                        view! {
                            <div class="app">
                                <AppHeader login/>
                                <main class="settings-page">
                                    <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                    <h1>{t(lang, Key::ComposePreferences)}</h1>
                                    {move || {
                                        preferences_saved()
                                            .then(|| {
                                                view! { <p class="banner" role="status">{t(lang, Key::PreferencesSaved)}</p> }
                                            })
                                    }}
                                    <section class="card settings-card">
                                        <ActionForm action=save_preferences>
                                            <div class="field">
                                                <label for="compose-format">{t(lang, Key::FormatSetting)}</label>
                                                <select id="compose-format" name="format">
                                                    <option value="plain" selected=!rich>{t(lang, Key::PlainText)}</option>
                                                    <option value="rich" selected=rich>{t(lang, Key::RichText)}</option>
                                                </select>
                                            </div>
                                            <div class="field">
                                                <label for="forward-mode">{t(lang, Key::ForwardSetting)}</label>
                                                <select id="forward-mode" name="forward">
                                                    <option value="inline" selected=!forward_attached>
                                                        {t(lang, Key::ForwardInline)}
                                                    </option>
                                                    <option value="attachment" selected=forward_attached>
                                                        {t(lang, Key::ForwardAttached)}
                                                    </option>
                                                </select>
                                            </div>
                                            <div class="field">
                                                <label for="signature-place">{t(lang, Key::SignaturePlace)}</label>
                                                <select id="signature-place" name="signature">
                                                    {place(Placement::Above, Key::PlaceAbove)}
                                                    {place(Placement::Below, Key::PlaceBelow)}
                                                    {place(Placement::Manual, Key::PlaceManual)}
                                                </select>
                                            </div>
                                            <button type="submit" class="button primary">{t(lang, Key::Save)}</button>
                                        </ActionForm>
                                    </section>
                                    <h2>{t(lang, Key::Signatures)}</h2>
                                    <p class="note">{t(lang, Key::SignaturesIntro)}</p>
                                    {move || {
                                        saved()
                                            .then(|| {
                                                view! { <p class="banner" role="status">{t(lang, Key::SignatureSaved)}</p> }
                                            })
                                    }}
                                    {move || {
                                        save.value()
                                            .get()
                                            .and_then(Result::err)
                                            .map(|error| {
                                                view! {
                                                    <p class="form-error" role="alert">{t(lang, error.message_key())}</p>
                                                }
                                            })
                                    }}
                                    {cards}
                                </main>
                            </div>
                        }
                            .into_any()
                })
            })}
        </Transition>
    }
}
