//! A process-wide, byte-bounded cache of the facts IMAP reads most (ENVELOPE, BODY,
//! BODYSTRUCTURE and the header block), keyed by the blob they were computed from.
//!
//! Why: a `FETCH 1:* (ENVELOPE)` of 10,000 messages spent most of its time in sqlx handing
//! 10,000 rows across from its SQLite thread, more than in building the answer. Facts belong to
//! a blob, and a blob never changes (its name is its SHA-256), so they can be kept without any
//! invalidation: a hit is always right. Only memory bounds the cache.
//!
//! Eviction is by generations, an approximate LRU without a list to maintain: entries go into
//! the young map; when it holds half the budget, the old map is dropped and the young becomes
//! the old. A hit in the old map moves the entry back to the young. So the cache holds at most
//! about the budget, and what was used since the last turn survives it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::FactsWanted;

/// What the cache may hold, in bytes of facts (plus a fixed estimate per entry).
pub const FACTS_CACHE_BYTES: usize = 32 << 20;

/// Counted per entry on top of its bytes: the key, the `Arc`, the map's slot.
const ENTRY_OVERHEAD: usize = 96;

/// A blob's SHA-256, as bytes: half the size of its hex name.
pub(crate) type BlobKey = [u8; 32];

/// The facts of one blob that have been read so far; a field is `None` until a FETCH wanted it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CachedFacts {
    pub header: Option<Box<[u8]>>,
    pub imap_envelope: Option<Box<[u8]>>,
    pub imap_body: Option<Box<[u8]>>,
    pub imap_bodystructure: Option<Box<[u8]>>,
}

impl CachedFacts {
    /// Whether every fact `wanted` names is here.
    pub fn has(&self, wanted: FactsWanted) -> bool {
        (!wanted.header || self.header.is_some())
            && (!wanted.imap_envelope || self.imap_envelope.is_some())
            && (!wanted.imap_body || self.imap_body.is_some())
            && (!wanted.imap_bodystructure || self.imap_bodystructure.is_some())
    }

    fn bytes(&self) -> usize {
        let len = |field: &Option<Box<[u8]>>| field.as_ref().map_or(0, |b| b.len());
        ENTRY_OVERHEAD
            + len(&self.header)
            + len(&self.imap_envelope)
            + len(&self.imap_body)
            + len(&self.imap_bodystructure)
    }

    /// These facts with the fields `newer` has and this one lacks.
    fn merged(&self, newer: CachedFacts) -> CachedFacts {
        CachedFacts {
            header: newer.header.or_else(|| self.header.clone()),
            imap_envelope: newer.imap_envelope.or_else(|| self.imap_envelope.clone()),
            imap_body: newer.imap_body.or_else(|| self.imap_body.clone()),
            imap_bodystructure: newer.imap_bodystructure.or_else(|| self.imap_bodystructure.clone()),
        }
    }
}

pub(crate) struct FactsCache {
    budget: usize,
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    young: HashMap<BlobKey, Arc<CachedFacts>>,
    young_bytes: usize,
    old: HashMap<BlobKey, Arc<CachedFacts>>,
}

impl Generations {
    fn put(&mut self, key: BlobKey, facts: Arc<CachedFacts>, budget: usize) {
        self.young_bytes += facts.bytes();
        if let Some(replaced) = self.young.insert(key, facts) {
            self.young_bytes -= replaced.bytes();
        }
        if self.young_bytes > budget / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
    }
}

impl FactsCache {
    pub(crate) fn new(budget: usize) -> FactsCache {
        FactsCache { budget, generations: Mutex::default() }
    }

    /// The entries of `keys` that hold every fact `wanted` names, in order; one lock for all.
    pub(crate) fn get_many(&self, keys: &[BlobKey], wanted: FactsWanted) -> Vec<Option<Arc<CachedFacts>>> {
        let mut generations = self.generations.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        keys.iter()
            .map(|key| {
                if let Some(facts) = generations.young.get(key) {
                    return facts.has(wanted).then(|| Arc::clone(facts));
                }
                // Used again since the last turn: back to the young generation.
                let facts = generations.old.remove(key)?;
                generations.put(*key, Arc::clone(&facts), self.budget);
                facts.has(wanted).then_some(facts)
            })
            .collect()
    }

    /// Adds facts read from the database, merged with what the entry already had; returns the
    /// entry as it now is.
    pub(crate) fn insert(&self, key: BlobKey, facts: CachedFacts) -> Arc<CachedFacts> {
        let mut generations = self.generations.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let known = generations.young.get(&key).or_else(|| generations.old.get(&key));
        let facts = Arc::new(match known {
            Some(known) => known.merged(facts),
            None => facts,
        });
        generations.old.remove(&key);
        generations.put(key, Arc::clone(&facts), self.budget);
        facts
    }

    #[cfg(test)]
    fn held_bytes(&self) -> usize {
        let generations = self.generations.lock().unwrap();
        generations.young.values().chain(generations.old.values()).map(|f| f.bytes()).sum()
    }
}

/// The key of a blob from its hex name; `None` for a name that is not a SHA-256.
pub(crate) fn blob_key(hash: &str) -> Option<BlobKey> {
    let mut key = [0u8; 32];
    hex::decode_to_slice(hash, &mut key).ok()?;
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: FactsWanted =
        FactsWanted { header: false, imap_envelope: true, imap_body: false, imap_bodystructure: false };
    const BOTH: FactsWanted =
        FactsWanted { header: true, imap_envelope: true, imap_body: false, imap_bodystructure: false };

    fn key(n: u32) -> BlobKey {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(&n.to_be_bytes());
        key
    }

    fn envelope(bytes: usize) -> CachedFacts {
        CachedFacts { imap_envelope: Some(vec![b'e'; bytes].into()), ..CachedFacts::default() }
    }

    #[test]
    fn a_hit_needs_every_wanted_fact_and_inserts_merge() {
        let cache = FactsCache::new(1 << 20);
        cache.insert(key(1), envelope(10));
        assert!(cache.get_many(&[key(1)], ENVELOPE)[0].is_some());
        assert!(cache.get_many(&[key(1)], BOTH)[0].is_none(), "the header was never read");
        assert!(cache.get_many(&[key(2)], ENVELOPE)[0].is_none());
        cache.insert(key(1), CachedFacts { header: Some(b"Subject: x\r\n\r\n"[..].into()), ..CachedFacts::default() });
        let merged = cache.get_many(&[key(1)], BOTH)[0].clone().expect("both facts now");
        assert_eq!(merged.imap_envelope.as_deref(), Some(&[b'e'; 10][..]));
    }

    #[test]
    fn the_cache_stays_within_its_budget_and_keeps_what_is_used() {
        let budget = 100 * (1000 + ENTRY_OVERHEAD);
        let cache = FactsCache::new(budget);
        for n in 0..1000 {
            cache.insert(key(n), envelope(1000));
            // Entry 0 is read after every insert, so it is never the oldest.
            assert!(cache.get_many(&[key(0)], ENVELOPE)[0].is_some(), "entry 0 lost after {n} inserts");
            assert!(cache.held_bytes() <= budget + 1000 + ENTRY_OVERHEAD, "{} bytes held", cache.held_bytes());
        }
        assert!(cache.get_many(&[key(1)], ENVELOPE)[0].is_none(), "an entry unused for 999 inserts was dropped");
        assert!(cache.get_many(&[key(999)], ENVELOPE)[0].is_some(), "the newest entry is kept");
    }

    #[test]
    fn blob_keys_come_from_sha256_names_only() {
        let name = "000318dc2cb2c4621f07787fa2ddf3abf23789a76bffd2d68f4de0b7738a6acf";
        assert_eq!(blob_key(name).map(hex::encode).as_deref(), Some(name));
        assert_eq!(blob_key("../etc/passwd"), None);
        assert_eq!(blob_key(&name[..62]), None);
    }
}
