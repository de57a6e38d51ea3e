//! The service traits (ports). Handlers hold them as `Arc<dyn Trait>`: one object-safe shape
//! (via `async_trait`). The database-backed services implement them all; a split Gateway's
//! remote Broker client implements only the Gateway's port and readiness.

use crate::agent_key::{Actor, AgentKey, AgentPrincipal, Caller, IssuedAgentKey, NewAgentKey, PresentedKey};
use crate::audit::{AuditEvent, AuditQuery, NewAuditEvent, Page};
use crate::catalog::Template;
use crate::connection::{
    CallbackParams, CaptureForm, CompletedFlow, Connection, ConnectionQuery, ConsentRequest, ConsentSpec,
    CredentialEnvelope, RefreshOutcome,
};
use crate::error::ServiceError;
use crate::gateway::{ConnectionState, GatewayRead, ServedReads};
use crate::ids::AgentKeyId;
use crate::ids::ConnectionId;
use crate::provider::{NewProvider, Provider, ProviderPatch, ProviderRef, ProviderSummary};
use crate::secret::SecretString;
use crate::webhook::{IssuedWebhook, NewWebhook, Webhook, WebhookDelivery, WebhookPatch};
use crate::{DeliveryId, WebhookId};
use async_trait::async_trait;
use std::collections::BTreeMap;

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Registration and maintenance of providers.
#[async_trait]
pub trait ProviderService: Send + Sync {
    async fn create(&self, actor: &Actor, input: NewProvider) -> ServiceResult<Provider>;
    /// Live providers, ordered by name.
    async fn list(&self) -> ServiceResult<Vec<Provider>>;
    async fn get(&self, provider: &ProviderRef) -> ServiceResult<Provider>;
    async fn update(&self, actor: &Actor, provider: &ProviderRef, patch: ProviderPatch) -> ServiceResult<Provider>;
    /// Soft delete. Refuses while active connections exist unless `cascade` revokes them.
    async fn delete(&self, actor: &Actor, provider: &ProviderRef, cascade: bool) -> ServiceResult<()>;
    /// The provider catalog's templates, ordered by name (none unless the catalog was wired in).
    fn templates(&self) -> &[Template] {
        &[]
    }
    /// The agents' catalog: live providers, ordered by name, without configuration.
    async fn catalog(&self) -> ServiceResult<Vec<ProviderSummary>> {
        Ok(self.list().await?.into_iter().map(ProviderSummary::from).collect())
    }
}

/// Consent, capture, token retrieval, refresh and revocation of connections.
#[async_trait]
pub trait ConnectionService: Send + Sync {
    /// Starts a consent (OAuth2) or a capture (static credentials): a pending connection, or a
    /// re-consent of an existing one, and the URL to send the user to.
    async fn create_consent_spec(&self, caller: &Caller, request: ConsentRequest) -> ServiceResult<ConsentSpec>;

    /// Handles the OAuth callback. `Err` only when the state is invalid, expired or replayed
    /// (no redirect then); a denied consent or failed exchange is an unsuccessful `CompletedFlow`.
    async fn exchange_code_for_tokens(&self, params: CallbackParams) -> ServiceResult<CompletedFlow>;

    /// The capture form for a valid, unused capture state.
    async fn capture_form(&self, state: &str) -> ServiceResult<CaptureForm>;

    /// Nexus's Client ID Metadata Document (served at `/auth/client-metadata.json` under the
    /// public URL): what an authorization server that takes one learns about Nexus's client.
    fn client_metadata_document(&self) -> serde_json::Value;

    /// Validates captured credentials against the provider's schema (and its verification
    /// request), stores them encrypted and activates the connection. The state works once.
    async fn save_credential(&self, state: &str, values: BTreeMap<String, String>) -> ServiceResult<CompletedFlow>;

    /// The credential envelope of a connection, refreshed first when it expires within the skew.
    async fn get_token(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<CredentialEnvelope>;

    /// The envelope of the workspace's newest active connection to the provider.
    async fn get_token_by_workspace_and_provider(
        &self,
        caller: &Caller,
        workspace_id: &str,
        provider: &str,
    ) -> ServiceResult<CredentialEnvelope>;

    /// Forces a refresh and persists the result before returning.
    async fn refresh(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<RefreshOutcome> {
        let envelope = self.refresh_token(caller, id).await?;
        Ok(RefreshOutcome {
            connection_id: envelope.connection_id,
            // A refresh that returned an envelope left the connection active.
            status: crate::status::ConnectionStatus::Active,
            expires_at: envelope.expires_at,
        })
    }

    /// Forces a refresh and returns the new envelope.
    async fn refresh_token(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<CredentialEnvelope>;

    /// Erases the credentials and marks the connection revoked; tells the provider when it can.
    async fn revoke(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<()>;

    async fn get(&self, caller: &Caller, id: ConnectionId) -> ServiceResult<Connection>;

    async fn list(&self, caller: &Caller, query: ConnectionQuery) -> ServiceResult<Page<Connection>>;

    /// What a split Gateway receives for a credential it read for `caller` (an agent): how long
    /// it may serve it again, and the signed receipt to report those reads with.
    fn gateway_read(&self, caller: &Caller, envelope: CredentialEnvelope) -> GatewayRead;

    /// Accounts for reads a split Gateway served from its cache: audited under the agent key the
    /// receipt names and counted in the read metrics. Entries whose receipt is not one this
    /// Broker signed in the last ten minutes, or that were counted before (a replay), are
    /// skipped (and logged); returns how many counted. `Unavailable` when the database cannot
    /// record which receipts counted: nothing counted, the Gateway reports again.
    async fn record_served_reads(&self, reads: Vec<ServedReads>) -> ServiceResult<usize>;
}

/// The Gateway API's operations, each for the agent whose key was presented. The port
/// authenticates the key together with the operation: in one process through the agent-key
/// service, on a split Gateway in the same single call to the Broker that performs it.
#[async_trait]
pub trait GatewayService: Send + Sync {
    async fn catalog(&self, agent: &PresentedKey) -> ServiceResult<Vec<ProviderSummary>>;
    async fn request_connection(&self, agent: &PresentedKey, request: ConsentRequest) -> ServiceResult<ConsentSpec>;
    async fn check_connection(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<ConnectionState>;
    async fn token(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<CredentialEnvelope>;
    async fn resolve(
        &self,
        agent: &PresentedKey,
        workspace_id: &str,
        provider: &str,
    ) -> ServiceResult<CredentialEnvelope>;
    async fn refresh(&self, agent: &PresentedKey, id: ConnectionId) -> ServiceResult<CredentialEnvelope>;
}

/// Agent keys: issued by operators, presented by agents to the Gateway.
#[async_trait]
pub trait AgentKeyService: Send + Sync {
    async fn create(&self, actor: &Actor, input: NewAgentKey) -> ServiceResult<IssuedAgentKey>;
    /// Keys that are not revoked, newest first.
    async fn list(&self) -> ServiceResult<Vec<AgentKey>>;
    async fn delete(&self, actor: &Actor, id: AgentKeyId) -> ServiceResult<()>;
    /// Checks a presented key in constant time; `Unauthenticated` for anything but a live key.
    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<AgentPrincipal>;
}

/// Webhook endpoints, their signing secrets and their delivery logs (operators only).
#[async_trait]
pub trait WebhookService: Send + Sync {
    /// Registers an endpoint; its signing secret is in the answer, this once.
    async fn create(&self, actor: &Actor, input: NewWebhook) -> ServiceResult<IssuedWebhook>;
    /// Every endpoint, oldest first.
    async fn list(&self) -> ServiceResult<Vec<Webhook>>;
    async fn get(&self, id: WebhookId) -> ServiceResult<Webhook>;
    async fn update(&self, actor: &Actor, id: WebhookId, patch: WebhookPatch) -> ServiceResult<Webhook>;
    /// Removes the endpoint and its deliveries (pending ones are not sent).
    async fn delete(&self, actor: &Actor, id: WebhookId) -> ServiceResult<()>;
    /// A new signing secret, shown this once; the old one keeps signing (beside the new one)
    /// for `grace` so receivers can switch without missing a delivery.
    async fn rotate_secret(
        &self,
        actor: &Actor,
        id: WebhookId,
        grace: std::time::Duration,
    ) -> ServiceResult<IssuedWebhook>;
    /// The endpoint's deliveries, newest first, `before` a delivery id when paging.
    async fn deliveries(
        &self,
        id: WebhookId,
        before: Option<DeliveryId>,
        limit: u32,
    ) -> ServiceResult<Page<WebhookDelivery>>;
    /// Sends a delivery again, now, whatever became of it (same `webhook-id`).
    async fn redeliver(&self, actor: &Actor, id: WebhookId, delivery: DeliveryId) -> ServiceResult<WebhookDelivery>;
}

/// Operator authentication for the Broker.
#[async_trait]
pub trait AdminAuthenticator: Send + Sync {
    async fn authenticate(&self, presented: &SecretString) -> ServiceResult<Actor>;
}

/// What runs in the background of this process (the Broker's admin view).
pub trait BackgroundTaskService: Send + Sync {
    fn statuses(&self) -> Vec<crate::background::BackgroundTaskStatus>;
    /// Runs the task named `name` now (or right after the run in progress), instead of at its
    /// next period. `NotFound` when this process runs no such task.
    fn activate(&self, name: &str) -> ServiceResult<()>;
}

#[async_trait]
pub trait AuditService: Send + Sync {
    async fn record(&self, event: NewAuditEvent) -> ServiceResult<()>;
    /// Records `reads` token reads described by `event` (a `token_read`), made between
    /// `first_at` and `last_at`, as the read tally does.
    async fn record_reads(
        &self,
        event: NewAuditEvent,
        reads: u64,
        first_at: chrono::DateTime<chrono::Utc>,
        last_at: chrono::DateTime<chrono::Utc>,
    ) -> ServiceResult<()>;
    async fn list(&self, query: AuditQuery) -> ServiceResult<Page<AuditEvent>>;
}

/// Readiness: the database answers and its migrations are current.
#[async_trait]
pub trait HealthService: Send + Sync {
    async fn ready(&self) -> ServiceResult<()>;
}
