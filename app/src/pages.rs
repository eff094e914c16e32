//! One module per route, each with the server functions its page calls (Leptos' layout).

pub mod admin;
pub mod attach;
pub mod compose;
pub mod debounced;
pub mod drag_drop;
pub mod editor;
pub mod folders;
pub mod group_admin;
pub mod import;
pub mod list_admin;
pub mod list_keys;
pub mod login;
pub mod mail;
// Server only: the browser never builds a row (see the module).
#[cfg(feature = "ssr")]
pub(crate) mod mail_rows;
pub mod preferences;
pub mod recipients;
pub mod scheduled;
pub mod settings;
pub mod signatures;
pub mod tags;
