//! Schema migrations, embedded in the binary so it runs from any directory.
//!
//! We build sqlx's `Migrator` by hand from `include_str!` instead of using `sqlx::migrate!`,
//! which would pull sqlx's proc-macro crates into every build for one list of files.

use std::borrow::Cow;

use sqlx::SqlitePool;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::{Error, Result};

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../../../../migrations/sqlite/0001_init.sql")),
    (2, "message facts", include_str!("../../../../migrations/sqlite/0002_message_facts.sql")),
    (3, "keywords and changes", include_str!("../../../../migrations/sqlite/0003_keywords_and_changes.sql")),
    (4, "message headers", include_str!("../../../../migrations/sqlite/0004_message_headers.sql")),
    (5, "app passwords", include_str!("../../../../migrations/sqlite/0005_app_passwords.sql")),
    (6, "unseen count per store", include_str!("../../../../migrations/sqlite/0006_unseen_count_per_store.sql")),
    (7, "bodystructure parameters", include_str!("../../../../migrations/sqlite/0007_bodystructure_parameters.sql")),
    (8, "folder lifecycle", include_str!("../../../../migrations/sqlite/0008_folder_lifecycle.sql")),
    (9, "recent", include_str!("../../../../migrations/sqlite/0009_recent.sql")),
    (10, "orphan subscriptions", include_str!("../../../../migrations/sqlite/0010_orphan_subscriptions.sql")),
    (11, "sent copies", include_str!("../../../../migrations/sqlite/0011_sent_copies.sql")),
    (12, "outbound queue", include_str!("../../../../migrations/sqlite/0012_outbound_queue.sql")),
    (13, "dkim keys", include_str!("../../../../migrations/sqlite/0013_dkim_keys.sql")),
    (14, "server secrets", include_str!("../../../../migrations/sqlite/0014_server_secrets.sql")),
    (15, "signatures", include_str!("../../../../migrations/sqlite/0015_signatures.sql")),
    (
        16,
        "compose uploads and schedules",
        include_str!("../../../../migrations/sqlite/0016_compose_uploads_and_schedules.sql"),
    ),
    (17, "signature html", include_str!("../../../../migrations/sqlite/0017_signature_html.sql")),
    (18, "list sort indexes", include_str!("../../../../migrations/sqlite/0018_list_sort_indexes.sql")),
    (19, "filed at", include_str!("../../../../migrations/sqlite/0019_filed_at.sql")),
    (20, "folder list sort", include_str!("../../../../migrations/sqlite/0020_folder_list_sort.sql")),
    (21, "tag keywords", include_str!("../../../../migrations/sqlite/0021_tag_keywords.sql")),
    (22, "message references", include_str!("../../../../migrations/sqlite/0022_message_references.sql")),
    (23, "domain admins", include_str!("../../../../migrations/sqlite/0023_domain_admins.sql")),
    (24, "administration", include_str!("../../../../migrations/sqlite/0024_administration.sql")),
    (25, "lists", include_str!("../../../../migrations/sqlite/0025_lists.sql")),
    (26, "groups", include_str!("../../../../migrations/sqlite/0026_groups.sql")),
];

pub(crate) async fn run(pool: &SqlitePool) -> Result<()> {
    let migrations: Vec<Migration> = SQLITE_MIGRATIONS
        .iter()
        .map(|(version, description, sql)| {
            Migration::new(*version, Cow::Borrowed(*description), MigrationType::Simple, Cow::Borrowed(*sql), false)
        })
        .collect();
    let migrator = Migrator { migrations: Cow::Owned(migrations), ignore_missing: false, locking: true, no_tx: false };
    migrator.run(pool).await.map_err(Error::from)
}
