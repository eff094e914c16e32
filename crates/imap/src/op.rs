//! One file per command (or family of commands), each an `impl Session` block with
//! `handle_<command>` methods that return the tagged completion.

mod append;
mod auth;
mod binary_append;
pub(crate) mod copy;
pub(crate) mod fetch;
mod folders;
mod idle;
pub(crate) mod list;
pub(crate) mod misc;
mod quota;
pub(crate) mod search;
mod select;
pub(crate) mod sort;
pub(crate) mod status;
mod store;
mod thread;

pub(crate) use list::ListKind;
