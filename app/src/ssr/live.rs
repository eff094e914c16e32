//! GET [`EVENTS_PATH`]: live updates (issue 16). The change feed's changes to the signed-in
//! account's mail go to its open pages as Server-Sent Events, so a message delivered by SMTP or
//! flagged over IMAP shows without a reload. An event names the folder and its new modseq
//! (`"{folder} {modseq}"`), never any content: the page asks for its view again only when it
//! holds an older state of that folder.

use std::convert::Infallible;
use std::time::Duration;

use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;

pub(super) use crate::pages::mail::EVENTS_PATH;

/// Streams open at once, across all accounts: each holds a connection and a feed subscription.
/// Half the web listener's connections, so streams never take the ones pages need.
const MAX_STREAMS: usize = 500;

/// How often a quiet stream checks that its session is still open (a signed-out page stops
/// hearing about the account).
const SESSION_CHECK: Duration = Duration::from_secs(60);

pub(super) async fn events(mail: mail::Mail, auth: auth::Auth, headers: HeaderMap) -> Response {
    static STREAMS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(MAX_STREAMS);
    let Some(token) = super::cookie_value(&headers, super::SESSION_COOKIE).map(str::to_string) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let account = match auth.web_session_account(&token).await {
        Ok(Some(account)) => account.id,
        Ok(None) => return StatusCode::UNAUTHORIZED.into_response(),
        Err(error) => {
            tracing::error!(%error, "web client: live updates failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Ok(slot) = STREAMS.try_acquire() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let state = (mail.subscribe(), slot);
    let stream = futures_util::stream::unfold(state, move |(mut changes, slot)| {
        let auth = auth.clone();
        let token = token.clone();
        async move {
            loop {
                let event = match tokio::time::timeout(SESSION_CHECK, changes.recv()).await {
                    Ok(Ok(change)) if change.account == account => {
                        format!("{} {}", change.folder.0, change.modseq)
                    }
                    Ok(Ok(_)) => continue,
                    // Some changes were missed: "folder 0" makes the page ask for its view again.
                    Ok(Err(RecvError::Lagged(_))) => "0 0".to_string(),
                    Ok(Err(RecvError::Closed)) => return None,
                    Err(_quiet) => match auth.web_session_account(&token).await {
                        Ok(Some(_)) => continue,
                        _ => return None,
                    },
                };
                return Some((Ok::<_, Infallible>(Event::default().event("change").data(event)), (changes, slot)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}
