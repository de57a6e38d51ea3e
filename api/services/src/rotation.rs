//! Key rotation: re-seal every stored secret under the keyring's newest key. Old keys keep
//! decrypting while it runs (no downtime); it only touches values not yet on the newest key, so
//! an interrupted run is resumed by running it again; and a value that changed meanwhile (a
//! refresh) is left to its writer, who already sealed it with the newest key.

use crate::connections::{credential_aad, pkce_aad};
use crate::repo_errors::internal;
use nexus_crypto::{AssociatedData, Keyring};
use nexus_domain::ports::ServiceResult;
use nexus_domain::{ConnectionId, ProviderId, WebhookId};
use nexus_repositories::{SealedColumn, SealedSecretRepository, SealedValue};
use std::collections::HashSet;
use std::sync::Arc;

/// Values read per column and round.
const BATCH: u64 = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RotationReport {
    /// Values now sealed with the newest key.
    pub resealed: u64,
    /// Values that no key in the keyring opens (left as they are, and logged).
    pub unreadable: u64,
}

pub struct KeyRotation {
    repo: Arc<dyn SealedSecretRepository>,
    keyring: Arc<Keyring>,
}

impl std::fmt::Debug for KeyRotation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRotation")
            .field("keyring", &self.keyring)
            .finish_non_exhaustive()
    }
}

fn aad(value: &SealedValue) -> AssociatedData {
    match value.column {
        SealedColumn::ProviderClientSecret => crate::client_secret_aad(ProviderId::from_uuid(value.row_id)),
        SealedColumn::Credential => credential_aad(ConnectionId::from_uuid(value.row_id)),
        SealedColumn::PkceVerifier => pkce_aad(ConnectionId::from_uuid(value.row_id)),
        SealedColumn::WebhookSecrets => crate::webhooks::secrets_aad(WebhookId::from_uuid(value.row_id)),
        SealedColumn::RegistrationClientSecret => crate::mcp::registration::secret_aad(value.row_id),
    }
}

impl KeyRotation {
    pub fn new(repo: Arc<dyn SealedSecretRepository>, keyring: Arc<Keyring>) -> Self {
        Self { repo, keyring }
    }

    /// Re-seals until nothing but unreadable values is left on an older key.
    pub async fn run(&self) -> ServiceResult<RotationReport> {
        let primary = self.keyring.primary_key_id().to_owned();
        let mut report = RotationReport::default();
        let mut unreadable: HashSet<(SealedColumn, uuid::Uuid)> = HashSet::new();
        loop {
            let batch = self
                .repo
                .not_sealed_with(&primary, BATCH + unreadable.len() as u64)
                .await
                .map_err(internal("listing sealed values"))?;
            let mut progressed = false;
            for value in batch {
                if unreadable.contains(&(value.column, value.row_id)) {
                    continue;
                }
                let aad = aad(&value);
                let Ok(plaintext) = self.keyring.decrypt(&value.ciphertext, &aad) else {
                    tracing::error!(column = ?value.column, row = %value.row_id, key_id = value.ciphertext.key_id, "a sealed value no key opens; left as it is");
                    unreadable.insert((value.column, value.row_id));
                    report.unreadable += 1;
                    continue;
                };
                let resealed = self.keyring.encrypt(&plaintext, &aad);
                if self
                    .repo
                    .reseal(&value, &resealed)
                    .await
                    .map_err(internal("re-sealing a value"))?
                {
                    report.resealed += 1;
                }
                // A value that changed meanwhile was re-sealed by its writer: progress either way.
                progressed = true;
            }
            if !progressed {
                return Ok(report);
            }
        }
    }
}
