//! Bodies of the Broker's internal API, which only a split Gateway calls.

use super::connections::CredentialEnvelopeDto;
use chrono::{DateTime, Utc};
use nexus_domain::gateway::ServedReads;
use nexus_domain::{AgentKeyId, ConnectionId};
use poem_openapi::Object;
use uuid::Uuid;

/// A credential for a split Gateway, with the agent key it was read with: reads the Gateway
/// serves again from its cache are reported under that key
#[derive(Object, Debug, Clone)]
#[oai(skip_serializing_if_is_none)]
pub struct GatewayCredential {
    pub agent_key_id: Uuid,
    pub envelope: CredentialEnvelopeDto,
}

/// Reads a split Gateway served from its cache since its last report
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
#[oai(deny_unknown_fields)]
pub struct ServedReadsReport {
    #[oai(validator(max_items = 10000))]
    pub reads: Vec<ServedReadsDto>,
}

/// Reads of one connection by one agent key
#[derive(Object, Debug)]
#[oai(skip_serializing_if_is_none)]
#[oai(rename = "ServedReads", deny_unknown_fields)]
pub struct ServedReadsDto {
    pub agent_key_id: Uuid,
    pub connection_id: Uuid,
    #[oai(validator(minimum(value = "1")))]
    pub reads: u64,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

impl From<ServedReadsDto> for ServedReads {
    fn from(dto: ServedReadsDto) -> Self {
        Self {
            agent_key_id: AgentKeyId::from_uuid(dto.agent_key_id),
            connection_id: ConnectionId::from_uuid(dto.connection_id),
            reads: dto.reads,
            first_at: dto.first_at.min(dto.last_at),
            last_at: dto.last_at.max(dto.first_at),
        }
    }
}
