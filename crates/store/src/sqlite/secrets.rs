//! Keys the server makes for itself and keeps (the SRS key of forwarded mail).

use crate::{Result, Store, now_unix};

impl Store {
    /// The secret called `name`, made from `fresh` the first time it is asked for. Two
    /// processes asking at once get the same one: the first write wins.
    pub async fn server_secret(&self, name: &str, fresh: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>> {
        let existing: Option<Vec<u8>> = sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await?;
        if let Some(value) = existing {
            return Ok(value);
        }
        sqlx::query("INSERT OR IGNORE INTO server_secrets (name, value, created_at) VALUES (?, ?, ?)")
            .bind(name)
            .bind(fresh())
            .bind(now_unix())
            .execute(&self.writer)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&self.writer)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_secret_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::Store::open(dir.path()).await.expect("open");
        let first = store.server_secret("srs", || vec![1, 2, 3]).await.expect("made");
        assert_eq!(first, vec![1, 2, 3]);
        let again = store.server_secret("srs", || vec![9]).await.expect("kept");
        assert_eq!(again, vec![1, 2, 3]);
        assert_eq!(store.server_secret("other", || vec![7]).await.expect("made"), vec![7]);
    }
}
