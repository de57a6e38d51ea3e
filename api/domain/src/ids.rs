//! Typed identifiers: a `ProviderId` can never be passed where a `ConnectionId` is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID v7), so ids sort by creation.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }
    };
}

typed_id!(
    /// Identifies a registered provider.
    ProviderId
);
typed_id!(
    /// Identifies a connection: one workspace's authorization with one provider.
    ConnectionId
);
typed_id!(
    /// Identifies an agent key (never the key itself).
    AgentKeyId
);
typed_id!(
    /// Identifies a webhook endpoint.
    WebhookId
);
typed_id!(
    /// Identifies one event's delivery to one endpoint: the `webhook-id` of every attempt.
    DeliveryId
);
typed_id!(
    /// Identifies an audit event; time-ordered, so it doubles as a pagination cursor.
    AuditEventId
);
