//! Revocation: credentials erased and the connection revoked first, then the provider told
//! (RFC 7009) when it has a revocation endpoint; a failure there is logged and audited, not fatal.

use super::ConnectionServiceImpl;
use super::stored::Stored;
use crate::oauth::ClientSource;
use crate::repo_errors::internal;
use nexus_domain::agent_key::Caller;
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::status::{AuthType, ConnectionStatus};
use nexus_domain::{ConnectionId, ServiceError};

impl ConnectionServiceImpl {
    pub(super) async fn revoke(&self, caller: &Caller, id: ConnectionId) -> Result<(), ServiceError> {
        let bundle = self.visible(caller, id).await?;
        if bundle.connection.status == ConnectionStatus::Revoked {
            return Ok(());
        }
        let stored = bundle
            .credential
            .as_ref()
            .and_then(|record| Stored::open(&self.keyring, id, &record.ciphertext).ok());
        let revoked = self
            .connections
            .revoke(id, self.clock.now())
            .await
            .map_err(internal("revoking a connection"))?;
        if !revoked {
            return Ok(());
        }
        self.invalidate(&bundle.connection);
        let provider = &bundle.provider.provider;
        let mut upstream = serde_json::Value::Null;
        if let (AuthType::Oauth2, Some(stored)) = (provider.spec.auth_type, stored) {
            upstream = match self.revoke_upstream(&bundle, &stored).await {
                Ok(true) => serde_json::json!("revoked"),
                Ok(false) => serde_json::json!("no_revocation_endpoint"),
                Err(error) => {
                    tracing::warn!(provider = %provider.spec.name, connection_id = %id, %error, "provider revocation failed");
                    serde_json::json!("failed")
                }
            };
        }
        self.record(
            NewAuditEvent::new(AuditEventType::ConnectionRevoked, &caller.actor)
                .provider(provider.id)
                .connection(id)
                .workspace(bundle.connection.workspace_id.clone())
                .data(serde_json::json!({"provider_revocation": upstream})),
        )
        .await;
        Ok(())
    }

    /// `Ok(false)` when the provider has no revocation endpoint.
    async fn revoke_upstream(
        &self,
        bundle: &nexus_repositories::ConnectionBundle,
        stored: &Stored,
    ) -> Result<bool, String> {
        let provider = &bundle.provider.provider;
        let spec = provider
            .spec
            .for_connection(&bundle.connection.connection_params)
            .map_err(|e| e.to_string())?;
        let party = self
            .parties
            .party(
                &bundle.provider,
                &spec,
                ClientSource::Grant {
                    client: stored.grant_client(),
                    issuer: stored.grant_issuer(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        let Some(url) = party.endpoints.revocation_url.clone() else {
            return Ok(false);
        };
        let auth = party.client.auth();
        // Revoking the refresh token ends the whole grant at most providers.
        let (token, hint) = match stored.refresh_token() {
            Some(token) => (token, "refresh_token"),
            None => (stored.str("access_token").unwrap_or_default(), "access_token"),
        };
        self.token_endpoint
            .revoke(&url, &auth, token, hint)
            .await
            .map(|()| true)
            .map_err(|e| e.to_string())
    }
}
