-- Issue 18: domain administrators. A server administrator (`accounts.is_admin`) manages every
-- domain; an account listed here manages the mailboxes of that domain only.
CREATE TABLE domain_admins (
    domain_id  INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    PRIMARY KEY (domain_id, account_id)
);
CREATE INDEX domain_admins_account ON domain_admins (account_id);
-- The administration's mailbox list, by domain then login (searched and paged).
CREATE INDEX accounts_domain_login ON accounts (domain_id, login);
