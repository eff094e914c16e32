-- Issue 13: a subscription is a name (RFC 9051 §6.3.7), and a server SHOULD NOT drop it when
-- the folder goes: LIST (SUBSCRIBED) shows it \NonExistent until the client unsubscribes, and a
-- folder made again under that name is subscribed again. Existing folders keep theirs in
-- `folders.subscribed`; this table holds the names whose folder is gone.
CREATE TABLE orphan_subscriptions (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;
