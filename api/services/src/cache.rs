//! In-process read caches and the epoch that invalidates them. Any write in this process that
//! changes what a read would return (a refresh, a revocation, an activation, a provider update)
//! bumps the epoch, so the next read misses at once; writes by other processes are seen within
//! the cache's time to live.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries kept at most; past this the cache starts over (a bound, not an eviction policy).
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub struct CacheEpoch(AtomicU64);

impl CacheEpoch {
    pub fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Invalidates every entry cached before now.
    pub fn bump(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

struct Entry<V> {
    epoch: u64,
    stored_at: Instant,
    value: V,
}

/// A small map whose entries expire after `ttl` or when the epoch moves on.
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K, V> std::fmt::Debug for TtlCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlCache")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &K, epoch: u64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries
            .get(key)
            .filter(|entry| entry.epoch == epoch && entry.stored_at.elapsed() < self.ttl)
            .map(|entry| entry.value.clone())
    }

    /// Keeps a value read from the database, unless the epoch moved since `read_epoch` (taken
    /// before the read): a read that raced an invalidating write would otherwise keep serving
    /// what that write replaced.
    pub(crate) fn fill(&self, key: K, read_epoch: u64, epoch: &CacheEpoch, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // A bump after this check leaves the entry under `read_epoch`, which `get` then refuses.
        if epoch.current() != read_epoch {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                epoch: read_epoch,
                stored_at: Instant::now(),
                value,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_the_epoch_and_the_ttl() {
        let epoch = CacheEpoch::default();
        let cache = TtlCache::new(Duration::from_millis(50));
        cache.fill("k", epoch.current(), &epoch, 1);
        assert_eq!(cache.get(&"k", epoch.current()), Some(1));
        epoch.bump();
        assert_eq!(
            cache.get(&"k", epoch.current()),
            None,
            "a write in this process invalidates at once"
        );
        cache.fill("k", epoch.current(), &epoch, 2);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"k", epoch.current()), None, "and time does too");
    }

    #[test]
    fn a_fill_read_before_an_invalidation_is_refused() {
        let epoch = CacheEpoch::default();
        let cache = TtlCache::new(Duration::from_secs(60));
        let read_epoch = epoch.current();
        // The database read happens here; a revocation commits and bumps meanwhile.
        epoch.bump();
        cache.fill("k", read_epoch, &epoch, "revoked token");
        assert_eq!(cache.get(&"k", epoch.current()), None);
        cache.fill("k", epoch.current(), &epoch, "fresh");
        assert_eq!(cache.get(&"k", epoch.current()), Some("fresh"));
    }
}
