-- Issue 13: \Recent for IMAP4rev1 clients (RFC 3501 §2.3.2). A message is recent in the first
-- session told about it: `first_recent_uid` is the folder's first UID no session has claimed
-- yet. A session that selects the folder read-write claims the UIDs from there up to what it
-- sees (`store::sqlite::folders::recent_from`). Existing messages start as already seen.
ALTER TABLE folders ADD COLUMN first_recent_uid INTEGER NOT NULL DEFAULT 1;
UPDATE folders SET first_recent_uid = uidnext;
