//! The SQLite backend: every SQL statement of the store, in SQLite's dialect (json_each,
//! UPDATE ... FROM, triggers, savepoints). The `Store` methods are defined here; nothing of
//! sqlx leaves the crate. A PostgreSQL backend will be a sibling module with its own
//! migrations (`migrations/postgres/`), chosen inside `Store`, so callers do not change.

pub(crate) mod accounts;
pub(crate) mod changes;
pub(crate) mod ingest;
pub(crate) mod messages;
pub(crate) mod migrate;
pub(crate) mod routing;
