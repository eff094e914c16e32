-- Issue 11: flags changed set-wise, and the durable change log.

-- Keywords move into the row (sorted, space-separated: IMAP atoms hold no space), so a STORE
-- reads and writes one row per message instead of joining a table, and the list reads no
-- subquery per row.
ALTER TABLE messages ADD COLUMN keywords TEXT NOT NULL DEFAULT '';
UPDATE messages SET keywords = COALESCE(
    (SELECT group_concat(keyword, ' ') FROM (SELECT keyword FROM message_keywords k
        WHERE k.message_id = messages.id ORDER BY keyword)), '');
DROP TABLE message_keywords;

-- Issue 12: keywords an account has used, so their number can be capped (NO [LIMIT]) without
-- a scan; like IMAP's PERMANENTFLAGS they are remembered once used.
CREATE TABLE account_keywords (
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    keyword    TEXT    NOT NULL,
    PRIMARY KEY (account_id, keyword)
) WITHOUT ROWID;

-- Counters move only when a count changes: a flag change touches the unread count only when
-- \Seen flips, and the rest only when a message changes folder, account or size.
DROP TRIGGER messages_count_update;
CREATE TRIGGER messages_count_seen AFTER UPDATE OF flags ON messages
    WHEN (OLD.flags & 1) != (NEW.flags & 1) AND OLD.folder_id = NEW.folder_id AND OLD.account_id = NEW.account_id
BEGIN
    UPDATE folders SET n_unseen = n_unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0) WHERE id = NEW.folder_id;
END;
CREATE TRIGGER messages_count_move AFTER UPDATE OF account_id, folder_id, size ON messages
    WHEN OLD.folder_id != NEW.folder_id OR OLD.account_id != NEW.account_id OR OLD.size != NEW.size
BEGIN
    UPDATE accounts SET used_bytes = used_bytes - OLD.size WHERE id = OLD.account_id;
    UPDATE accounts SET used_bytes = used_bytes + NEW.size WHERE id = NEW.account_id;
    UPDATE folders SET n_messages = n_messages - 1, n_unseen = n_unseen - ((OLD.flags & 1) = 0),
        size_bytes = size_bytes - OLD.size WHERE id = OLD.folder_id;
    UPDATE folders SET n_messages = n_messages + 1, n_unseen = n_unseen + ((NEW.flags & 1) = 0),
        size_bytes = size_bytes + NEW.size WHERE id = NEW.folder_id;
END;

-- The change log: every new message, flag change and expunge, in commit order (`id`), with the
-- folder's modseq it took. Written by triggers, so no write path can forget it; read by the
-- change feed (IMAP IDLE, the web client's live view, the indexer, ActiveSync Ping) and by
-- "what changed since modseq N" (CONDSTORE/QRESYNC, VANISHED (EARLIER)). Rows older than the
-- horizon are pruned; `folders.changes_horizon` is then the highest modseq forgotten, below
-- which a client must resynchronise.
CREATE TABLE changes (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    folder_id  INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    uid        INTEGER NOT NULL,
    kind       INTEGER NOT NULL CHECK (kind IN (1, 2, 3)),  -- 1 new, 2 flags, 3 expunged
    created_at INTEGER NOT NULL
);
CREATE INDEX changes_by_folder_modseq ON changes (folder_id, modseq);
ALTER TABLE folders ADD COLUMN changes_horizon INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER messages_log_insert AFTER INSERT ON messages BEGIN
    INSERT INTO changes (account_id, folder_id, modseq, uid, kind, created_at)
    VALUES (NEW.account_id, NEW.folder_id, NEW.modseq, NEW.uid, 1, CAST(strftime('%s', 'now') AS INTEGER));
END;
CREATE TRIGGER messages_log_flags AFTER UPDATE OF flags, keywords ON messages
    WHEN OLD.flags != NEW.flags OR OLD.keywords != NEW.keywords
BEGIN
    INSERT INTO changes (account_id, folder_id, modseq, uid, kind, created_at)
    VALUES (NEW.account_id, NEW.folder_id, NEW.modseq, NEW.uid, 2, CAST(strftime('%s', 'now') AS INTEGER));
END;
-- An expunge takes the folder's new modseq (the expunging transaction bumps it first).
CREATE TRIGGER messages_log_delete AFTER DELETE ON messages BEGIN
    INSERT INTO changes (account_id, folder_id, modseq, uid, kind, created_at)
    VALUES (OLD.account_id, OLD.folder_id,
        COALESCE((SELECT highest_modseq FROM folders WHERE id = OLD.folder_id), OLD.modseq), OLD.uid, 3,
        CAST(strftime('%s', 'now') AS INTEGER));
END;
