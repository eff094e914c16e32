//! POST [`IMPORT_UPLOAD`]: a `.zip` of `.eml` files into the account's folders (D10).
//!
//! A multipart form with one file (`archive`): posted by the page's script with its upload
//! progress, or by the plain form without it. The body is read only once the session is known,
//! through a cap, and a few imports run at once; what the import did is kept with the account
//! (the last one) and the page shows it after the `303` back.

use axum::extract::Multipart;
use axum::http::StatusCode;
use axum::http::header::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};

use crate::dto::ImportSummaryView;
pub(crate) use crate::pages::import::{IMPORT_PATH, IMPORT_SUMMARY_SETTING, IMPORT_UPLOAD, MAX_IMPORT_BYTES};

/// Imports running at once; more wait for a slot's answer (`503`).
const CONCURRENT_IMPORTS: usize = 2;
/// Rejected entries kept in the summary (the rest are counted).
const LISTED_REJECTIONS: usize = 50;

pub(super) async fn import(mail: mail::Mail, auth: auth::Auth, headers: HeaderMap, mut form: Multipart) -> Response {
    static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_IMPORTS);
    let account = match super::session_of(&auth, &headers).await {
        Ok(Some(account)) => account,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(error) => {
            tracing::error!(%error, "web client: import failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Ok(_slot) = SLOTS.try_acquire() else { return StatusCode::SERVICE_UNAVAILABLE.into_response() };
    let mut archive: Option<Vec<u8>> = None;
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        };
        if field.name() != Some("archive") {
            continue;
        }
        let mut bytes = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) if bytes.len() + chunk.len() > MAX_IMPORT_BYTES => {
                    return StatusCode::PAYLOAD_TOO_LARGE.into_response();
                }
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(_) => return StatusCode::BAD_REQUEST.into_response(),
            }
        }
        archive = Some(bytes);
    }
    let lang = super::lang_of(&headers);
    let when = super::full_date(&super::ReaderZone::of_headers(&headers).at(chrono::Utc::now().timestamp()), lang);
    let view = match archive.filter(|bytes| !bytes.is_empty()) {
        None => ImportSummaryView { when, not_a_zip: true, ..ImportSummaryView::default() },
        Some(bytes) => match mail.import_zip(account.id, bytes).await {
            Ok(summary) => summary_view(summary, when),
            Err(mail::import::ImportError::NotAZip) => {
                ImportSummaryView { when, not_a_zip: true, ..ImportSummaryView::default() }
            }
            Err(mail::import::ImportError::Store(error)) => {
                tracing::error!(%error, login = %account.login, "web client: import failed");
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            }
        },
    };
    let kept = fitting_summary(view);
    if let Err(error) = auth.store().set_account_setting(account.id, IMPORT_SUMMARY_SETTING, kept.as_deref()).await {
        tracing::error!(%error, "web client: import summary not kept");
    }
    Redirect::to(IMPORT_PATH).into_response()
}

/// The summary as JSON within a setting's size: the last listed rejections and folders go
/// (counted in `more_rejected`) until it fits.
fn fitting_summary(mut view: ImportSummaryView) -> Option<String> {
    loop {
        let json = serde_json::to_string(&view).ok()?;
        if json.len() <= store::MAX_SETTING_BYTES {
            return Some(json);
        }
        if view.rejected.pop().is_some() {
            view.more_rejected += 1;
        } else if view.imported.pop().is_none() {
            return None;
        }
    }
}

/// The summary as the page shows it.
fn summary_view(summary: mail::import::ImportSummary, when: String) -> ImportSummaryView {
    use mail::import::Rejection;
    let total = summary.imported_count();
    let more_rejected = summary.rejected.len().saturating_sub(LISTED_REJECTIONS) as u32;
    let rejected = summary
        .rejected
        .into_iter()
        .take(LISTED_REJECTIONS)
        .map(|(name, why)| {
            let name: String = name.chars().take(100).collect();
            let why = match why {
                Rejection::NotEml => "not_eml",
                Rejection::TooLarge => "too_large",
                Rejection::NotAMessage => "not_a_message",
                Rejection::BadFolder => "bad_folder",
                Rejection::OverQuota => "over_quota",
                Rejection::Unreadable => "unreadable",
                Rejection::TooMany => "too_many",
            };
            (name, why.to_string())
        })
        .collect();
    let imported = summary.imported.into_iter().take(100).collect();
    ImportSummaryView { when, imported, total, rejected, more_rejected, not_a_zip: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_cut_to_fit_a_setting() {
        let view = ImportSummaryView {
            when: "now".into(),
            imported: (0..100).map(|i| (format!("Folder {i} {}", "x".repeat(200)), 1)).collect(),
            total: 100,
            rejected: (0..50).map(|i| (format!("{i}\u{1}{}", "é".repeat(99)), "not_eml".into())).collect(),
            more_rejected: 0,
            not_a_zip: false,
        };
        let json = fitting_summary(view).expect("fits");
        assert!(json.len() <= store::MAX_SETTING_BYTES);
        let back: ImportSummaryView = serde_json::from_str(&json).unwrap();
        assert_eq!(back.rejected.len() as u32 + back.more_rejected, 50, "what no longer shows is counted");
    }
}
