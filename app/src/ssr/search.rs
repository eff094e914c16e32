//! The search box's server side (issue 15, E1–E5): the query read, run on the full-text index
//! within the account, the results as the list's rows in the index's order, the words to mark,
//! and the last search kept for the account.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use store::{AccountId, FolderId, MessageRow, Store};

use crate::error::AppError;
use crate::i18n::Key;

/// The account setting that keeps the last search (E4).
const LAST_SEARCH: &str = "last_search";
/// The longest query read.
pub(crate) const MAX_QUERY_CHARS: usize = 500;

/// A search's results: the rows, best first, and the words to mark in them.
pub(crate) struct Found {
    pub rows: Vec<MessageRow>,
    pub marked: Vec<(String, bool)>,
}

/// Runs `query` over the account's messages, in `folder` or in all of them. `Err(key)` says
/// in the reader's words why it could not run.
pub(crate) async fn run(
    store: &Store,
    account: AccountId,
    query: &str,
    folder: Option<FolderId>,
) -> Result<Result<Found, Key>, AppError> {
    let Some(index) = leptos::prelude::use_context::<super::Search>().and_then(|search| search.0) else {
        return Ok(Err(Key::ErrSearchUnavailable));
    };
    let query_text: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let parsed = match ::search::parse(&query_text) {
        Ok(parsed) => parsed,
        Err(error) => return Ok(Err(error_key(&error))),
    };
    store.set_account_setting(account, LAST_SEARCH, Some(&query_text)).await?;
    let scope = match folder {
        Some(folder) => ::search::Scope::Folders(vec![folder]),
        None => ::search::Scope::All,
    };
    let started = Instant::now();
    let hits = index.search(store, account, &parsed, &scope).await.map_err(|error| {
        tracing::warn!(%error, "search failed");
        AppError::Internal
    })?;
    let searched = started.elapsed();
    let places: Vec<(FolderId, u32)> = hits.iter().map(|hit| (hit.folder, hit.uid)).collect();
    let mut rows = store.rows_at(account, &places).await?;
    // The index's order: best first.
    let rank: HashMap<(FolderId, u32), usize> = places.iter().enumerate().map(|(at, &place)| (place, at)).collect();
    rows.sort_by_key(|row| rank.get(&(row.folder_id, row.uid)).copied());
    tell_timing(searched, started.elapsed() - searched);
    Ok(Ok(Found { rows, marked: parsed.marked_words() }))
}

/// The index's time and the rows' time as a `Server-Timing` header (the browser's developer
/// tools show it; `scripts/bench-search.py` reads it). It tells the signed-in reader only how
/// long their own search took.
fn tell_timing(index: Duration, rows: Duration) {
    let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else { return };
    let ms = |duration: Duration| duration.as_secs_f64() * 1000.0;
    let value = format!("index;dur={:.2}, rows;dur={:.2}", ms(index), ms(rows));
    if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
        response.insert_header(axum::http::HeaderName::from_static("server-timing"), value);
    }
}

/// The account's last search, to offer again.
pub(crate) async fn last_search(store: &Store, account: AccountId) -> Result<Option<String>, AppError> {
    Ok(store.account_setting(account, LAST_SEARCH).await?)
}

fn error_key(error: &::search::QueryError) -> Key {
    use ::search::QueryError::*;
    match error {
        Empty => Key::ErrSearchEmpty,
        ShortPrefix(_) => Key::ErrSearchShortPrefix,
        BadDate(_) => Key::ErrSearchBadDate,
        BadSize(_) => Key::ErrSearchBadSize,
        BadHas(_) => Key::ErrSearchBadHas,
        DanglingOr => Key::ErrSearchDanglingOr,
        UnclosedQuote => Key::ErrSearchUnclosedQuote,
    }
}

/// Where in `text` the marked words are (byte ranges), as the index cuts and folds words.
pub(crate) fn marks(text: &str, marked: &[(String, bool)]) -> Vec<(u32, u32)> {
    ::search::text::words(text)
        .into_iter()
        .filter(|word| {
            marked.iter().any(
                |(wanted, prefix)| {
                    if *prefix { word.folded.starts_with(wanted.as_str()) } else { word.folded == *wanted }
                },
            )
        })
        .map(|word| (word.from as u32, word.to as u32))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_follow_the_words_folded() {
        let marked = vec![("ete".to_string(), false), ("informa".to_string(), true)];
        let text = "Été: informations, météo";
        let ranges = marks(text, &marked);
        let shown: Vec<&str> = ranges.iter().map(|&(from, to)| &text[from as usize..to as usize]).collect();
        assert_eq!(shown, ["Été", "informations"]);
    }
}
