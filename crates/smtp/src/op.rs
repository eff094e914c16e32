//! Command handlers, one file per command family, each an `impl Session` block with
//! `handle_<command>` methods. They return the reply (or an [`crate::Error`] that the session
//! maps to one); only AUTH, DATA and STARTTLS write to the client themselves, because their protocol
//! needs an intermediate reply.

mod auth;
mod data;
mod hello;
mod mail;
mod rcpt;
mod starttls;
