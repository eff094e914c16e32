-- C1: the order the web client's list of a folder is kept in lives on the folder itself, so it
-- goes with the folder when it is deleted and a new folder never inherits an old one's (ids
-- may be reused). It used to be an account setting per folder id.
ALTER TABLE folders ADD COLUMN list_sort TEXT;
DELETE FROM account_settings WHERE name LIKE 'list\_sort:%' ESCAPE '\';
