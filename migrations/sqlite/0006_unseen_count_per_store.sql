-- Issue 11: a STORE moves the folder's unread count once, by how many \Seen flags it flipped,
-- instead of a trigger updating the folder row once per message (10,000 UPDATEs of one row for
-- `STORE 1:* +FLAGS (\Seen)`). `Store::store_flags` is the only statement that changes flags;
-- inserts, deletes and moves keep their triggers.
DROP TRIGGER messages_count_seen;
