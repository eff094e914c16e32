-- Issue 18 (A2): a mailbox can be disabled. It keeps its mail and still receives, but nobody
-- signs in to it (web, IMAP, SMTP submission) until it is enabled again.
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
