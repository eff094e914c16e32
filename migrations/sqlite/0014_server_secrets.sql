-- Issue 14 (A3): keys the server makes for itself once and keeps, such as the one that signs
-- SRS addresses of forwarded mail (a bounce to such an address is only taken when it carries
-- our signature). Made on first use; losing one only invalidates what was signed with it.
CREATE TABLE server_secrets (
    name       TEXT    PRIMARY KEY,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);
