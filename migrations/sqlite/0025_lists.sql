-- Issue 18 (A7, A8): mailing lists. A list has an address of its domain (never also a mailbox
-- or an alias: `ensure_address_free` looks at both tables). AUTOINCREMENT on the ids that
-- unsubscribe links and VERP bounce addresses carry, so a deleted list's or member's id is
-- never handed out again and an old link cannot reach a newer subscription.
CREATE TABLE lists (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id    INTEGER NOT NULL REFERENCES domains(id),
    local_part   TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('distribution', 'discussion')),
    -- Shown in "Name via List" and in List-Id's phrase.
    name         TEXT    NOT NULL DEFAULT '',
    subscription TEXT    NOT NULL DEFAULT 'confirm' CHECK (subscription IN ('open', 'confirm', 'moderated')),
    posting      TEXT    NOT NULL DEFAULT 'members' CHECK (posting IN ('members', 'moderated', 'anyone')),
    reply_to     TEXT    NOT NULL DEFAULT 'list' CHECK (reply_to IN ('list', 'author')),
    created_at   INTEGER NOT NULL,
    UNIQUE (domain_id, local_part)
);

-- Who is on a list, and as what: a member receives, an owner manages (and alone posts to a
-- distribution list), a moderator approves held posts and subscriptions. Bounces (VERP) raise
-- the score once a day at most; at 5 the address stops receiving until an owner enables it.
CREATE TABLE list_members (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id         INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address         TEXT    NOT NULL,
    member          INTEGER NOT NULL DEFAULT 1,
    owner           INTEGER NOT NULL DEFAULT 0,
    moderator       INTEGER NOT NULL DEFAULT 0,
    bounce_score    INTEGER NOT NULL DEFAULT 0,
    last_bounce_day INTEGER,
    disabled        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (list_id, address)
);

-- A post the list accepted: 'sending' until every receiving member has a copy (each recorded
-- in list_post_copies in the transaction that stores or queues it, so a restart goes on where
-- it stopped and nobody gets two), 'held' while it waits for a moderator.
CREATE TABLE list_posts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id     INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    blob_hash   TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    sender      TEXT    NOT NULL,
    author      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    -- Submitted by one of our accounts (its From: is theirs); else from the MX.
    submitted   INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL CHECK (state IN ('sending', 'held')),
    received_at INTEGER NOT NULL
);
CREATE INDEX list_posts_blob ON list_posts (blob_hash);
CREATE INDEX list_posts_state ON list_posts (state, list_id);

CREATE TABLE list_post_copies (
    post_id   INTEGER NOT NULL REFERENCES list_posts(id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL,
    PRIMARY KEY (post_id, member_id)
) WITHOUT ROWID;

-- A8: a subscription asked for, until its address confirms (the token's SHA-256, until
-- expires_at) and, on a moderated list, until a moderator approves it (token_hash NULL).
CREATE TABLE list_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    list_id      INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,
    token_hash   TEXT    UNIQUE,
    expires_at   INTEGER NOT NULL,
    requested_at INTEGER NOT NULL,
    UNIQUE (list_id, address)
);
