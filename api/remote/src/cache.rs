//! The split Gateway's envelope cache: what the Broker served for an agent key, served again to
//! the same key for as long as the Broker allowed (at most 2 s, never within the refresh skew),
//! the rules one process applies to a change made by another replica. Keys are held as digests.
//! A forced refresh forgets the connection, and an answer that was in flight meanwhile is not
//! kept (the generation moved on).
//!
//! Entries are kept past their freshness for as long as the Broker allowed them to be served
//! stale (`stale_for`: its stale-if-error bound from the database read, never within the
//! refresh skew): when the Broker cannot answer, [`EnvelopeCache::get_stale`] serves them with
//! their age.

use nexus_domain::ConnectionId;
use nexus_domain::agent_key::PresentedKey;
use nexus_domain::connection::CredentialEnvelope;
use nexus_domain::gateway::ENVELOPE_CACHE_TTL;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Entries kept at most; past this the cache starts over (a bound, not an eviction policy).
const MAX_ENTRIES: usize = 10_000;

/// What was asked for, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    agent: [u8; 32],
    target: Target,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Target {
    Connection(ConnectionId),
    Resolve { workspace_id: String, provider: String },
}

impl CacheKey {
    pub fn connection(agent: &PresentedKey, id: ConnectionId) -> Self {
        Self {
            agent: digest(agent),
            target: Target::Connection(id),
        }
    }

    pub fn resolve(agent: &PresentedKey, workspace_id: &str, provider: &str) -> Self {
        Self {
            agent: digest(agent),
            target: Target::Resolve {
                workspace_id: workspace_id.to_owned(),
                provider: provider.to_owned(),
            },
        }
    }
}

fn digest(agent: &PresentedKey) -> [u8; 32] {
    Sha256::digest(agent.expose().as_bytes()).into()
}

/// How long the Broker let an answer be served: fresh, then stale; and its age when it came.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    pub cache_for: Duration,
    pub stale_for: Duration,
    pub age: Duration,
}

/// A credential as the Broker served it, and the receipt its reads are reported with.
#[derive(Debug, Clone)]
pub struct Served {
    pub receipt: String,
    pub envelope: CredentialEnvelope,
}

struct Entry {
    fresh_until: Instant,
    /// Until when it may be served while the Broker cannot answer.
    stale_until: Instant,
    /// When the Broker read it from its database (its age counts from there).
    read_at: Instant,
    served: Served,
}

#[derive(Default)]
pub struct EnvelopeCache {
    entries: Mutex<HashMap<CacheKey, Entry>>,
    /// Moves on with every forced refresh.
    generation: AtomicU64,
}

impl std::fmt::Debug for EnvelopeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeCache").finish_non_exhaustive()
    }
}

impl EnvelopeCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Entry>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What was served for `key` while it is fresh, and until when it is.
    pub fn get(&self, key: &CacheKey) -> Option<(Served, Instant)> {
        let mut entries = self.lock();
        let entry = entries.get(key)?;
        let now = Instant::now();
        if entry.fresh_until > now {
            return Some((entry.served.clone(), entry.fresh_until));
        }
        if entry.stale_until <= now {
            entries.remove(key);
        }
        None
    }

    /// What was served for `key` and may still be served while the Broker cannot answer, with
    /// how long ago the Broker read it from its database.
    pub fn get_stale(&self, key: &CacheKey) -> Option<(Served, Duration)> {
        let entries = self.lock();
        let entry = entries.get(key)?;
        (entry.stale_until > Instant::now()).then(|| (entry.served.clone(), entry.read_at.elapsed()))
    }

    /// Forgets what was served for `key` (the Broker now answers otherwise).
    pub fn forget(&self, key: &CacheKey) {
        self.lock().remove(key);
    }

    /// Forgets everything served to the agent key of `key` (the Broker refused that key).
    pub fn forget_agent(&self, key: &CacheKey) {
        self.lock().retain(|kept, _| kept.agent != key.agent);
    }

    /// Read before asking the Broker; `put` keeps the answer only if no refresh came between.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps `served` fresh for `cache_for` (the Broker's word, capped at the envelope cache's
    /// TTL) and for stale reads for `stale_for`; `age` is how old the Broker's read already was.
    pub fn put(&self, key: CacheKey, served: Served, lifetimes: Lifetimes, generation: u64) {
        let cache_for = lifetimes.cache_for.min(ENVELOPE_CACHE_TTL);
        if (cache_for.is_zero() && lifetimes.stale_for.is_zero()) || served.receipt.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut entries = self.lock();
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.stale_until > now);
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                fresh_until: now + cache_for,
                stale_until: now + lifetimes.stale_for,
                read_at: now.checked_sub(lifetimes.age).unwrap_or(now),
                served,
            },
        );
    }

    /// Stops serving what was served under these receipts, stale or fresh: their reads were
    /// reported, and the Broker counts a receipt's reads once.
    pub fn retire(&self, receipts: &[String]) {
        if receipts.is_empty() {
            return;
        }
        self.lock().retain(|_, entry| !receipts.contains(&entry.served.receipt));
    }

    /// Forgets what was read for this connection (after a forced refresh).
    pub fn forget_connection(&self, id: ConnectionId) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.retain(|_, entry| entry.served.envelope.connection_id != id);
    }

    /// Drops entries past both lifetimes, so credentials of revoked connections and deleted
    /// keys do not linger in memory longer than the stale bound.
    pub fn evict_expired(&self) {
        let now = Instant::now();
        self.lock()
            .retain(|_, entry| entry.fresh_until > now || entry.stale_until > now);
    }
}
