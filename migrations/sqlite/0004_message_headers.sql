-- Issue 11, measured: a message_facts row began with the header block (kilobytes, most of it on
-- overflow pages), so every ENVELOPE or BODYSTRUCTURE read walked the header's overflow chain
-- first. The header block moves to a table of its own; the IMAP strings, which FETCH reads
-- for whole folders, stay in small rows that fit their pages.
CREATE TABLE message_headers (
    blob_hash TEXT PRIMARY KEY,
    header    BLOB NOT NULL   -- the header block: the message's first bytes
);
INSERT INTO message_headers (blob_hash, header) SELECT blob_hash, header FROM message_facts;

CREATE TABLE message_facts_small (
    blob_hash          TEXT PRIMARY KEY,
    imap_envelope      BLOB NOT NULL,   -- RFC 9051 §7.5.2 ENVELOPE as written on the wire
    imap_body          BLOB NOT NULL,   -- BODY (no extension data)
    imap_bodystructure BLOB NOT NULL    -- BODYSTRUCTURE
);
INSERT INTO message_facts_small (blob_hash, imap_envelope, imap_body, imap_bodystructure)
    SELECT blob_hash, imap_envelope, imap_body, imap_bodystructure FROM message_facts;
DROP TABLE message_facts;
ALTER TABLE message_facts_small RENAME TO message_facts;
