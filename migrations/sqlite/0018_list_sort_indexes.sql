-- C1, C2: the message list sorts by subject, sender or size as well as by date, a page at a
-- time. Each order has its index so a page of a big folder is read in index order, without
-- sorting the folder. The sender expression is the one `Store::list_messages` sorts by (the
-- name the list shows, else the address); SQLite uses the index only for that same expression.
CREATE INDEX messages_by_folder_subject ON messages (folder_id, subject COLLATE NOCASE, uid);
CREATE INDEX messages_by_folder_sender ON messages (
    folder_id,
    (CASE WHEN trim(from_name) = '' THEN from_addr ELSE from_name END) COLLATE NOCASE,
    uid
);
CREATE INDEX messages_by_folder_size ON messages (folder_id, size, uid);
