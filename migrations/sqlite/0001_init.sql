-- Facteur schema, version 1 (SQLite dialect; migrations/postgres/ will mirror it file for file).
-- Designed for the whole feature catalogue (../FEATURES ids in comments); tables for features
-- not built yet are added by later migrations, but the core rows already carry their columns.

-- A1: the mail domains the organisation owns. Names are stored lowercase ASCII (punycode).
CREATE TABLE domains (
    id                INTEGER PRIMARY KEY,
    name              TEXT    NOT NULL UNIQUE,
    -- A5: where postmaster@ and abuse@ go; NULL means the domain's first admin account.
    postmaster_target TEXT,
    created_at        INTEGER NOT NULL
);

-- A2, A12, F8: a login with storage. `login` is the primary address, lowercase.
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    domain_id     INTEGER NOT NULL REFERENCES domains(id),
    login         TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL,          -- argon2id PHC string
    quota_bytes   INTEGER,                   -- A10; NULL = unlimited
    used_bytes    INTEGER NOT NULL DEFAULT 0, -- A10; kept by the triggers on `messages`
    is_admin      INTEGER NOT NULL DEFAULT 0,
    language      TEXT,                      -- M1; NULL = from the browser
    created_at    INTEGER NOT NULL
);

-- A2, A3, A7: every deliverable local address: a mailbox (one account) or an alias (targets).
CREATE TABLE addresses (
    id         INTEGER PRIMARY KEY,
    domain_id  INTEGER NOT NULL REFERENCES domains(id),
    local_part TEXT    NOT NULL,              -- lowercase
    kind       TEXT    NOT NULL CHECK (kind IN ('mailbox', 'alias')),
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    UNIQUE (domain_id, local_part),
    CHECK ((kind = 'mailbox') = (account_id IS NOT NULL))
);

-- A3: the targets of an alias, local or external full addresses.
CREATE TABLE alias_targets (
    address_id INTEGER NOT NULL REFERENCES addresses(id) ON DELETE CASCADE,
    target     TEXT    NOT NULL,
    PRIMARY KEY (address_id, target)
);

-- D1, D2: folders. `name` is the full IMAP path with '/' as separator; the inbox is 'INBOX'.
CREATE TABLE folders (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT    NOT NULL,
    parent_id      INTEGER REFERENCES folders(id) ON DELETE CASCADE,
    special_use    TEXT CHECK (special_use IN ('inbox', 'sent', 'drafts', 'templates', 'trash', 'junk')),
    uidvalidity    INTEGER NOT NULL,
    uidnext        INTEGER NOT NULL DEFAULT 1,
    highest_modseq INTEGER NOT NULL DEFAULT 1,
    subscribed     INTEGER NOT NULL DEFAULT 1,
    -- Kept by the triggers on `messages`: STATUS, the folder tree's unread counts and D3's
    -- sizes are asked for all the time, and counting a big folder each time grows with it.
    n_messages     INTEGER NOT NULL DEFAULT 0,
    n_unseen       INTEGER NOT NULL DEFAULT 0,
    size_bytes     INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    UNIQUE (account_id, name)
);

-- One row per message in a folder. The raw bytes live in a blob file named by `blob_hash`
-- (several rows may share one blob: an alias fanning out, a copy). The parsed header fields
-- let the message list render without opening blobs.
CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    folder_id       INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid             INTEGER NOT NULL,
    modseq          INTEGER NOT NULL,
    flags           INTEGER NOT NULL DEFAULT 0,   -- bit set of IMAP system flags
    blob_hash       TEXT    NOT NULL,
    size            INTEGER NOT NULL,
    internal_date   INTEGER NOT NULL,             -- unix seconds
    thread_id       INTEGER NOT NULL,             -- C11: id of the thread's first message
    message_id      TEXT,
    in_reply_to     TEXT,
    subject         TEXT    NOT NULL DEFAULT '',
    from_name       TEXT    NOT NULL DEFAULT '',
    from_addr       TEXT    NOT NULL DEFAULT '',
    to_addrs        TEXT    NOT NULL DEFAULT '',  -- display form, for the list
    sent_date       INTEGER,                      -- Date: header, unix seconds
    has_attachments INTEGER NOT NULL DEFAULT 0,   -- C7
    priority_high   INTEGER NOT NULL DEFAULT 0,   -- C9
    preview         TEXT    NOT NULL DEFAULT '',
    comment         TEXT,                         -- D7
    UNIQUE (folder_id, uid)
);
CREATE INDEX messages_by_folder_date ON messages (folder_id, internal_date);
CREATE INDEX messages_by_blob ON messages (blob_hash);
CREATE INDEX messages_by_account_message_id ON messages (account_id, message_id);

-- The counters of `accounts` (A10: the quota check runs at every RCPT and delivery) and of
-- `folders` follow every row written, in the same transaction. Bit 1 of `flags` is \Seen.
CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
    UPDATE accounts SET used_bytes = used_bytes + NEW.size WHERE id = NEW.account_id;
    UPDATE folders SET n_messages = n_messages + 1, n_unseen = n_unseen + ((NEW.flags & 1) = 0),
        size_bytes = size_bytes + NEW.size WHERE id = NEW.folder_id;
END;
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
    UPDATE accounts SET used_bytes = used_bytes - OLD.size WHERE id = OLD.account_id;
    UPDATE folders SET n_messages = n_messages - 1, n_unseen = n_unseen - ((OLD.flags & 1) = 0),
        size_bytes = size_bytes - OLD.size WHERE id = OLD.folder_id;
END;
CREATE TRIGGER messages_count_update AFTER UPDATE OF account_id, folder_id, flags, size ON messages BEGIN
    UPDATE accounts SET used_bytes = used_bytes - OLD.size WHERE id = OLD.account_id;
    UPDATE accounts SET used_bytes = used_bytes + NEW.size WHERE id = NEW.account_id;
    UPDATE folders SET n_messages = n_messages - 1, n_unseen = n_unseen - ((OLD.flags & 1) = 0),
        size_bytes = size_bytes - OLD.size WHERE id = OLD.folder_id;
    UPDATE folders SET n_messages = n_messages + 1, n_unseen = n_unseen + ((NEW.flags & 1) = 0),
        size_bytes = size_bytes + NEW.size WHERE id = NEW.folder_id;
END;

-- D6, K1: IMAP keywords; tags are keywords with a colour in `tags`.
CREATE TABLE message_keywords (
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    keyword    TEXT    NOT NULL,
    PRIMARY KEY (message_id, keyword)
);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,   -- never changes (D6): it is the IMAP keyword
    colour     TEXT    NOT NULL,
    UNIQUE (account_id, name)
);

-- B6, B13: sender identities with their signatures.
CREATE TABLE identities (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,
    display_name TEXT    NOT NULL DEFAULT '',
    signature    TEXT    NOT NULL DEFAULT '',
    is_default   INTEGER NOT NULL DEFAULT 0
);

-- M1: per-account settings as key/value.
CREATE TABLE settings (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- F8: web sessions. Only a SHA-256 of the cookie's token is stored.
CREATE TABLE web_sessions (
    token_hash TEXT    PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
