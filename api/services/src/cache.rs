//! In-process read caches and what invalidates them. A write in this process that changes
//! what a read would return invalidates only what it changed: a refresh, revocation or
//! activation its connection (and the workspace's target for that provider), so thousands of
//! connections refreshing leave every other cached envelope in place. `bump` invalidates
//! everything (a provider edit, an agent key's deletion). Writes by other processes are seen
//! within the cache's time to live.
//!
//! Reads take a stamp from the epoch's clock before they read the database; an entry is valid
//! while nothing it depends on was invalidated after its stamp, so a fill that raced an
//! invalidation is refused whichever finishes first.

use nexus_domain::{ConnectionId, ProviderName, WorkspaceId};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries kept at most; past this the oldest half goes.
const MAX_ENTRIES: usize = 10_000;

/// What a write can invalidate on its own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Invalidation {
    Connection(ConnectionId),
    /// A workspace's connection to a provider, as resolve finds it.
    Target(WorkspaceId, ProviderName),
}

#[derive(Debug, Default)]
pub struct CacheEpoch {
    /// Moves on at every invalidation; reads are stamped with it.
    clock: AtomicU64,
    /// Everything stamped before this is invalid (`bump`).
    floor: AtomicU64,
    /// When each key was last invalidated (cleared, with the floor raised, past a bound).
    stamps: Mutex<HashMap<Invalidation, u64>>,
}

impl CacheEpoch {
    /// Changes only when everything is invalidated (`bump`).
    pub fn current(&self) -> u64 {
        self.floor.load(Ordering::Acquire)
    }

    /// The stamp of a read about to start.
    pub fn stamp(&self) -> u64 {
        self.clock.load(Ordering::Acquire)
    }

    /// Invalidates every entry cached before now.
    pub fn bump(&self) {
        let at = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        self.floor.fetch_max(at, Ordering::AcqRel);
    }

    /// Invalidates what depends on `keys`, and nothing else.
    pub fn invalidate(&self, keys: &[Invalidation]) {
        // The benchmark's baseline: every write invalidating the whole process's cache, as
        // before per-connection invalidation (`cargo xtask bench resolve --refreshing`).
        #[cfg(feature = "bench")]
        if std::env::var_os("NEXUS_BENCH_INVALIDATE_EVERYTHING").is_some() {
            self.bump();
            return;
        }
        let mut stamps = self.stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let at = self.clock.fetch_add(1, Ordering::AcqRel) + 1;
        if stamps.len() + keys.len() > MAX_ENTRIES {
            stamps.clear();
            self.floor.fetch_max(at, Ordering::AcqRel);
            return;
        }
        for key in keys {
            stamps.insert(key.clone(), at);
        }
    }

    /// Whether a value read at `stamp` and depending on `keys` is still what a read would see.
    pub fn valid(&self, stamp: u64, keys: &[Invalidation]) -> bool {
        if stamp < self.floor.load(Ordering::Acquire) {
            return false;
        }
        let stamps = self.stamps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Checked under the lock an invalidation takes: one made after this returns has a
        // stamp above `stamp`, so the entry is refused at its next read.
        if stamp < self.floor.load(Ordering::Acquire) {
            return false;
        }
        keys.iter().all(|key| stamps.get(key).is_none_or(|at| *at <= stamp))
    }
}

struct Entry<V> {
    epoch: u64,
    stored_at: Instant,
    value: V,
}

/// A small map whose entries expire after `ttl` or when the epoch moves on. Entries are kept
/// longer, for `retain`, so that [`TtlCache::get_stale`] can answer while the database cannot.
pub(crate) struct TtlCache<K, V> {
    ttl: Duration,
    retain: Duration,
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
        Self::retaining(ttl, ttl)
    }

    /// Entries fresh for `ttl`, and kept for `retain` (at least `ttl`) for stale reads.
    pub(crate) fn retaining(ttl: Duration, retain: Duration) -> Self {
        Self {
            ttl,
            retain: retain.max(ttl),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Makes room at the bound: entries past `retain` go first, then the older half.
    fn make_room(&self, entries: &mut HashMap<K, Entry<V>>) {
        if entries.len() < MAX_ENTRIES {
            return;
        }
        entries.retain(|_, entry| entry.stored_at.elapsed() < self.retain);
        if entries.len() < MAX_ENTRIES {
            return;
        }
        let mut ages: Vec<Instant> = entries.values().map(|entry| entry.stored_at).collect();
        let (_, median, _) = ages.select_nth_unstable(entries.len() / 2);
        let median = *median;
        entries.retain(|_, entry| entry.stored_at > median);
    }

    /// A value filled no longer than `max_age` ago (fresh or not) that `valid` still accepts,
    /// with its age: what may be served while the database cannot answer.
    pub(crate) fn get_stale(
        &self,
        key: &K,
        max_age: Duration,
        valid: impl Fn(u64, &V) -> bool,
    ) -> Option<(V, Duration)> {
        let entries = self.lock();
        let entry = entries.get(key)?;
        let age = entry.stored_at.elapsed();
        (age <= max_age && valid(entry.epoch, &entry.value)).then(|| (entry.value.clone(), age))
    }

    /// Forgets `key` (what the database now says about it contradicts the entry).
    pub(crate) fn remove(&self, key: &K) {
        self.lock().remove(key);
    }

    pub(crate) fn get(&self, key: &K, epoch: u64) -> Option<V> {
        let entries = self.lock();
        entries
            .get(key)
            .filter(|entry| entry.epoch == epoch && entry.stored_at.elapsed() < self.ttl)
            .map(|entry| entry.value.clone())
    }

    /// A value kept with [`TtlCache::fill_stamped`], while `valid(stamp, value)` says so.
    pub(crate) fn get_valid(&self, key: &K, valid: impl Fn(u64, &V) -> bool) -> Option<V> {
        let entries = self.lock();
        entries
            .get(key)
            .filter(|entry| entry.stored_at.elapsed() < self.ttl && valid(entry.epoch, &entry.value))
            .map(|entry| entry.value.clone())
    }

    /// Keeps a value read at `stamp` (the epoch's clock before the read); `get_valid` decides
    /// at each read whether anything it depends on was invalidated since.
    pub(crate) fn fill_stamped(&self, key: K, stamp: u64, value: V) {
        let mut entries = self.lock();
        self.make_room(&mut entries);
        entries.insert(
            key,
            Entry {
                epoch: stamp,
                stored_at: Instant::now(),
                value,
            },
        );
    }

    /// Keeps a value read from the database, unless the epoch moved since `read_epoch` (taken
    /// before the read): a read that raced an invalidating write would otherwise keep serving
    /// what that write replaced.
    pub(crate) fn fill(&self, key: K, read_epoch: u64, epoch: &CacheEpoch, value: V) {
        let mut entries = self.lock();
        // A bump after this check leaves the entry under `read_epoch`, which `get` then refuses.
        if epoch.current() != read_epoch {
            return;
        }
        self.make_room(&mut entries);
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
    fn an_invalidation_reaches_only_what_depends_on_it() {
        let epoch = CacheEpoch::default();
        let (a, b) = (ConnectionId::new(), ConnectionId::new());
        let keys = |id| [Invalidation::Connection(id)];
        let (read_a, read_b) = (epoch.stamp(), epoch.stamp());
        epoch.invalidate(&keys(a));
        assert!(
            !epoch.valid(read_a, &keys(a)),
            "a's refresh invalidates what was read of a"
        );
        assert!(epoch.valid(read_b, &keys(b)), "and leaves b's in place");
        assert!(epoch.valid(epoch.stamp(), &keys(a)), "a read after it is valid");
        let later = epoch.stamp();
        epoch.bump();
        assert!(!epoch.valid(later, &keys(b)), "bump invalidates everything");
        assert!(epoch.valid(epoch.stamp(), &keys(b)));
    }

    #[test]
    fn a_stamped_fill_that_raced_an_invalidation_is_refused() {
        let epoch = CacheEpoch::default();
        let cache = TtlCache::new(Duration::from_secs(60));
        let id = ConnectionId::new();
        let keys = [Invalidation::Connection(id)];
        let stamp = epoch.stamp();
        // The database read happens here; a refresh of this connection commits meanwhile.
        epoch.invalidate(&keys);
        cache.fill_stamped("k", stamp, "old token");
        assert_eq!(cache.get_valid(&"k", |stamp, _| epoch.valid(stamp, &keys)), None);
        cache.fill_stamped("k", epoch.stamp(), "new token");
        assert_eq!(
            cache.get_valid(&"k", |stamp, _| epoch.valid(stamp, &keys)),
            Some("new token")
        );
    }

    #[test]
    fn a_stale_read_is_bounded_by_age_and_refused_after_an_invalidation() {
        let epoch = CacheEpoch::default();
        let cache = TtlCache::retaining(Duration::from_millis(10), Duration::from_secs(60));
        let (a, b) = (ConnectionId::new(), ConnectionId::new());
        cache.fill_stamped(a, epoch.stamp(), "a");
        cache.fill_stamped(b, epoch.stamp(), "b");
        std::thread::sleep(Duration::from_millis(20));
        let epoch = &epoch;
        let valid = |id| move |stamp, _: &&str| epoch.valid(stamp, &[Invalidation::Connection(id)]);
        assert_eq!(cache.get_valid(&a, valid(a)), None, "no longer fresh");
        let (value, age) = cache.get_stale(&a, Duration::from_secs(1), valid(a)).expect("stale");
        assert_eq!(value, "a");
        assert!(age >= Duration::from_millis(20));
        assert_eq!(
            cache.get_stale(&a, Duration::from_millis(5), valid(a)),
            None,
            "older than the bound"
        );
        epoch.invalidate(&[Invalidation::Connection(a)]);
        assert_eq!(
            cache.get_stale(&a, Duration::from_secs(1), valid(a)),
            None,
            "a revocation seen before the outage is never served around"
        );
        assert!(cache.get_stale(&b, Duration::from_secs(1), valid(b)).is_some());
        cache.remove(&b);
        assert_eq!(cache.get_stale(&b, Duration::from_secs(1), valid(b)), None);
    }

    #[test]
    fn at_the_bound_the_older_half_goes() {
        let epoch = CacheEpoch::default();
        let cache = TtlCache::retaining(Duration::from_secs(1), Duration::from_secs(60));
        for n in 0..MAX_ENTRIES {
            cache.fill_stamped(n, epoch.stamp(), n);
        }
        std::thread::sleep(Duration::from_millis(2));
        cache.fill_stamped(MAX_ENTRIES, epoch.stamp(), MAX_ENTRIES);
        let kept = cache.lock().len();
        assert!(kept <= MAX_ENTRIES / 2 + 1, "{kept}");
        assert!(cache.get_valid(&MAX_ENTRIES, |_, _| true).is_some(), "the newest stays");
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
