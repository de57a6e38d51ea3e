//! Repositories: persistence over sea-orm. Transactions live inside repository methods, rows are
//! converted to domain types here, and only ciphertext goes in or out: no plaintext secret ever
//! reaches this crate.

mod agent_keys;
mod audit;
mod breaker;
mod client_registrations;
mod connection_reads;
mod connections;
mod convert;
mod db_clock;
mod error;
mod providers;
mod read_receipts;
mod refresh;
mod sealed;
#[cfg(feature = "bench")]
pub mod seed;
mod timed;
mod webhook_outbox;
mod webhooks;
mod write_txn;

pub use agent_keys::{AgentKeyRecord, AgentKeyRepository, SqlAgentKeyRepository};
pub use audit::{AuditRepository, SqlAuditRepository};
pub use breaker::OutageBreaker;
pub use client_registrations::{
    ClientRegistrationRecord, ClientRegistrationRepository, SqlClientRegistrationRepository,
};
pub use connection_reads::ActiveConnectionRead;
pub use connections::{
    ClaimedConsent, ConnectionBundle, ConnectionRepository, CredentialRecord, NewCredential, PendingConsent,
    SqlConnectionRepository,
};
pub use error::RepoError;
pub use providers::{ProviderDeletion, ProviderRecord, ProviderRepository, SqlProviderRepository};
pub use read_receipts::{ReadReceiptRepository, ReceiptClaim, SqlReadReceiptRepository};
pub use refresh::{Lease, RefreshFailure, RefreshLease, RefreshRepository, RetryAt};
pub use sealed::{SealedColumn, SealedSecretRepository, SealedValue, SqlSealedSecretRepository};
pub use timed::{DbMetrics, Timed};
pub use webhook_outbox::{
    AttemptOutcome, ClaimedDelivery, DELIVERY_PERIOD, SqlWebhookOutboxRepository, WebhookOutboxRepository,
};
pub use webhooks::{SqlWebhookRepository, WebhookRecord, WebhookRepository};

pub type RepoResult<T> = Result<T, RepoError>;
