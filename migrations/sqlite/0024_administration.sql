-- Issue 18 (A2): a mailbox can be disabled. It keeps its mail and still receives, but nobody
-- signs in to it (web, IMAP, SMTP submission) until it is enabled again.
ALTER TABLE accounts ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
-- The administration's alias list (A3), by domain then address, counted and paged from the
-- index alone (50,000 aliases in a domain: a few milliseconds rather than a table scan).
CREATE INDEX addresses_domain_kind_local ON addresses (domain_id, kind, local_part);
