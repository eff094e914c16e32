-- Issue 17 (B13): a signature for each address an account sends from, put below what it
-- writes in the web client; and the server's settings, such as the footer the administrator
-- has every message written there end with.
CREATE TABLE signatures (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    address    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    PRIMARY KEY (account_id, address)
);

CREATE TABLE server_settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
