-- Issue 18 (A11): groups of a domain's mailboxes, some of them the group's administrators.
-- Groups will own shared boxes, contacts, documents and calendars. AUTOINCREMENT: a group's id
-- is in links and will be in what it owns; a deleted group's is never handed out again.
CREATE TABLE groups (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id   INTEGER NOT NULL REFERENCES domains(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (domain_id, name COLLATE NOCASE)
);

CREATE TABLE group_members (
    group_id   INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    is_admin   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (group_id, account_id)
) WITHOUT ROWID;
CREATE INDEX group_members_account ON group_members (account_id);
