-- Issue 17: files the web composer uploaded (B1), kept until the message carrying them is saved
-- or sent (or for two days); messages waiting in Drafts to be sent later (B15: undo send and
-- scheduled send), a draft once, its row gone with it; and each account's own settings (the
-- undo delay now, the web client's others as they come: M1).
CREATE TABLE compose_uploads (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    file_name    TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    bytes        BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX compose_uploads_by_account ON compose_uploads(account_id);

CREATE TABLE scheduled_sends (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    send_at    INTEGER NOT NULL,
    -- Undo send (a delay of seconds) or a send the reader scheduled.
    is_undo    INTEGER NOT NULL DEFAULT 0,
    -- Being sent: too late to undo. Cleared at start, so a send a crash interrupted is retried.
    claimed    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX scheduled_sends_by_time ON scheduled_sends(send_at);
CREATE INDEX scheduled_sends_by_account ON scheduled_sends(account_id);

CREATE TABLE account_settings (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (account_id, name)
);
