-- Issue 13: folders are created, renamed and deleted (D1, D2, IMAP CREATE/RENAME/DELETE).
--
-- A folder's id and its UIDVALIDITY are never handed out twice. SQLite reuses the largest
-- rowid once its row is deleted, and IMAP sessions, the change log and the web client hold
-- folder ids: a folder deleted and another created would have inherited its id, its log and
-- its selected sessions. RFC 9051 §2.3.1.1: a name used again for a new folder must come with
-- a larger UIDVALIDITY, even within the same second. New folders take the next of each
-- counter (`store::sqlite::folders::insert_folder`); the trigger keeps the counters right
-- whoever inserts.
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES
    ('folder_id', COALESCE((SELECT max(id) FROM folders), 0)),
    ('uidvalidity', COALESCE((SELECT max(uidvalidity) FROM folders), 0));
CREATE TRIGGER folders_counters AFTER INSERT ON folders BEGIN
    UPDATE counters SET value = max(value, NEW.id) WHERE name = 'folder_id';
    UPDATE counters SET value = max(value, NEW.uidvalidity) WHERE name = 'uidvalidity';
END;
