//! /login: the sign-in form and its server function (F8 throttling is the `auth` crate's).
//!
//! The form is an `ActionForm`, so it works before (or without) WASM: the browser posts it to
//! `/api/login`, which answers with a redirect to /mail, or back to /login with the error in the
//! URL (`?error=bad_credentials`), which the page reads back.

use leptos::prelude::*;
use leptos::server_fn::error::ServerFnUrlError;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::i18n::{Key, t, use_lang};
use crate::pages::mail::Logo;

/// Checks the credentials, opens a session (cookie `facteur_session`) and sends the browser to
/// /mail.
#[server(endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr;
    let auth = use_context::<auth::Auth>().ok_or(AppError::Internal)?;
    let ip = ssr::client_ip().await;
    match auth.authenticate(&email, &password, ip, "web").await? {
        auth::AuthOutcome::Ok(account) => {
            let token = auth.create_web_session(account.id).await?;
            ssr::set_cookie(&ssr::session_cookie(Some(&token), ssr::web_settings().secure_cookies))?;
            // The reader's language and images choice, for this browser too (M1).
            let store = expect_context::<store::Store>();
            let preferences = crate::pages::preferences::stored_preferences(&store, account.id).await?;
            crate::pages::preferences::set_preference_cookies(&preferences)?;
            leptos_axum::redirect("/mail");
            Ok(())
        }
        failure => {
            // A failure is answered after a second, as over IMAP: guessing costs time (`auth`
            // has logged it).
            tokio::time::sleep(FAILED_LOGIN_DELAY).await;
            let error = match failure {
                auth::AuthOutcome::Throttled => AppError::Throttled,
                _ => AppError::BadCredentials,
            };
            Err(failed_login(error))
        }
    }
}

/// How long a failed sign-in waits for its answer.
#[cfg(feature = "ssr")]
const FAILED_LOGIN_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

/// Sends a plain form post back to /login with the error in the URL, named rather than in
/// Leptos' encoding. Calls from WASM receive the error itself and ignore the redirect.
#[cfg(feature = "ssr")]
fn failed_login(error: AppError) -> AppError {
    leptos_axum::redirect(&format!("/login?error={}", login_error_code(&error)));
    error
}

/// The `error` query parameter of /login for each login failure.
fn login_error_code(error: &AppError) -> &'static str {
    match error {
        AppError::Throttled => "throttled",
        _ => "bad_credentials",
    }
}

fn login_error_from_code(code: &str) -> Option<AppError> {
    [AppError::BadCredentials, AppError::Throttled].into_iter().find(|e| login_error_code(e) == code)
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let lang = use_lang();
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    // With WASM the action holds the error; without, the server put it in the URL.
    let error = move || {
        login.value().get().and_then(Result::err).or_else(|| {
            query.with(|q| {
                q.get("error")
                    .and_then(|code| login_error_from_code(&code))
                    .or_else(|| q.get("__err").map(|encoded| ServerFnUrlError::<AppError>::decode_err(&encoded)))
            })
        })
    };
    view! {
        <main class="centered-page login-page">
            <div class="card login-card">
                <div class="brand">
                    <Logo/>
                    <span>{t(lang, Key::AppName)}</span>
                </div>
                <h1>{t(lang, Key::LoginTitle)}</h1>
                <p class="tagline">{t(lang, Key::Tagline)}</p>
                <ActionForm action=login>
                    <div class="field">
                        <label for="login-email">{t(lang, Key::Email)}</label>
                        <input
                            id="login-email"
                            name="email"
                            type="email"
                            autocomplete="username"
                            required
                            autofocus
                        />
                    </div>
                    <div class="field">
                        <label for="login-password">{t(lang, Key::Password)}</label>
                        <input
                            id="login-password"
                            name="password"
                            type="password"
                            autocomplete="current-password"
                            required
                        />
                    </div>
                    {move || {
                        error()
                            .map(|error| {
                                view! {
                                    <p class="form-error" role="alert">
                                        {t(lang, error.message_key())}
                                    </p>
                                }
                            })
                    }}
                    <button type="submit" class="button primary wide" disabled=move || login.pending().get()>
                        {t(lang, Key::SignIn)}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_error_codes_round_trip() {
        for error in [AppError::BadCredentials, AppError::Throttled] {
            assert_eq!(login_error_from_code(login_error_code(&error)), Some(error));
        }
        assert_eq!(login_error_from_code("<script>"), None);
    }
}
