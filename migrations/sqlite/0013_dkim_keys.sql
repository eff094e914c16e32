-- Issue 14 (A1, F6): each domain's DKIM signing key, made when the domain is added (or, for
-- domains older than this, when the server next starts). The private key stays in the data
-- folder; the public one is what `facteur admin domain dns` asks to publish at
-- <selector>._domainkey.<domain>.
CREATE TABLE dkim_keys (
    domain_id   INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
    selector    TEXT    NOT NULL,
    algorithm   TEXT    NOT NULL CHECK (algorithm IN ('rsa-sha256')),
    private_key BLOB    NOT NULL,   -- PKCS#1 DER
    public_key  BLOB    NOT NULL,   -- PKCS#1 DER, the record's p=
    created_at  INTEGER NOT NULL
);
