//! /settings/app-passwords: the mailbox's app passwords (F8, issue 12): one per program, each
//! usable instead of the account's password over IMAP and SMTP, and never locked out by
//! guesses at that password. A new one is shown once; only its hash is kept.
//!
//! Creating one needs the hydrated page (the token comes back in the action's value, never in
//! a URL); listing and removing work without it.

use leptos::prelude::*;

use crate::dto::{AppPasswordView, AppPasswordsView};
use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::mail::{AppHeader, page_or_error};

/// Where this page lives, for links and redirects.
pub const APP_PASSWORDS_PATH: &str = "/settings/app-passwords";

#[server(endpoint = "app_passwords")]
pub async fn app_passwords() -> Result<AppPasswordsView, AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let auth = expect_context::<auth::Auth>();
    let lang = ssr::request_lang();
    let date = |unix: i64| ssr::full_date(&ssr::local_time(unix), lang);
    let passwords = auth
        .app_passwords(account.id)
        .await?
        .into_iter()
        .map(|(name, created, last_used)| AppPasswordView {
            name,
            created: date(created),
            last_used: last_used.map(date),
        })
        .collect();
    Ok(AppPasswordsView { login: account.login.clone(), passwords })
}

/// Creates an app password and returns it, to be shown once.
#[server(endpoint = "add_app_password")]
pub async fn add_app_password(name: String) -> Result<String, AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let auth = expect_context::<auth::Auth>();
    auth.add_app_password_for(account.id, &name).await.map_err(|error| match error {
        store::Error::Invalid { .. } => AppError::InvalidName,
        store::Error::Exists(_) => AppError::NameTaken,
        other => other.into(),
    })
}

#[server(endpoint = "remove_app_password")]
pub async fn remove_app_password(name: String) -> Result<(), AppError> {
    use crate::ssr;
    let (_, account) = ssr::current_account().await?;
    let auth = expect_context::<auth::Auth>();
    auth.remove_app_password(account.id, &name).await?;
    // A plain form post (no WASM yet) comes back to the page.
    leptos_axum::redirect(APP_PASSWORDS_PATH);
    Ok(())
}

#[component]
pub fn AppPasswordsPage() -> impl IntoView {
    let lang = use_lang();
    let add = ServerAction::<AddAppPassword>::new();
    let remove = ServerAction::<RemoveAppPassword>::new();
    // Read again after each change.
    let data = Resource::new(move || (add.version().get(), remove.version().get()), |_| app_passwords());
    view! {
        <Transition fallback=move || view! { <p class="loading">{t(lang, Key::Loading)}</p> }>
            {move || Suspend::new(async move {
                page_or_error(data.await, |AppPasswordsView { login, passwords }| {
                        // K6: the profile names this mailbox; the device asks its password.
                        let profile = format!(
                            "/autoconfig/apple.mobileconfig?emailaddress={}",
                            crate::dto::form_urlencoded_value(&login),
                        );
                        view! {
                            <div class="app">
                                <AppHeader login/>
                                <main class="settings-page">
                                    <p><a href="/mail">"‹ "{t(lang, Key::BackHome)}</a></p>
                                    <h1>{t(lang, Key::AppPasswords)}</h1>
                                    <p class="note">{t(lang, Key::AppPasswordsIntro)}</p>
                                    <p>
                                        <a href=profile rel="external" download="">{t(lang, Key::AppleProfile)}</a>
                                    </p>
                                    <NewAppPassword add/>
                                    <AppPasswordList passwords remove/>
                                </main>
                            </div>
                        }
                            .into_any()
                })
            })}
        </Transition>
    }
}

/// The form that creates one, and the new password once created.
#[component]
fn NewAppPassword(add: ServerAction<AddAppPassword>) -> impl IntoView {
    let lang = use_lang();
    view! {
        <section class="card settings-card" aria-labelledby="new-app-password">
            <h2 id="new-app-password">{t(lang, Key::AddAppPassword)}</h2>
            <ActionForm action=add>
                <div class="field">
                    <label for="app-password-name">{t(lang, Key::AppPasswordName)}</label>
                    <input
                        id="app-password-name"
                        name="name"
                        type="text"
                        maxlength="100"
                        required
                        placeholder=t(lang, Key::AppPasswordNameHint)
                    />
                </div>
                <button type="submit" class="button primary" disabled=move || add.pending().get()>
                    {t(lang, Key::AddAppPassword)}
                </button>
            </ActionForm>
            {move || match add.value().get() {
                Some(Ok(token)) => {
                    view! {
                        <div class="new-token" role="status">
                            <p>{t(lang, Key::AppPasswordCreated)}</p>
                            <p>
                                <code class="token">{token}</code>
                            </p>
                            <p class="note">{t(lang, Key::AppPasswordShownOnce)}</p>
                        </div>
                    }
                        .into_any()
                }
                Some(Err(error)) => {
                    view! {
                        <p class="form-error" role="alert">
                            {t(lang, error.message_key())}
                        </p>
                    }
                        .into_any()
                }
                None => ().into_any(),
            }}
        </section>
    }
}

#[component]
fn AppPasswordList(passwords: Vec<AppPasswordView>, remove: ServerAction<RemoveAppPassword>) -> impl IntoView {
    let lang = use_lang();
    if passwords.is_empty() {
        return view! { <p class="empty">{t(lang, Key::NoAppPasswords)}</p> }.into_any();
    }
    let rows = passwords
        .into_iter()
        .map(|password| {
            let AppPasswordView { name, created, last_used } = password;
            let last_used = last_used.unwrap_or_else(|| t(lang, Key::NeverUsed).to_string());
            view! {
                <tr>
                    <th scope="row">{name.clone()}</th>
                    <td>{created}</td>
                    <td>{last_used}</td>
                    <td>
                        <ActionForm action=remove>
                            <input type="hidden" name="name" value=name.clone()/>
                            <button type="submit" class="button subtle">
                                {t(lang, Key::Remove)}
                                <span class="visually-hidden">" "{name}</span>
                            </button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="app-passwords">
            <thead>
                <tr>
                    <th scope="col">{t(lang, Key::AppPasswordName)}</th>
                    <th scope="col">{t(lang, Key::Created)}</th>
                    <th scope="col">{t(lang, Key::LastUsed)}</th>
                    <th scope="col">
                        <span class="visually-hidden">{t(lang, Key::Remove)}</span>
                    </th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
