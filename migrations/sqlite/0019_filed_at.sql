-- D5: when a message was put in its folder (delivered, appended, copied or moved there), so
-- Trash can forget what has been in it for longer than the server keeps deleted mail. Rows
-- from before this column count from their arrival (`internal_date`).
ALTER TABLE messages ADD COLUMN filed_at INTEGER;
