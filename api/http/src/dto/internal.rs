//! Bodies of the Broker's internal API, which only a split Gateway calls.

use super::connections::CredentialEnvelopeDto;
use super::text::{Plain, Text};
use chrono::{DateTime, Utc};
use nexus_domain::gateway::{GatewayRead, ServedReads};
use poem_openapi::Object;

/// A credential for a split Gateway: it may serve it again to the same agent key for
/// `cache_for_ms` milliseconds, and reports those reads with `receipt`
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct GatewayCredential {
    pub envelope: CredentialEnvelopeDto,
    pub receipt: String,
    pub cache_for_ms: u64,
    /// How long from now the Gateway may still serve it when the Broker cannot answer (absent
    /// from older Brokers: never)
    pub stale_for_ms: Option<u64>,
    /// Set when the Broker served it from memory (its database could not answer): how many
    /// seconds ago it was read from the database
    pub stale_seconds: Option<u64>,
}

impl From<GatewayRead> for GatewayCredential {
    fn from(read: GatewayRead) -> Self {
        let millis = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            stale_seconds: read.envelope.stale_seconds,
            envelope: read.envelope.into(),
            receipt: read.receipt,
            cache_for_ms: millis(read.cache_for),
            stale_for_ms: Some(millis(read.stale_for)),
        }
    }
}

/// Reads a split Gateway served from its cache since its last report
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ServedReadsReport {
    /// At most 50 entries, so that a full report stays well under the 64 KiB body limit.
    #[oai(validator(max_items = 50))]
    pub reads: Vec<ServedReadsDto>,
}

/// Reads served under one receipt
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "ServedReads", deny_unknown_fields)]
pub struct ServedReadsDto {
    #[oai(validator(max_length = 512, pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"))]
    pub receipt: Text,
    #[oai(validator(minimum(value = "1"), maximum(value = "1000000")))]
    pub reads: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// Reads served while the Broker could not answer. A receipt's fresh reads and its stale
    /// reads are each counted once: a second report of either is not counted.
    #[oai(default)]
    pub stale: bool,
}

impl From<ServedReadsDto> for ServedReads {
    fn from(dto: ServedReadsDto) -> Self {
        Self {
            receipt: dto.receipt.plain(),
            reads: dto.reads,
            first_at: dto.first_at,
            last_at: dto.last_at,
            stale: dto.stale,
        }
    }
}
