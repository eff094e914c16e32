//! GET [`EVENTS_PATH`]: live updates (issue 16). The change feed's changes to the signed-in
//! account's mail go to its open pages as Server-Sent Events, so a message delivered by SMTP or
//! flagged over IMAP shows without a reload. An event names the folder and its new modseq
//! (`"{folder} {modseq}"`), never any content: the page asks for its view again only when it
//! holds an older state of that folder. A stream starts with each folder's current modseq, so a
//! change made between the page's rendering and its subscription (the WASM starts after the
//! first paint) is not missed.

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

/// Streams open at once for one account (tabs, devices): one account cannot take them all.
const MAX_STREAMS_PER_ACCOUNT: usize = 8;

/// How often a stream checks that its session is still open, however busy the feed (a
/// signed-out page stops hearing about the account).
const SESSION_CHECK: Duration = Duration::from_secs(60);

/// A stream ends after this long; the browser's EventSource opens a new one by itself.
const STREAM_LIFE: Duration = Duration::from_secs(30 * 60);

/// The streams each account has open.
static OPEN_PER_ACCOUNT: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<i64, usize>>> =
    std::sync::LazyLock::new(Default::default);

/// One account's stream, counted while it lives.
struct AccountSlot(i64);

impl AccountSlot {
    fn take(account: i64) -> Option<AccountSlot> {
        let mut open = OPEN_PER_ACCOUNT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = open.entry(account).or_default();
        if *count >= MAX_STREAMS_PER_ACCOUNT {
            return None;
        }
        *count += 1;
        Some(AccountSlot(account))
    }
}

impl Drop for AccountSlot {
    fn drop(&mut self) {
        let mut open = OPEN_PER_ACCOUNT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(count) = open.get_mut(&self.0) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.0);
            }
        }
    }
}

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
    let (Some(account_slot), Ok(slot)) = (AccountSlot::take(account.0), STREAMS.try_acquire()) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let end = tokio::time::Instant::now() + STREAM_LIFE;
    let next_check = tokio::time::Instant::now() + SESSION_CHECK;
    // Subscribed first, then read: a change in between is in one or the other.
    let changes = mail.subscribe();
    let current: std::collections::VecDeque<Event> = match mail.store().folders(account).await {
        Ok(folders) => folders.iter().map(|folder| change_event(folder.id.0, folder.highest_modseq)).collect(),
        Err(error) => {
            tracing::error!(%error, "web client: live updates failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let state = (changes, next_check, current, (slot, account_slot));
    let stream = futures_util::stream::unfold(state, move |(mut changes, mut next_check, mut current, slots)| {
        let auth = auth.clone();
        let token = token.clone();
        async move {
            if let Some(event) = current.pop_front() {
                return Some((Ok::<_, Infallible>(event), (changes, next_check, current, slots)));
            }
            loop {
                let now = tokio::time::Instant::now();
                if now >= end {
                    return None;
                }
                // Checked on time even when the feed never pauses.
                if now >= next_check {
                    match auth.web_session_account(&token).await {
                        Ok(Some(_)) => next_check = now + SESSION_CHECK,
                        _ => return None,
                    }
                }
                let event = match tokio::time::timeout_at(next_check.min(end), changes.recv()).await {
                    Ok(Ok(change)) if change.account == account => change_event(change.folder.0, change.modseq),
                    Ok(Ok(_)) => continue,
                    // Some changes were missed: "folder 0" makes the page ask for its view again.
                    Ok(Err(RecvError::Lagged(_))) => change_event(0, 0),
                    Ok(Err(RecvError::Closed)) => return None,
                    // Time for the session check, or the end.
                    Err(_time) => continue,
                };
                return Some((Ok::<_, Infallible>(event), (changes, next_check, current, slots)));
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default()).into_response()
}

/// The one event the page hears: a folder and its modseq (`"{folder} {modseq}"`), for the
/// stream's opening state and for each change alike.
fn change_event(folder: i64, modseq: u64) -> Event {
    Event::default().event("change").data(format!("{folder} {modseq}"))
}
