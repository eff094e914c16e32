-- Issue 17 (B13): a signature may be rich text (with pictures); its text version stays in
-- `body`, for plain text messages.
ALTER TABLE signatures ADD COLUMN html TEXT;
