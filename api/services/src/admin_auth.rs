//! Admin-key authentication for the Broker: keys from configuration, kept only as hashes,
//! compared in constant time against every configured key.

use async_trait::async_trait;
use nexus_crypto::{constant_time_eq, fingerprint, hash_key};
use nexus_domain::ServiceError;
use nexus_domain::agent_key::Actor;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::ports::{AdminAuthenticator, AuditService, ServiceResult};
use nexus_domain::secret::{ExposeSecret, SecretString};
use std::sync::Arc;

struct AdminKey {
    hash: String,
    fingerprint: String,
}

pub struct AdminKeys {
    keys: Vec<AdminKey>,
    audit: Arc<dyn AuditService>,
    /// What these keys are, for the audit trail: `admin_key` or `service_key`.
    credential: &'static str,
}

impl std::fmt::Debug for AdminKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fingerprints: Vec<&str> = self.keys.iter().map(|k| k.fingerprint.as_str()).collect();
        f.debug_struct("AdminKeys")
            .field("fingerprints", &fingerprints)
            .finish()
    }
}

impl AdminKeys {
    pub fn new(keys: &[SecretString], audit: Arc<dyn AuditService>) -> Self {
        let keys = keys
            .iter()
            .map(|key| AdminKey {
                hash: hash_key(key.expose_secret()),
                fingerprint: fingerprint(key.expose_secret()),
            })
            .collect();
        Self {
            keys,
            audit,
            credential: "admin_key",
        }
    }

    /// Keys that authenticate Gateways running in their own process.
    pub fn for_services(keys: &[SecretString], audit: Arc<dyn AuditService>) -> Self {
        Self {
            credential: "service_key",
            ..Self::new(keys, audit)
        }
    }
}

#[async_trait]
impl AdminAuthenticator for AdminKeys {
    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<Actor> {
        let presented_hash = hash_key(presented.expose_secret());
        // Compare against every key, without an early exit, so timing says nothing about which matched.
        let matched = self.keys.iter().fold(None, |found, key| {
            let equal = constant_time_eq(key.hash.as_bytes(), presented_hash.as_bytes());
            if equal { Some(key) } else { found }
        });
        match matched {
            Some(key) => Ok(Actor::Admin {
                key_fingerprint: key.fingerprint.clone(),
            }),
            None => {
                let event = NewAuditEvent::new(AuditEventType::AuthenticationFailed, &Actor::Anonymous)
                    .data(serde_json::json!({"api": "broker", "credential": self.credential}));
                crate::AuditServiceImpl::record_or_log(self.audit.as_ref(), event).await;
                Err(ServiceError::Unauthenticated)
            }
        }
    }
}
