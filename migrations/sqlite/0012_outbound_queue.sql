-- Issue 14 (K3, A3): mail waiting to leave for other servers. The message is a blob like any
-- other (the blob sweeper keeps it while a row here names it); each recipient is a row of its
-- own, taken off the queue when it is delivered or has failed for good (and the sender told).
CREATE TABLE outbound_messages (
    id          INTEGER PRIMARY KEY,
    blob_hash   TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    -- The envelope sender (RFC 5321 MAIL FROM); '' for a bounce, which is never bounced.
    sender      TEXT    NOT NULL,
    -- Whose message it is, for the admin's queue list; NULL for bounces and forwards.
    account_id  INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX outbound_messages_blob ON outbound_messages(blob_hash);

CREATE TABLE outbound_recipients (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES outbound_messages(id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,
    -- Lowercase: one attempt per destination domain carries all its recipients.
    domain       TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL,   -- unix seconds
    last_error   TEXT,
    -- Whether the sender was told it is late (a "delayed" DSN, once).
    delay_warned INTEGER NOT NULL DEFAULT 0,
    -- Being tried right now by the running server: taken in a write, so an attempt that just
    -- ended cannot be started again from an older read. Cleared when the server starts.
    leased       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (message_id, address)
);
CREATE INDEX outbound_recipients_due ON outbound_recipients(next_attempt);
