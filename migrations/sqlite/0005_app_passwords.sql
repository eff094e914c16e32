-- F8, issue 12 defect 10: app passwords. Random tokens an owner makes for one program (a phone,
-- a desktop client); only their SHA-256 is kept. They are long enough that guessing is hopeless,
-- so an attempt with one is not held up by the login-wide throttle that guesses at the
-- account's password may have tripped: the owner always has a way in.
CREATE TABLE app_passwords (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    UNIQUE (account_id, name)
);
