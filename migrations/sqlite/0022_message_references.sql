-- C11: a message's References ids (space-separated), so the web client threads a folder from
-- its rows as IMAP THREAD=REFERENCES does from the headers: References, else In-Reply-To.
-- Messages stored before keep only their In-Reply-To (`in_reply_to`) for threading.
ALTER TABLE messages ADD COLUMN refs TEXT NOT NULL DEFAULT '';
