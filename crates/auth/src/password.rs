//! Argon2id password hashes (PHC strings), computed in memory that is allocated once.
//!
//! Why not `Argon2::verify_password`: it allocates the 19 MiB of blocks anew at every check, on
//! whichever blocking thread runs it, and the allocator keeps what each thread freed (glibc
//! raises its mmap threshold after the first free, so later blocks come from per-thread arenas
//! that are never returned). 400 logins from 8 clients grew the process from 16 MB to 1 GB.
//! Here at most [`MAX_CONCURRENT_HASHES`] checks run at once, each in one of as many block
//! buffers that live as long as the process.

use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Password checks running at once, at most: each takes a core for tens of milliseconds and
/// 19 MiB, so a flood of logins cannot take every core or much memory. No more than there are
/// cores: more would only wait for one, holding their memory.
const MAX_CONCURRENT_HASHES: usize = 4;

fn concurrent_hashes() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_CONCURRENT_HASHES)
}

/// Stored hashes with parameters above these are refused rather than given more memory: they
/// were not made by us.
const MAX_M_COST_KIB: u32 = 64 * 1024;

/// A salt is at most this long in a PHC string we accept (argon2's own limit is 64 bytes).
const MAX_SALT_BYTES: usize = 64;

/// Hashes and checks passwords with reused memory. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Passwords {
    permits: Arc<tokio::sync::Semaphore>,
    /// Block buffers not in use; there is one per permit, taken with it.
    buffers: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Default for Passwords {
    fn default() -> Passwords {
        Passwords {
            permits: Arc::new(tokio::sync::Semaphore::new(concurrent_hashes())),
            buffers: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

/// A failure of the hashing machinery itself (never a wrong password).
#[derive(Debug)]
pub(crate) struct HashError(pub(crate) String);

impl Passwords {
    /// A new PHC string for `password` with today's parameters (argon2id, m=19456, t=2, p=1).
    pub(crate) async fn hash(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        let password = password.as_bytes().to_vec();
        self.with_blocks(move |blocks| {
            let params = Params::default();
            let mut salt_bytes = [0u8; MAX_SALT_BYTES];
            let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| HashError(e.to_string()))?;
            let output = compute(&params, Version::V0x13, &password, salt_bytes, Params::DEFAULT_OUTPUT_LEN, blocks)?;
            let params_string =
                (&params).try_into().map_err(|e: argon2::password_hash::Error| HashError(e.to_string()))?;
            let hash = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: params_string,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            };
            Ok(hash.to_string())
        })
        .await
    }

    /// Whether `password` matches the PHC string `stored`. A string we cannot read (or with
    /// costs above ours) matches nothing.
    pub(crate) async fn verify(&self, stored: &str, password: &str) -> bool {
        let (stored, password) = (stored.to_string(), password.as_bytes().to_vec());
        self.with_blocks(move |blocks| {
            let Ok(parsed) = PasswordHash::new(&stored) else { return Ok(false) };
            let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else { return Ok(false) };
            if parsed.algorithm != Algorithm::Argon2id.ident() {
                return Ok(false);
            }
            let Ok(params) = Params::try_from(&parsed) else { return Ok(false) };
            if params.m_cost() > MAX_M_COST_KIB {
                return Ok(false);
            }
            let version = parsed.version.and_then(|v| Version::try_from(v).ok()).unwrap_or(Version::V0x13);
            let mut salt_bytes = [0u8; MAX_SALT_BYTES];
            let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else { return Ok(false) };
            let output = compute(&params, version, &password, salt_bytes, expected.len(), blocks)?;
            // `Output`'s equality is constant-time.
            Ok(output == expected)
        })
        .await
        .unwrap_or(false)
    }

    /// Runs `work` on a blocking thread with a block buffer of our pool, once a permit is free.
    async fn with_blocks<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let buffers = Arc::clone(&self.buffers);
        tokio::task::spawn_blocking(move || {
            let mut blocks = buffers.lock().expect("buffer pool lock").pop().unwrap_or_default();
            let result = work(&mut blocks);
            buffers.lock().expect("buffer pool lock").push(blocks);
            result
        })
        .await
        .map_err(|e| HashError(format!("password task failed: {e}")))?
    }
}

/// Computes an argon2id output of `output_len` bytes in `blocks`, growing them if needed.
fn compute(
    params: &Params,
    version: Version,
    password: &[u8],
    salt: &[u8],
    output_len: usize,
    blocks: &mut Vec<Block>,
) -> Result<Output, HashError> {
    let params = Params::new(params.m_cost(), params.t_cost(), params.p_cost(), Some(output_len))
        .map_err(|e| HashError(e.to_string()))?;
    if blocks.len() < params.block_count() {
        blocks.resize(params.block_count(), Block::default());
    }
    let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
    let mut out = vec![0u8; output_len];
    argon2
        .hash_password_into_with_memory(password, salt, &mut out, &mut blocks[..])
        .map_err(|e| HashError(e.to_string()))?;
    Output::new(&out).map_err(|e| HashError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use argon2::PasswordVerifier;

    use super::*;

    #[tokio::test]
    async fn hashes_are_standard_phc_strings_and_verify() {
        let passwords = Passwords::default();
        let hash = passwords.hash("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(passwords.verify(&hash, "correct horse battery").await);
        assert!(!passwords.verify(&hash, "wrong horse battery").await);
        // The argon2 crate agrees, both ways.
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        let theirs = {
            use argon2::PasswordHasher;
            Argon2::default().hash_password(b"s3cret password", &SaltString::generate(&mut OsRng)).unwrap().to_string()
        };
        assert!(passwords.verify(&theirs, "s3cret password").await);
        assert!(!passwords.verify(&theirs, "s3cret passwore").await);
    }

    #[tokio::test]
    async fn unreadable_or_too_costly_hashes_match_nothing() {
        let passwords = Passwords::default();
        for stored in [
            "",
            "plain text",
            "$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Tnm1Iy2ZyMVGZyOBL5FVbrI7JpyJ7rY2vJUlhk1nyfE",
            "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Tnm1Iy2ZyMVGZyOBL5FVbrI7JpyJ7rY2vJUlhk1nyfE",
        ] {
            assert!(!passwords.verify(stored, "anything").await, "{stored}");
        }
    }

    /// The pool never holds more buffers than checks may run at once.
    #[tokio::test]
    async fn buffers_are_reused() {
        let passwords = Passwords::default();
        let hash = passwords.hash("correct horse battery").await.unwrap();
        let checks: Vec<_> = (0..12)
            .map(|_| {
                let passwords = passwords.clone();
                let hash = hash.clone();
                tokio::spawn(async move { passwords.verify(&hash, "correct horse battery").await })
            })
            .collect();
        for check in checks {
            assert!(check.await.unwrap());
        }
        assert!(passwords.buffers.lock().unwrap().len() <= MAX_CONCURRENT_HASHES);
    }
}
