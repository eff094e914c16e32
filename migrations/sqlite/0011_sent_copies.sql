-- Issue 14: a message the account sends (SMTP submission, later the web composer) is copied to
-- its Sent folder unless the account says its programs save their own copies over IMAP
-- (Thunderbird, Apple Mail and Outlook do by default), so Sent does not hold every message twice.
ALTER TABLE accounts ADD COLUMN keeps_sent_copies INTEGER NOT NULL DEFAULT 1;
