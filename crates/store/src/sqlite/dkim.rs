//! Each domain's DKIM signing key (issue 14, A1, F6). The keys are made by the `outbound`
//! crate, which signs with them; the store only keeps them.

use crate::{Result, Store, now_unix};

/// A domain's DKIM key: RSA, PKCS#1 DER.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKey {
    pub domain: String,
    pub selector: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
}

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKey")
            .field("domain", &self.domain)
            .field("selector", &self.selector)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// The DKIM key of a local domain (lowercase), if it has one.
    pub async fn dkim_key(&self, domain: &str) -> Result<Option<DkimKey>> {
        let row: Option<(String, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT d.name, k.selector, k.private_key, k.public_key FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
             WHERE d.name = ?",
        )
        .bind(domain)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|(domain, selector, private_key, public_key)| DkimKey { domain, selector, private_key, public_key }))
    }

    /// The domains without a DKIM key yet.
    pub async fn domains_without_dkim_key(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT name FROM domains WHERE id NOT IN (SELECT domain_id FROM dkim_keys) ORDER BY name",
        )
        .fetch_all(&self.reader)
        .await?)
    }

    /// Keeps a domain's DKIM key, unless it has one already (made meanwhile by another
    /// process): returns whether this one was kept.
    pub async fn add_dkim_key(&self, key: &DkimKey) -> Result<bool> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO dkim_keys (domain_id, selector, algorithm, private_key, public_key, created_at)
             SELECT id, ?, 'rsa-sha256', ?, ?, ? FROM domains WHERE name = ?",
        )
        .bind(&key.selector)
        .bind(&key.private_key)
        .bind(&key.public_key)
        .bind(now_unix())
        .bind(&key.domain)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
