-- Issue 11, "parse once": what reading needs from a message besides its bytes, computed once at
-- delivery or append (`mime::Facts`) and shared by every row of the same blob (an alias fanning
-- out, a copy). IMAP FETCH answers ENVELOPE, BODY, BODYSTRUCTURE and header fields from here
-- without opening the blob. Rows are removed with their blob; messages stored before this
-- migration get theirs from a backfill at start.
CREATE TABLE message_facts (
    blob_hash          TEXT PRIMARY KEY,
    header             BLOB NOT NULL,   -- the header block: the message's first bytes
    imap_envelope      BLOB NOT NULL,   -- RFC 9051 §7.5.2 ENVELOPE as written on the wire
    imap_body          BLOB NOT NULL,   -- BODY (no extension data)
    imap_bodystructure BLOB NOT NULL    -- BODYSTRUCTURE
);

-- C1: the message list sorts by the date it shows (the Date header, else the arrival). An index
-- on that expression lets the newest rows of a big folder be read without sorting the folder.
CREATE INDEX messages_by_folder_list_date ON messages (folder_id, COALESCE(sent_date, internal_date), uid);
