//! Reads by split Gateways: the signed receipt and cache lifetime a Gateway gets with each
//! credential it reads, and the reports of reads it then served from its cache, which are
//! audited and counted here as if they had been served here. A receipt names the agent key,
//! connection, workspace and provider of one read, signed with the state key, so a service key
//! can report only reads this Broker served (for ten minutes, plus the stale-if-error bound,
//! after it served them). Each receipt is unique (it carries a nonce) and counts once for its
//! fresh reads and once for its stale ones, across every Broker process: a replayed report
//! counts nothing.

use super::ConnectionServiceImpl;
use chrono::{DateTime, TimeDelta, Utc};
use nexus_crypto::STATE_TTL_SECONDS;
use nexus_domain::agent_key::{Actor, Caller};
use nexus_domain::audit::{AuditEventType, NewAuditEvent};
use nexus_domain::connection::CredentialEnvelope;
use nexus_domain::gateway::{ENVELOPE_CACHE_TTL, GatewayRead, ServedReads};
use nexus_domain::ports::ServiceResult;
use nexus_domain::{AgentKeyId, ConnectionId, ProviderName, WorkspaceId};
use nexus_repositories::ReceiptClaim;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a receipt proves. `g` tells it apart from a consent state signed with the same key.
#[derive(Debug, Serialize, Deserialize)]
struct Receipt {
    g: ReceiptKind,
    #[serde(rename = "k")]
    agent_key_id: AgentKeyId,
    #[serde(rename = "c")]
    connection_id: ConnectionId,
    #[serde(rename = "w")]
    workspace_id: WorkspaceId,
    #[serde(rename = "p")]
    provider: ProviderName,
    /// Makes every receipt unique, so two reads in one second are two receipts, each counted once.
    #[serde(rename = "n", default)]
    nonce: Option<uuid::Uuid>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
enum ReceiptKind {
    #[serde(rename = "read")]
    Read,
}

impl ConnectionServiceImpl {
    pub(super) fn receipt_for(&self, caller: &Caller, envelope: CredentialEnvelope) -> GatewayRead {
        let Actor::Agent { key_id } = caller.actor else {
            // Only agents read through a Gateway; anything else is served once, never again.
            return GatewayRead {
                envelope,
                receipt: String::new(),
                cache_for: Duration::ZERO,
                stale_for: Duration::ZERO,
            };
        };
        let now = self.clock.now();
        // Never served again once it is due for refresh: the next read refreshes it here. When
        // is known from the read that just filled this process's cache (the token's lifetime
        // counts); without it, the skew alone decides.
        let due_from = self.cached_due_from(envelope.connection_id).or_else(|| {
            envelope
                .expires_at
                .map(|expires_at| expires_at - self.settings.refresh_skew)
        });
        let until_due = due_from.map_or(ENVELOPE_CACHE_TTL, |from| {
            (from - now).to_std().unwrap_or(Duration::ZERO)
        });
        // The same bound this process serves stale under, counted from the database read (its
        // age rounded up: the seconds in the envelope are rounded down).
        let age = Duration::from_secs(envelope.stale_seconds.map_or(0, |seconds| seconds + 1));
        // An answer from memory is not served again as fresh: the Gateway asks each time, and
        // falls back on its own memory only when this process cannot answer.
        let cache_for = if envelope.stale_seconds.is_some() {
            Duration::ZERO
        } else {
            until_due.min(ENVELOPE_CACHE_TTL)
        };
        let until_skew = envelope.expires_at.map_or(Duration::MAX, |at| {
            (at - self.settings.refresh_skew - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
        });
        let stale_for = self.settings.stale_if_error.saturating_sub(age).min(until_skew);
        let receipt = self.signer.sign(
            &Receipt {
                g: ReceiptKind::Read,
                agent_key_id: key_id,
                connection_id: envelope.connection_id,
                workspace_id: envelope.workspace_id.clone(),
                provider: envelope.provider.clone(),
                nonce: Some(uuid::Uuid::new_v4()),
            },
            now.timestamp(),
        );
        GatewayRead {
            envelope,
            receipt,
            cache_for,
            stale_for,
        }
    }

    pub(super) async fn count_served_reads(&self, reads: Vec<ServedReads>) -> ServiceResult<usize> {
        let now = self.clock.now();
        // A Gateway may serve a read stale for the bound after its receipt was signed, and
        // report it once the Broker answers again: receipts are taken that much longer.
        let receipt_lifetime = STATE_TTL_SECONDS
            .saturating_add(i64::try_from(self.settings.stale_if_error.as_secs()).unwrap_or(i64::MAX / 2));
        // Times come from the Gateway: kept within the receipts' lifetime, never in the future.
        let earliest = now - TimeDelta::seconds(receipt_lifetime);
        let clamp = |at: DateTime<Utc>| at.clamp(earliest, now);
        let mut refused = 0;
        let mut verified = Vec::with_capacity(reads.len());
        for served in reads {
            match self
                .signer
                .verify_within::<Receipt>(&served.receipt, now.timestamp(), receipt_lifetime)
            {
                Ok(receipt) if receipt.g == ReceiptKind::Read => verified.push((receipt, served)),
                _ => refused += 1,
            }
        }
        // Claimed before anything is counted, all at once: a failure counts nothing, and the
        // Gateway reports again.
        let claims: Vec<ReceiptClaim> = verified
            .iter()
            .map(|(_, served)| ReceiptClaim {
                digest: claim_digest(&served.receipt, served.stale),
                expires_at: now + TimeDelta::seconds(receipt_lifetime),
            })
            .collect();
        let claimed = if claims.is_empty() {
            Vec::new()
        } else {
            self.receipts
                .claim(&claims)
                .await
                .map_err(crate::repo_errors::internal("claiming read receipts"))?
        };
        let mut counted = 0;
        let mut replayed = 0;
        for ((receipt, served), claimed) in verified.into_iter().zip(claimed) {
            if !claimed {
                replayed += 1;
                continue;
            }
            self.metrics
                .token_get
                .with_label_values(&[receipt.provider.as_str(), "success"])
                .inc_by(served.reads);
            let event = NewAuditEvent::new(
                AuditEventType::TokenRead,
                &Actor::Agent {
                    key_id: receipt.agent_key_id,
                },
            )
            .connection(receipt.connection_id)
            .workspace(receipt.workspace_id);
            let (first_at, last_at) = (clamp(served.first_at), clamp(served.last_at));
            if let Err(error) = self
                .audit
                .record_reads(event, served.reads, first_at.min(last_at), last_at.max(first_at))
                .await
            {
                tracing::error!(%error, reads = served.reads, "reads reported by a Gateway were not recorded");
            }
            counted += 1;
        }
        if refused > 0 {
            tracing::warn!(
                refused,
                "a Gateway reported reads under receipts this Broker did not sign or that expired"
            );
        }
        if replayed > 0 {
            tracing::warn!(
                replayed,
                "a Gateway reported reads under receipts already counted (a replay); they are not counted again"
            );
        }
        Ok(counted)
    }
}

/// What a receipt is claimed as: its fresh reads and its stale reads are each counted once. A
/// digest, so the table holds nothing a Gateway could present.
fn claim_digest(receipt: &str, stale: bool) -> String {
    let kind = if stale { "stale" } else { "fresh" };
    nexus_crypto::hash_key(&format!("{kind}:{receipt}"))
}
