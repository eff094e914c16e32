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
pub mod preferences;
pub mod recipients;
pub mod scheduled;
pub mod settings;
pub mod signatures;
pub mod tags;
