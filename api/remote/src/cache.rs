//! The split Gateway's envelope cache: what the Broker served for an agent key, served again to
//! the same key for [`ENVELOPE_CACHE_TTL`] at most and never once it is within the refresh skew,
//! the rules one process applies to a write made by another replica. Keys are held as digests.

use chrono::{TimeDelta, Utc};
use nexus_domain::agent_key::PresentedKey;
use nexus_domain::connection::CredentialEnvelope;
use nexus_domain::gateway::ENVELOPE_CACHE_TTL;
use nexus_domain::{AgentKeyId, ConnectionId};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

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

/// A credential as the Broker served it, and the agent key it was read with.
#[derive(Debug, Clone)]
pub struct Served {
    pub agent_key_id: AgentKeyId,
    pub envelope: CredentialEnvelope,
}

struct Entry {
    stored_at: Instant,
    served: Served,
}

pub struct EnvelopeCache {
    refresh_skew: TimeDelta,
    entries: Mutex<HashMap<CacheKey, Entry>>,
}

impl std::fmt::Debug for EnvelopeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeCache")
            .field("refresh_skew", &self.refresh_skew)
            .finish_non_exhaustive()
    }
}

impl EnvelopeCache {
    pub fn new(refresh_skew: TimeDelta) -> Self {
        Self {
            refresh_skew,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, key: &CacheKey) -> Option<Served> {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = entries.get(key)?;
        let due = entry
            .served
            .envelope
            .expires_at
            .is_some_and(|at| at - self.refresh_skew <= Utc::now());
        (entry.stored_at.elapsed() < ENVELOPE_CACHE_TTL && !due).then(|| entry.served.clone())
    }

    pub fn put(&self, key: CacheKey, served: Served) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                stored_at: Instant::now(),
                served,
            },
        );
    }

    /// Forgets what was read for this target (after a forced refresh, say).
    pub fn forget_connection(&self, id: ConnectionId) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.retain(|_, entry| entry.served.envelope.connection_id != id);
    }
}
