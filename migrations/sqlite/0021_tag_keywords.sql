-- D6: a tag is an IMAP keyword with a name and a colour. The name people type may hold spaces
-- and accents, which a keyword cannot (an IMAP atom), so the keyword made from it is kept
-- beside it (`mail::tags`). Keyed by keyword, as messages carry it; names stay unique too.
CREATE TABLE tags_new (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    keyword    TEXT    NOT NULL,
    name       TEXT    NOT NULL,   -- never changes
    colour     TEXT    NOT NULL,   -- one of types::TagColour
    PRIMARY KEY (account_id, keyword)
) WITHOUT ROWID;
INSERT INTO tags_new (account_id, keyword, name, colour) SELECT account_id, name, name, colour FROM tags;
DROP TABLE tags;
ALTER TABLE tags_new RENAME TO tags;
CREATE UNIQUE INDEX tags_by_name ON tags (account_id, name);
